#!/usr/bin/env bash
# ctest fixture around tests/harness/samba.sh: `start DIR` first clears
# whatever an interrupted earlier run left in DIR, then starts the shared smbd;
# `stop DIR` stops it. Exits 77 when the machine lacks a prerequisite.
#   fixture.sh start|stop DIR
set -euo pipefail
harness="$(cd "$(dirname "$0")/../harness" && pwd)/samba.sh"
case ${1:-} in
  start)
    "$harness" check || exit $?
    "$harness" stop "$2"
    "$harness" start "$2" ;;
  stop) "$harness" stop "$2" ;;
  *) echo "usage: fixture.sh start|stop DIR" >&2; exit 2 ;;
esac
