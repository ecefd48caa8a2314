// smbxd fault injection (src/server/faults.cpp): the control words, which
// requests drop-responses counts, and what freeze and drop-connections do to
// a connection's hooks.
#include <doctest/doctest.h>

#include <boost/asio.hpp>
#include <chrono>

#include "server/faults.hpp"
#include "wire/fscc.hpp"

namespace {

using smbx::server::Faults;
namespace asio = boost::asio;
namespace wire = smbx::wire;

std::string first(const std::vector<std::string>& reply) { return reply.empty() ? std::string{} : reply.front(); }

wire::Body create_of(std::u16string name, std::uint32_t disposition) {
  wire::CreateRequest c;
  c.name = std::move(name);
  c.create_disposition = disposition;
  return c;
}

wire::Body set_info_of(std::uint8_t info_class) {
  wire::SetInfoRequest s;
  s.info_type = wire::info_type::file;
  s.file_info_class = info_class;
  return s;
}

}  // namespace

TEST_CASE("fault control words: ok, or an error naming the problem") {
  asio::io_context io;
  Faults faults{io};
  CHECK(first(faults.control("")).starts_with("error usage: fault crash"));
  CHECK(first(faults.control("freeze")) == "error usage: fault freeze SECONDS");
  CHECK(first(faults.control("freeze soon")).find("not 'soon'") != std::string::npos);
  CHECK(first(faults.control("freeze 0")).starts_with("error"));
  CHECK(first(faults.control("freeze 601")).starts_with("error"));
  CHECK(first(faults.control("drop-responses 0")).starts_with("error"));
  CHECK(first(faults.control("drop-responses x")).starts_with("error"));
  CHECK(first(faults.control("drop-responses 1 bogus")).find("unknown command 'bogus'") != std::string::npos);
  CHECK(first(faults.control("drop-responses 1 write a b")).starts_with("error usage"));
  CHECK(first(faults.control("delay 60001")).starts_with("error"));
  CHECK(first(faults.control("crash now")) == "error fault crash takes no argument");
  CHECK(first(faults.control("explode")).find("unknown fault 'explode'") != std::string::npos);

  CHECK(first(faults.control("delay 5")) == "ok");
  CHECK(first(faults.control("drop-responses 3 set_info x")) == "ok");
  CHECK(first(faults.control("offload-cap")) == "error usage: fault offload-cap BYTES");
  CHECK(first(faults.control("offload-cap -1")).starts_with("error fault offload-cap"));
  CHECK(first(faults.control("offload-cap 4096")) == "ok");
  CHECK(faults.offload_cap() == 4096);
  CHECK(first(faults.control("ignore-cancels now")) == "error fault ignore-cancels takes no argument");
  CHECK_FALSE(faults.ignore_cancels());
  CHECK(first(faults.control("ignore-cancels")) == "ok");
  CHECK(faults.ignore_cancels());
  auto status = faults.control("status");
  REQUIRE(status.size() == 7);
  CHECK(status[1] == "freeze: none");
  CHECK(status[2] == "drop-responses: 3 left command set_info name x");
  CHECK(status[3] == "delay: 5 ms");
  CHECK(status[5] == "offload-cap: 4096 bytes");
  CHECK(status[6] == "ignore-cancels: yes");
  CHECK(first(faults.control("clear")) == "ok");
  status = faults.control("status");
  CHECK(status[2] == "drop-responses: none");
  CHECK(status[3] == "delay: 0 ms");
  CHECK(status[5] == "offload-cap: none");
  CHECK(status[6] == "ignore-cancels: no");
  CHECK(faults.offload_cap() == 0);
  CHECK_FALSE(faults.ignore_cancels());
}

TEST_CASE("drop-responses counts matching frames, drops N, then the connection") {
  asio::io_context io;
  Faults faults{io};
  asio::ip::tcp::socket socket{io};
  int connection = 0;
  const auto watch = faults.watch(&connection, socket);
  using V = Faults::Verdict;
  const std::string path = "dir/log.txt";

  REQUIRE(first(faults.control("drop-responses 2 write log.txt")) == "ok");
  CHECK(faults.watching_requests());
  // A READ of the file, a WRITE of another file: answered.
  faults.note_request(&connection, wire::Command::read, wire::ReadRequest{}, &path);
  CHECK(faults.after_frame(&connection) == V::answer);
  const std::string other = "other.txt";
  faults.note_request(&connection, wire::Command::write, wire::WriteRequest{}, &other);
  CHECK(faults.after_frame(&connection) == V::answer);
  // A compound CREATE + WRITE + CLOSE of the file counts once.
  faults.note_request(&connection, wire::Command::create, create_of(u"dir\\log.txt", wire::disposition::open_if), nullptr);
  faults.note_request(&connection, wire::Command::write, wire::WriteRequest{}, nullptr);  // related: no path known
  faults.note_request(&connection, wire::Command::write, wire::WriteRequest{}, &path);
  CHECK(faults.after_frame(&connection) == V::drop);
  faults.note_request(&connection, wire::Command::write, wire::WriteRequest{}, &path);
  CHECK(faults.after_frame(&connection) == V::drop_and_disconnect);
  CHECK_FALSE(faults.watching_requests());
  faults.note_request(&connection, wire::Command::write, wire::WriteRequest{}, &path);
  CHECK(faults.after_frame(&connection) == V::answer);
}

TEST_CASE("drop-responses operations: create-new, rename, delete, set-eof") {
  asio::io_context io;
  Faults faults{io};
  asio::ip::tcp::socket socket{io};
  int connection = 0;
  const auto watch = faults.watch(&connection, socket);
  using V = Faults::Verdict;
  namespace fic = wire::fscc::file_info_class;

  REQUIRE(first(faults.control("drop-responses 1 create-new newdir")) == "ok");
  // The lookup before a mkdir opens the name with OPEN: not counted.
  faults.note_request(&connection, wire::Command::create, create_of(u"newdir", wire::disposition::open), nullptr);
  CHECK(faults.after_frame(&connection) == V::answer);
  faults.note_request(&connection, wire::Command::create, create_of(u"newdir", wire::disposition::create), nullptr);
  CHECK(faults.after_frame(&connection) == V::drop_and_disconnect);

  const std::string path = "f";
  REQUIRE(first(faults.control("drop-responses 1 set-eof")) == "ok");
  faults.note_request(&connection, wire::Command::set_info, set_info_of(fic::file_basic_information), &path);
  CHECK(faults.after_frame(&connection) == V::answer);
  faults.note_request(&connection, wire::Command::set_info, set_info_of(fic::file_end_of_file_information), &path);
  CHECK(faults.after_frame(&connection) == V::drop_and_disconnect);

  REQUIRE(first(faults.control("drop-responses 1 rename")) == "ok");
  faults.note_request(&connection, wire::Command::set_info, set_info_of(fic::file_disposition_information), &path);
  CHECK(faults.after_frame(&connection) == V::answer);
  faults.note_request(&connection, wire::Command::set_info, set_info_of(fic::file_rename_information), &path);
  CHECK(faults.after_frame(&connection) == V::drop_and_disconnect);

  REQUIRE(first(faults.control("drop-responses 1 delete")) == "ok");
  faults.note_request(&connection, wire::Command::set_info, set_info_of(fic::file_disposition_information_ex), &path);
  CHECK(faults.after_frame(&connection) == V::drop_and_disconnect);
}

TEST_CASE("FileIds of requests, for the open's path") {
  wire::WriteRequest w;
  w.file_id = wire::FileId{1, 2};
  const auto id = Faults::file_id_of(w);
  REQUIRE(id.has_value());
  CHECK(*id == wire::FileId{1, 2});
  CHECK_FALSE(Faults::file_id_of(create_of(u"x", wire::disposition::open)).has_value());
  CHECK_FALSE(Faults::file_id_of(wire::EchoRequest{}).has_value());
}

namespace {
asio::awaitable<void> held(Faults& faults, const void* connection, bool& result, bool& done) {
  result = co_await faults.hold(connection);
  done = true;
}
}  // namespace

TEST_CASE("freeze holds a connection until it ends; drop-connections releases it as dropped") {
  asio::io_context io;
  Faults faults{io};
  asio::ip::tcp::socket socket{io};
  int connection = 0;
  const auto watch = faults.watch(&connection, socket);

  REQUIRE(first(faults.control("freeze 0.2")) == "ok");
  bool result = false;
  bool done = false;
  const auto start = std::chrono::steady_clock::now();
  asio::co_spawn(io, held(faults, &connection, result, done), asio::detached);
  io.run();
  CHECK(done);
  CHECK(result);
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds{190});

  io.restart();
  REQUIRE(first(faults.control("freeze 30")) == "ok");
  done = false;
  asio::co_spawn(io, held(faults, &connection, result, done), asio::detached);
  asio::steady_timer later{io};
  later.expires_after(std::chrono::milliseconds{50});
  later.async_wait([&](const boost::system::error_code&) { faults.control("drop-connections"); });
  io.run_for(std::chrono::seconds{5});
  CHECK(done);
  CHECK_FALSE(result);  // dropped: the connection ends
  CHECK(first(faults.control("clear")) == "ok");
}
