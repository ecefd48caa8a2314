// g++ 12 at -O2 reports -Wmismatched-new-delete for asio::awaitable frames (a
// false positive; see src/client/client.cpp).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include "mounts.hpp"

#include <dirent.h>
#include <limits.h>
#include <stdlib.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "smbx/url.hpp"

namespace smbx::cpo {

namespace asio = boost::asio;
using local_stream = asio::local::stream_protocol;

namespace {

Error local_error(std::string action, std::string detail) {
  return Error{.kind = ErrorKind::local, .wire = WireError::none, .status = 0, .action = std::move(action),
               .detail = std::move(detail)};
}

}  // namespace

std::string unescape_mountinfo(std::string_view field) {
  std::string out;
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      const auto digits = field.substr(i + 1, 3);
      if (digits.size() == 3 && std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '7'; })) {
        out += static_cast<char>((digits[0] - '0') * 64 + (digits[1] - '0') * 8 + (digits[2] - '0'));
        i += 3;
        continue;
      }
    }
    out += field[i];
  }
  return out;
}

std::optional<MountPoint> find_smbx_mount(const std::string& absolute_path, const std::string& mountinfo_file) {
  std::ifstream in{mountinfo_file};
  std::optional<MountPoint> best;
  std::string line;
  while (std::getline(in, line)) {
    // proc(5): ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS
    std::istringstream words{line};
    std::vector<std::string> fields;
    for (std::string w; words >> w;) fields.push_back(w);
    const auto dash = std::find(fields.begin(), fields.end(), "-");
    if (fields.size() < 5 || dash == fields.end() || dash + 1 == fields.end()) continue;
    if (*(dash + 1) != "fuse.smbx") continue;
    const std::string mp = unescape_mountinfo(fields[4]);
    const bool inside = absolute_path == mp || mp == "/" ||
                        (absolute_path.size() > mp.size() && absolute_path.compare(0, mp.size(), mp) == 0 &&
                         absolute_path[mp.size()] == '/');
    // The longest match: a mount on a directory inside another mount wins.
    if (inside && (!best || mp.size() > best->path.size())) best = MountPoint{mp};
  }
  return best;
}

Expected<std::string> absolute_path(const std::string& path) {
  if (path.empty()) return local_error("resolve ''", "empty path");
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf) != nullptr) return std::string{buf};
  if (errno != ENOENT) return local_error("resolve " + path, std::strerror(errno));
  // A target that does not exist yet: its parent must.
  std::string trimmed = path;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  const auto slash = trimmed.find_last_of('/');
  const std::string parent = slash == std::string::npos ? "." : slash == 0 ? "/" : trimmed.substr(0, slash);
  const std::string name = slash == std::string::npos ? trimmed : trimmed.substr(slash + 1);
  if (name == "." || name == "..") return local_error("resolve " + path, std::strerror(ENOENT));
  if (::realpath(parent.c_str(), buf) == nullptr) return local_error("resolve " + path, std::strerror(errno));
  std::string out = buf;
  if (out != "/") out += "/";
  return out + name;
}

std::string encode_request_path(std::string_view path) {
  // The mount decodes %XX (smbx::percent_decode); unreserved characters and '/' stay.
  return percent_encode(path, true);
}

struct ControlRequest::State {
  std::string path;
  std::chrono::milliseconds timeout;
  std::optional<local_stream::socket> socket;
  asio::streambuf buffer;
  bool ended = false;
};

ControlRequest::ControlRequest(std::string socket_path, std::chrono::milliseconds line_timeout)
    : state_{std::make_unique<State>()} {
  state_->path = std::move(socket_path);
  state_->timeout = line_timeout;
}

ControlRequest::~ControlRequest() = default;

asio::awaitable<Expected<void>> ControlRequest::send(std::string request) {
  auto& s = *state_;
  auto executor = co_await asio::this_coro::executor;
  s.socket.emplace(executor);
  auto [ec] = co_await s.socket->async_connect(local_stream::endpoint{s.path}, asio::as_tuple(asio::use_awaitable));
  if (ec) co_return Unexpected{local_error("connect to " + s.path, ec.message())};
  request += "\n";
  auto [wec, n] = co_await asio::async_write(*s.socket, asio::buffer(request), asio::as_tuple(asio::use_awaitable));
  (void)n;
  if (wec) co_return Unexpected{local_error("send to " + s.path, wec.message())};
  auto first = co_await next_line();
  if (!first) co_return Unexpected{first.error()};
  if (!*first) co_return Unexpected{local_error(s.path, "closed without a reply")};
  const std::string& line = **first;
  if (line == "ok") co_return Expected<void>{};
  if (line.starts_with("error")) co_return Unexpected{local_error({}, line.size() > 6 ? line.substr(6) : "error")};
  co_return Unexpected{local_error(s.path, "malformed reply \"" + line + "\"")};
}

asio::awaitable<Expected<std::optional<std::string>>> ControlRequest::next_line() {
  auto& s = *state_;
  if (s.ended || !s.socket) co_return std::optional<std::string>{};
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer deadline{executor, s.timeout};
  bool timed_out = false;
  auto* socket = &*s.socket;
  deadline.async_wait([socket, &timed_out](boost::system::error_code ec) {
    if (ec) return;
    timed_out = true;
    boost::system::error_code ignored;
    socket->cancel(ignored);
  });
  auto [ec, n] = co_await asio::async_read_until(*s.socket, s.buffer, '\n', asio::as_tuple(asio::use_awaitable));
  deadline.cancel();
  if (timed_out)
    co_return Unexpected{local_error(s.path, "no reply within " + std::to_string(s.timeout.count() / 1000) + " s")};
  if (ec == asio::error::eof) {
    s.ended = true;
    // A last line without its newline still counts.
    if (s.buffer.size() == 0) co_return std::optional<std::string>{};
    std::string rest{asio::buffers_begin(s.buffer.data()), asio::buffers_end(s.buffer.data())};
    s.buffer.consume(s.buffer.size());
    co_return std::optional<std::string>{std::move(rest)};
  }
  if (ec) co_return Unexpected{local_error("read from " + s.path, ec.message())};
  std::string line{asio::buffers_begin(s.buffer.data()),
                   asio::buffers_begin(s.buffer.data()) + static_cast<std::ptrdiff_t>(n - 1)};
  s.buffer.consume(n);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  co_return std::optional<std::string>{std::move(line)};
}

asio::awaitable<Expected<std::vector<std::string>>> ControlRequest::rest() {
  std::vector<std::string> lines;
  for (;;) {
    auto line = co_await next_line();
    if (!line) co_return Unexpected{line.error()};
    if (!*line) break;
    lines.push_back(std::move(**line));
  }
  co_return lines;
}

asio::awaitable<Expected<MountControl>> find_mount_control(std::string mountpoint, std::string directory) {
  std::vector<std::string> sockets;
  DIR* dir = ::opendir(directory.c_str());
  if (dir == nullptr) {
    const int err = errno;
    co_return Unexpected{local_error(
        "find the control socket of the mount at " + mountpoint,
        "cannot read " + directory + ": " + std::strerror(err) +
            (err == EACCES ? " (mount control sockets are root's: run cp-offload as root, or use smb:// URLs)" : ""))};
  }
  while (const dirent* e = ::readdir(dir)) {
    const std::string name = e->d_name;
    if (name.starts_with("mount-") && name.ends_with(".sock")) sockets.push_back(directory + "/" + name);
  }
  ::closedir(dir);
  std::sort(sockets.begin(), sockets.end());
  std::string problems;
  for (const auto& socket : sockets) {
    ControlRequest request{socket, std::chrono::seconds{10}};
    auto sent = co_await request.send("status");
    if (!sent) {
      // A stale socket of a mount that died, or one of another user: not ours.
      if (sent.error().detail.find("ermission") != std::string::npos) problems = "; " + socket + ": permission denied";
      continue;
    }
    auto lines = co_await request.rest();
    if (!lines) continue;
    if (line_value(*lines, "mountpoint") == mountpoint) co_return MountControl{socket, std::move(*lines)};
  }
  co_return Unexpected{local_error("find the control socket of the mount at " + mountpoint,
                                   "no mount.smbx control socket in " + directory + " answers for it" + problems)};
}

std::optional<std::string> line_value(const std::vector<std::string>& lines, std::string_view key) {
  for (const auto& line : lines) {
    if (line.size() > key.size() + 1 && line.compare(0, key.size(), key) == 0 && line[key.size()] == ':') {
      std::string value = line.substr(key.size() + 1);
      if (!value.empty() && value.front() == ' ') value.erase(0, 1);
      return value;
    }
  }
  return std::nullopt;
}

std::optional<std::uint64_t> line_number(const std::vector<std::string>& lines, std::string_view key) {
  const auto value = line_value(lines, key);
  if (!value || value->empty() || value->find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  try {
    return std::stoull(*value);
  } catch (...) {
    return std::nullopt;
  }
}

}  // namespace smbx::cpo
