# shellcheck shell=bash
# Shared by the cp-offload tests (sourced after tests/fs/lib.sh or
# tests/failover/lib.sh, which start the server and run the scenario inside
# its network namespace). The test's own arguments (after the library's):
#   --cp-offload PATH   the binary under test
#   --case NAME         which scenario to run

cpo=""
cpo_case=""
cpo_parse_args() {
  while [[ $# -gt 0 ]]; do
    case $1 in
      --cp-offload) cpo=$2; shift 2 ;;
      --case) cpo_case=$2; shift 2 ;;
      *) fail "unknown test argument $1" ;;
    esac
  done
  [[ -n $cpo && -x $cpo ]] || fail "--cp-offload ${cpo:-PATH} is not executable"
  [[ -n $cpo_case ]] || fail "--case NAME is missing"
}

# make_random FILE BYTES: a file of random bytes.
make_random() {
  head -c "$2" /dev/urandom > "$1" || fail "cannot write $1"
}

# run_cpo ARGS...: runs cp-offload with the test's credentials; its status in
# cpo_rc, its output in $work/cpo.out and $work/cpo.err (shown on failure).
run_cpo() {
  note "cp-offload $*"
  cpo_rc=0
  timeout 120 "$cpo" -A "$work/credentials" "$@" >"$work/cpo.out" 2>"$work/cpo.err" || cpo_rc=$?
  [[ $cpo_rc -ne 124 ]] || fail "cp-offload did not finish within 120 s"
}

# expect_cpo_ok ARGS...: cp-offload must succeed.
expect_cpo_ok() {
  run_cpo "$@"
  if [[ $cpo_rc -ne 0 ]]; then
    cat "$work/cpo.out" "$work/cpo.err" >&2
    fail "cp-offload $* exited $cpo_rc"
  fi
}

# stat_value KEY: the value of the first "  KEY: VALUE" line of --stats (the
# first file's), the number alone for numbers.
stat_value() {
  sed -n "s/^  $1: //p" "$work/cpo.out" | head -n 1 | sed -E 's/^([0-9]+)( .*)?$/\1/'
}

# same_sha A B: the two files hold the same bytes.
same_sha() {
  local a b
  a=$(sha256sum < "$1" | cut -d' ' -f1)
  b=$(sha256sum < "$2" | cut -d' ' -f1)
  [[ $a == "$b" ]] || fail "$2 differs from $1 (sha256 $b, expected $a)"
}

# The --stats numbers of the last run, checked against a file of SIZE bytes.
# check_offloaded METHOD SIZE [DIVISOR]: METHOD copied it, and less than
# SIZE/DIVISOR (default 1000: 0.1%) went through the client and over the wire.
check_offloaded() {
  local want=$1 size=$2 divisor=${3:-1000} method copied through wire
  method=$(stat_value method) copied=$(stat_value "bytes copied") through=$(stat_value "bytes through client")
  wire=$(stat_value "wire bytes")
  note "method $method, bytes copied $copied, through the client $through, on the wire $wire"
  [[ $method == "$want" ]] || { cat "$work/cpo.out" >&2; fail "--stats says method '$method', expected $want"; }
  [[ $copied == "$size" ]] || fail "--stats says $copied bytes copied, expected $size"
  [[ $wire =~ ^[0-9]+$ ]] || { cat "$work/cpo.out" >&2; fail "--stats shows no wire byte count"; }
  [[ $through -lt $((size / divisor)) ]] || fail "$through bytes went through the client (>= 1/$divisor of $size)"
  [[ $wire -lt $((size / divisor)) ]] || fail "$wire bytes crossed the wire (>= 1/$divisor of $size)"
}
