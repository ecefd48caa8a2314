# Shared by the interop tests (sourced, not run). Every test:
#   - exits 77 (ctest SKIP_RETURN_CODE) only when a prerequisite is absent
#     from the machine (Samba, iproute2, tshark, root), and says which;
#   - otherwise passes or fails with a message naming what went wrong;
#   - cleans up everything it started (trap), even on failure.
# Tools run inside the harness' network namespace, the only place its smbd
# can be reached (tests/harness/samba.sh explains why).

interop_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
harness="$interop_dir/../harness/samba.sh"
pcap2frames="$interop_dir/../data/captures/pcap2frames.py"

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
note() { echo "-- $*"; }

require_harness() {
  local why
  why=$("$harness" check 2>&1) || skip "${why#samba.sh: }"
}

require_tool() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || skip "$tool is not installed"
  done
}

# A scratch directory removed at exit (kept when SMBX_TEST_KEEP is set, to
# look at captures); cleanup steps run newest first.
work=$(mktemp -d "${TMPDIR:-/tmp}/smbx-interop.XXXXXX")
chmod 755 "$work"   # smbd, working as the test user, must reach the shares below it
remove_work() {
  if [[ -n ${SMBX_TEST_KEEP:-} ]]; then echo "kept $work"; else rm -rf "$work"; fi
}
cleanup_steps=(remove_work)
run_cleanup() {
  local i
  for ((i = ${#cleanup_steps[@]} - 1; i >= 0; i--)); do eval "${cleanup_steps[i]}" || true; done
}
trap run_cleanup EXIT
trap 'exit 130' INT TERM
on_exit() { cleanup_steps+=("$1"); }

# Starts a private smbd for this test alone (own netns) and loads its env.
# Extra environment (SMB_ENCRYPTION_ALGORITHMS, SMB_SIGNING) passes through.
start_samba() {
  require_harness
  local dir="$work/samba"
  on_exit "'$harness' stop '$dir'"
  "$harness" start "$dir" || fail "the Samba harness did not start"
  [[ -z ${SMBX_TEST_KEEP:-} ]] || cp "$dir/env" "$work/samba.env"   # the password, to read kept captures
  load_samba "$dir"
}

# Loads the env of a harness started elsewhere (the ctest fixture).
load_samba() {
  local dir=$1
  [[ -s $dir/env ]] || fail "no Samba harness at $dir (did the fixture setup test fail?)"
  # shellcheck disable=SC1091
  source "$dir/env"
  samba_dir=$dir
}

in_ns() { ip netns exec "$NETNS" "$@"; }

smbclient_run() {  # smbclient_run SHARE COMMANDS [extra smbclient args]
  local share=$1 commands=$2
  shift 2
  in_ns smbclient "//$HOST/$share" -p "$PORT" -U "$DOMAIN\\$USER%$PASSWORD" "$@" -c "$commands" </dev/null
}

sha() { sha256sum "$1" | cut -d' ' -f1; }

same_sha() {  # same_sha WHAT EXPECTED_FILE ACTUAL_FILE
  local want got
  [[ -f $3 ]] || fail "$1: $3 does not exist"
  want=$(sha "$2")
  got=$(sha "$3")
  [[ $want == "$got" ]] || fail "$1: sha256 $got, expected $want ($(stat -c %s "$3") bytes, expected $(stat -c %s "$2"))"
  note "$1: sha256 ${got:0:16}... matches"
}

random_file() {  # random_file PATH MIB
  head -c "$(($2 * 1024 * 1024))" /dev/urandom > "$1"
}

# ---- smbx ---------------------------------------------------------------

smbx_bin=${SMBX:-}

# The file commands arrive with the client engine; until then say so plainly.
require_smbx_client() {
  [[ -n $smbx_bin && -x $smbx_bin ]] || fail "no smbx binary (SMBX=$smbx_bin)"
  local help
  help=$("$smbx_bin" --help 2>&1 || true)
  grep -qw put <<<"$help" && grep -qw get <<<"$help" ||
    fail "smbx has no file commands yet (its --help lists no put/get): the client engine is not there"
}

url() {  # url SHARE [PATH]
  echo "smb://$DOMAIN;$USER@$HOST:$PORT/$1${2:+/$2}"
}

# smbx_run ARGS...: runs smbx in the netns with the harness password; sets
# $out (stdout), $err (stderr) and $rc. Bounded by a timeout.
smbx_run() {
  set +e
  out=$(SMBX_PASSWORD=$PASSWORD in_ns timeout "${SMBX_TIMEOUT:-600}" "$smbx_bin" "$@" 2>"$work/smbx.err")
  rc=$?
  set -e
  err=$(cat "$work/smbx.err")
}

# smbx_ok ARGS...: like smbx_run, failing the test unless smbx exits 0.
smbx_ok() {
  smbx_run "$@"
  [[ $rc -eq 0 ]] || fail "smbx $* exited $rc: $(tail -n 20 <<<"$err")"
}

# smbx_expect_failure CODE STATUS ARGS...: smbx must exit CODE and name STATUS
# (an NTSTATUS name, or any text) in its message.
smbx_expect_failure() {
  local code=$1 status=$2
  shift 2
  smbx_run "$@"
  [[ $rc -eq $code ]] || fail "smbx $* exited $rc, expected $code; stderr: $(tail -n 20 <<<"$err")"
  grep -qF -- "$status" <<<"$err" || fail "smbx $*: the message does not name $status: $err"
  grep -q '^smbx: ' <<<"$err" || fail "smbx $*: the message does not start with 'smbx: ': $err"
  note "exit $rc: $(head -n 1 <<<"$err")"
}

# ---- capture ------------------------------------------------------------

# capture_start FILE: tshark on the netns' loopback, SMB port only; returns
# once tshark is capturing.
capture_start() {
  require_tool tshark
  capture_file=$1
  : > "$work/tshark.log"
  # A large capture buffer: loopback carries 64 KiB segments in bursts, and a
  # dropped packet would show up later as a reassembly problem. (-B 256
  # silently captures nothing on Debian 12's dumpcap; 128 MiB works.)
  ip netns exec "$NETNS" tshark -q -B 128 -i lo -f "tcp port $PORT" -w "$capture_file" \
    </dev/null >"$work/tshark.log" 2>&1 &
  capture_pid=$!
  on_exit "kill -INT $capture_pid 2>/dev/null; wait $capture_pid 2>/dev/null"
  local i
  for ((i = 0; i < 100; i++)); do
    if grep -q 'Capturing on' "$work/tshark.log"; then
      # tshark says so a little before the first dumpcap in a fresh netns
      # really sees packets (measured: a conversation right after the message
      # was missed entirely, one 0.3 s later was not).
      sleep 1
      return 0
    fi
    kill -0 "$capture_pid" 2>/dev/null || break
    sleep 0.1
  done
  cat "$work/tshark.log" >&2
  fail "tshark did not start capturing"
}

capture_stop() {
  sleep 0.3   # let the last segments reach the capture
  kill -INT "$capture_pid" 2>/dev/null || true
  wait "$capture_pid" 2>/dev/null || true
  [[ -s $capture_file ]] || fail "tshark wrote no capture"
  grep -q ' 0 packets captured' "$work/tshark.log" && fail "tshark captured no packets"
  # Under load the kernel may drop packets before dumpcap reads them; such a
  # capture cannot be judged (reassembly would fail on our side, not the
  # peer's). capture_lost counts the gaps Wireshark sees.
  capture_lost=$(tshark -r "$capture_file" -Y 'tcp.analysis.lost_segment || tcp.analysis.ack_lost_segment' 2>/dev/null | wc -l)
  [[ $capture_lost -eq 0 ]] || note "the capture lost packets ($capture_lost gaps)"
  capture_syns=$(tshark -r "$capture_file" -Y 'tcp.flags.syn == 1 && tcp.flags.ack == 0' 2>/dev/null | wc -l)
  [[ $capture_syns -gt 0 ]] || note "the capture missed the start of the connection"
}

# capture_without_retransmissions SRC DST: under load, loopback TCP does
# retransmit (measured: duplicate 32 KiB segments after a zero window), and
# pcap2frames.py concatenates payloads in capture order, so a duplicate
# corrupts every frame after it. Drops the retransmitted and out-of-order
# copies; fails when that leaves a gap (the caller then captures again).
capture_without_retransmissions() {
  tshark -r "$1" -Y '!(tcp.analysis.retransmission || tcp.analysis.fast_retransmission || tcp.analysis.spurious_retransmission || tcp.analysis.out_of_order)' \
    -w "$2" 2>/dev/null || return 1
  local gaps
  gaps=$(tshark -r "$2" -Y 'tcp.analysis.lost_segment || tcp.analysis.ack_lost_segment || tcp.analysis.retransmission || tcp.analysis.out_of_order' 2>/dev/null | wc -l)
  [[ $gaps -eq 0 ]] || { note "the capture has $gaps gaps once retransmissions are dropped"; return 1; }
}

# True when the last capture holds whole conversations.
capture_complete() { [[ $capture_lost -eq 0 && $capture_syns -gt 0 ]]; }

# conformance_check FILE [tshark options]: fails when Wireshark reports a
# malformed packet or error-level expert info anywhere in the conversation.
#
# One exception, for the server's side only: Samba's NEGOTIATE response
# carries SPNEGO negHints ("not_defined_in_RFC4178@please_ignore") that
# Wireshark flags as a BER warning in the Malformed group. That is Samba's
# long-standing quirk, not the client's doing; the rule drops exactly that
# message in packets from the server port and nothing else.
conformance_check() {
  local file=$1
  shift
  local filter='_ws.malformed || _ws.expert.severity == error'
  local rows
  rows=$(tshark -r "$file" -d "tcp.port==$PORT,nbss" "$@" -Y "$filter" -T fields \
           -E occurrence=a -E aggregator=$'\x1f' \
           -e frame.number -e tcp.srcport -e _ws.expert.message -e _ws.expert.group \
           -e _ws.expert.severity 2>"$work/tshark-read.err") ||
    { cat "$work/tshark-read.err" >&2; fail "tshark could not read $file"; }
  local bad=() frame src messages groups severities
  while IFS=$'\t' read -r frame src messages groups severities; do
    [[ -n $frame ]] || continue
    local -a m g s
    IFS=$'\x1f' read -r -a m <<<"$messages"
    IFS=$'\x1f' read -r -a g <<<"$groups"
    IFS=$'\x1f' read -r -a s <<<"$severities"
    local i serious=0
    for ((i = 0; i < ${#m[@]}; i++)); do
      # 0x07000000 = PI_MALFORMED, 0x00800000 = PI_ERROR (epan/proto.h)
      if [[ ${g[i]:-} == 117440512 || ${s[i]:-} == 8388608 ]]; then
        if [[ $src == "$PORT" && ${m[i]} == "BER Error: OctetString expected but class:UNIVERSAL(0) Constructed tag:16 was unexpected" ]]; then
          continue
        fi
        serious=1
      fi
    done
    # A Malformed Packet exception sets _ws.malformed without an expert
    # group we could miss, but be safe: no expert rows at all is serious too.
    [[ ${#m[@]} -eq 0 ]] && serious=1
    [[ $serious -eq 1 ]] && bad+=("$frame")
  done <<<"$rows"
  local total
  total=$(tshark -r "$file" -d "tcp.port==$PORT,nbss" "$@" -Y smb2 2>/dev/null | wc -l)
  [[ $total -gt 0 ]] || fail "the capture $file holds no SMB2 packets"
  if [[ ${#bad[@]} -gt 0 ]]; then
    echo "Wireshark reports ${#bad[@]} malformed/error packet(s):" >&2
    local list
    list=$(IFS=,; echo "${bad[*]}")
    tshark -r "$file" -d "tcp.port==$PORT,nbss" "$@" -Y "frame.number in {${list//,/ }}" >&2 2>/dev/null || true
    tshark -r "$file" -d "tcp.port==$PORT,nbss" "$@" -Y "frame.number in {${list//,/ }}" -V 2>/dev/null |
      grep -E 'Expert Info|Malformed|Frame [0-9]+:' | head -n 60 >&2 || true
    fail "conformance: $file has malformed or error-level packets (frames ${list})"
  fi
  note "conformance: $total SMB2 packets, none malformed, no error-level expert info"
}
