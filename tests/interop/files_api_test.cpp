// The handle-level API (include/smbx/file.hpp) against a real Samba smbd.
// files_api_test.sh runs it inside the harness' network namespace with
// SMBX_TEST_HOST, _PORT, _USER, _DOMAIN, _PASSWORD, _SHARE, _SECRET_SHARE (the
// harness share that requires encryption) and _DIR (a fresh
// directory on the share, relative to its root) in the environment.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include "smbx/client.hpp"
#include "smbx/file.hpp"
#include "wire/create.hpp"
#include "wire/ioctl.hpp"
#include "wire/ntstatus.hpp"

#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {

namespace asio = boost::asio;
using namespace smbx;
using namespace std::chrono_literals;
namespace access = smbx::wire::access;
namespace disposition = smbx::wire::disposition;
namespace status = smbx::wire::status;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') FAIL("the environment lacks " << name << " (run this through files_api_test.sh)");
  return v;
}

ClientOptions options(std::uint16_t dialect = 0x0311) {
  ClientOptions o;
  o.host = env("SMBX_TEST_HOST");
  o.port = static_cast<std::uint16_t>(std::stoul(env("SMBX_TEST_PORT")));
  o.user = env("SMBX_TEST_USER");
  o.domain = env("SMBX_TEST_DOMAIN");
  o.password = env("SMBX_TEST_PASSWORD");
  if (dialect != 0) o.dialects = {dialect};
  return o;
}

// A path inside this run's directory on the share.
std::string at(const std::string& name) { return env("SMBX_TEST_DIR") + "/" + name; }

// Runs a test coroutine to its end on a fresh io_context; rethrows what it threw
// (doctest's REQUIRE failures included). Clients must be gone when it returns,
// which ends their receive loops and lets run() return.
template <class F>
void run(F body) {
  asio::io_context io;
  std::exception_ptr failure;
  bool finished = false;
  asio::co_spawn(io, body(), [&](std::exception_ptr e) {
    failure = e;
    finished = true;
  });
  io.run();
  if (failure) std::rethrow_exception(failure);
  REQUIRE(finished);
}

template <class T>
T value_of(Expected<T> r, const char* what) {
  if (!r) FAIL(what << ": " << describe(r.error()));
  return std::move(*r);
}
void ok(const Expected<void>& r, const char* what) {
  if (!r) FAIL(what << ": " << describe(r.error()));
}
#define VALUE(expr) value_of((expr), #expr)
#define OK(expr) ok((expr), #expr)

asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer t{co_await asio::this_coro::executor, d};
  co_await t.async_wait(asio::use_awaitable);
}

// A coroutine started in the background whose result can be awaited later
// with a deadline.
template <class T>
struct Task {
  struct State {
    explicit State(const asio::any_io_executor& ex) : signal{ex, asio::steady_timer::time_point::max()} {}
    std::optional<T> value;
    std::exception_ptr failure;
    asio::steady_timer signal;
    std::chrono::steady_clock::time_point done_at;
  };
  std::shared_ptr<State> state;

  bool done() const { return state->value.has_value() || state->failure; }
  // Waits up to `timeout`; true when the task finished.
  asio::awaitable<bool> wait(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      state->signal.expires_at(deadline);
      auto [ec] = co_await state->signal.async_wait(asio::as_tuple(asio::use_awaitable));
      (void)ec;
    }
    if (state->failure) std::rethrow_exception(state->failure);
    co_return done();
  }
};

// `work` is a callable returning asio::awaitable<T> (co_spawn keeps it, and
// so a lambda's captures, alive until the coroutine ends). T must be default
// constructible (asio's co_spawn needs that).
template <class F, class T = typename std::invoke_result_t<F>::value_type>
Task<T> start(const asio::any_io_executor& ex, F work) {
  Task<T> task{std::make_shared<typename Task<T>::State>(ex)};
  asio::co_spawn(ex, std::move(work), [state = task.state](std::exception_ptr e, T v) {
    if (e) state->failure = e;
    else state->value.emplace(std::move(v));
    state->done_at = std::chrono::steady_clock::now();
    state->signal.cancel();
  });
  return task;
}

struct Connected {
  std::unique_ptr<Client> client;
  std::optional<Share> share;
  std::optional<Files> files;
};

asio::awaitable<Connected> connect(ClientOptions o = options()) {
  Connected c;
  c.client = VALUE(co_await Client::connect(std::move(o)));
  c.share.emplace(VALUE(co_await c.client->share(env("SMBX_TEST_SHARE"))));
  c.files.emplace(*c.share);
  co_return c;
}

OpenRequest create_file(const std::string& path, std::uint32_t access_mask) {
  OpenRequest r;
  r.path = path;
  r.desired_access = access_mask;
  r.disposition = disposition::overwrite_if;
  r.create_options = wire::create_options::non_directory_file;
  r.attributes = wire::file_attributes::archive;
  return r;
}

OpenRequest open_existing(const std::string& path, std::uint32_t access_mask) {
  OpenRequest r;
  r.path = path;
  r.desired_access = access_mask;
  r.disposition = disposition::open;
  return r;
}

constexpr std::uint32_t kReadWrite = access::read_data | access::write_data | access::read_attributes |
                                     access::write_attributes | access::synchronize;

std::vector<std::uint8_t> random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 gen{seed};
  std::vector<std::uint8_t> out(n);
  for (auto& b : out) b = static_cast<std::uint8_t>(gen());
  return out;
}

void check_status(const Error& e, std::uint32_t expected) {
  CHECK(e.kind == ErrorKind::status);
  CHECK_MESSAGE(e.status == expected, describe(e));
}

}  // namespace

TEST_CASE("write and read_all round trip a few MiB, pipelined, on every dialect") {
  for (std::uint16_t dialect : std::initializer_list<std::uint16_t>{0x0311, 0x0300, 0x0210, 0x0202}) {
    CAPTURE(dialect);
    run([dialect]() -> asio::awaitable<void> {
      auto o = options(dialect);
      o.io_size = 256 * 1024;  // several READs/WRITEs per call, up to io_depth in flight
      auto c = co_await connect(o);
      const auto data = random_bytes(4 * 1024 * 1024 + 12345, dialect);
      const std::string path = at("roundtrip-" + std::to_string(dialect) + ".bin");
      auto f = VALUE(co_await c.files->open(create_file(path, kReadWrite)));
      CHECK(f.reply().create_action == wire::create_action::created);
      CHECK(f.reply().info.file_index != 0);  // from the QFid context
      CHECK((f.reply().maximal_access & access::write_data) != 0);
      CHECK(VALUE(co_await f.write(0, data, dialect >= 0x0210)) == data.size());
      OK(co_await f.flush());
      std::vector<std::uint8_t> back(data.size() + 1000, 0xEE);
      const auto n = VALUE(co_await f.read_all(0, back, 4));
      CHECK(n == data.size());  // short only at the end of the file
      back.resize(n);
      CHECK(back == data);
      // One READ: at most MaxReadSize, 0 at the end of the file.
      std::vector<std::uint8_t> one(100);
      CHECK(VALUE(co_await f.read(data.size() - 40, one)) == 40);
      CHECK(std::equal(one.begin(), one.begin() + 40, data.end() - 40));
      CHECK(VALUE(co_await f.read(data.size(), one)) == 0);
      CHECK(VALUE(co_await f.read(data.size() + 5000, one)) == 0);
      // A write in the middle, read back through a second handle.
      const auto patch = random_bytes(70000, 7);
      CHECK(VALUE(co_await f.write(1'000'000, patch)) == patch.size());
      auto g = VALUE(co_await c.files->open(open_existing(path, access::read_data | access::synchronize)));
      std::vector<std::uint8_t> mid(patch.size());
      CHECK(VALUE(co_await g.read_all(1'000'000, mid)) == patch.size());
      CHECK(mid == patch);
      OK(co_await g.close());
      auto info = VALUE(co_await f.query());
      CHECK(info.size == data.size());
      CHECK(info.links == 1);
      CHECK(info.file_index == f.reply().info.file_index);
      OK(co_await f.close());
      CHECK_FALSE(f.is_open());
      co_return;
    });
  }
}

TEST_CASE("an encrypted share: pipelined WRITEs sealed straight from the caller's buffer") {
  run([]() -> asio::awaitable<void> {
    auto o = options();
    o.io_size = 128 * 1024;
    auto client = VALUE(co_await Client::connect(o));
    auto share = VALUE(co_await client->share(env("SMBX_TEST_SECRET_SHARE")));
    CHECK(share.is_encrypted());
    Files files{share};
    // The secret share's root belongs to the test user; the name is this run's.
    const std::string path = env("SMBX_TEST_DIR") + "-sealed.bin";
    const auto data = random_bytes(1024 * 1024 + 777, 9);
    auto f = VALUE(co_await files.open(create_file(path, kReadWrite | access::delete_)));
    CHECK(VALUE(co_await f.write(0, data)) == data.size());
    std::vector<std::uint8_t> back(data.size());
    CHECK(VALUE(co_await f.read_all(0, back, 8)) == data.size());
    CHECK(back == data);
    OK(co_await f.set_delete_pending(true));
    OK(co_await f.close());
  });
}

TEST_CASE("set_size, set_allocation and set_basic times") {
  run([]() -> asio::awaitable<void> {
    auto c = co_await connect();
    auto f = VALUE(co_await c.files->open(create_file(at("sizes.bin"), kReadWrite)));
    const auto data = random_bytes(10000, 1);
    CHECK(VALUE(co_await f.write(0, data)) == data.size());
    OK(co_await f.set_size(1000));
    CHECK(VALUE(co_await f.query()).size == 1000);
    OK(co_await f.set_size(3 * 1024 * 1024));
    auto grown = VALUE(co_await f.query());
    CHECK(grown.size == 3 * 1024 * 1024);
    std::vector<std::uint8_t> tail(10);
    CHECK(VALUE(co_await f.read(2000, tail)) == 10);
    CHECK(tail == std::vector<std::uint8_t>(10, 0));  // extended with zeros
    OK(co_await f.set_allocation(8 * 1024 * 1024));
    CHECK(VALUE(co_await f.query()).size == 3 * 1024 * 1024);  // allocation does not change the size

    // 2020-01-02 03:04:05 UTC and 2021-06-07 08:09:10 UTC as FILETIMEs (whole seconds).
    const std::uint64_t t1 = 132'224'414'450'000'000;
    const std::uint64_t t2 = 132'675'845'500'000'000;
    OK(co_await f.set_basic(BasicInfoChange{.creation_time = 0, .last_access_time = t1, .last_write_time = t2,
                                            .change_time = 0, .attributes = 0}));
    auto after = VALUE(co_await f.query());
    CHECK(after.last_write_time == t2);
    CHECK(after.last_access_time == t1);
    CHECK(after.creation_time == grown.creation_time);  // 0 left it alone
    OK(co_await f.set_basic(BasicInfoChange{.creation_time = 0, .last_access_time = 0, .last_write_time = 0,
                                            .change_time = 0,
                                            .attributes = wire::file_attributes::archive | wire::file_attributes::hidden}));
    auto hidden = VALUE(co_await f.query());
    CHECK((hidden.attributes & wire::file_attributes::hidden) != 0);
    CHECK(hidden.last_write_time == t2);
    OK(co_await f.close());
  });
}

TEST_CASE("rename and hard link through the handle; links counts both names") {
  run([]() -> asio::awaitable<void> {
    auto c = co_await connect();
    auto f = VALUE(co_await c.files->open(create_file(at("first.txt"), kReadWrite | access::delete_)));
    const auto data = random_bytes(333, 2);
    CHECK(VALUE(co_await f.write(0, data)) == data.size());
    OK(co_await f.rename(at("second.txt"), false));
    CHECK(f.path() == at("second.txt"));
    CHECK(VALUE(co_await f.query()).name == "second.txt");
    auto gone = co_await c.files->open(open_existing(at("first.txt"), access::read_attributes));
    REQUIRE_FALSE(gone);
    check_status(gone.error(), status::OBJECT_NAME_NOT_FOUND);
    CHECK(gone.error().action.find("open //") == 0);

    OK(co_await f.link(at("third.txt"), false));
    CHECK(VALUE(co_await f.query()).links == 2);
    auto third = VALUE(co_await c.files->open(open_existing(at("third.txt"), access::read_data | access::read_attributes)));
    auto third_info = VALUE(co_await third.query());
    CHECK(third_info.links == 2);
    CHECK(third_info.file_index == VALUE(co_await f.query()).file_index);
    std::vector<std::uint8_t> back(data.size());
    CHECK(VALUE(co_await third.read_all(0, back)) == data.size());
    CHECK(back == data);
    OK(co_await third.close());

    // An existing target: refused unless replace_if_exists.
    auto other = VALUE(co_await c.files->open(create_file(at("other.txt"), kReadWrite | access::delete_)));
    auto refused = co_await other.rename(at("second.txt"), false);
    REQUIRE_FALSE(refused);
    check_status(refused.error(), status::OBJECT_NAME_COLLISION);
    auto refused_link = co_await f.link(at("other.txt"), false);
    REQUIRE_FALSE(refused_link);
    check_status(refused_link.error(), status::OBJECT_NAME_COLLISION);
    OK(co_await other.close());
    OK(co_await f.close());
  });
}

TEST_CASE("delete pending removes the file at close, and can be taken back") {
  run([]() -> asio::awaitable<void> {
    auto c = co_await connect();
    const std::string kept = at("kept.txt");
    const std::string doomed = at("doomed.txt");
    {
      auto f = VALUE(co_await c.files->open(create_file(kept, kReadWrite | access::delete_)));
      OK(co_await f.set_delete_pending(true));
      OK(co_await f.set_delete_pending(false));
      OK(co_await f.close());
    }
    CHECK(co_await c.files->open(open_existing(kept, access::read_attributes)));
    auto f = VALUE(co_await c.files->open(create_file(doomed, kReadWrite | access::delete_)));
    auto f2 = VALUE(co_await c.files->open(open_existing(doomed, access::read_attributes)));
    OK(co_await f.set_delete_pending(true));
    // MS-FSA: a new open of a delete-pending file fails.
    auto late = co_await c.files->open(open_existing(doomed, access::read_attributes));
    REQUIRE_FALSE(late);
    check_status(late.error(), status::DELETE_PENDING);
    OK(co_await f.close());
    OK(co_await f2.close());  // the last handle: now it goes
    auto gone = co_await c.files->open(open_existing(doomed, access::read_attributes));
    REQUIRE_FALSE(gone);
    check_status(gone.error(), status::OBJECT_NAME_NOT_FOUND);
  });
}

TEST_CASE("byte-range locks: conflict fails at once, a waiting lock is granted after the unlock") {
  run([]() -> asio::awaitable<void> {
    auto c = co_await connect();
    auto other = co_await connect();  // a second client, as another machine would be
    const std::string path = at("locks.bin");
    auto a = VALUE(co_await c.files->open(create_file(path, kReadWrite)));
    auto b = VALUE(co_await other.files->open(open_existing(path, kReadWrite)));
    auto a2 = VALUE(co_await c.files->open(open_existing(path, kReadWrite)));

    OK(co_await a.lock(0, 100, LockKind::exclusive, false));
    auto conflict = co_await b.lock(50, 10, LockKind::exclusive, false);
    REQUIRE_FALSE(conflict);
    check_status(conflict.error(), status::LOCK_NOT_GRANTED);
    // Another handle of the same client conflicts too: locks belong to opens.
    auto same_client = co_await a2.lock(99, 1, LockKind::shared, false);
    REQUIRE_FALSE(same_client);
    check_status(same_client.error(), status::LOCK_NOT_GRANTED);
    OK(co_await b.lock(100, 50, LockKind::exclusive, false));  // no overlap
    OK(co_await b.unlock(100, 50));

    auto ex = co_await asio::this_coro::executor;
    auto waiting = start(ex, [&b] { return b.lock(50, 10, LockKind::exclusive, true); });
    CHECK_FALSE(co_await waiting.wait(1500ms));  // blocked behind a's lock
    const auto unlocked_at = std::chrono::steady_clock::now();
    OK(co_await a.unlock(0, 100));
    REQUIRE(co_await waiting.wait(10s));
    ok(*waiting.state->value, "the waiting lock");
    CHECK(waiting.state->done_at - unlocked_at < 5s);
    // Now b holds 50+10: a's non-waiting attempt fails.
    auto back = co_await a.lock(55, 1, LockKind::exclusive, false);
    REQUIRE_FALSE(back);
    check_status(back.error(), status::LOCK_NOT_GRANTED);
    OK(co_await b.unlock(50, 10));

    // Shared locks coexist; an exclusive one does not join them.
    OK(co_await a.lock(0, 10, LockKind::shared, false));
    OK(co_await b.lock(0, 10, LockKind::shared, false));
    auto excl = co_await a2.lock(5, 1, LockKind::exclusive, false);
    REQUIRE_FALSE(excl);
    check_status(excl.error(), status::LOCK_NOT_GRANTED);
    OK(co_await a.unlock(0, 10));
    OK(co_await b.unlock(0, 10));
    auto not_locked = co_await a.unlock(0, 10);
    REQUIRE_FALSE(not_locked);
    check_status(not_locked.error(), status::RANGE_NOT_LOCKED);
    OK(co_await a.close());
    OK(co_await a2.close());
    OK(co_await b.close());
  });
}

TEST_CASE("a waiting lock withdrawn with LockCancel: CANCEL, STATUS_CANCELLED, nothing left locked") {
  run([]() -> asio::awaitable<void> {
    auto c = co_await connect();
    const std::string path = at("lock-cancel.bin");
    auto a = VALUE(co_await c.files->open(create_file(path, kReadWrite)));
    auto b = VALUE(co_await c.files->open(open_existing(path, kReadWrite)));
    auto third = VALUE(co_await c.files->open(open_existing(path, kReadWrite)));
    auto ex = co_await asio::this_coro::executor;

    // Cancelled while the server keeps it waiting: STATUS_CANCELLED at once.
    OK(co_await a.lock(0, 100, LockKind::exclusive, false));
    LockCancel cancel;
    auto waiting = start(ex, [&b, cancel] { return b.lock(50, 10, LockKind::exclusive, cancel); });
    CHECK_FALSE(co_await waiting.wait(1000ms));  // blocked behind a's lock
    const auto cancelled_at = std::chrono::steady_clock::now();
    cancel.cancel();
    REQUIRE(co_await waiting.wait(10s));
    REQUIRE_FALSE(*waiting.state->value);
    check_status(waiting.state->value->error(), status::CANCELLED);
    CHECK(waiting.state->done_at - cancelled_at < 5s);
    OK(co_await a.unlock(0, 100));
    co_await sleep_for(300ms);
    OK(co_await third.lock(50, 10, LockKind::exclusive, false));  // b did not get it later
    OK(co_await third.unlock(50, 10));

    // Cancelled in the same turn as the holder's UNLOCK, which goes out first
    // on the same connection: the server grants the lock before the CANCEL
    // arrives, and the lock gives it back before failing with STATUS_CANCELLED.
    OK(co_await a.lock(0, 100, LockKind::exclusive, false));
    LockCancel late;
    auto granted = start(ex, [&b, late] { return b.lock(50, 10, LockKind::exclusive, late); });
    CHECK_FALSE(co_await granted.wait(1000ms));
    auto unlock = start(ex, [&a] { return a.unlock(0, 100); });
    late.cancel();
    REQUIRE(co_await unlock.wait(10s));
    ok(*unlock.state->value, "the holder's unlock");
    REQUIRE(co_await granted.wait(10s));
    REQUIRE_FALSE(*granted.state->value);
    check_status(granted.state->value->error(), status::CANCELLED);
    OK(co_await third.lock(50, 10, LockKind::exclusive, false));  // given back
    OK(co_await third.unlock(50, 10));

    // Cancelled before it is sent: nothing goes out.
    LockCancel early;
    early.cancel();
    auto never = co_await b.lock(0, 10, LockKind::exclusive, early);
    REQUIRE_FALSE(never);
    check_status(never.error(), status::CANCELLED);
    OK(co_await third.lock(0, 10, LockKind::exclusive, false));
    OK(co_await third.unlock(0, 10));
    OK(co_await a.close());
    OK(co_await b.close());
    OK(co_await third.close());
  });
}

TEST_CASE("read_directory returns 300 entries in several batches, restart starts over") {
  run([]() -> asio::awaitable<void> {
    auto c = co_await connect();
    const std::string dir = at("many");
    OpenRequest mk;
    mk.path = dir;
    mk.desired_access = access::list_directory | access::read_attributes | access::synchronize;
    mk.disposition = disposition::create;
    mk.create_options = wire::create_options::directory_file;
    auto d = VALUE(co_await c.files->open(mk));
    CHECK(d.reply().info.is_directory());
    std::set<std::string> expected;
    for (int i = 0; i < 300; ++i) {
      // Long names: 300 entries of ~500 bytes do not fit one 64 KiB batch.
      std::string name = "entry-" + std::to_string(i) + "-" + std::string(200, 'x');
      expected.insert(name);
      auto f = VALUE(co_await c.files->open(create_file(dir + "/" + name, kReadWrite)));
      if (i % 50 == 0) CHECK(VALUE(co_await f.write(0, random_bytes(static_cast<std::size_t>(i), 3))) == static_cast<std::size_t>(i));
      OK(co_await f.close());
    }
    std::set<std::string> seen;
    std::string first_name;
    int batches = 0;
    for (bool restart = true;; restart = false) {
      auto batch = VALUE(co_await d.read_directory(restart));
      if (batch.empty()) break;
      ++batches;
      if (first_name.empty()) first_name = batch.front().name;
      for (const auto& e : batch) {
        CHECK(e.name != ".");
        CHECK(e.name != "..");
        CHECK(e.file_index != 0);
        CHECK_FALSE(e.is_directory());
        CHECK(seen.insert(e.name).second);
        if (e.name.rfind("entry-50-", 0) == 0) CHECK(e.size == 50);
      }
    }
    MESSAGE("300 entries came in " << batches << " batches");
    CHECK(batches >= 2);
    CHECK(seen == expected);
    CHECK(VALUE(co_await d.read_directory(false)).empty());  // stays at the end
    auto again = VALUE(co_await d.read_directory(true));
    REQUIRE_FALSE(again.empty());
    CHECK(again.front().name == first_name);
    // A pattern.
    auto one = VALUE(co_await d.read_directory(true, "entry-299-*"));
    REQUIRE(one.size() == 1);
    CHECK(one.front().name.rfind("entry-299-", 0) == 0);
    CHECK(VALUE(co_await d.read_directory(false, "entry-299-*")).empty());
    OK(co_await d.close());
  });
}

TEST_CASE("extended attributes: set, list, remove") {
  run([]() -> asio::awaitable<void> {
    auto c = co_await connect();
    auto f = VALUE(co_await c.files->open(
        create_file(at("eas.bin"), kReadWrite | access::read_ea | access::write_ea)));
    CHECK(VALUE(co_await f.query_eas()).empty());
    const std::vector<std::uint8_t> v1{'h', 'e', 'l', 'l', 'o'};
    const auto v2 = random_bytes(3000, 4);
    // Named, not braced temporaries inside the co_await: g++ 12 destroys such
    // a temporary twice (a double free under ASan).
    const ExtendedAttribute first{.name = "SMBXTEST", .value = v1};
    const ExtendedAttribute second{.name = "SECOND", .value = v2};
    const ExtendedAttribute remove{.name = "SMBXTEST", .value = {}};
    OK(co_await f.set_ea(first));
    OK(co_await f.set_ea(second));
    auto eas = VALUE(co_await f.query_eas());
    REQUIRE(eas.size() == 2);
    std::sort(eas.begin(), eas.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    CHECK(eas[0].name == "SECOND");
    CHECK(eas[0].value == v2);
    CHECK(eas[1].name == "SMBXTEST");
    CHECK(eas[1].value == v1);
    OK(co_await f.set_ea(remove));  // an empty value removes it
    auto left = VALUE(co_await f.query_eas());
    REQUIRE(left.size() == 1);
    CHECK(left[0].name == "SECOND");
    OK(co_await f.close());
  });
}

TEST_CASE("a lease break reaches on_lease_break and is acknowledged") {
  for (std::uint16_t dialect : std::initializer_list<std::uint16_t>{0x0311, 0x0210}) {
    CAPTURE(dialect);
    run([dialect]() -> asio::awaitable<void> {
      auto ex = co_await asio::this_coro::executor;
      auto holder = co_await connect(options(dialect));
      auto intruder = co_await connect();
      const std::string path = at("leased-" + std::to_string(dialect) + ".bin");
      {
        auto f = VALUE(co_await holder.files->open(create_file(path, kReadWrite)));
        OK(co_await f.close());
      }
      std::vector<LeaseBreak> breaks;
      std::optional<Task<bool>> ack;
      Files& files = *holder.files;
      files.on_lease_break([&](const LeaseBreak& b) {
        breaks.push_back(b);
        if (b.ack_required && !ack)
          ack = start(ex, [&files, b]() -> asio::awaitable<bool> {
            auto done = co_await files.acknowledge_break(b.key, b.new_state);
            if (!done) FAIL("acknowledge_break: " << describe(done.error()));
            co_return true;
          });
      });
      OpenRequest req = open_existing(path, kReadWrite);
      req.lease_key = LeaseKey{0x5a, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, static_cast<std::uint8_t>(dialect)};
      req.lease_state = lease::read | lease::handle | lease::write;
      auto f = VALUE(co_await holder.files->open(req));
      CHECK(f.reply().lease_state == (lease::read | lease::handle | lease::write));

      // Another client opens the file for writing: the server breaks the
      // write (and handle) caching and holds the open until the ack.
      const auto before = std::chrono::steady_clock::now();
      std::optional<Expected<File>> opened;
      auto second = start(ex, [&]() -> asio::awaitable<bool> {
        opened.emplace(co_await intruder.files->open(open_existing(path, kReadWrite)));
        co_return true;
      });
      REQUIRE(co_await second.wait(20s));
      const auto took = std::chrono::steady_clock::now() - before;
      auto g = value_of(std::move(*opened), "the second client's open");
      REQUIRE(breaks.size() == 1);
      CHECK(breaks[0].key == *req.lease_key);
      CHECK(breaks[0].current_state == (lease::read | lease::handle | lease::write));
      CHECK((breaks[0].new_state & lease::write) == 0);
      CHECK(breaks[0].ack_required);
      REQUIRE(ack);
      REQUIRE(co_await ack->wait(10s));
      MESSAGE("break " << breaks[0].current_state << " -> " << breaks[0].new_state << "; the second open took "
                       << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms");
      // Well below Samba's 35 s break timeout: the ack released the open.
      CHECK(took < 10s);
      OK(co_await g.close());
      OK(co_await f.close());
      files.on_lease_break({});
    });
  }
}

TEST_CASE("fs_info, info(), ioctl, errors, and the close of a destroyed File") {
  run([]() -> asio::awaitable<void> {
    auto c = co_await connect();
    auto fs = VALUE(co_await c.files->fs_info());
    CHECK(fs.total_bytes > 0);
    CHECK(fs.free_bytes <= fs.total_bytes);
    CHECK(fs.block_size > 0);
    CHECK(fs.max_name_length == 255);
    auto info = c.files->info();
    CHECK(info.dialect == "3.1.1");
    CHECK(info.max_read_size > 0);

    const std::string path = at("exclusive.bin");
    auto excl = create_file(path, kReadWrite);
    excl.share_access = 0;
    {
      auto f = VALUE(co_await c.files->open(excl));
      // FSCTL_SRV_REQUEST_RESUME_KEY (MS-SMB2 2.2.32.3): a 24-byte key, a context length.
      auto key = VALUE(co_await f.ioctl(wire::fsctl::srv_request_resume_key, {}, 32));
      CHECK(key.size() >= 24);
      excl.disposition = disposition::open;
      auto busy = co_await c.files->open(excl);
      REQUIRE_FALSE(busy);
      check_status(busy.error(), status::SHARING_VIOLATION);
      CHECK(f.is_open());
      // f goes out of scope open: its CLOSE is sent in the background.
    }
    bool reopened = false;
    for (int i = 0; i < 50 && !reopened; ++i) {
      co_await sleep_for(20ms);
      auto again = co_await c.files->open(excl);
      if (again) {
        reopened = true;
        OK(co_await again->close());
      } else {
        check_status(again.error(), status::SHARING_VIOLATION);
      }
    }
    CHECK(reopened);

    // A moved-from File is closed and owns nothing; the moved-to one works.
    auto f = VALUE(co_await c.files->open(excl));
    File moved{std::move(f)};
    CHECK_FALSE(f.is_open());
    CHECK(moved.is_open());
    CHECK(VALUE(co_await moved.query()).size == 0);
    auto closed = co_await f.read(0, std::span<std::uint8_t>{});
    CHECK_FALSE(closed);
    OK(co_await moved.close());

    auto missing = co_await c.files->open(open_existing(at("no/such/file"), access::read_attributes));
    REQUIRE_FALSE(missing);
    CHECK(missing.error().kind == ErrorKind::status);
    CHECK((missing.error().status == status::OBJECT_PATH_NOT_FOUND ||
           missing.error().status == status::OBJECT_NAME_NOT_FOUND));
  });
}
