#!/bin/bash
# guest.sh JOB: the second stage of run-in-vm.sh, run by the guest's /init in
# the guest's root (the host's / under a tmpfs overlay; writes are discarded).
# Mounts what a real system has, puts the unpacked kernel's modules and
# headers where Debian's packages would install them, and runs the job's
# command in the job's directory with the job's environment.
set -u
# shellcheck source=/dev/null
. "$1"   # VM_RELEASE VM_KROOT VM_CWD VM_ENV VM_COMMAND

fail() { echo "guest: $*" >&2; exit 125; }
mnt() { mount "$@" || fail "mount $*"; }

mnt -t proc proc /proc
mnt -t sysfs sysfs /sys
mnt -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mnt -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mnt -t tmpfs -o mode=1777 shm /dev/shm
mnt -t tmpfs -o mode=0755 run /run     # the host's /run says nothing true here
mnt -t tracefs tracefs /sys/kernel/tracing
mnt -t debugfs debugfs /sys/kernel/debug
mnt -t bpf bpf /sys/fs/bpf
mnt -t cgroup2 cgroup2 /sys/fs/cgroup
hostname "vm-${VM_RELEASE//[^a-zA-Z0-9-]/-}" || true
ip link set lo up 2>/dev/null || true

# The kernel's own files, as if its packages were installed. Directories are
# bind-mounted (their paths must look real to kbuild), the packages' symlinks
# copied. Absolute symlinks in them (/lib/modules/R/build ->
# /usr/src/linux-headers-R) then resolve inside this root.
place() { # SOURCE-IN-KROOT DESTINATION
  local src=$VM_KROOT/$1 dst=$2
  if [ -L "$src" ]; then
    mkdir -p "$(dirname "$dst")" && cp -P "$src" "$dst"
  else
    mkdir -p "$dst" && mnt --bind "$src" "$dst"
  fi
}
place "lib/modules/$VM_RELEASE" "/lib/modules/$VM_RELEASE"
for dir in usr/src usr/lib; do
  for entry in "$VM_KROOT/$dir"/*; do
    [ -e "$entry" ] || [ -L "$entry" ] || continue
    name=${entry##*/}
    [ "$dir/$name" = usr/lib/modules ] && continue   # done above
    place "$dir/$name" "/$dir/$name"
  done
done
[ "$(uname -r)" = "$VM_RELEASE" ] || fail "booted $(uname -r), expected $VM_RELEASE"

cd "$VM_CWD" || fail "no directory $VM_CWD"
exec env -i "${VM_ENV[@]}" "${VM_COMMAND[@]}"
