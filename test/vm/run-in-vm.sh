#!/usr/bin/env bash
# run-in-vm.sh RELEASE -- COMMAND [ARGS...]
#
# Runs COMMAND as root on another Linux kernel: boots the Debian kernel that
# `make kernels` unpacked into $LEAKHOUND_KERNELS/RELEASE/root (default
# .output/kernels) in QEMU, with this machine's own root file system as the
# guest's root, and runs COMMAND there in the current directory.
#
# How the guest is put together:
#  - an initramfs made here: static busybox, the virtio-console/9p/overlay
#    modules from the unpacked kernel (modprobe --show-depends picks them and
#    their dependencies), and a small /init;
#  - /init mounts the host's / (shared read-only over virtio-9p) under a tmpfs
#    overlay, so the guest can write anywhere; every write is lost at the end;
#  - it then chroots into that root and runs guest.sh (next to this script),
#    which mounts proc/sys/dev/tracefs/debugfs/bpffs/cgroup2, makes the
#    unpacked kernel's modules and headers appear where the Debian packages
#    would have put them (/lib/modules/RELEASE, /usr/src/linux-headers-*,
#    /usr/lib/linux-kbuild-*), and runs COMMAND.
#
# COMMAND's stdout and stderr come back on two virtio consoles; its exit code
# on the serial line, which also carries the kernel's console (kept in a log
# file, shown when something goes wrong).
# Environment passed in: PATH, HOME, LANG, TERM, CI, every LEAKHOUND_* and
# NODE_* variable, and the names listed in VM_PASS_ENV (space-separated).
# stdin is /dev/null.
#
# Settings: VM_TIMEOUT seconds (default 900), VM_MEM (2G), VM_CPUS (2),
#   VM_ACCEL (tcg: this machine kind has no usable KVM), VM_TCG_THREAD (single
#   to emulate all vCPUs on one host thread; default: one thread each),
#   VM_APPEND (more kernel command line), VM_KEEP=1 (keep the work directory
#   and its console.log).
# Exit status: COMMAND's; 124 on timeout; 125 when the VM did not get as far as
#   running COMMAND (boot failure: the console's tail is printed); 2 on usage.
set -euo pipefail

me=${0##*/}
die() { echo "$me: $*" >&2; exit 2; }
[ $# -ge 3 ] && [ "$2" = "--" ] || die "usage: $me RELEASE -- COMMAND [ARGS...]"
release=$1; shift 2

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
kernels=$(cd "${LEAKHOUND_KERNELS:-$repo/.output/kernels}" 2>/dev/null && pwd) ||
  die "no kernels folder ${LEAKHOUND_KERNELS:-$repo/.output/kernels}: run 'make kernels'"
kroot=$kernels/$release/root
vmlinuz=$kroot/boot/vmlinuz-$release
[ -r "$vmlinuz" ] || die "no kernel image $vmlinuz: run 'make kernels' (have: $(ls "$kernels" 2>/dev/null | grep -v '^debs$' | tr '\n' ' '))"
[ -r "$kroot/lib/modules/$release/modules.dep" ] || die "no modules.dep under $kroot: run 'depmod -b $kroot $release'"
busybox=$(command -v busybox) || die "busybox is not installed (apt-get install busybox-static)"
! ldd "$busybox" >/dev/null 2>&1 || die "$busybox is not static (apt-get install busybox-static)"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)"

timeout_s=${VM_TIMEOUT:-900}
work=$(mktemp -d "${TMPDIR:-/tmp}/leakhound-vm.XXXXXX")
cleanup() { if [ -n "${VM_KEEP:-}" ]; then echo "$me: kept $work" >&2; else rm -rf "$work"; fi; }
trap cleanup EXIT

# --- the initramfs ------------------------------------------------------------
ird=$work/initramfs
mkdir -p "$ird"/{bin,dev,proc,sys,host,rw,root,ko}
cp "$busybox" "$ird/bin/busybox"
for applet in sh mount mkdir insmod chroot reboot cat cp sleep; do ln -s busybox "$ird/bin/$applet"; done

# Modules in load order (dependencies first, each once); built-in ones are
# reported as "builtin NAME" and need nothing. busybox insmod takes only
# uncompressed files.
i=0
while read -r ko; do
  i=$((i + 1))
  dest=$ird/ko/$(printf '%02d' "$i")-$(basename "${ko%%.ko*}").ko
  case $ko in
    *.ko.xz) xz -dc "$ko" > "$dest" ;;
    *.ko.zst) zstd -qdc "$ko" > "$dest" ;;
    *.ko.gz) gzip -dc "$ko" > "$dest" ;;
    *) cp "$ko" "$dest" ;;
  esac
done < <(modprobe -d "$kroot" -S "$release" --show-depends -a virtio_pci virtio_console 9pnet_virtio 9p overlay |
  awk '$1 == "insmod" && !seen[$2]++ { print $2 }')

# The job for guest.sh: a sourced file of shell assignments.
nonce=$RANDOM$RANDOM
{
  printf 'VM_RELEASE=%q\nVM_KROOT=%q\nVM_CWD=%q\n' "$release" "$kroot" "$PWD"
  printf 'VM_ENV=(\n'
  for name in PATH HOME LANG TERM CI ${VM_PASS_ENV:-} $(compgen -e | grep -E '^(LEAKHOUND|NODE)_' || true); do
    [ -n "${!name+set}" ] && printf '  %q\n' "$name=${!name}"
  done
  printf ')\nVM_COMMAND=('; printf ' %q' "$@"; printf ' )\n'
} > "$ird/job"

cat > "$ird/init" <<INIT
#!/bin/sh
# PID 1 of the guest: reach the host's root, hand over to guest.sh, report.
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for ko in /ko/*.ko; do insmod "\$ko" || echo "init: insmod \$ko failed" > /dev/ttyS0; done
if mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 hostroot /host &&
   mount -t tmpfs -o mode=0755 rw /rw && mkdir /rw/upper /rw/work &&
   mount -t overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work overlay /root; then
  mkdir -p /root/run/leakhound-vm && cp /job /root/run/leakhound-vm/job
  # The consoles appear once virtio_console has probed its ports.
  n=0; while [ ! -e /dev/hvc1 ] && [ \$n -lt 100 ]; do sleep 0.1; n=\$((n + 1)); done
  chroot /root /bin/bash $(printf %q "$here/guest.sh") /run/leakhound-vm/job < /dev/null > /dev/hvc0 2> /dev/hvc1
  echo "LEAKHOUND-VM-EXIT $nonce \$?" > /dev/ttyS0
else
  echo "init: cannot mount the host's root" > /dev/ttyS0
fi
reboot -f
INIT
chmod +x "$ird/init"
(cd "$ird" && find . | "$busybox" cpio -o -H newc 2>/dev/null) > "$work/initramfs.cpio"

# --- QEMU ----------------------------------------------------------------------
# Guest stdout (hvc0) and stderr (hvc1) go through FIFOs to ours; the serial
# line (kernel console + exit line) to console.log.
mkfifo "$work/stdout" "$work/stderr"
cat "$work/stdout" &
out_pid=$!
cat "$work/stderr" >&2 &
err_pid=$!
start=$(date +%s.%N)
timeout --foreground -k 10 "$timeout_s" qemu-system-x86_64 \
  -accel "${VM_ACCEL:-tcg}${VM_TCG_THREAD:+,thread=$VM_TCG_THREAD}" -cpu max -smp "${VM_CPUS:-2}" -m "${VM_MEM:-2G}" \
  -nodefaults -no-reboot -display none -monitor none \
  -kernel "$vmlinuz" -initrd "$work/initramfs.cpio" \
  -append "console=ttyS0 rdinit=/init panic=-1 ${VM_APPEND:-}" \
  -serial "file:$work/console.log" \
  -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
  -device virtio-serial-pci \
  -chardev "file,id=out,path=$work/stdout" -device virtconsole,chardev=out \
  -chardev "file,id=err,path=$work/stderr" -device virtconsole,chardev=err \
  < /dev/null > "$work/qemu.log" 2>&1 &
vm=$!
stopped=
trap 'stopped=1; kill "$vm" 2>/dev/null || true' INT TERM
rc=0
wait "$vm" || rc=$?
[ -z "$stopped" ] || wait "$vm" 2>/dev/null || true
# If QEMU died before opening a FIFO its cat still waits for a writer: open
# and close each once so that every cat sees its end of file.
for f in stdout stderr; do exec 3<>"$work/$f"; exec 3>&-; done
wait "$out_pid" "$err_pid" 2>/dev/null || true
[ -z "$stopped" ] || { echo "$me: interrupted" >&2; exit 130; }

elapsed=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
console_tail() {
  echo "--- qemu ---" >&2; tail -n 20 "$work/qemu.log" >&2 || true
  echo "--- guest console (last 40 lines) ---" >&2; tail -n 40 "$work/console.log" >&2 || true
}
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
  echo "$me: $release: timed out after $timeout_s s" >&2
  console_tail
  exit 124
fi
line=$(grep -a -o "LEAKHOUND-VM-EXIT $nonce [0-9]*" "$work/console.log" 2>/dev/null | tail -n 1 || true)
if [ -z "$line" ]; then
  why="the VM stopped before COMMAND finished"
  grep -aq 'Kernel panic' "$work/console.log" 2>/dev/null && why="the guest kernel panicked"
  echo "$me: $release: $why (qemu exit $rc, ${elapsed} s)" >&2
  console_tail
  exit 125
fi
echo "$me: $release: exit ${line##* } after ${elapsed} s in the VM" >&2
exit "${line##* }"
