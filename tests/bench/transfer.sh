#!/usr/bin/env bash
# Transfer benchmark (issue 4, item 7): put and get of a 1 GiB file against
# the harness' Samba (tmpfs share, private netns), smbx and Samba's smbclient
# side by side in the same run, signed (`plain` share) and encrypted (`secret`
# share, smbx --seal), RUNS runs each (median), with each program's peak RSS
# and CPU time (user + system) from /usr/bin/time -v. A benchmark, not a test:
# it prints a table.
#
#   tests/bench/transfer.sh [SMBX_BINARY [BASELINE_SMBX_BINARY]]
#   env: SIZE_MIB (default 1024), RUNS (default 3), MODES (default
#        "signed encrypted"), OPS (default "put get")
#
# With a second binary (an older build), both smbx builds are measured in the
# same run, interleaved, as "smbx" and "base": on a shared, noisy machine a
# comparison between separate runs says little. CPU seconds are less noisy
# than wall time there: they show what each program itself spends.
#
# Use an optimised build (cmake --preset release): a sanitizer build measures
# the sanitizer. Without a working `smbx put/get` it measures smbclient alone
# and says so. Needs root (netns, tmpfs), samba, smbclient, /usr/bin/time.
set -euo pipefail
smbx=${1:-${SMBX:-}}
base=${2:-}
size_mib=${SIZE_MIB:-1024}
runs=${RUNS:-3}
read -r -a modes <<< "${MODES:-signed encrypted}"
read -r -a ops <<< "${OPS:-put get}"
here=$(cd "$(dirname "$0")" && pwd)
harness="$here/../harness/samba.sh"

"$harness" check || { echo "transfer.sh: cannot run here (see above)" >&2; exit 77; }
[[ -z $base || -x $base ]] || { echo "transfer.sh: $base is not executable" >&2; exit 2; }
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

# measure TOOL MODE OP: one timed transfer; appends "seconds rss_kib cpu_seconds"
# to $work/TOOL-MODE-OP and checks the data.
measure() {
  local tool=$1 mode=$2 op=$3 share=$SHARE path=$SHARE_PATH bin=$smbx
  [[ $tool == base ]] && bin=$base
  [[ $mode == encrypted ]] && share=$SECRET_SHARE path=$SECRET_PATH
  local remote="bench-$tool.bin" local_back="$work/local/back-$tool.bin"
  local cmd=()
  case $tool-$op in
    smbclient-put) cmd=(smbclient "//$HOST/$share" -p "$PORT" -U "$DOMAIN\\$USER%$PASSWORD" -m SMB3_11 -c "put $src $remote") ;;
    smbclient-get) cmd=(smbclient "//$HOST/$share" -p "$PORT" -U "$DOMAIN\\$USER%$PASSWORD" -m SMB3_11 -c "get $remote $local_back") ;;
    smbx-put | base-put) cmd=("$bin" put -q "$src" "$(smbx_url "$share" "$remote")") ;;
    smbx-get | base-get) cmd=("$bin" get -q "$(smbx_url "$share" "$remote")" "$local_back") ;;
  esac
  [[ $tool != smbclient && $mode == encrypted ]] && cmd=("${cmd[0]}" "${cmd[1]}" --seal "${cmd[@]:2}")
  rm -f "$local_back"
  # A get without a put before it (OPS=get) reads a copy placed on the share.
  [[ $op == get && ! -f $path/$remote ]] && cp "$src" "$path/$remote"
  SMBX_PASSWORD=$PASSWORD in_ns /usr/bin/time -v -o "$work/time.out" "${cmd[@]}" </dev/null >"$work/run.out" 2>&1 ||
    { cat "$work/run.out" >&2; echo "transfer.sh: $tool $op ($mode) failed" >&2; exit 1; }
  local elapsed rss cpu
  elapsed=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time.out" |
            awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }')
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.out")
  cpu=$(awk -F': ' '/User time \(seconds\)|System time \(seconds\)/ {s += $2} END {print s}' "$work/time.out")
  echo "$elapsed $rss $cpu" >> "$work/$tool-$mode-$op"
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
[[ $smbx_ok -eq 1 && -n $base ]] && tools+=(base)
echo "transfer.sh: ${size_mib} MiB, $runs runs, Samba $(smbd -V | awk '{print $2}') on tmpfs in netns $NETNS, $(nproc) CPUs"
[[ $smbx_ok -eq 1 ]] && echo "smbx: $smbx" || echo "smbx: NOT MEASURED -- $smbx_note; smbclient alone"
[[ $smbx_ok -eq 1 && -n $base ]] && echo "base: $base"
for mode in "${modes[@]}"; do
  for ((r = 1; r <= runs; r++)); do
    for op in "${ops[@]}"; do
      # Rotate which program goes first, so none always meets a warm server.
      order=("${tools[@]:$((r % ${#tools[@]}))}" "${tools[@]:0:$((r % ${#tools[@]}))}")
      for tool in "${order[@]}"; do measure "$tool" "$mode" "$op"; done
    done
  done
done

printf '\n%-9s %-3s |' mode op
for tool in "${tools[@]}"; do printf ' %9s MiB/s  CPU s      RSS |' "$tool"; done
[[ $smbx_ok -eq 1 ]] && printf ' smbx/smbclient' && [[ -n $base ]] && printf ' smbx/base'
printf '\n'
for mode in "${modes[@]}"; do
  for op in "${ops[@]}"; do
    declare -A speed=()
    printf '%-9s %-3s |' "$mode" "$op"
    for tool in "${tools[@]}"; do
      t=$(cut -d' ' -f1 "$work/$tool-$mode-$op" | median)
      speed[$tool]=$(awk -v s="$size_mib" -v t="$t" 'BEGIN { printf "%.0f", s / t }')
      cpu=$(cut -d' ' -f3 "$work/$tool-$mode-$op" | median)
      rss=$(cut -d' ' -f2 "$work/$tool-$mode-$op" | sort -n | tail -n 1 | awk '{ printf "%.1f MiB", $1 / 1024 }')
      printf ' %15s %6.2f %8s |' "${speed[$tool]}" "$cpu" "$rss"
    done
    if [[ $smbx_ok -eq 1 ]]; then
      awk -v a="${speed[smbx]}" -v b="${speed[smbclient]}" 'BEGIN { printf " %14.2f", a / b }'
      [[ -n $base ]] && awk -v a="${speed[smbx]}" -v b="${speed[base]}" 'BEGIN { printf " %9.2f", a / b }'
    fi
    printf '\n'
    unset speed
  done
done
echo
echo "MiB/s: ${size_mib} MiB / median wall time of $runs runs (process start to exit: connect, logon, transfer)."
echo "CPU s: median user + system seconds of the program itself (not smbd's)."
echo "RSS: the largest peak resident set size of the runs (/usr/bin/time -v). Ratios are of MiB/s."
for f in "$work"/*-*-*; do echo "raw $(basename "$f"): $(tr '\n' ' ' < "$f")"; done
[[ $smbx_ok -eq 1 ]] || echo "smbx was not measured: $smbx_note"
