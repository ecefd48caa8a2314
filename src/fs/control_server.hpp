// The control socket of a mount (and the protocol smbxd speaks too): a Unix
// stream socket, mode 0600, in a 0700 directory. A client sends ONE request
// line (words separated by single spaces, '\n'-terminated, at most 4096
// bytes); the server answers `ok` or `error <message>`, then zero or more
// lines, then closes the connection. `smbxctl` relays it. A request that runs
// for a while (`copy`) streams its lines as they come.
#pragma once

#include <sys/types.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
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

// The reply of a streaming request, written as it is produced: lines are
// queued and written in order by one writer coroutine, so a synchronous
// callback (a copy's progress) can add lines too. When the client has gone
// away the lines are dropped; the request itself runs to its end.
class ControlReplyStream {
 public:
  virtual ~ControlReplyStream() = default;
  // One line; '\n' and '\r' inside it become spaces.
  virtual void line(std::string text) = 0;
  void ok() { line("ok"); }
  void error(std::string message) { line("error " + std::move(message)); }
  // Bytes queued but not yet written: a caller can skip optional lines
  // (progress) for a client that does not read.
  virtual std::size_t backlog() const = 0;
};

// Answers one request by writing to `out` (first line `ok` or `error MSG`).
// The connection closes once the coroutine returns and `out` is written.
using StreamingControlHandler = std::function<boost::asio::awaitable<void>(
    std::vector<std::string> words, std::shared_ptr<ControlReplyStream> out)>;

class ControlServer {
 public:
  // Creates the socket's directory (mode 0700) when missing, replaces a stale
  // socket at `path`, binds with mode 0600 and serves on `io` until stop().
  static Expected<std::unique_ptr<ControlServer>> start(boost::asio::io_context& io, std::string path,
                                                        ControlHandler handler);
  static Expected<std::unique_ptr<ControlServer>> start_streaming(boost::asio::io_context& io, std::string path,
                                                                  StreamingControlHandler handler);
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

// The mount's request handler for `status`; anything else is an error reply.
ControlReply answer_mount_request(const std::vector<std::string>& words, const std::function<MountStatus()>& status);

// What a mount's requests need to know; tools/mount.smbx fills it in.
struct MountControl {
  std::function<MountStatus()> status;
  std::string host;  // a name or an address (IPv6 without brackets)
  std::uint16_t port = 445;
  std::string share;
  std::string user;                  // the mount's user name, may be empty
  std::string root;                  // share-relative directory mounted (//server/share/ROOT), "" = the share
  Filesystem* filesystem = nullptr;  // for `copy`; null: refused
};

// Every request a mount answers:
//   status                 -> status_lines()
//   resolve [PATH]         -> `url smb://HOST[:PORT]/SHARE[/PATH]`, `user USER`
//                             (no PATH: the mount's root)
//   copy METHOD SRC DST    -> `ok` once both files are open, `progress DONE
//                             TOTAL` lines, the stats lines (`method: NAME`,
//                             `bytes copied: N`, `bytes through client: N`,
//                             `elapsed ms: N`) and `done`, or `failed MSG`.
// PATHs are mount-relative and percent-encoded (see request_path()); below a
// mounted subdirectory they are taken relative to it.
boost::asio::awaitable<void> serve_mount_request(std::vector<std::string> words,
                                                 std::shared_ptr<ControlReplyStream> out,
                                                 std::shared_ptr<MountControl> mount);

// `resolve [PATH]` (its words): the reply, computed from `mount` alone.
ControlReply answer_resolve(const std::vector<std::string>& words, const MountControl& mount);

// A request's PATH word: %XX escapes decoded (every byte <= 0x20, '%' and
// 0x7f arrive escaped), then confined to the share: relative, '/'-separated,
// not empty, no empty, "." or ".." component, no '\\' and no control byte.
// Returns the share-relative path, or the reason it is refused.
Expected<std::string> request_path(std::string_view word);

// smb://HOST[:PORT]/SHARE/PATH with SHARE and PATH percent-encoded (every byte
// but letters, digits, "-._~" and the '/' between components); port 445 is left out.
std::string smb_url(const MountControl& mount, std::string_view path);

// A mount-relative path (from request_path()) as a share-relative one: below
// the mounted subdirectory, if any.
std::string share_path(const MountControl& mount, const std::string& path);

// Splits a request line into words at single spaces; empty words (double
// spaces) are refused by returning an empty vector.
std::vector<std::string> split_request(std::string_view line);

}  // namespace smbx::fs
