#!/usr/bin/env bash
# The handle-level client API (include/smbx/file.hpp) against the shared
# Samba fixture: runs the doctest program test_files_api inside the harness'
# network namespace, in a directory of its own on the share.
#   files_api_test.sh TEST_BINARY FIXTURE_DIR [doctest options]
set -euo pipefail
binary=$1 fixture=$2
shift 2
source "$(dirname "$0")/lib.sh"
require_harness
[[ -x $binary ]] || fail "no test binary at $binary"
load_samba "$fixture"

tag="files-api-$$"
mkdir "$SHARE_PATH/$tag"
chown "$USER" "$SHARE_PATH/$tag"   # smbd works as the test user
on_exit "rm -rf '$SHARE_PATH/$tag' '$SECRET_PATH/$tag-sealed.bin'"

# Samba keeps SMB extended attributes in user.* xattrs of the share's files.
probe="$SHARE_PATH/$tag/.xattr-probe"
: > "$probe"
if ! setfattr -n user.smbx_probe -v 1 "$probe" 2>/dev/null; then
  fail "the share's file system ($(stat -f -c %T "$SHARE_PATH")) refuses user.* xattrs; Samba cannot store EAs there"
fi
rm -f "$probe"

in_ns env SMBX_TEST_HOST="$HOST" SMBX_TEST_PORT="$PORT" SMBX_TEST_USER="$USER" SMBX_TEST_DOMAIN="$DOMAIN" \
  SMBX_TEST_PASSWORD="$PASSWORD" SMBX_TEST_SHARE="$SHARE" SMBX_TEST_SECRET_SHARE="$SECRET_SHARE" SMBX_TEST_DIR="$tag" \
  timeout 500 "$binary" "$@"
