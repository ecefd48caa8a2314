#!/usr/bin/env bash
# Builds the libFuzzer targets with clang in their own build tree, or runs one.
#   run-fuzz.sh build SOURCE_DIR FUZZ_BUILD_DIR
#   run-fuzz.sh run   SOURCE_DIR FUZZ_BUILD_DIR TARGET [SECONDS]
# A run is seeded with every frame of the real captures, lasts SECONDS
# (default $SMBX_FUZZ_SECONDS or 20) and fails on any crash, leak or
# sanitizer report. It prints the number of executions.
set -euo pipefail

mode=$1 src=$2 build=$3

case "$mode" in
  build)
    cxx=$(command -v clang++ || command -v clang++-14)
    cmake -S "$src" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DSMBX_FUZZ=ON -DSMBX_TESTS=OFF >/dev/null
    cmake --build "$build" --target all
    # Seeds: every frame of the real captures, one file each. Made here, once,
    # so that the runs (which ctest may start in parallel) only read them.
    seeds="$build/seeds"
    rm -rf "$seeds" && mkdir -p "$seeds"
    for frames in "$src"/tests/data/captures/*.frames; do
      n=0
      while read -r _dir hex; do
        n=$((n + 1))
        printf '%s' "$hex" | perl -ne 'print pack("H*", $_)' > "$seeds/$(basename "$frames" .frames)-$n"
      done < "$frames"
    done
    echo "fuzz: $(ls "$seeds" | wc -l) seed inputs from the captures"
    ;;
  run)
    target=$4
    seconds=${5:-${SMBX_FUZZ_SECONDS:-20}}
    corpus="$build/corpus/$target"
    seeds="$build/seeds"
    mkdir -p "$corpus"
    [[ -d "$seeds" ]] || { echo "fuzz: no seeds in $seeds: run '$0 build' first" >&2; exit 1; }
    log="$build/$target.log"
    # -max_len bounds the work per input; the captures' frames mostly fit.
    if ! "$build/tests/fuzz/$target" "$corpus" "$seeds" -max_total_time="$seconds" -max_len=65536 \
         -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 >"$log" 2>&1; then
      tail -n 60 "$log"
      echo "fuzz: $target FAILED (log: $log)"
      exit 1
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "fuzz: $target ran ${execs:-?} executions in ${seconds}s without a crash"
    ;;
  *) echo "usage: $0 build|run SOURCE_DIR FUZZ_BUILD_DIR [TARGET [SECONDS]]" >&2; exit 2 ;;
esac
