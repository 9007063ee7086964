#!/usr/bin/env bash
# fetch-kernels.sh OUTDIR
#
# Makes the kernels that `make test-kernels` boots available WITHOUT
# installing them as this machine's kernels: each Debian package is only
# downloaded (`apt-get download`) and unpacked (`dpkg-deb -x`) into
# OUTDIR/<release>/root/. Per release that is the image (vmlinuz + modules),
# linux-headers-<release>, the -common headers and the linux-kbuild package
# they name, so out-of-tree modules can be built against it inside the VM.
#
# The releases are whatever Debian's meta-packages point at today:
#   linux-image-amd64       -> linux-image-6.1.0-N-amd64      (Debian 12's own series)
#   linux-image-6.12-amd64  -> linux-image-6.12.X+deb12-amd64 (the current LTS)
# OUTDIR/releases lists them, one a line, in that order.
#
# It also installs the host tools the VM runner needs (qemu, static busybox,
# kmod's modprobe/depmod, xz and zstd for compressed modules).
set -euo pipefail

out=${1:?usage: fetch-kernels.sh OUTDIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
META_PACKAGES=(linux-image-amd64 linux-image-6.12-amd64)
HOST_TOOLS=(qemu-system-x86 busybox-static kmod xz-utils zstd)
export DEBIAN_FRONTEND=noninteractive

log() { echo "fetch-kernels: $*" >&2; }

updated=
apt_update() {
  [ -z "$updated" ] || return 0
  log "apt-get update"
  apt-get update -qq
  updated=1
}

# --- host tools --------------------------------------------------------------
missing=()
for p in "${HOST_TOOLS[@]}"; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing host tools: ${missing[*]}"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" ||
    { apt_update && apt-get install -y -qq --no-install-recommends "${missing[@]}"; }
fi

# --- which packages ----------------------------------------------------------
# The first dependency of PACKAGE whose name matches the extended regex PATTERN.
dependency() {
  apt-cache depends "$1" 2>/dev/null |
    awk -v re="$2" '$1 ~ /Depends:$/ && $2 ~ re { print $2; exit }'
}
resolve() { # META -> linux-image-<release>
  local image
  image=$(dependency "$1" '^linux-image-[0-9]')
  if [ -z "$image" ]; then apt_update; image=$(dependency "$1" '^linux-image-[0-9]'); fi
  [ -n "$image" ] || { log "cannot resolve $1 (apt-cache depends $1)"; exit 1; }
  echo "${image#linux-image-}"
}

releases=()
for meta in "${META_PACKAGES[@]}"; do releases+=("$(resolve "$meta")"); done

debs=$out/debs
mkdir -p "$debs"
for release in "${releases[@]}"; do
  root=$out/$release/root
  if [ -e "$out/$release/.complete" ]; then
    log "$release: already in $root"
    continue
  fi
  headers=linux-headers-$release
  common=$(dependency "$headers" '^linux-headers-.*-common$')
  kbuild=$(dependency "$headers" '^linux-kbuild-')
  [ -n "$common" ] && [ -n "$kbuild" ] || { log "$headers: cannot find its -common and linux-kbuild dependencies"; exit 1; }
  packages=("linux-image-$release" "$headers" "$common" "$kbuild")
  log "$release: downloading ${packages[*]}"
  # Root downloads without handing the folder to the _apt sandbox user.
  dl() { (cd "$debs" && apt-get -q -o APT::Sandbox::User=root download "${packages[@]}"); }
  dl || { apt_update && dl; }
  rm -rf "$out/$release"
  mkdir -p "$root"
  for p in "${packages[@]}"; do
    # The newest file of that package name in the cache (versions accumulate).
    deb=$(ls -t "$debs/${p}_"*.deb | head -n 1)
    log "$release: unpacking ${deb##*/}"
    dpkg-deb -x "$deb" "$root"
  done
  # The packages ship no modules.dep (their postinst makes it): make it here so
  # `modprobe -d ROOT -S RELEASE` works on the host and in the guest.
  depmod -b "$root" "$release"
  [ -r "$root/boot/vmlinuz-$release" ] || { log "$release: no $root/boot/vmlinuz-$release"; exit 1; }
  touch "$out/$release/.complete"
done
printf '%s\n' "${releases[@]}" > "$out/releases"
log "kernels: $(tr '\n' ' ' < "$out/releases")"
