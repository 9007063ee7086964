#!/usr/bin/env bash
# test-kernels.sh: the e2e tests listed in test/vm/tests.txt, on each kernel
# `make kernels` fetched (.output/kernels/releases: Debian 12's 6.1 series and
# the 6.12 LTS), each in its own QEMU VM (test/vm/run-in-vm.sh), one kernel
# after the other. Prints a header per kernel and a summary; exits 1 if any
# kernel failed.
# Settings: KERNELS (space-separated releases, default all fetched),
#   VM_TESTS (space-separated test files instead of tests.txt), VM_TIMEOUT
#   (seconds per kernel, default 1800), VM_TCG_THREAD (default single: see
#   test/vm/README.md, "Known problem"; VM_TCG_THREAD= for one host thread per
#   vCPU), and run-in-vm.sh's other VM_* settings.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo"
kernels_dir=${LEAKHOUND_KERNELS:-$repo/.output/kernels}

if [ -n "${KERNELS:-}" ]; then
  read -r -a releases <<< "$KERNELS"
else
  [ -r "$kernels_dir/releases" ] || { echo "test-kernels: no $kernels_dir/releases: run 'make kernels'" >&2; exit 2; }
  mapfile -t releases < "$kernels_dir/releases"
fi
if [ -n "${VM_TESTS:-}" ]; then
  read -r -a files <<< "$VM_TESTS"
else
  # One path a line; '#' starts a comment.
  mapfile -t files < <(sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^[[:space:]]*$/d' "$here/tests.txt")
fi
for file in "${files[@]}"; do
  [ -f "$file" ] || { echo "test-kernels: $file (from test/vm/tests.txt) does not exist: run 'make build'" >&2; exit 2; }
done

summary=()
failed=0
for release in "${releases[@]}"; do
  echo
  echo "================================================================"
  echo "== kernel $release: ${#files[@]} test files in a QEMU VM"
  echo "================================================================"
  start=$SECONDS
  VM_TIMEOUT=${VM_TIMEOUT:-2400} VM_TCG_THREAD=${VM_TCG_THREAD-single} CI=true LEAKHOUND_REQUIRE_KMOD=1 \
    "$here/run-in-vm.sh" "$release" -- bash "$here/guest-tests.sh" "${files[@]}"
  rc=$?
  took=$((SECONDS - start))
  case $rc in
    0) verdict=pass ;;
    124) verdict="FAIL (timed out)"; failed=1 ;;
    125) verdict="FAIL (the VM did not run the tests)"; failed=1 ;;
    *) verdict="FAIL (exit $rc)"; failed=1 ;;
  esac
  summary+=("$(printf '  %-28s %5d s  %s' "$release" "$took" "$verdict")")
done

echo
echo "== test-kernels summary"
printf '%s\n' "${summary[@]}"
exit "$failed"
