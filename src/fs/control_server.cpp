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
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>

#include "copy/copy.hpp"
#include "smbx/exit_status.hpp"
#include "smbx/url.hpp"

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

void write_reply(const ControlReply& reply, ControlReplyStream& out) {
  if (!reply.ok) {
    out.error(reply.error);
    return;
  }
  out.ok();
  for (const auto& line : reply.lines) out.line(line);
}

// A synchronous handler as a streaming one.
asio::awaitable<void> answer_now(ControlHandler handler, std::vector<std::string> words,
                                 std::shared_ptr<ControlReplyStream> out) {
  write_reply(handler(words), *out);
  co_return;
}

// The socket side of a ControlReplyStream: one writer coroutine at a time
// empties the queue; finished() waits until it is empty.
class SocketReplyStream final : public ControlReplyStream, public std::enable_shared_from_this<SocketReplyStream> {
 public:
  explicit SocketReplyStream(local_stream::socket socket)
      : socket_{std::move(socket)}, idle_{socket_.get_executor(), asio::steady_timer::time_point::max()} {}

  void line(std::string text) override {
    if (failed_) return;
    // One line stays one line: a newline inside would split it.
    for (char& c : text)
      if (c == '\n' || c == '\r') c = ' ';
    queued_ += text;
    queued_ += '\n';
    if (!writing_) {
      writing_ = true;
      asio::co_spawn(socket_.get_executor(), write_loop(shared_from_this()), asio::detached);
    }
  }
  std::size_t backlog() const override { return queued_.size(); }

  // Once everything queued is written (or the client is gone): closes.
  asio::awaitable<void> finish() {
    while (writing_) {
      boost::system::error_code ec;
      co_await idle_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    boost::system::error_code ignored;
    socket_.shutdown(local_stream::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

 private:
  static asio::awaitable<void> write_loop(std::shared_ptr<SocketReplyStream> self) {
    while (!self->queued_.empty() && !self->failed_) {
      std::string sending;
      sending.swap(self->queued_);
      auto [ec, n] = co_await asio::async_write(self->socket_, asio::buffer(sending),
                                                asio::as_tuple(asio::use_awaitable));
      if (ec) {
        self->failed_ = true;  // the client went away: drop the rest
        self->queued_.clear();
      }
    }
    self->writing_ = false;
    self->idle_.cancel();
  }

  local_stream::socket socket_;
  asio::steady_timer idle_;
  std::string queued_;
  bool writing_ = false;
  bool failed_ = false;
};

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
  State(asio::io_context& io_context, std::string socket_path, StreamingControlHandler h)
      : io{io_context}, acceptor{io_context}, path{std::move(socket_path)}, handler{std::move(h)} {}

  asio::io_context& io;
  local_stream::acceptor acceptor;
  std::string path;
  StreamingControlHandler handler;
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
    deadline.cancel();
    if (ec && ec != asio::error::not_found) co_return;  // closed or timed out before a full line
    // The deadline's handler may still be queued: it must not close the
    // socket the reply goes out on (it now lives in the stream).
    auto out = std::make_shared<SocketReplyStream>(std::move(socket));
    if (ec == asio::error::not_found) {
      out->error("request longer than " + std::to_string(kMaxRequestLine) + " bytes");
    } else {
      std::string line{asio::buffers_begin(buffer.data()),
                       asio::buffers_begin(buffer.data()) + static_cast<std::ptrdiff_t>(n - 1)};
      if (!line.empty() && line.back() == '\r') line.pop_back();
      auto words = split_request(line);
      if (words.empty()) {
        out->error("empty or malformed request (words separated by single spaces)");
      } else {
        std::shared_ptr<ControlReplyStream> stream = out;
        co_await handler(std::move(words), std::move(stream));
      }
    }
    co_await out->finish();
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
  StreamingControlHandler streaming = [handler = std::move(handler)](std::vector<std::string> words,
                                                                     std::shared_ptr<ControlReplyStream> out) {
    return answer_now(handler, std::move(words), std::move(out));
  };
  return start_streaming(io, std::move(path), std::move(streaming));
}

Expected<std::unique_ptr<ControlServer>> ControlServer::start_streaming(asio::io_context& io, std::string path,
                                                                        StreamingControlHandler handler) {
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
      "write-behind bytes: " + n(s.write_behind_bytes),
      "write-behind peak: " + n(s.write_behind_peak),
      "write-behind limit: " + n(s.write_behind_limit),
      "connection: " + std::string{s.recovering ? "recovering" : "up"},
      "reconnects: " + n(s.reconnects),
      "handles reopened: " + n(s.handles_reopened),
      "handles lost: " + n(s.handles_lost),
      "requests replayed: " + n(s.requests_replayed),
      "lease breaks: " + n(s.lease_breaks),
      "bytes read: " + n(s.bytes_read),
      "bytes written: " + n(s.bytes_written),
      "fuse requests: " + n(s.fuse_requests),
      // Every SMB frame of the session, both ways: what crossed the network.
      "wire bytes sent: " + n(c.bytes_sent),
      "wire bytes received: " + n(c.bytes_received),
      "bytes copied: " + n(s.bytes_copied),
      "bytes copied through client: " + n(s.bytes_copied_through_client),
  };
}

ControlReply answer_mount_request(const std::vector<std::string>& words, const std::function<MountStatus()>& status) {
  if (words.empty()) return ControlReply::failure("empty request");
  if (words[0] == "status") {
    if (words.size() != 1) return ControlReply::failure("status takes no arguments");
    return ControlReply{true, {}, status_lines(status())};
  }
  return ControlReply::failure("unknown command \"" + words[0] + "\" (a mount knows: status, resolve, copy)");
}

namespace {

Error path_error(std::string_view word, std::string detail) {
  return Error{.kind = ErrorKind::usage, .wire = WireError::none, .status = 0,
               .action = "path \"" + std::string{word} + "\"", .detail = std::move(detail)};
}

// `copy`: progress as the engine reports it, at most 4 lines a second, and
// at least one a second (progress_ticker) so a client that waits for lines
// with a timeout (smbxctl: 10 s) sees the copy alive during a long
// server-side request.
struct CopyProgress {
  explicit CopyProgress(const asio::any_io_executor& executor) : tick{executor} {}
  std::uint64_t done = 0;
  std::uint64_t total = 0;
  std::chrono::steady_clock::time_point last_sent{};
  bool finished = false;
  asio::steady_timer tick;
};

void send_progress(CopyProgress& p, ControlReplyStream& out) {
  // A client that does not read gets no more progress lines (the stats and
  // the final line still come).
  if (out.backlog() > 64 * 1024) return;
  out.line("progress " + std::to_string(p.done) + " " + std::to_string(p.total));
  p.last_sent = std::chrono::steady_clock::now();
}

asio::awaitable<void> progress_ticker(std::shared_ptr<CopyProgress> p, std::shared_ptr<ControlReplyStream> out) {
  while (!p->finished) {
    p->tick.expires_after(std::chrono::seconds{1});
    boost::system::error_code ec;
    co_await p->tick.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (p->finished) break;
    if (std::chrono::steady_clock::now() - p->last_sent >= std::chrono::seconds{1}) send_progress(*p, *out);
  }
}

asio::awaitable<void> copy_request(std::vector<std::string> words, std::shared_ptr<ControlReplyStream> out,
                                   std::shared_ptr<MountControl> mount) {
  if (words.size() != 4) {
    out->error("usage: copy auto|odx|copychunk|stream SRC DST");
    co_return;
  }
  const auto method = copy::parse_method(words[1]);
  if (!method) {
    out->error("unknown copy method \"" + words[1] + "\" (auto, odx, copychunk or stream)");
    co_return;
  }
  auto source = request_path(words[2]);
  if (!source) {
    out->error(user_message(source.error()));
    co_return;
  }
  auto target = request_path(words[3]);
  if (!target) {
    out->error(user_message(target.error()));
    co_return;
  }
  if (mount->filesystem == nullptr) {
    out->error("this mount cannot copy");
    co_return;
  }
  auto files = co_await mount->filesystem->open_copy(share_path(*mount, *source), share_path(*mount, *target));
  if (!files) {
    out->error(user_message(files.error()));
    co_return;
  }
  out->ok();
  auto progress = std::make_shared<CopyProgress>(co_await asio::this_coro::executor);
  progress->total = files->size;
  asio::co_spawn(co_await asio::this_coro::executor, progress_ticker(progress, out), asio::detached);
  copy::CopyOptions options;
  options.method = *method;
  options.progress = [progress, out](std::uint64_t done, std::uint64_t total) {
    progress->done = done;
    if (total != 0) progress->total = total;
    if (std::chrono::steady_clock::now() - progress->last_sent >= std::chrono::milliseconds{250})
      send_progress(*progress, *out);
  };
  auto stats = co_await mount->filesystem->run_copy(*files, std::move(options));
  progress->finished = true;
  progress->tick.cancel();
  if (!stats) {
    out->line("failed " + user_message(stats.error()));
    co_return;
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(stats->elapsed).count();
  out->line("method: " + std::string{copy::method_name(stats->method)});
  out->line("bytes copied: " + std::to_string(stats->bytes_copied));
  out->line("bytes through client: " + std::to_string(stats->bytes_through_client));
  out->line("elapsed ms: " + std::to_string(ms));
  out->line("done");
}

}  // namespace

Expected<std::string> request_path(std::string_view word) {
  auto decoded = percent_decode(word);
  if (!decoded) return path_error(word, "a '%' not followed by two hex digits, or an escaped control character");
  const std::string path = std::move(*decoded);
  if (path.empty()) return path_error(word, "empty (name a file below the mount point)");
  if (path.front() == '/') return path_error(word, "absolute (paths are relative to the mount point)");
  for (char c : path) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b == 0x7f) return path_error(word, "holds a control character");
    if (c == '\\') return path_error(word, "holds a '\\' (components are separated by '/')");
  }
  std::string_view rest = path;
  while (true) {
    const auto slash = rest.find('/');
    const auto component = rest.substr(0, slash);
    if (component.empty()) return path_error(word, "has an empty component");
    // The share's root is the limit: no way up out of it.
    if (component == "." || component == "..")
      return path_error(word, "has a '" + std::string{component} + "' component (it must stay inside the share)");
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
  }
  return path;
}

std::string smb_url(const MountControl& mount, std::string_view path) {
  SmbUrl url;
  url.host = mount.host;
  if (mount.port != 445) url.port = mount.port;
  url.share = mount.share;
  url.path = path;
  return url.to_string();
}

std::string share_path(const MountControl& mount, const std::string& path) {
  return mount.root.empty() ? path : mount.root + "/" + path;
}

ControlReply answer_resolve(const std::vector<std::string>& words, const MountControl& mount) {
  if (words.size() > 2) return ControlReply::failure("usage: resolve [PATH]");
  // No PATH: the mount's root (request_path() refuses an empty word).
  if (words.size() == 1) return ControlReply{true, {}, {"url " + smb_url(mount, mount.root), "user " + mount.user}};
  auto path = request_path(words[1]);
  if (!path) return ControlReply::failure(user_message(path.error()));
  return ControlReply{true, {}, {"url " + smb_url(mount, share_path(mount, *path)), "user " + mount.user}};
}

asio::awaitable<void> serve_mount_request(std::vector<std::string> words, std::shared_ptr<ControlReplyStream> out,
                                          std::shared_ptr<MountControl> mount) {
  if (!words.empty() && words[0] == "copy") {
    co_await copy_request(std::move(words), std::move(out), std::move(mount));
    co_return;
  }
  if (!words.empty() && words[0] == "resolve") {
    write_reply(answer_resolve(words, *mount), *out);
    co_return;
  }
  write_reply(answer_mount_request(words, mount->status), *out);
}

}  // namespace smbx::fs
