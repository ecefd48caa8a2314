#!/usr/bin/env bash
# SQLite in WAL mode on the mount (WAL needs shared mmap of the -shm file and
# byte-range locks): 10000 rows in 100 transactions, a checkpoint, a reader in
# a second process while a writer holds the database, then
# `PRAGMA integrity_check` == ok and the row count and checksum match.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || skip "sqlite3 is not installed"

scenario() {
  fs_mount
  local db=$MNT/test.db
  local mode
  mode=$(sqlite3 "$db" 'PRAGMA journal_mode=WAL;' 2>&1) || fail "sqlite3 journal_mode=WAL: $mode"
  [[ $mode == wal ]] || fail "PRAGMA journal_mode=WAL: expected wal, got $mode"
  sqlite3 "$db" 'CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT NOT NULL, b BLOB NOT NULL);' || fail "CREATE TABLE"
  {
    local tx
    for ((tx = 0; tx < 100; tx++)); do
      echo "BEGIN;"
      echo "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100)
            INSERT INTO t(id, v, b) SELECT $tx * 100 + i, 'row ' || ($tx * 100 + i), zeroblob(200 + i) FROM n;"
      echo "COMMIT;"
    done
  } > "$work/insert.sql"
  local t0
  t0=$(now_ms)
  sqlite3 -bail "$db" < "$work/insert.sql" 2>"$work/insert.err" || { cat "$work/insert.err" >&2; fail "inserting 10000 rows in 100 transactions"; }
  note "10000 rows in 100 WAL transactions: $(($(now_ms) - t0)) ms"
  # A second process reads while a writer holds an open write transaction.
  local out
  out=$( (echo 'BEGIN IMMEDIATE; UPDATE t SET v = v || char(33) WHERE id = 1;'; sleep 2; echo 'COMMIT;') |
         sqlite3 -bail "$db" 2>&1 & sleep 0.5; sqlite3 "$db" 'SELECT count(*) FROM t;' 2>&1; wait) ||
    fail "a reader during a write transaction: $out"
  [[ $out == 10000 ]] || fail "reader during a write transaction: expected 10000, got $out"
  out=$(sqlite3 "$db" 'PRAGMA wal_checkpoint(TRUNCATE);' 2>&1) || fail "wal_checkpoint: $out"
  out=$(sqlite3 "$db" 'PRAGMA integrity_check;' 2>&1) || fail "integrity_check: $out"
  [[ $out == ok ]] || fail "PRAGMA integrity_check: expected ok, got $out"
  out=$(sqlite3 "$db" "SELECT count(*), sum(id), sum(length(b)), (SELECT v FROM t WHERE id = 1) FROM t;" 2>&1)
  [[ $out == "10000|50005000|2505000|row 1!" ]] || fail "count|sum(id)|sum(length(b))|v1: expected 10000|50005000|2505000|row 1!, got $out"
  fs_umount
  # The database file the server holds is sound too (read without the mount).
  if [[ $fs_peer != bind ]]; then
    cp "$SHARE_PATH/test.db" "$work/copy.db"
    out=$(sqlite3 "$work/copy.db" 'PRAGMA integrity_check; SELECT count(*) FROM t;' 2>&1)
    [[ $out == $'ok\n10000' ]] || fail "the database on the server after umount: expected ok and 10000 rows, got $out"
  fi
  echo "ok: sqlite WAL on $fs_peer"
}
fs_main scenario
