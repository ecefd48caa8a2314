// smbxd's state store in SQLite (state_store.hpp; DESIGN.md, Reference server
// cluster). What must survive a `kill -9` of a server with continuously
// available shares (failover.md §12): persistent opens, their leases, locks,
// lock sequences (MS-SMB2 3.3.5.14) and ChannelSequence (3.3.5.2.10), and the
// highest FileId handed out, so ids are never reused across restarts.
#include "server/state_store.hpp"

#include <sqlite3.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <map>
#include <utility>

namespace smbx::server {

namespace {

constexpr int kSchemaVersion = 1;
constexpr const char* kFileName = "smbxd-state.sqlite";

Error local_error(std::string action, std::string detail) {
  return Error{.kind = ErrorKind::local,
               .wire = WireError::none,
               .status = 0,
               .action = std::move(action),
               .detail = std::move(detail)};
}

// Values are stored as SQLite's signed 64-bit INTEGER; the cast round-trips.
sqlite3_int64 to_sql(std::uint64_t v) { return static_cast<sqlite3_int64>(v); }

// The schema. Integers that are unsigned in the protocol are stored as their
// two's-complement bit pattern (FileIds, offsets); GUIDs are 16-byte blobs in
// wire order. One row per open; its locks and valid lock sequence entries in
// their own tables, replaced with the open.
constexpr const char* kSchema = R"sql(
CREATE TABLE smbxd_schema (version INTEGER NOT NULL);
CREATE TABLE opens (
  id INTEGER PRIMARY KEY,
  create_guid BLOB NOT NULL,
  client_guid BLOB NOT NULL,
  share_name TEXT NOT NULL,
  path TEXT NOT NULL,
  owner TEXT NOT NULL,
  desired_access INTEGER NOT NULL,
  granted_access INTEGER NOT NULL,
  share_access INTEGER NOT NULL,
  create_options INTEGER NOT NULL,
  is_directory INTEGER NOT NULL,
  delete_on_close INTEGER NOT NULL,
  durable_timeout_ms INTEGER NOT NULL,
  channel_sequence INTEGER NOT NULL,
  oplock_level INTEGER NOT NULL,
  has_lease INTEGER NOT NULL,
  lease_key BLOB NOT NULL,
  lease_state INTEGER NOT NULL,
  lease_epoch INTEGER NOT NULL,
  lease_v2 INTEGER NOT NULL,
  parent_lease_key BLOB NOT NULL,
  has_parent_lease_key INTEGER NOT NULL,
  file_position INTEGER NOT NULL
);
CREATE INDEX opens_by_create_guid ON opens (client_guid, create_guid);
CREATE TABLE locks (
  open_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  lock_offset INTEGER NOT NULL,
  lock_length INTEGER NOT NULL,
  exclusive INTEGER NOT NULL,
  PRIMARY KEY (open_id, seq)
) WITHOUT ROWID;
CREATE TABLE lock_sequences (
  open_id INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  value INTEGER NOT NULL,
  PRIMARY KEY (open_id, idx)
) WITHOUT ROWID;
CREATE TABLE file_ids (next INTEGER NOT NULL);
INSERT INTO file_ids VALUES (1);
CREATE TABLE server_identity (guid BLOB NOT NULL);
)sql";

constexpr const char* kOpenColumns =
    "id, create_guid, client_guid, share_name, path, owner, desired_access, granted_access, share_access, "
    "create_options, is_directory, delete_on_close, durable_timeout_ms, channel_sequence, oplock_level, "
    "has_lease, lease_key, lease_state, lease_epoch, lease_v2, parent_lease_key, has_parent_lease_key, "
    "file_position";

// Resets a statement (and drops its bindings) however the call ends.
class StatementUse {
 public:
  explicit StatementUse(sqlite3_stmt* s) : s_{s} {}
  ~StatementUse() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  StatementUse(const StatementUse&) = delete;
  StatementUse& operator=(const StatementUse&) = delete;

 private:
  sqlite3_stmt* s_;
};

// Reads one row's columns, checking type and range: a damaged or foreign row
// becomes an error naming the column, never a crash or a wrapped value.
class RowReader {
 public:
  explicit RowReader(sqlite3_stmt* s) : s_{s} {}
  const std::string& bad_column() const { return bad_; }
  bool ok() const { return bad_.empty(); }

  std::uint64_t u64(int col) {
    if (!expect(col, SQLITE_INTEGER)) return 0;
    return static_cast<std::uint64_t>(sqlite3_column_int64(s_, col));
  }
  template <typename T>
  T uint(int col) {
    if (!expect(col, SQLITE_INTEGER)) return T{};
    const sqlite3_int64 v = sqlite3_column_int64(s_, col);
    if (v < 0 || static_cast<std::uint64_t>(v) > std::numeric_limits<T>::max()) {
      mark(col);
      return T{};
    }
    return static_cast<T>(v);
  }
  bool flag(int col) {
    const auto v = uint<std::uint8_t>(col);
    if (v > 1) mark(col);
    return v == 1;
  }
  wire::Guid guid(int col) {
    wire::Guid g{};
    if (!expect(col, SQLITE_BLOB)) return g;
    const void* data = sqlite3_column_blob(s_, col);
    if (sqlite3_column_bytes(s_, col) != 16 || data == nullptr) {
      mark(col);
      return g;
    }
    std::memcpy(g.data(), data, g.size());
    return g;
  }
  std::string text(int col) {
    if (!expect(col, SQLITE_TEXT)) return {};
    const auto* data = sqlite3_column_text(s_, col);
    const int size = sqlite3_column_bytes(s_, col);
    if (data == nullptr || size < 0) return {};
    return std::string{reinterpret_cast<const char*>(data), static_cast<std::size_t>(size)};
  }

 private:
  bool expect(int col, int type) {
    if (sqlite3_column_type(s_, col) == type) return true;
    mark(col);
    return false;
  }
  void mark(int col) {
    if (!bad_.empty()) return;
    const char* name = sqlite3_column_name(s_, col);
    bad_ = name != nullptr ? name : std::to_string(col);
  }
  sqlite3_stmt* s_;
  std::string bad_;
};

}  // namespace

struct StateStore::Statements {
  sqlite3_stmt* begin_read = nullptr;
  sqlite3_stmt* begin_write = nullptr;
  sqlite3_stmt* commit = nullptr;
  sqlite3_stmt* rollback = nullptr;
  sqlite3_stmt* put_open = nullptr;
  sqlite3_stmt* delete_open = nullptr;
  sqlite3_stmt* delete_locks = nullptr;
  sqlite3_stmt* delete_sequences = nullptr;
  sqlite3_stmt* put_lock = nullptr;
  sqlite3_stmt* put_sequence = nullptr;
  sqlite3_stmt* load_opens = nullptr;
  sqlite3_stmt* load_locks = nullptr;
  sqlite3_stmt* load_sequences = nullptr;
  sqlite3_stmt* get_next_id = nullptr;
  sqlite3_stmt* set_next_id = nullptr;
  sqlite3_stmt* get_server_guid = nullptr;
  sqlite3_stmt* put_server_guid = nullptr;

  std::vector<std::pair<sqlite3_stmt**, std::string>> all() {
    std::string insert_open = std::string{"INSERT OR REPLACE INTO opens ("} + kOpenColumns +
                              ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
    return {
        {&begin_read, "BEGIN"},
        {&begin_write, "BEGIN IMMEDIATE"},
        {&commit, "COMMIT"},
        {&rollback, "ROLLBACK"},
        {&put_open, insert_open},
        {&delete_open, "DELETE FROM opens WHERE id = ?"},
        {&delete_locks, "DELETE FROM locks WHERE open_id = ?"},
        {&delete_sequences, "DELETE FROM lock_sequences WHERE open_id = ?"},
        {&put_lock,
         "INSERT INTO locks (open_id, seq, lock_offset, lock_length, exclusive) VALUES (?,?,?,?,?)"},
        {&put_sequence, "INSERT INTO lock_sequences (open_id, idx, value) VALUES (?,?,?)"},
        {&load_opens, std::string{"SELECT "} + kOpenColumns + " FROM opens ORDER BY id"},
        {&load_locks, "SELECT open_id, lock_offset, lock_length, exclusive FROM locks ORDER BY open_id, seq"},
        {&load_sequences, "SELECT open_id, idx, value FROM lock_sequences"},
        {&get_next_id, "SELECT next FROM file_ids"},
        {&set_next_id, "UPDATE file_ids SET next = ?"},
        {&get_server_guid, "SELECT guid FROM server_identity"},
        {&put_server_guid, "INSERT INTO server_identity (guid) VALUES (?)"},
    };
  }
  ~Statements() {
    for (auto& [stmt, sql] : all()) sqlite3_finalize(*stmt);
  }
};

Expected<void> prepare_state_dir(const std::string& dir) {
  const std::string action = "prepare --state-dir " + dir;
  if (dir.empty()) return local_error(action, "the directory name is empty");
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) return local_error(action, "not a directory");
    return {};
  }
  if (errno != ENOENT) return local_error(action, std::strerror(errno));
  // Only the last component: a mistyped parent should be an error, not a tree.
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return local_error(action, std::strerror(errno));
  return {};
}

StateStore::StateStore(sqlite3* db, std::string file)
    : db_{db}, file_{std::move(file)}, stmts_{std::make_unique<Statements>()} {}

StateStore::~StateStore() {
  stmts_.reset();  // statements first: a connection with live statements does not close
  sqlite3_close_v2(db_);
}

Error StateStore::sqlite_error(const std::string& action) const {
  std::string detail = sqlite3_errmsg(db_);
  // The lock held by another store (locking_mode=EXCLUSIVE, see prepare()).
  if ((sqlite3_extended_errcode(db_) & 0xFF) == SQLITE_BUSY)
    detail += " (is another smbxd using this state directory?)";
  return local_error(action + " in " + file_, detail);
}

Expected<void> StateStore::exec(const char* sql, const std::string& action) const {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) == SQLITE_OK) return {};
  std::string detail = message != nullptr ? message : sqlite3_errmsg(db_);
  sqlite3_free(message);
  if ((sqlite3_extended_errcode(db_) & 0xFF) == SQLITE_BUSY)
    detail += " (is another smbxd using this state directory?)";
  return local_error(action + " in " + file_, detail);
}

Unexpected StateStore::rollback_after(Error error) const {
  if (sqlite3_get_autocommit(db_) == 0) {
    if (stmts_->rollback != nullptr) {
      StatementUse use{stmts_->rollback};
      sqlite3_step(stmts_->rollback);
    } else {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
  }
  return Unexpected{std::move(error)};
}

Expected<std::unique_ptr<StateStore>> StateStore::open(const std::string& dir) {
  const std::string file = (!dir.empty() && dir.back() == '/' ? dir : dir + "/") + kFileName;
  const std::string action = "open state store in " + file;
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0)
    return local_error(action, "state directory: " + std::string{std::strerror(errno)});
  if (!S_ISDIR(st.st_mode)) return local_error(action, dir + " is not a directory");
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(
      file.c_str(), &db,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW, nullptr);
  if (rc != SQLITE_OK) {
    std::string detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return local_error(action, detail);
  }
  std::unique_ptr<StateStore> store{new StateStore{db, file}};
  if (auto ok = store->prepare(); !ok) return Unexpected{ok.error()};
  return store;
}

// Pragmas, schema check or creation, then the prepared statements.
Expected<void> StateStore::prepare() {
  sqlite3_extended_result_codes(db_, 1);
  // EXCLUSIVE before WAL: the WAL index lives in this process's memory (no
  // -shm file) and the file lock, once taken, is held until close, which
  // keeps a second smbxd off this state directory. The kernel drops the lock
  // when the process dies, so a restart after `kill -9` opens normally and
  // SQLite replays the WAL.
  SMBX_TRY_VOID(exec("PRAGMA locking_mode=EXCLUSIVE", "open state store"));
  {
    sqlite3_stmt* mode = nullptr;
    if (sqlite3_prepare_v2(db_, "PRAGMA journal_mode=WAL", -1, &mode, nullptr) != SQLITE_OK)
      return sqlite_error("open state store");
    const int rc = sqlite3_step(mode);
    const unsigned char* text = rc == SQLITE_ROW ? sqlite3_column_text(mode, 0) : nullptr;
    const std::string got = text != nullptr ? reinterpret_cast<const char*>(text) : "";
    if (rc != SQLITE_ROW) {
      Error e = sqlite_error("open state store");
      sqlite3_finalize(mode);
      return e;
    }
    sqlite3_finalize(mode);
    if (got != "wal") return local_error("open state store in " + file_, "journal mode stays '" + got + "'");
  }
  // A call that returned has its transaction on stable storage (failover.md §12).
  SMBX_TRY_VOID(exec("PRAGMA synchronous=FULL", "open state store"));
  {
    // A damaged file is refused at startup rather than half-read later.
    sqlite3_stmt* check = nullptr;
    if (sqlite3_prepare_v2(db_, "PRAGMA quick_check", -1, &check, nullptr) != SQLITE_OK)
      return sqlite_error("open state store");
    const int rc = sqlite3_step(check);
    const unsigned char* text = rc == SQLITE_ROW ? sqlite3_column_text(check, 0) : nullptr;
    const std::string result = text != nullptr ? reinterpret_cast<const char*>(text) : "";
    Error e = rc == SQLITE_ROW ? Error{} : sqlite_error("open state store");
    sqlite3_finalize(check);
    if (rc != SQLITE_ROW) return e;
    if (result != "ok")
      return local_error("open state store in " + file_, "the database is damaged: " + result);
  }
  SMBX_TRY_VOID(exec("BEGIN IMMEDIATE", "open state store"));
  auto count = [&](const char* sql, std::int64_t& out) -> bool {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &s, nullptr) != SQLITE_OK) return false;
    const int rc = sqlite3_step(s);
    const bool ok = rc == SQLITE_ROW && sqlite3_column_type(s, 0) == SQLITE_INTEGER;
    if (ok) out = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return ok;
  };
  std::int64_t objects = 0;
  if (!count("SELECT count(*) FROM sqlite_master", objects))
    return rollback_after(sqlite_error("open state store"));
  if (objects == 0) {
    if (auto ok = exec(kSchema, "open state store"); !ok) return rollback_after(ok.error());
    const std::string version = "INSERT INTO smbxd_schema VALUES (" + std::to_string(kSchemaVersion) + ")";
    if (auto ok = exec(version.c_str(), "open state store"); !ok) return rollback_after(ok.error());
  } else {
    std::int64_t has_version = 0;
    if (!count("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'smbxd_schema'",
               has_version))
      return rollback_after(sqlite_error("open state store"));
    if (has_version == 0)
      return rollback_after(local_error("open state store in " + file_,
                                        "an SQLite database of another program (no smbxd_schema table)"));
    std::int64_t version = 0;
    if (!count("SELECT version FROM smbxd_schema", version))
      return rollback_after(
          local_error("open state store in " + file_, "the smbxd_schema table has no version"));
    if (version != kSchemaVersion)
      return rollback_after(local_error("open state store in " + file_,
                                        "schema version " + std::to_string(version) +
                                            "; this smbxd reads version " + std::to_string(kSchemaVersion)));
  }
  SMBX_TRY_VOID(exec("COMMIT", "open state store"));
  for (auto& [stmt, sql] : stmts_->all())
    if (sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, stmt, nullptr) != SQLITE_OK)
      return sqlite_error("open state store (prepare '" + sql + "')");
  return {};
}

namespace {

// Steps a statement that returns no rows.
bool run(sqlite3_stmt* s) {
  StatementUse use{s};
  return sqlite3_step(s) == SQLITE_DONE;
}

}  // namespace

Expected<void> StateStore::put(const PersistentOpen& o) {
  const std::string action = "save open " + std::to_string(o.id);
  if (!run(stmts_->begin_write)) return sqlite_error(action);
  const sqlite3_int64 id = to_sql(o.id);
  for (sqlite3_stmt* del : {stmts_->delete_locks, stmts_->delete_sequences}) {
    StatementUse use{del};
    if (sqlite3_bind_int64(del, 1, id) != SQLITE_OK || sqlite3_step(del) != SQLITE_DONE)
      return rollback_after(sqlite_error(action));
  }
  {
    sqlite3_stmt* s = stmts_->put_open;
    StatementUse use{s};
    int i = 0;
    bool ok = true;
    auto integer = [&](sqlite3_int64 v) { ok = ok && sqlite3_bind_int64(s, ++i, v) == SQLITE_OK; };
    auto guid = [&](const wire::Guid& g) {
      ok = ok && sqlite3_bind_blob(s, ++i, g.data(), static_cast<int>(g.size()), SQLITE_STATIC) == SQLITE_OK;
    };
    auto text = [&](const std::string& t) {
      ok = ok && t.size() < static_cast<std::size_t>(std::numeric_limits<int>::max()) &&
           sqlite3_bind_text(s, ++i, t.data(), static_cast<int>(t.size()), SQLITE_STATIC) == SQLITE_OK;
    };
    integer(id);
    guid(o.create_guid);
    guid(o.client_guid);
    text(o.share);
    text(o.path);
    text(o.user);
    integer(o.desired_access);
    integer(o.granted_access);
    integer(o.share_access);
    integer(o.create_options);
    integer(o.is_directory ? 1 : 0);
    integer(o.delete_on_close ? 1 : 0);
    integer(o.durable_timeout_ms);
    integer(o.channel_sequence);
    integer(o.oplock_level);
    integer(o.has_lease ? 1 : 0);
    guid(o.lease_key);
    integer(o.lease_state);
    integer(o.lease_epoch);
    integer(o.lease_v2 ? 1 : 0);
    guid(o.parent_lease_key);
    integer(o.has_parent_lease_key ? 1 : 0);
    integer(to_sql(o.position));
    if (!ok || sqlite3_step(s) != SQLITE_DONE) return rollback_after(sqlite_error(action));
  }
  for (std::size_t n = 0; n < o.locks.size(); ++n) {
    sqlite3_stmt* s = stmts_->put_lock;
    StatementUse use{s};
    const auto& l = o.locks[n];
    if (sqlite3_bind_int64(s, 1, id) != SQLITE_OK || sqlite3_bind_int64(s, 2, to_sql(n)) != SQLITE_OK ||
        sqlite3_bind_int64(s, 3, to_sql(l.offset)) != SQLITE_OK ||
        sqlite3_bind_int64(s, 4, to_sql(l.length)) != SQLITE_OK ||
        sqlite3_bind_int(s, 5, l.exclusive ? 1 : 0) != SQLITE_OK || sqlite3_step(s) != SQLITE_DONE)
      return rollback_after(sqlite_error(action));
  }
  for (std::size_t n = 0; n < o.lock_sequences.size(); ++n) {
    if (o.lock_sequences[n] == 0) continue;  // unused entries are not stored
    sqlite3_stmt* s = stmts_->put_sequence;
    StatementUse use{s};
    if (sqlite3_bind_int64(s, 1, id) != SQLITE_OK ||
        sqlite3_bind_int(s, 2, static_cast<int>(n)) != SQLITE_OK ||
        sqlite3_bind_int(s, 3, o.lock_sequences[n]) != SQLITE_OK || sqlite3_step(s) != SQLITE_DONE)
      return rollback_after(sqlite_error(action));
  }
  if (!run(stmts_->commit)) return rollback_after(sqlite_error(action));
  return {};
}

Expected<void> StateStore::remove(std::uint64_t id) {
  const std::string action = "forget open " + std::to_string(id);
  if (!run(stmts_->begin_write)) return sqlite_error(action);
  for (sqlite3_stmt* del : {stmts_->delete_locks, stmts_->delete_sequences, stmts_->delete_open}) {
    StatementUse use{del};
    if (sqlite3_bind_int64(del, 1, to_sql(id)) != SQLITE_OK || sqlite3_step(del) != SQLITE_DONE)
      return rollback_after(sqlite_error(action));
  }
  if (!run(stmts_->commit)) return rollback_after(sqlite_error(action));
  return {};
}

Expected<std::vector<PersistentOpen>> StateStore::load() const {
  const std::string action = "load opens";
  if (!run(stmts_->begin_read)) return sqlite_error(action);
  std::vector<PersistentOpen> opens;
  std::map<std::uint64_t, std::size_t> by_id;
  auto bad_row = [&](const char* table, const std::string& column) {
    return rollback_after(
        local_error(action + " from " + file_, std::string{"bad value in "} + table + "." + column));
  };
  {
    sqlite3_stmt* s = stmts_->load_opens;
    StatementUse use{s};
    int rc = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      RowReader r{s};
      PersistentOpen o;
      o.id = r.u64(0);
      o.create_guid = r.guid(1);
      o.client_guid = r.guid(2);
      o.share = r.text(3);
      o.path = r.text(4);
      o.user = r.text(5);
      o.desired_access = r.uint<std::uint32_t>(6);
      o.granted_access = r.uint<std::uint32_t>(7);
      o.share_access = r.uint<std::uint32_t>(8);
      o.create_options = r.uint<std::uint32_t>(9);
      o.is_directory = r.flag(10);
      o.delete_on_close = r.flag(11);
      o.durable_timeout_ms = r.uint<std::uint32_t>(12);
      o.channel_sequence = r.uint<std::uint16_t>(13);
      o.oplock_level = r.uint<std::uint8_t>(14);
      o.has_lease = r.flag(15);
      o.lease_key = r.guid(16);
      o.lease_state = r.uint<std::uint32_t>(17);
      o.lease_epoch = r.uint<std::uint16_t>(18);
      o.lease_v2 = r.flag(19);
      o.parent_lease_key = r.guid(20);
      o.has_parent_lease_key = r.flag(21);
      o.position = r.u64(22);
      if (!r.ok()) return bad_row("opens", r.bad_column());
      by_id[o.id] = opens.size();
      opens.push_back(std::move(o));
    }
    if (rc != SQLITE_DONE) return rollback_after(sqlite_error(action));
  }
  {
    sqlite3_stmt* s = stmts_->load_locks;
    StatementUse use{s};
    int rc = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      RowReader r{s};
      const std::uint64_t open_id = r.u64(0);
      PersistentLock l{r.u64(1), r.u64(2), r.flag(3)};
      if (!r.ok()) return bad_row("locks", r.bad_column());
      const auto it = by_id.find(open_id);
      if (it == by_id.end()) continue;  // cannot happen through put/remove; ignore an orphan
      opens[it->second].locks.push_back(l);
    }
    if (rc != SQLITE_DONE) return rollback_after(sqlite_error(action));
  }
  {
    sqlite3_stmt* s = stmts_->load_sequences;
    StatementUse use{s};
    int rc = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      RowReader r{s};
      const std::uint64_t open_id = r.u64(0);
      const auto index = r.uint<std::uint8_t>(1);
      const auto value = r.uint<std::uint16_t>(2);
      if (r.ok() && index >= 64) return bad_row("lock_sequences", "idx");
      if (!r.ok()) return bad_row("lock_sequences", r.bad_column());
      const auto it = by_id.find(open_id);
      if (it == by_id.end()) continue;
      opens[it->second].lock_sequences[index] = value;
    }
    if (rc != SQLITE_DONE) return rollback_after(sqlite_error(action));
  }
  if (!run(stmts_->commit)) return rollback_after(sqlite_error(action));
  return opens;
}

Expected<std::uint64_t> StateStore::reserve_file_ids(std::uint64_t count) {
  const std::string action = "reserve file ids";
  if (!run(stmts_->begin_write)) return sqlite_error(action);
  std::uint64_t first = 0;
  {
    sqlite3_stmt* s = stmts_->get_next_id;
    StatementUse use{s};
    if (sqlite3_step(s) != SQLITE_ROW) return rollback_after(sqlite_error(action));
    RowReader r{s};
    first = r.u64(0);
    if (!r.ok() || first == 0)
      return rollback_after(local_error(action + " in " + file_, "bad value in file_ids.next"));
  }
  // FileIds stay below 2^63: the store's INTEGER is signed, and ~0 is the
  // related-operations FileId (MS-SMB2 3.3.5.2.7.2).
  constexpr std::uint64_t kLimit = std::uint64_t{1} << 63;
  if (first >= kLimit || count > kLimit - first)
    return rollback_after(local_error(action + " in " + file_, "the FileId space is used up"));
  {
    sqlite3_stmt* s = stmts_->set_next_id;
    StatementUse use{s};
    if (sqlite3_bind_int64(s, 1, to_sql(first + count)) != SQLITE_OK || sqlite3_step(s) != SQLITE_DONE)
      return rollback_after(sqlite_error(action));
  }
  if (!run(stmts_->commit)) return rollback_after(sqlite_error(action));
  return first;
}

Expected<wire::Guid> StateStore::server_guid(const wire::Guid& fresh) {
  const std::string action = "read the server GUID";
  if (!run(stmts_->begin_write)) return sqlite_error(action);
  {
    sqlite3_stmt* s = stmts_->get_server_guid;
    StatementUse use{s};
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
      RowReader r{s};
      const wire::Guid stored = r.guid(0);
      if (!r.ok())
        return rollback_after(local_error(action + " in " + file_, "bad value in server_identity.guid"));
      if (!run(stmts_->commit)) return rollback_after(sqlite_error(action));
      return stored;
    }
    if (rc != SQLITE_DONE) return rollback_after(sqlite_error(action));
  }
  {
    sqlite3_stmt* s = stmts_->put_server_guid;
    StatementUse use{s};
    if (sqlite3_bind_blob(s, 1, fresh.data(), static_cast<int>(fresh.size()), SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_step(s) != SQLITE_DONE)
      return rollback_after(sqlite_error(action));
  }
  if (!run(stmts_->commit)) return rollback_after(sqlite_error(action));
  return fresh;
}

}  // namespace smbx::server
