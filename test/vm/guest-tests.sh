#!/usr/bin/env bash
# guest-tests.sh FILE...: run inside a test VM by test-kernels.sh. Runs each
# compiled e2e test file with node's test runner (spec output on stdout), one
# file at a time, and ends with how long each took and how it ended.
# Exits 1 if any file failed.
set -u
kernel=$(uname -r)
results=()
failed=0
for file in "$@"; do
  echo "### $kernel: $file"
  start=$SECONDS
  node --test --test-concurrency=1 --test-reporter=spec "$file"
  rc=$?
  took=$((SECONDS - start))
  if [ "$rc" = 0 ]; then verdict=pass; else verdict="FAIL (exit $rc)"; failed=1; fi
  results+=("$(printf '%5d s  %-45s %s' "$took" "$file" "$verdict")")
done
echo "### $kernel: per file"
printf '%s\n' "${results[@]}"
exit "$failed"
