#!/usr/bin/env bash
# Server benchmark (issue 5, item 6): Samba's smbclient puts and gets a 1 GiB
# file against smbxd and against Samba's smbd (tests/harness/samba.sh), both
# serving the same tmpfs from the same private network namespace, in the same
# run, interleaved, RUNS runs each; prints the median MiB/s and the ratio
# smbxd/smbd (target: 0.8 or better). A benchmark, not a test.
#
#   tests/bench/server.sh SMBXD_BINARY
#   env: SIZE_MIB (default 1024), RUNS (default 3),
#        PROTECTION (smbclient --client-protection: sign (default) or encrypt)
#
# Use an optimised smbxd (cmake -DCMAKE_BUILD_TYPE=Release -DSMBX_SANITIZE=OFF):
# a sanitizer build measures the sanitizer. Needs root (netns, tmpfs), samba, smbclient.
set -euo pipefail
smbxd=${1:?usage: $0 SMBXD_BINARY}
size_mib=${SIZE_MIB:-1024}
runs=${RUNS:-3}
protection=${PROTECTION:-sign}
here=$(cd "$(dirname "$0")" && pwd)
harness="$here/../harness/samba.sh"
# shellcheck source=../lib/listening.sh
source "$here/../lib/listening.sh"
smbxd_port=4445

"$harness" check || { echo "server.sh: cannot run here (see above)" >&2; exit 77; }
[[ -x $smbxd ]] || { echo "server.sh: $smbxd is not executable" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/smbx-bench-server.XXXXXX")
chmod 755 "$work"
smbxd_pid=""
cleanup() {
  if [[ -n $smbxd_pid ]] && kill -0 "$smbxd_pid" 2>/dev/null; then
    kill -TERM "$smbxd_pid" 2>/dev/null || true
    wait "$smbxd_pid" 2>/dev/null || true
  fi
  "$harness" stop "$work/samba" >/dev/null 2>&1 || true
  mountpoint -q "$work/local" && umount "$work/local"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

SMB_TMPFS_SIZE=$((size_mib * 3 + 512))m "$harness" start "$work/samba" >/dev/null
# shellcheck disable=SC1091
source "$work/samba/env"
# smbxd serves a directory on the same tmpfs as smbd's share.
mkdir "$SHARE_PATH/smbxd"
ip netns exec "$NETNS" "$smbxd" --listen "127.0.0.1:$smbxd_port" --share "bench=$SHARE_PATH/smbxd" \
  --user "$USER:$PASSWORD" --log warn >"$work/smbxd.log" 2>&1 &
smbxd_pid=$!
wait_listening -n "$NETNS" "$smbxd_pid" "$smbxd_port" || { cat "$work/smbxd.log" >&2; exit 1; }

# The local side lives on tmpfs too, so neither disk nor page cache decides.
mkdir "$work/local"
mount -t tmpfs -o "size=$((size_mib * 3 + 256))m" smbx-bench-local "$work/local"
head -c $((size_mib << 20)) /dev/urandom >"$work/local/src.bin"
want=$(sha256sum "$work/local/src.bin" | cut -d' ' -f1)

# run SERVER OP: one smbclient transfer; prints MiB/s.
run() {
  local server=$1 op=$2 target port cmd start end
  if [[ $server == smbd ]]; then target="//127.0.0.1/$SHARE"; port=445; else target=//127.0.0.1/bench; port=$smbxd_port; fi
  if [[ $op == put ]]; then cmd="put $work/local/src.bin bench.bin"; else cmd="get bench.bin $work/local/back.bin"; fi
  rm -f "$work/local/back.bin"
  start=$(date +%s.%N)
  ip netns exec "$NETNS" smbclient "$target" -p "$port" -U "$DOMAIN\\$USER%$PASSWORD" \
    --option=clientmaxprotocol=SMB3_11 --client-protection="$protection" -c "$cmd" </dev/null >"$work/out" 2>&1 ||
    { cat "$work/out" >&2; echo "server.sh: smbclient $op against $server failed" >&2; exit 1; }
  end=$(date +%s.%N)
  if [[ $op == get ]]; then
    [[ $(sha256sum "$work/local/back.bin" | cut -d' ' -f1) == "$want" ]] ||
      { echo "server.sh: get from $server returned different data" >&2; exit 1; }
  fi
  awk -v a="$start" -v b="$end" -v m="$size_mib" 'BEGIN { printf "%.1f\n", m / (b - a) }'
}

median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

declare -A results
for op in put get; do
  for ((i = 1; i <= runs; i++)); do
    for server in smbd smbxd; do
      results[$server-$op]+="$(run "$server" "$op") "
    done
  done
done
[[ $(sha256sum "$SHARE_PATH/smbxd/bench.bin" | cut -d' ' -f1) == "$want" ]] ||
  { echo "server.sh: the file smbxd stored differs" >&2; exit 1; }

echo "smbclient $size_mib MiB, --client-protection=$protection, tmpfs, median of $runs (MiB/s)"
printf '%-4s %10s %10s %7s   %s\n' op smbd smbxd ratio "runs smbd | smbxd"
for op in put get; do
  a=$(median <<<"${results[smbd-$op]}")
  b=$(median <<<"${results[smbxd-$op]}")
  printf '%-4s %10s %10s %7s   %s| %s\n' "$op" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", b / a }')" \
    "${results[smbd-$op]}" "${results[smbxd-$op]}"
done
