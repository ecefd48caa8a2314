// smbxctl: a thin relay to the control sockets of live mounts
// (/run/smbx/mount-<pid>.sock) and of smbxd nodes (--control SOCKET). It
// sends one request line and prints the reply (protocol in
// src/fs/control_server.hpp). See man/smbxctl.8.
#include <CLI/CLI.hpp>
#include <dirent.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace {

constexpr int kExitOk = 0;
constexpr int kExitErrorReply = 1;
constexpr int kExitUsage = 2;
constexpr int kExitCannotConnect = 3;

constexpr std::size_t kMaxRequestLine = 4096;  // the protocol's limit, newline included
constexpr int kReplyTimeoutMs = 10'000;

struct Reply {
  bool ok = false;
  std::string error;
  std::vector<std::string> lines;
};

enum class Outcome { replied, cannot_connect, stale, failed };

struct Exchange {
  Outcome outcome = Outcome::failed;
  Reply reply;
  std::string problem;  // when not replied
};

bool write_all(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const auto n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return true;
}

// Sends one request line to the socket at `path` and reads the reply to EOF.
Exchange ask(const std::string& path, const std::string& request) {
  Exchange x;
  sockaddr_un addr{};
  if (path.size() >= sizeof addr.sun_path) {
    x.outcome = Outcome::cannot_connect;
    x.problem = "socket path too long: " + path;
    return x;
  }
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    x.problem = std::string{"socket: "} + std::strerror(errno);
    return x;
  }
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    const int err = errno;
    ::close(fd);
    // Nobody listens: the process that made it is gone.
    x.outcome = err == ECONNREFUSED || err == ENOENT ? Outcome::stale : Outcome::cannot_connect;
    x.problem = "cannot connect to " + path + ": " + std::strerror(err);
    return x;
  }
  if (!write_all(fd, request + "\n")) {
    x.problem = "cannot send to " + path + ": " + std::strerror(errno);
    ::close(fd);
    return x;
  }
  std::string text;
  char buf[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, kReplyTimeoutMs);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      x.problem = "no reply from " + path + " within " + std::to_string(kReplyTimeoutMs / 1000) + " s";
      ::close(fd);
      return x;
    }
    const auto n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      x.problem = "cannot read from " + path + ": " + std::strerror(errno);
      ::close(fd);
      return x;
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  if (lines.empty()) {
    x.problem = path + " closed without a reply";
    return x;
  }
  x.outcome = Outcome::replied;
  if (lines[0] == "ok") {
    x.reply.ok = true;
    x.reply.lines.assign(lines.begin() + 1, lines.end());
  } else if (lines[0].starts_with("error")) {
    x.reply.error = lines[0].size() > 6 ? lines[0].substr(6) : "unspecified error";
  } else {
    x.outcome = Outcome::failed;
    x.problem = "malformed reply from " + path + ": \"" + lines[0] + "\"";
  }
  return x;
}

// "/mnt/x/" and "x/../x" (relative) name the same mount point. Lexical on
// purpose: stat() on a mount whose server is gone could hang.
std::string normal_path(const std::string& path) {
  std::filesystem::path p{path};
  if (p.is_relative()) p = std::filesystem::current_path() / p;
  std::string out = p.lexically_normal().string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

std::vector<std::string> mount_sockets(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.starts_with("mount-") && name.ends_with(".sock")) out.push_back(dir + "/" + name);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

int run_status(const std::string& dir, const std::optional<std::string>& mountpoint) {
  const std::optional<std::string> wanted = mountpoint ? std::optional{normal_path(*mountpoint)} : std::nullopt;
  int status = kExitOk;
  bool first = true;
  bool found = false;
  for (const auto& socket : mount_sockets(dir)) {
    auto x = ask(socket, "status");
    if (x.outcome == Outcome::stale) continue;
    if (x.outcome != Outcome::replied) {
      if (!wanted) {
        std::cerr << "smbxctl: " << x.problem << "\n";
        status = kExitErrorReply;
      }
      continue;
    }
    if (!x.reply.ok) {
      if (!wanted) {
        std::cerr << "smbxctl: " << socket << ": " << x.reply.error << "\n";
        status = kExitErrorReply;
      }
      continue;
    }
    if (wanted) {
      const auto it = std::find(x.reply.lines.begin(), x.reply.lines.end(), "mountpoint: " + *wanted);
      if (it == x.reply.lines.end()) continue;
    }
    if (!first) std::cout << "\n";
    first = false;
    found = true;
    for (const auto& line : x.reply.lines) std::cout << line << "\n";
  }
  if (wanted && !found) {
    std::cerr << "smbxctl: no smbx mount at " << *wanted << "\n";
    return kExitErrorReply;
  }
  return status;
}

int run_server(const std::string& socket, const std::vector<std::string>& words) {
  std::string request;
  for (const auto& w : words) {
    if (w.empty() || w.find_first_of(" \n\r") != std::string::npos) {
      std::cerr << "smbxctl: a request word may not be empty or hold spaces or newlines: \"" << w << "\"\n";
      return kExitUsage;
    }
    if (!request.empty()) request += ' ';
    request += w;
  }
  if (request.size() + 1 > kMaxRequestLine) {
    std::cerr << "smbxctl: request longer than " << kMaxRequestLine << " bytes\n";
    return kExitUsage;
  }
  auto x = ask(socket, request);
  // `fault crash` kills smbxd like kill -9 right after it answers; should the
  // process die before the reply got out, the closed socket is the answer.
  if (x.outcome == Outcome::failed && words.size() == 2 && words[0] == "fault" && words[1] == "crash" &&
      x.problem.ends_with("closed without a reply"))
    return kExitOk;
  if (x.outcome == Outcome::stale || x.outcome == Outcome::cannot_connect) {
    std::cerr << "smbxctl: " << x.problem << "\n";
    return kExitCannotConnect;
  }
  if (x.outcome != Outcome::replied) {
    std::cerr << "smbxctl: " << x.problem << "\n";
    return kExitErrorReply;
  }
  if (!x.reply.ok) {
    std::cerr << "smbxctl: " << x.reply.error << "\n";
    return kExitErrorReply;
  }
  for (const auto& line : x.reply.lines) std::cout << line << "\n";
  // A mount's `copy` says `ok` once its files are open and ends with
  // `failed MSG` when the copy itself fails.
  if (!x.reply.lines.empty() && x.reply.lines.back().starts_with("failed")) {
    std::cerr << "smbxctl: " << x.reply.lines.back() << "\n";
    return kExitErrorReply;
  }
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"smbxctl: status of smbx mounts and control of smbxd nodes over their Unix sockets"};
  app.require_subcommand(1);
  std::string run_dir = "/run/smbx";
  app.add_option("--run-dir", run_dir, "where mounts put their sockets (default /run/smbx)")->group("");

  std::optional<std::string> mountpoint;
  auto* status = app.add_subcommand("status", "show every mount (or the one at MOUNTPOINT)");
  status->add_option("MOUNTPOINT", mountpoint, "only this mount");

  std::string socket;
  std::vector<std::string> words;
  auto* server = app.add_subcommand(
      "server", "send a request to an smbxd control socket (or a mount's) and print the reply");
  server->add_option("SOCKET", socket, "the socket smbxd was started with (--control), or /run/smbx/mount-PID.sock")
      ->required();
  server->add_option("WORD", words,
                     "the request: status, or fault crash | freeze SECONDS | drop-connections | "
                     "drop-responses N [COMMAND|any [NAME]] | delay MS | offload-cap BYTES | clear | status; "
                     "to a mount: status | resolve PATH | copy auto|odx|copychunk|stream SRC DST")
      ->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  if (status->parsed()) return run_status(run_dir, mountpoint);
  if (server->parsed()) return run_server(socket, words);
  return kExitUsage;
}
