#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
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
  s.reconnects = 3;
  s.handles_reopened = 8;
  s.handles_lost = 9;
  s.requests_replayed = 10;
  s.lease_breaks = 4;
  s.bytes_read = 5;
  s.bytes_written = 6;
  s.fuse_requests = 7;
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
      "requests in flight: 1", "connection: up",     "reconnects: 3",   "handles reopened: 8",
      "handles lost: 9",    "requests replayed: 10", "lease breaks: 4", "bytes read: 5",
      "bytes written: 6",   "fuse requests: 7"};
  CHECK(lines == want);
  auto sealed = sample_status();
  sealed.connection.session_encrypted = true;
  CHECK(status_lines(sealed)[5] == "cipher: AES-128-GCM");
  CHECK(answer_mount_request({"status", "x"}, sample_status).error == "status takes no arguments");
  CHECK(answer_mount_request({"bogus"}, sample_status).error == "unknown command \"bogus\" (a mount knows: status)");
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
  CHECK(replies[0].ends_with("fuse requests: 7\n"));
  CHECK(replies[1] == "error unknown command \"nonsense\" (a mount knows: status)\n");
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
