#!/bin/bash
# cp-offload against Samba (the harness, tests/harness/samba.sh), which has
# server-side copy chunks but no ODX:
#   --method auto falls back to copy chunks: the 64 MiB copy is exact and
#   < 0.1% of it crosses the wire; --method odx fails with a clear error
#   naming the refusal and leaves no target behind.
# Usage: samba_test.sh --mount MOUNT.SMBX --cp-offload CP-OFFLOAD --case auto-odx
set -u
# shellcheck source=../fs/lib.sh
source "$(dirname "$0")/../fs/lib.sh"
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

url() { echo "smb://$HOST/$SHARE/$1"; }

scenario() {
  cpo_parse_args "${test_args[@]}"
  [[ $cpo_case == auto-odx ]] || fail "unknown --case $cpo_case"
  local size=$(((64 << 20) + 12345))
  make_random "$SHARE_PATH/big" "$size"
  chmod 644 "$SHARE_PATH/big"
  expect_cpo_ok --stats "$(url big)" "$(url copy)"
  same_sha "$SHARE_PATH/big" "$SHARE_PATH/copy"
  check_offloaded copychunk "$size"

  run_cpo --stats --method odx "$(url big)" "$(url copy-odx)"
  note "--method odx: exit $cpo_rc: $(cat "$work/cpo.err")"
  [[ $cpo_rc -ne 0 ]] || fail "--method odx succeeded on Samba, which has no ODX"
  grep -q "the server does not offer ODX" "$work/cpo.err" || { cat "$work/cpo.err" >&2; fail "the error does not say that the server has no ODX"; }
  grep -q "STATUS_" "$work/cpo.err" || fail "the error does not name the NTSTATUS"
  grep -q "copy-odx" "$work/cpo.err" || fail "the error does not name the file"
  [[ ! -e $SHARE_PATH/copy-odx ]] || fail "a failed --method odx left its target behind"
  note "PASS"
}

fs_main scenario
