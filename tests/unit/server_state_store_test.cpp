// smbxd's SQLite state store (src/server/state_store.hpp): what a CA share
// keeps across a crash of the server (failover.md §12).
#include <doctest/doctest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "server/state_store.hpp"

using namespace smbx;
using namespace smbx::server;
namespace fs = std::filesystem;

namespace {

// A fresh directory under TMPDIR, removed with everything in it.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "smbx-store-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string str() const { return path.string(); }
  std::string db() const { return (path / "smbxd-state.sqlite").string(); }
};

wire::Guid guid(std::uint8_t seed) {
  wire::Guid g{};
  for (std::size_t i = 0; i < g.size(); ++i) g[i] = static_cast<std::uint8_t>(seed + i * 7);
  return g;
}

// Every field set to something other than its default.
PersistentOpen sample(std::uint64_t id) {
  PersistentOpen o;
  o.id = id;
  o.create_guid = guid(1);
  o.client_guid = guid(2);
  o.share = "ca";
  o.path = "dir/file \xc3\xa9.txt";
  o.user = "alice";
  o.desired_access = 0x0012019F;
  o.granted_access = 0x001F01FF;
  o.share_access = 7;
  o.create_options = 0x00000044;
  o.is_directory = false;
  o.delete_on_close = true;
  o.durable_timeout_ms = 60000;
  o.channel_sequence = 0xFFFE;
  o.oplock_level = 0xFF;
  o.has_lease = true;
  o.lease_key = guid(3);
  o.lease_state = 7;
  o.lease_epoch = 0x8001;
  o.lease_v2 = true;
  o.parent_lease_key = guid(4);
  o.has_parent_lease_key = true;
  o.position = 0xFFFFFFFFFFFFFFF0ull;
  o.locks = {{0, 10, true}, {0xFFFFFFFFFFFFFFFEull, 1, false}, {100, 0, false}};
  o.lock_sequences[0] = 0x100 | 1;
  o.lock_sequences[63] = 0x100 | 15;
  o.lock_sequences[17] = 0x100;
  return o;
}

void check_equal(const PersistentOpen& a, const PersistentOpen& b) {
  CHECK(a.id == b.id);
  CHECK(a.create_guid == b.create_guid);
  CHECK(a.client_guid == b.client_guid);
  CHECK(a.share == b.share);
  CHECK(a.path == b.path);
  CHECK(a.user == b.user);
  CHECK(a.desired_access == b.desired_access);
  CHECK(a.granted_access == b.granted_access);
  CHECK(a.share_access == b.share_access);
  CHECK(a.create_options == b.create_options);
  CHECK(a.is_directory == b.is_directory);
  CHECK(a.delete_on_close == b.delete_on_close);
  CHECK(a.durable_timeout_ms == b.durable_timeout_ms);
  CHECK(a.channel_sequence == b.channel_sequence);
  CHECK(a.oplock_level == b.oplock_level);
  CHECK(a.has_lease == b.has_lease);
  CHECK(a.lease_key == b.lease_key);
  CHECK(a.lease_state == b.lease_state);
  CHECK(a.lease_epoch == b.lease_epoch);
  CHECK(a.lease_v2 == b.lease_v2);
  CHECK(a.parent_lease_key == b.parent_lease_key);
  CHECK(a.has_parent_lease_key == b.has_parent_lease_key);
  CHECK(a.position == b.position);
  REQUIRE(a.locks.size() == b.locks.size());
  for (std::size_t i = 0; i < a.locks.size(); ++i) {
    CHECK(a.locks[i].offset == b.locks[i].offset);
    CHECK(a.locks[i].length == b.locks[i].length);
    CHECK(a.locks[i].exclusive == b.locks[i].exclusive);
  }
  CHECK(a.lock_sequences == b.lock_sequences);
}

// Runs SQL on a database file with SQLite directly.
void sql(const std::string& file, const char* text) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
  char* message = nullptr;
  const int rc = sqlite3_exec(db, text, nullptr, nullptr, &message);
  INFO((message != nullptr ? message : ""));
  CHECK(rc == SQLITE_OK);
  sqlite3_free(message);
  sqlite3_close(db);
}

std::unique_ptr<StateStore> open_store(const TempDir& dir) {
  auto store = StateStore::open(dir.str());
  INFO((store ? std::string{} : describe(store.error())));
  REQUIRE(store);
  return std::move(*store);
}

}  // namespace

TEST_CASE("state store: every field of an open round-trips, also after reopening") {
  TempDir dir;
  const PersistentOpen a = sample(5);
  PersistentOpen b = sample(0x7FFFFFFFFFFFFFFFull);
  b.create_guid = guid(9);
  b.is_directory = true;
  b.has_lease = false;
  b.locks.clear();
  b.lock_sequences = {};
  {
    auto store = open_store(dir);
    CHECK(store->file() == dir.db());
    REQUIRE(store->put(a));
    REQUIRE(store->put(b));
    auto loaded = store->load();
    REQUIRE(loaded);
    REQUIRE(loaded->size() == 2);
    check_equal((*loaded)[0], a);
    check_equal((*loaded)[1], b);
  }
  auto store = open_store(dir);
  auto loaded = store->load();
  REQUIRE(loaded);
  REQUIRE(loaded->size() == 2);
  check_equal((*loaded)[0], a);
  check_equal((*loaded)[1], b);
}

TEST_CASE("state store: put replaces an open with its locks and lock sequences; remove forgets it") {
  TempDir dir;
  auto store = open_store(dir);
  REQUIRE(store->put(sample(1)));
  REQUIRE(store->put(sample(2)));
  PersistentOpen changed = sample(1);
  changed.path = "renamed";
  changed.channel_sequence = 3;
  changed.locks = {{42, 8, false}};
  changed.lock_sequences = {};
  changed.lock_sequences[5] = 0x100 | 4;
  REQUIRE(store->put(changed));
  auto loaded = store->load();
  REQUIRE(loaded);
  REQUIRE(loaded->size() == 2);
  check_equal((*loaded)[0], changed);
  check_equal((*loaded)[1], sample(2));

  REQUIRE(store->remove(1));
  REQUIRE(store->remove(1));  // unknown ids are fine
  REQUIRE(store->remove(999));
  loaded = store->load();
  REQUIRE(loaded);
  REQUIRE(loaded->size() == 1);
  check_equal((*loaded)[0], sample(2));
  // The removed open's locks and sequences went with it: putting it back
  // without them shows none.
  PersistentOpen bare = sample(1);
  bare.locks.clear();
  bare.lock_sequences = {};
  REQUIRE(store->put(bare));
  loaded = store->load();
  REQUIRE(loaded);
  REQUIRE(loaded->size() == 2);
  CHECK((*loaded)[0].locks.empty());
  CHECK((*loaded)[0].lock_sequences == std::array<std::uint16_t, 64>{});
}

TEST_CASE("state store: FileId ranges never overlap, also across reopening") {
  TempDir dir;
  std::uint64_t end = 0;
  {
    auto store = open_store(dir);
    auto first = store->reserve_file_ids(1000);
    REQUIRE(first);
    CHECK(*first == 1);
    auto second = store->reserve_file_ids(10);
    REQUIRE(second);
    CHECK(*second == 1001);
    end = *second + 10;
  }
  auto store = open_store(dir);
  auto third = store->reserve_file_ids(5);
  REQUIRE(third);
  CHECK(*third == end);
  auto empty = store->reserve_file_ids(0);
  REQUIRE(empty);
  CHECK(*empty == end + 5);
  CHECK_FALSE(store->reserve_file_ids(std::uint64_t{1} << 63));
  auto after = store->reserve_file_ids(1);  // a refused reservation changed nothing
  REQUIRE(after);
  CHECK(*after == end + 5);
}

TEST_CASE("state store: what a call stored survives the process being killed (kill -9) right after") {
  TempDir dir;
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // No destructor runs: the WAL is neither checkpointed nor closed.
    auto store = StateStore::open(dir.str());
    if (!store || !(*store)->put(sample(7)) || !(*store)->reserve_file_ids(100) ||
        !(*store)->server_guid(guid(20)))
      ::_exit(1);
    ::kill(::getpid(), SIGKILL);
    ::_exit(2);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
  auto store = open_store(dir);  // the dead process's lock went with it
  auto loaded = store->load();
  REQUIRE(loaded);
  REQUIRE(loaded->size() == 1);
  check_equal((*loaded)[0], sample(7));
  auto next = store->reserve_file_ids(1);
  REQUIRE(next);
  CHECK(*next == 101);
  auto server = store->server_guid(guid(21));
  REQUIRE(server);
  CHECK(*server == guid(20));
}

TEST_CASE("state store: the server GUID is the first one given, also after reopening") {
  TempDir dir;
  {
    auto store = open_store(dir);
    auto first = store->server_guid(guid(10));
    REQUIRE(first);
    CHECK(*first == guid(10));
    auto again = store->server_guid(guid(11));
    REQUIRE(again);
    CHECK(*again == guid(10));
  }
  auto store = open_store(dir);
  auto reopened = store->server_guid(guid(12));
  REQUIRE(reopened);
  CHECK(*reopened == guid(10));
}

TEST_CASE("state store: a second store on the same directory is refused while the first is open") {
  TempDir dir;
  auto store = open_store(dir);
  REQUIRE(store->put(sample(1)));
  auto second = StateStore::open(dir.str());
  REQUIRE_FALSE(second);
  const std::string message = describe(second.error());
  CHECK(message.find(dir.db()) != std::string::npos);
  CHECK(message.find("locked") != std::string::npos);
}

TEST_CASE(
    "state store: a missing directory, a file that is not SQLite, a damaged or foreign database give "
    "errors") {
  TempDir dir;
  auto missing = StateStore::open(dir.str() + "/nope");
  REQUIRE_FALSE(missing);
  CHECK(describe(missing.error()).find("nope") != std::string::npos);

  {
    std::ofstream out{dir.db(), std::ios::binary};
    for (int i = 0; i < 1000; ++i) out << "this is not a database, just text. ";
  }
  auto garbage = StateStore::open(dir.str());
  REQUIRE_FALSE(garbage);
  CHECK(describe(garbage.error()).find(dir.db()) != std::string::npos);
  CHECK(describe(garbage.error()).find("not a database") != std::string::npos);

  // A real store whose pages are then overwritten in the middle.
  fs::remove(dir.db());
  {
    auto store = open_store(dir);
    for (std::uint64_t id = 1; id <= 200; ++id) REQUIRE(store->put(sample(id)));
  }
  {
    std::fstream f{dir.db(), std::ios::binary | std::ios::in | std::ios::out};
    REQUIRE(f);
    f.seekp(4096 + 100);
    const std::string junk(8192, '\xA5');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  auto damaged = StateStore::open(dir.str());
  if (damaged) {
    // Damage SQLite's quick_check did not see must still surface as an error.
    CHECK_FALSE((*damaged)->load());
  } else {
    CHECK(describe(damaged.error()).find(dir.db()) != std::string::npos);
  }

  // Another program's SQLite database, and a store of a newer schema.
  fs::remove(dir.db());
  fs::remove(dir.db() + "-wal");
  sql(dir.db(), "CREATE TABLE other (x INTEGER); INSERT INTO other VALUES (1);");
  auto foreign = StateStore::open(dir.str());
  REQUIRE_FALSE(foreign);
  CHECK(describe(foreign.error()).find("another program") != std::string::npos);
  fs::remove(dir.db());
  fs::remove(dir.db() + "-wal");
  { auto store = open_store(dir); }
  sql(dir.db(), "UPDATE smbxd_schema SET version = 99;");
  auto newer = StateStore::open(dir.str());
  REQUIRE_FALSE(newer);
  CHECK(describe(newer.error()).find("schema version 99") != std::string::npos);
}

TEST_CASE("state store: a regular file as the state directory; prepare_state_dir creates 0700") {
  TempDir dir;
  const std::string file = dir.str() + "/plain";
  { std::ofstream{file} << "x"; }
  CHECK_FALSE(StateStore::open(file));
  CHECK_FALSE(prepare_state_dir(file));
  const std::string made = dir.str() + "/state";
  REQUIRE(prepare_state_dir(made));
  struct stat st {};
  REQUIRE(::stat(made.c_str(), &st) == 0);
  CHECK(S_ISDIR(st.st_mode));
  CHECK((st.st_mode & 0777) == 0700);
  REQUIRE(prepare_state_dir(made));  // existing: fine
  CHECK_FALSE(prepare_state_dir(dir.str() + "/no/such/parent"));
  auto store = StateStore::open(made);
  REQUIRE(store);
}
