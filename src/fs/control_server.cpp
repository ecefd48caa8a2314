// g++ 12 at -O2 reports -Wmismatched-new-delete for asio::awaitable frames (a
// false positive; see src/client/client.cpp).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include "fs/control_server.hpp"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <csignal>
#include <cstring>

namespace smbx::fs {

namespace asio = boost::asio;
using local_stream = asio::local::stream_protocol;

namespace {

// A client that connects and says nothing must not hold a coroutine forever.
constexpr auto kRequestTimeout = std::chrono::seconds{5};

Error local_error(std::string action, int err) {
  return Error{.kind = ErrorKind::local, .wire = WireError::none, .status = 0, .action = std::move(action),
               .detail = std::strerror(err)};
}

std::string parent_directory(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string format_reply(const ControlReply& reply) {
  std::string out;
  if (reply.ok) {
    out = "ok\n";
    for (const auto& line : reply.lines) out += line + "\n";
  } else {
    // One line: a newline in the message would end the reply's first line early.
    std::string message = reply.error;
    for (char& c : message)
      if (c == '\n' || c == '\r') c = ' ';
    out = "error " + message + "\n";
  }
  return out;
}

}  // namespace

std::string mount_socket_path(pid_t pid) {
  return std::string{kControlDirectory} + "/mount-" + std::to_string(pid) + ".sock";
}

int remove_stale_mount_sockets(const std::string& directory) {
  DIR* dir = ::opendir(directory.c_str());
  if (dir == nullptr) return 0;
  int removed = 0;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string_view name{entry->d_name};
    if (!name.starts_with("mount-") || !name.ends_with(".sock")) continue;
    const auto digits = name.substr(6, name.size() - 6 - 5);
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos) continue;
    const auto pid = static_cast<pid_t>(std::stol(std::string{digits}));
    // ESRCH only: a live process (even a recycled pid) keeps its file.
    if (pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH &&
        ::unlink((directory + "/" + std::string{name}).c_str()) == 0)
      ++removed;
  }
  ::closedir(dir);
  return removed;
}

std::vector<std::string> split_request(std::string_view line) {
  std::vector<std::string> words;
  std::size_t start = 0;
  while (start <= line.size()) {
    const auto end = std::min(line.find(' ', start), line.size());
    if (end == start) return {};
    words.emplace_back(line.substr(start, end - start));
    start = end + 1;
  }
  return words;
}

struct ControlServer::State : std::enable_shared_from_this<ControlServer::State> {
  State(asio::io_context& io_context, std::string socket_path, ControlHandler h)
      : io{io_context}, acceptor{io_context}, path{std::move(socket_path)}, handler{std::move(h)} {}

  asio::io_context& io;
  local_stream::acceptor acceptor;
  std::string path;
  ControlHandler handler;
  bool stopped = false;

  asio::awaitable<void> accept_loop() {
    auto self = shared_from_this();
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
      if (stopped || ec == asio::error::operation_aborted) co_return;
      if (ec) continue;  // EMFILE and friends: the next client may fare better
      asio::co_spawn(io, serve(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> serve(local_stream::socket socket) {
    auto self = shared_from_this();
    asio::steady_timer deadline{io, kRequestTimeout};
    deadline.async_wait([&socket](boost::system::error_code ec) {
      if (!ec) socket.close();
    });
    // One byte more than the limit tells "too long" from "exactly at the limit".
    asio::streambuf buffer{kMaxRequestLine + 1};
    auto [ec, n] = co_await asio::async_read_until(socket, buffer, '\n', asio::as_tuple(asio::use_awaitable));
    ControlReply reply;
    if (ec == asio::error::not_found) {
      reply = ControlReply::failure("request longer than " + std::to_string(kMaxRequestLine) + " bytes");
    } else if (ec) {
      deadline.cancel();
      co_return;  // closed or timed out before a full line
    } else {
      std::string line{asio::buffers_begin(buffer.data()),
                       asio::buffers_begin(buffer.data()) + static_cast<std::ptrdiff_t>(n - 1)};
      if (!line.empty() && line.back() == '\r') line.pop_back();
      auto words = split_request(line);
      if (words.empty())
        reply = ControlReply::failure("empty or malformed request (words separated by single spaces)");
      else
        reply = handler(words);
    }
    deadline.cancel();
    const std::string text = format_reply(reply);
    (void)co_await asio::async_write(socket, asio::buffer(text), asio::as_tuple(asio::use_awaitable));
    boost::system::error_code ignored;
    socket.shutdown(local_stream::socket::shutdown_both, ignored);
    socket.close(ignored);
  }

  void stop() {
    if (stopped) return;
    stopped = true;
    boost::system::error_code ignored;
    acceptor.close(ignored);
    ::unlink(path.c_str());
  }
};

Expected<std::unique_ptr<ControlServer>> ControlServer::start(asio::io_context& io, std::string path,
                                                              ControlHandler handler) {
  const std::string dir = parent_directory(path);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return local_error("create " + dir, errno);
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return local_error("stat " + dir, errno);
  if (!S_ISDIR(st.st_mode)) return local_error("use " + dir, ENOTDIR);
  // Only the socket's owner may reach it; mkdir obeys the umask, so say it again.
  if (st.st_uid == ::geteuid() && (st.st_mode & 077) != 0) ::chmod(dir.c_str(), 0700);
  // A socket left at this path by a process that died (same pid recycled):
  // bind would fail with EADDRINUSE.
  ::unlink(path.c_str());

  auto state = std::make_shared<State>(io, path, std::move(handler));
  boost::system::error_code ec;
  state->acceptor.open(local_stream{}, ec);
  // umask for the bind so the socket never exists with a wider mode.
  const mode_t old_mask = ::umask(077);
  if (!ec) state->acceptor.bind(local_stream::endpoint{path}, ec);
  ::umask(old_mask);
  if (!ec) state->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    state->acceptor.close(ec);
    return local_error("listen on " + path, ec.value());
  }
  ::chmod(path.c_str(), 0600);
  asio::co_spawn(io, state->accept_loop(), asio::detached);
  return std::unique_ptr<ControlServer>{new ControlServer{std::move(state)}};
}

ControlServer::ControlServer(std::shared_ptr<State> state) : state_{std::move(state)} {}

ControlServer::~ControlServer() { stop(); }

void ControlServer::stop() {
  if (state_) state_->stop();
}

const std::string& ControlServer::path() const noexcept { return state_->path; }

std::vector<std::string> status_lines(const MountStatus& s) {
  const auto& c = s.connection;
  auto n = [](std::uint64_t v) { return std::to_string(v); };
  return {
      "mountpoint: " + s.mountpoint,
      "server: " + s.server,
      "share: " + s.share,
      "dialect: " + (c.dialect.empty() ? std::string{"none"} : c.dialect),
      "signing: " + (c.signing.empty() ? std::string{"none"} : c.signing),
      // The negotiated cipher only matters when the session encrypts.
      "cipher: " + (c.session_encrypted && !c.cipher.empty() ? c.cipher : std::string{"none"}),
      "open handles: " + n(s.open_handles),
      "cached inodes: " + n(s.cached_inodes),
      "requests in flight: " + n(s.requests_in_flight),
      "connection: " + std::string{s.recovering ? "recovering" : "up"},
      "reconnects: " + n(s.reconnects),
      "handles reopened: " + n(s.handles_reopened),
      "handles lost: " + n(s.handles_lost),
      "requests replayed: " + n(s.requests_replayed),
      "lease breaks: " + n(s.lease_breaks),
      "bytes read: " + n(s.bytes_read),
      "bytes written: " + n(s.bytes_written),
      "fuse requests: " + n(s.fuse_requests),
  };
}

ControlReply answer_mount_request(const std::vector<std::string>& words, const std::function<MountStatus()>& status) {
  if (words.empty()) return ControlReply::failure("empty request");
  if (words[0] == "status") {
    if (words.size() != 1) return ControlReply::failure("status takes no arguments");
    return ControlReply{true, {}, status_lines(status())};
  }
  return ControlReply::failure("unknown command \"" + words[0] + "\" (a mount knows: status)");
}

}  // namespace smbx::fs
