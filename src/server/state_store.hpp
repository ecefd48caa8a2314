// smbxd's state store (DESIGN.md, Reference server cluster): what a
// continuously available share must keep across a crash of the server
// process. Persistent opens (MS-SMB2 3.3.1.10 with IsPersistent), keyed by
// FileId.Persistent and findable by (ClientGuid, CreateGuid) for replay
// (3.3.5.9.10, 3.3.5.9.12), with their lease, byte-range locks, lock
// sequence array (3.3.5.14) and ChannelSequence (3.3.5.2.10).
//
// SQLite in WAL mode with synchronous=FULL: a call that returned success is on
// stable storage, so a `kill -9` right after it loses nothing. Runs on the
// server's io_context thread; every call is one short transaction.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "smbx/expected.hpp"
#include "wire/types.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace smbx::server {

struct PersistentLock {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  bool exclusive = false;
};

struct PersistentOpen {
  std::uint64_t id = 0;  // FileId.Persistent (== Volatile in smbxd)
  wire::Guid create_guid{};
  wire::Guid client_guid{};
  std::string share;  // the share's configured name
  std::string path;   // under the share root, '/' separated; kept current across renames
  std::string user;   // Open.DurableOwner, as the session's user name
  std::uint32_t desired_access = 0;
  std::uint32_t granted_access = 0;
  std::uint32_t share_access = 0;
  std::uint32_t create_options = 0;
  bool is_directory = false;
  bool delete_on_close = false;
  std::uint32_t durable_timeout_ms = 0;  // Open.DurableOpenTimeout
  std::uint16_t channel_sequence = 0;    // Open.ChannelSequence
  std::uint8_t oplock_level = 0;
  bool has_lease = false;
  wire::Guid lease_key{};
  std::uint32_t lease_state = 0;
  std::uint16_t lease_epoch = 0;
  bool lease_v2 = false;
  wire::Guid parent_lease_key{};
  bool has_parent_lease_key = false;
  std::uint64_t position = 0;  // FilePositionInformation
  std::vector<PersistentLock> locks;
  // Open.LockSequenceArray (MS-SMB2 3.3.1.10): 64 entries, each 0 when unused
  // or (sequence number | 0x100) when valid.
  std::array<std::uint16_t, 64> lock_sequences{};
};

// --state-dir: creates DIR (mode 0700, its parent must exist) when missing;
// fails when it is not a directory.
Expected<void> prepare_state_dir(const std::string& dir);

class StateStore {
 public:
  // Opens (creating when missing) DIR/smbxd-state.sqlite; DIR must exist and be
  // a directory. An error names the file and SQLite's message. The store holds
  // SQLite's exclusive lock until it is destroyed, so a second smbxd on the same
  // state directory fails here ("database is locked"). A file that is not
  // SQLite, is corrupt, or is another program's database is refused.
  static Expected<std::unique_ptr<StateStore>> open(const std::string& dir);
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  // Inserts or replaces everything about one open (its locks and lock
  // sequences included) in one transaction.
  Expected<void> put(const PersistentOpen& open);
  // Forgets an open (closed, or its durable timeout passed). Unknown ids are fine.
  Expected<void> remove(std::uint64_t id);
  // Every stored open, as a restarted server finds them (all disconnected).
  Expected<std::vector<PersistentOpen>> load() const;

  // FileIds are never reused across restarts: the server reserves ranges and
  // the store remembers the highest reserved id. Returns the first id of a new
  // range of `count` ids.
  Expected<std::uint64_t> reserve_file_ids(std::uint64_t count);

  // The server's ServerGuid (MS-SMB2 3.3.1.5), kept so that a restarted
  // server is the same server to reconnecting clients: the stored one, or
  // `fresh` when none is stored yet (then stored).
  Expected<wire::Guid> server_guid(const wire::Guid& fresh);

  const std::string& file() const noexcept { return file_; }

 private:
  struct Statements;
  StateStore(sqlite3* db, std::string file);
  Expected<void> prepare();
  Error sqlite_error(const std::string& action) const;
  Expected<void> exec(const char* sql, const std::string& action) const;
  Unexpected rollback_after(Error error) const;  // ends an open transaction
  sqlite3* db_ = nullptr;
  std::string file_;
  std::unique_ptr<Statements> stmts_;
};

}  // namespace smbx::server
