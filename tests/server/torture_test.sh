#!/bin/bash
# Samba's smbtorture against smbxd: every test of gate-smbxd-core.txt, each in
# its own smbtorture process, in the selftest-like profile of
# smbtorture-map.md, inside a private network namespace. Prints a pass/fail
# table. Fails when a test listed in torture-expected-pass.txt does not pass
# (a regression), or when smbxd dies.
# Usage: torture_test.sh SMBXD [GATE_LIST [EXPECTED_PASS_LIST]]
set -u
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
gate=${1:-$here/gate-smbxd-core.txt}
expected=${2:-$here/torture-expected-pass.txt}
command -v smbtorture >/dev/null || skip "smbtorture (samba-testsuite) is not installed"
per_test_timeout=${SMBX_TORTURE_TIMEOUT:-120}

mkdir -p "$work/share"
start_smbxd --share "share=$work/share" --user "smbxuser2:Pass-w0rd2" --log warn

declare -A result
passed=0 failed=0 total=0
printf '%-55s %-8s %s\n' TEST RESULT SECONDS
while read -r test; do
  [[ -z $test || $test == \#* ]] && continue
  total=$((total + 1))
  start=$(date +%s.%N)
  out=$(in_ns timeout "$per_test_timeout" smbtorture //127.0.0.1/share -U "$USER_NAME%$USER_PASS" \
          --target=samba3 --option=torture:sharedelay=100000 --option=torture:writetimeupdatedelay=500000 \
          --option=torture:user2name=smbxuser2 --option=torture:user2password=Pass-w0rd2 "$test" 2>&1)
  rc=$?
  secs=$(echo "$(date +%s.%N) - $start" | bc)
  if [[ $rc -eq 0 ]] && grep -q "^success: " <<<"$out" && ! grep -Eq "^(failure|error): " <<<"$out"; then
    result[$test]=pass; passed=$((passed + 1))
  else
    result[$test]=FAIL; failed=$((failed + 1))
    [[ -n ${SMBX_TORTURE_VERBOSE:-} ]] && echo "$out" | tail -5
  fi
  printf '%-55s %-8s %.1f\n' "$test" "${result[$test]}" "$secs"
  if ! kill -0 "$smbxd_pid" 2>/dev/null; then
    cat "$work/smbxd.log" >&2
    fail "smbxd died during $test"
  fi
done <"$gate"
echo "smbtorture gate: $passed of $total passed, $failed failed"

regressions=0
if [[ -f $expected ]]; then
  while read -r test; do
    [[ -z $test || $test == \#* ]] && continue
    if [[ ${result[$test]:-missing} != pass ]]; then
      echo "REGRESSION: $test (expected to pass) is ${result[$test]:-not in the gate list}" >&2
      regressions=$((regressions + 1))
    fi
  done <"$expected"
fi
[[ $regressions -eq 0 ]] || fail "$regressions expected-pass tests did not pass"
grep -E "ERROR: AddressSanitizer|runtime error:" "$work/smbxd.log" && fail "smbxd reported a sanitizer error"
echo "PASS: smbtorture gate (no regressions)"
