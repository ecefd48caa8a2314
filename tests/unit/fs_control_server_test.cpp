#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <memory>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "fs/control_server.hpp"

using namespace smbx;
using namespace smbx::fs;

namespace {

// A real client over a real socket: what smbxctl does, without smbxctl.
std::string ask(const std::string& path, const std::string& request) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return "connect failed";
  }
  std::size_t sent = 0;
  while (sent < request.size()) {
    const auto n = ::write(fd, request.data() + sent, request.size() - sent);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  std::string reply;
  char buf[512];
  for (;;) {
    const auto n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    reply.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return reply;
}

struct TempDir {
  std::string path;
  TempDir() {
    char templ[] = "/tmp/smbx-ctl-XXXXXX";
    REQUIRE(::mkdtemp(templ) != nullptr);
    path = templ;
  }
  ~TempDir() {
    ::rmdir((path + "/run").c_str());
    ::rmdir(path.c_str());
  }
};

MountStatus sample_status() {
  MountStatus s;
  s.mountpoint = "/mnt/x";
  s.server = "127.0.0.1:445";
  s.share = "plain";
  s.connection.dialect = "3.1.1";
  s.connection.signing = "AES-GMAC";
  s.connection.cipher = "AES-128-GCM";
  s.connection.session_encrypted = false;
  s.open_handles = 2;
  s.cached_inodes = 17;
  s.requests_in_flight = 1;
  s.write_behind_bytes = 15;
  s.write_behind_peak = 16;
  s.write_behind_limit = 17;
  s.reconnects = 3;
  s.handles_reopened = 8;
  s.handles_lost = 9;
  s.requests_replayed = 10;
  s.lease_breaks = 4;
  s.bytes_read = 5;
  s.bytes_written = 6;
  s.fuse_requests = 7;
  s.connection.bytes_sent = 11;
  s.connection.bytes_received = 12;
  s.bytes_copied = 13;
  s.bytes_copied_through_client = 14;
  return s;
}

}  // namespace

TEST_CASE("the mount socket path") { CHECK(mount_socket_path(1234) == "/run/smbx/mount-1234.sock"); }

TEST_CASE("request lines split at single spaces") {
  CHECK(split_request("status") == std::vector<std::string>{"status"});
  CHECK(split_request("fault drop 3") == std::vector<std::string>{"fault", "drop", "3"});
  CHECK(split_request("").empty());
  CHECK(split_request("a  b").empty());
  CHECK(split_request(" a").empty());
  CHECK(split_request("a ").empty());
}

TEST_CASE("status lines name every counter") {
  const auto lines = status_lines(sample_status());
  const std::vector<std::string> want = {
      "mountpoint: /mnt/x", "server: 127.0.0.1:445", "share: plain",     "dialect: 3.1.1",
      "signing: AES-GMAC",  "cipher: none",          "open handles: 2", "cached inodes: 17",
      "requests in flight: 1", "write-behind bytes: 15", "write-behind peak: 16", "write-behind limit: 17",
      "connection: up",     "reconnects: 3",   "handles reopened: 8",
      "handles lost: 9",    "requests replayed: 10", "lease breaks: 4", "bytes read: 5",
      "bytes written: 6",   "fuse requests: 7",      "wire bytes sent: 11", "wire bytes received: 12",
      "bytes copied: 13",   "bytes copied through client: 14"};
  CHECK(lines == want);
  auto sealed = sample_status();
  sealed.connection.session_encrypted = true;
  CHECK(status_lines(sealed)[5] == "cipher: AES-128-GCM");
  CHECK(answer_mount_request({"status", "x"}, sample_status).error == "status takes no arguments");
  CHECK(answer_mount_request({"bogus"}, sample_status).error ==
        "unknown command \"bogus\" (a mount knows: status, resolve, copy)");
}

TEST_CASE("the control server answers over a Unix socket, mode 0600 in a 0700 directory, and removes it") {
  TempDir dir;
  const std::string path = dir.path + "/run/mount-1.sock";
  boost::asio::io_context io;
  auto server = ControlServer::start(io, path, [](const std::vector<std::string>& words) {
    return answer_mount_request(words, sample_status);
  });
  REQUIRE(server);
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK(S_ISSOCK(st.st_mode));
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat((dir.path + "/run").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);

  std::vector<std::string> replies;
  std::thread client{[&] {
    replies.push_back(ask(path, "status\n"));
    replies.push_back(ask(path, "nonsense here\n"));
    replies.push_back(ask(path, "status  x\n"));
    replies.push_back(ask(path, std::string(5000, 'a') + "\n"));
    replies.push_back(ask(path, std::string(4095, 'a') + "\n"));
    boost::asio::post(io, [&] { (*server)->stop(); });
  }};
  io.run();
  client.join();
  REQUIRE(replies.size() == 5);
  CHECK(replies[0].starts_with("ok\nmountpoint: /mnt/x\nserver: 127.0.0.1:445\n"));
  CHECK(replies[0].ends_with("bytes copied through client: 14\n"));
  CHECK(replies[1] == "error unknown command \"nonsense\" (a mount knows: status, resolve, copy)\n");
  CHECK(replies[2].starts_with("error empty or malformed request"));
  CHECK(replies[3] == "error request longer than 4096 bytes\n");
  CHECK(replies[4].starts_with("error unknown command"));  // 4095 + '\n' fits
  CHECK(::access(path.c_str(), F_OK) != 0);  // removed on stop
}

TEST_CASE("a stale socket file is replaced") {
  TempDir dir;
  const std::string path = dir.path + "/run/mount-2.sock";
  boost::asio::io_context io;
  // What a crashed mount leaves: a socket file nobody listens on.
  REQUIRE(::mkdir((dir.path + "/run").c_str(), 0700) == 0);
  {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    ::close(fd);
  }
  CHECK(::access(path.c_str(), F_OK) == 0);
  auto second = ControlServer::start(io, path, [](const auto&) { return ControlReply{true, {}, {"x: 1"}}; });
  REQUIRE(second);
  std::string reply;
  std::thread client{[&] {
    reply = ask(path, "anything\n");
    boost::asio::post(io, [&] { (*second)->stop(); });
  }};
  io.run();
  client.join();
  CHECK(reply == "ok\nx: 1\n");
}

TEST_CASE("sockets of mounts whose process is gone are removed, others kept") {
  TempDir dir;
  const std::string run = dir.path + "/run";
  REQUIRE(::mkdir(run.c_str(), 0700) == 0);
  // A pid that cannot exist (above pid_max's ceiling of 2^22) and our own.
  const std::string dead = run + "/mount-9999999.sock";
  const std::string live = run + "/mount-" + std::to_string(::getpid()) + ".sock";
  const std::string other = run + "/smbxd.sock";
  for (const auto& p : {dead, live, other}) {
    const int fd = ::open(p.c_str(), O_CREAT | O_WRONLY, 0600);
    REQUIRE(fd >= 0);
    ::close(fd);
  }
  CHECK(remove_stale_mount_sockets(run) == 1);
  CHECK(::access(dead.c_str(), F_OK) != 0);
  CHECK(::access(live.c_str(), F_OK) == 0);
  CHECK(::access(other.c_str(), F_OK) == 0);
  for (const auto& p : {live, other}) ::unlink(p.c_str());
}

TEST_CASE("request paths are decoded and confined to the share") {
  CHECK(request_path("a/b.bin").value() == "a/b.bin");
  CHECK(!request_path("b%0A"));
  CHECK(request_path("dir%20a/b%25c").value() == "dir a/b%c");
  CHECK(request_path("%41%62").value() == "Ab");
  CHECK(request_path("a/.hidden/..x").value() == "a/.hidden/..x");  // names that merely start with dots
  for (const char* bad : {"", "/a", "%2Fa", "..", "../a", "a/..", "a/../../b", "a/%2E%2E/b", ".", "a/./b", "a//b",
                          "a/", "a\\b", "a%5C..%5Cb", "a%7Fb", "a%", "a%4", "a%G0", "a%00b"}) {
    CAPTURE(bad);
    CHECK(!request_path(bad));
  }
  CHECK(request_path("../a").error().detail.find("'..' component") != std::string::npos);
  CHECK(request_path("/a").error().detail.find("absolute") != std::string::npos);
}

TEST_CASE("resolve answers the share's URL and the user") {
  MountControl m;
  m.host = "server.example";
  m.share = "plain";
  m.user = "alice";
  CHECK(smb_url(m, "a b/c%d?e#f.bin") == "smb://server.example/plain/a%20b/c%25d%3Fe%23f.bin");
  m.port = 4445;
  CHECK(smb_url(m, "x") == "smb://server.example:4445/plain/x");
  m.host = "fd00::1";
  m.share = "my share";
  CHECK(smb_url(m, "x") == "smb://[fd00::1]:4445/my%20share/x");
  auto r = answer_resolve({"resolve", "dir%20a/b.bin"}, m);
  REQUIRE(r.ok);
  CHECK(r.lines == std::vector<std::string>{"url smb://[fd00::1]:4445/my%20share/dir%20a/b.bin", "user alice"});
  m.user.clear();
  CHECK(answer_resolve({"resolve", "x"}, m).lines.at(1) == "user ");
  auto root = answer_resolve({"resolve"}, m);
  REQUIRE(root.ok);
  CHECK(root.lines.at(0) == "url smb://[fd00::1]:4445/my%20share");
  CHECK(!answer_resolve({"resolve", "a", "b"}, m).ok);
  CHECK(answer_resolve({"resolve", "../x"}, m).error.find("'..' component") != std::string::npos);
}

namespace {

// A streaming handler: "ok", then a line every 50 ms, the last one after a
// pause longer than any buffering would hide.
boost::asio::awaitable<void> slow_lines(std::vector<std::string> words, std::shared_ptr<ControlReplyStream> out) {
  out->ok();
  boost::asio::steady_timer t{co_await boost::asio::this_coro::executor};
  for (int i = 0; i < 3; ++i) {
    out->line("line " + std::to_string(i) + " of " + words.at(0) + "\nsplit");
    t.expires_after(std::chrono::milliseconds{50});
    co_await t.async_wait(boost::asio::use_awaitable);
  }
  out->line("done");
}

}  // namespace

TEST_CASE("a streaming handler's lines reach the client as they are written") {
  TempDir dir;
  const std::string path = dir.path + "/run/mount-3.sock";
  boost::asio::io_context io;
  auto server = ControlServer::start_streaming(
      io, path, [](std::vector<std::string> words, std::shared_ptr<ControlReplyStream> out) {
        return slow_lines(std::move(words), std::move(out));
      });
  REQUIRE(server);
  std::string first_read;
  std::string reply;
  std::thread client{[&] {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
      (void)!::write(fd, "go\n", 3);
      char buf[512];
      for (bool first = true;; first = false) {
        const auto n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        if (first) first_read.assign(buf, static_cast<std::size_t>(n));
        reply.append(buf, static_cast<std::size_t>(n));
      }
    }
    ::close(fd);
    boost::asio::post(io, [&] { (*server)->stop(); });
  }};
  io.run();
  client.join();
  CHECK(reply == "ok\nline 0 of go split\nline 1 of go split\nline 2 of go split\ndone\n");
  CHECK(!first_read.ends_with("done\n"));  // the first lines came before the handler finished
}

TEST_CASE("a mount's requests: status, resolve, copy's argument checks") {
  TempDir dir;
  const std::string path = dir.path + "/run/mount-4.sock";
  boost::asio::io_context io;
  auto mount = std::make_shared<MountControl>();
  mount->status = sample_status;
  mount->host = "127.0.0.1";
  mount->share = "plain";
  mount->user = "bob";
  auto server = ControlServer::start_streaming(
      io, path, [mount](std::vector<std::string> words, std::shared_ptr<ControlReplyStream> out) {
        return serve_mount_request(std::move(words), std::move(out), mount);
      });
  REQUIRE(server);
  std::vector<std::string> replies;
  std::thread client{[&] {
    for (const char* request : {"status\n", "resolve a%20b\n", "copy auto a\n", "copy fast a b\n", "copy auto ../a b\n",
                                "copy stream a /b\n", "copy auto a b\n", "bogus\n"})
      replies.push_back(ask(path, request));
    boost::asio::post(io, [&] { (*server)->stop(); });
  }};
  io.run();
  client.join();
  REQUIRE(replies.size() == 8);
  CHECK(replies[0].starts_with("ok\nmountpoint: /mnt/x\n"));
  CHECK(replies[1] == "ok\nurl smb://127.0.0.1/plain/a%20b\nuser bob\n");
  CHECK(replies[2] == "error usage: copy auto|odx|copychunk|stream SRC DST\n");
  CHECK(replies[3] == "error unknown copy method \"fast\" (auto, odx, copychunk or stream)\n");
  CHECK(replies[4].starts_with("error path \"../a\": has a '..' component"));
  CHECK(replies[5].starts_with("error path \"/b\": absolute"));
  CHECK(replies[6] == "error this mount cannot copy\n");  // no filesystem behind this one
  CHECK(replies[7].starts_with("error unknown command \"bogus\""));
}
