#!/usr/bin/env bash
# Transfer benchmark (issue 4, item 7): put and get of a 1 GiB file against
# the harness' Samba (tmpfs share, private netns), smbx and Samba's smbclient
# side by side in the same run, signed (`plain` share) and encrypted (`secret`
# share, smbx --seal), RUNS runs each (median), with each program's peak RSS
# from /usr/bin/time -v. A benchmark, not a test: it prints a table.
#
#   tests/bench/transfer.sh [SMBX_BINARY]
#   env: SIZE_MIB (default 1024), RUNS (default 3)
#
# Use an optimised build (cmake --preset release): a sanitizer build measures
# the sanitizer. Without a working `smbx put/get` it measures smbclient alone
# and says so. Needs root (netns, tmpfs), samba, smbclient, /usr/bin/time.
set -euo pipefail
smbx=${1:-${SMBX:-}}
size_mib=${SIZE_MIB:-1024}
runs=${RUNS:-3}
here=$(cd "$(dirname "$0")" && pwd)
harness="$here/../harness/samba.sh"

"$harness" check || { echo "transfer.sh: cannot run here (see above)" >&2; exit 77; }
[[ -x /usr/bin/time ]] || { echo "transfer.sh: /usr/bin/time is not installed (Debian package 'time')" >&2; exit 77; }

work=$(mktemp -d "${TMPDIR:-/tmp}/smbx-bench.XXXXXX")
chmod 755 "$work"
cleanup() {
  "$harness" stop "$work/samba" >/dev/null 2>&1 || true
  mountpoint -q "$work/local" && umount "$work/local"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$harness" start "$work/samba" >/dev/null 2>"$work/harness.err" || { cat "$work/harness.err" >&2; exit 1; }
# shellcheck disable=SC1091
source "$work/samba/env"
in_ns() { ip netns exec "$NETNS" "$@"; }

# Local files on tmpfs too, so neither side waits for a disk.
mkdir "$work/local"
mount -t tmpfs -o size=$((size_mib * 3 + 64))m smbx-bench-local "$work/local"
src="$work/local/src.bin"
head -c $((size_mib * 1024 * 1024)) /dev/urandom > "$src"
want=$(sha256sum "$src" | cut -d' ' -f1)

smbx_url() { echo "smb://$DOMAIN;$USER@$HOST:$PORT/$1/$2"; }

# Can smbx transfer at all? One small round trip decides.
smbx_ok=0
smbx_note=""
if [[ -z $smbx ]]; then
  smbx_note="no smbx binary given"
elif [[ ! -x $smbx ]]; then
  smbx_note="$smbx is not executable"
else
  head -c 65536 /dev/urandom > "$work/local/probe"
  if SMBX_PASSWORD=$PASSWORD in_ns timeout 60 "$smbx" put -q "$work/local/probe" "$(smbx_url "$SHARE" probe)" 2>"$work/probe.err" &&
     SMBX_PASSWORD=$PASSWORD in_ns timeout 60 "$smbx" get -q "$(smbx_url "$SHARE" probe)" "$work/local/probe.back" 2>>"$work/probe.err" &&
     cmp -s "$work/local/probe" "$work/local/probe.back"; then
    smbx_ok=1
  else
    smbx_note="smbx cannot transfer yet: $(head -c 300 "$work/probe.err" | head -n 2 | tr '\n' ' ')"
  fi
  rm -f "$work/local/probe" "$work/local/probe.back" "$SHARE_PATH/probe"
fi

# measure TOOL MODE OP: one timed transfer; appends "seconds rss_kib" to
# $work/TOOL-MODE-OP and checks the data on the first run.
measure() {
  local tool=$1 mode=$2 op=$3 share=$SHARE path=$SHARE_PATH
  [[ $mode == encrypted ]] && share=$SECRET_SHARE path=$SECRET_PATH
  local remote="bench-$tool.bin" local_back="$work/local/back-$tool.bin"
  local cmd=()
  case $tool-$op in
    smbclient-put) cmd=(smbclient "//$HOST/$share" -p "$PORT" -U "$DOMAIN\\$USER%$PASSWORD" -m SMB3_11 -c "put $src $remote") ;;
    smbclient-get) cmd=(smbclient "//$HOST/$share" -p "$PORT" -U "$DOMAIN\\$USER%$PASSWORD" -m SMB3_11 -c "get $remote $local_back") ;;
    smbx-put) cmd=("$smbx" put -q "$src" "$(smbx_url "$share" "$remote")") ;;
    smbx-get) cmd=("$smbx" get -q "$(smbx_url "$share" "$remote")" "$local_back") ;;
  esac
  [[ $tool == smbx && $mode == encrypted ]] && cmd=("${cmd[0]}" "${cmd[1]}" --seal "${cmd[@]:2}")
  rm -f "$local_back"
  SMBX_PASSWORD=$PASSWORD in_ns /usr/bin/time -v -o "$work/time.out" "${cmd[@]}" </dev/null >"$work/run.out" 2>&1 ||
    { cat "$work/run.out" >&2; echo "transfer.sh: $tool $op ($mode) failed" >&2; exit 1; }
  local elapsed rss
  elapsed=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time.out" |
            awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }')
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.out")
  echo "$elapsed $rss" >> "$work/$tool-$mode-$op"
  local got
  if [[ $op == put ]]; then
    got=$(sha256sum "$path/$remote" | cut -d' ' -f1)
  else
    got=$(sha256sum "$local_back" | cut -d' ' -f1)
    rm -f "$local_back"
  fi
  [[ $got == "$want" ]] || { echo "transfer.sh: $tool $op ($mode): wrong data (sha256 $got)" >&2; exit 1; }
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

tools=(smbclient)
[[ $smbx_ok -eq 1 ]] && tools+=(smbx)
echo "transfer.sh: ${size_mib} MiB, $runs runs, Samba $(smbd -V | awk '{print $2}') on tmpfs in netns $NETNS, $(nproc) CPUs"
[[ $smbx_ok -eq 1 ]] && echo "smbx: $smbx" || echo "smbx: NOT MEASURED -- $smbx_note; smbclient alone"
for mode in signed encrypted; do
  for ((r = 1; r <= runs; r++)); do
    for op in put get; do
      # Alternate which program goes first, so neither always meets a warm server.
      if ((r % 2)); then order=("${tools[@]}"); else order=($(printf '%s\n' "${tools[@]}" | tac)); fi
      for tool in "${order[@]}"; do measure "$tool" "$mode" "$op"; done
    done
  done
done

printf '\n%-9s %-3s | %14s %14s %8s | %14s %14s\n' mode op "smbclient MiB/s" "smbx MiB/s" "ratio" "smbclient RSS" "smbx RSS"
printf '%s\n' "----------------------------------------------------------------------------------------------"
for mode in signed encrypted; do
  for op in put get; do
    declare -A speed=() rss=()
    for tool in "${tools[@]}"; do
      t=$(cut -d' ' -f1 "$work/$tool-$mode-$op" | median)
      speed[$tool]=$(awk -v s="$size_mib" -v t="$t" 'BEGIN { printf "%.0f", s / t }')
      rss[$tool]="$(cut -d' ' -f2 "$work/$tool-$mode-$op" | sort -n | tail -n 1 | awk '{ printf "%.1f MiB", $1 / 1024 }')"
    done
    if [[ $smbx_ok -eq 1 ]]; then
      ratio=$(awk -v a="${speed[smbx]}" -v b="${speed[smbclient]}" 'BEGIN { printf "%.2f", a / b }')
      printf '%-9s %-3s | %15s %14s %8s | %14s %14s\n' "$mode" "$op" "${speed[smbclient]}" "${speed[smbx]}" "$ratio" "${rss[smbclient]}" "${rss[smbx]}"
    else
      printf '%-9s %-3s | %15s %14s %8s | %14s %14s\n' "$mode" "$op" "${speed[smbclient]}" "-" "-" "${rss[smbclient]}" "-"
    fi
    unset speed rss
  done
done
echo
echo "MiB/s: ${size_mib} MiB / median wall time of $runs runs (process start to exit: connect, logon, transfer)."
echo "RSS: the largest peak resident set size of the runs (/usr/bin/time -v). ratio = smbx / smbclient."
[[ $smbx_ok -eq 1 ]] || echo "smbx was not measured: $smbx_note"
