// The control socket of a mount (and the protocol smbxd speaks too): a Unix
// stream socket, mode 0600, in a 0700 directory. A client sends ONE request
// line (words separated by single spaces, '\n'-terminated, at most 4096
// bytes); the server answers `ok` or `error <message>`, then zero or more
// human-readable lines, then closes the connection. `smbxctl` relays it.
#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "fs/filesystem.hpp"
#include "smbx/expected.hpp"

namespace smbx::fs {

inline constexpr const char* kControlDirectory = "/run/smbx";
inline constexpr std::size_t kMaxRequestLine = 4096;

// /run/smbx/mount-<pid>.sock: smbxctl finds every mount by this pattern.
std::string mount_socket_path(pid_t pid);

struct ControlReply {
  bool ok = true;
  std::string error;               // the message of an `error` reply (one line)
  std::vector<std::string> lines;  // after `ok`

  static ControlReply failure(std::string message) { return {false, std::move(message), {}}; }
};

// Answers one request (its words, at least one). Runs on the io_context's thread.
using ControlHandler = std::function<ControlReply(const std::vector<std::string>& words)>;

class ControlServer {
 public:
  // Creates the socket's directory (mode 0700) when missing, replaces a stale
  // socket at `path`, binds with mode 0600 and serves on `io` until stop().
  static Expected<std::unique_ptr<ControlServer>> start(boost::asio::io_context& io, std::string path,
                                                        ControlHandler handler);
  ~ControlServer();  // stop()
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Closes the listener and removes the socket file. Idempotent.
  void stop();
  const std::string& path() const noexcept;

 private:
  struct State;
  explicit ControlServer(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

// Removes the mount-<pid>.sock files in `directory` whose process is gone
// (a mount killed with SIGKILL cannot remove its own). Returns how many.
int remove_stale_mount_sockets(const std::string& directory = kControlDirectory);

// `status` reply lines for a mount: "mountpoint: /mnt/x", "server: host:port", ...
std::vector<std::string> status_lines(const MountStatus& status);

// The mount's request handler: `status`; anything else is an error reply.
ControlReply answer_mount_request(const std::vector<std::string>& words, const std::function<MountStatus()>& status);

// Splits a request line into words at single spaces; empty words (double
// spaces) are refused by returning an empty vector.
std::vector<std::string> split_request(std::string_view line);

}  // namespace smbx::fs
