// cp-offload and mount.smbx: finding the mount a path lies on and talking to
// its control socket (/run/smbx/mount-<pid>.sock; protocol in
// src/fs/control_server.hpp, requests `status`, `resolve` and `copy`).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "smbx/expected.hpp"

namespace smbx::cpo {

// A mount.smbx mount found in /proc/self/mountinfo.
struct MountPoint {
  std::string path;  // absolute, as the kernel shows it (escapes decoded)
};

// The mount.smbx mount (fstype fuse.smbx) holding `absolute_path` (the
// longest mount point that is the path or one of its parents), if any.
std::optional<MountPoint> find_smbx_mount(const std::string& absolute_path,
                                          const std::string& mountinfo_file = "/proc/self/mountinfo");

// Decodes the octal escapes (\040 for a space, ...) of a mountinfo field.
std::string unescape_mountinfo(std::string_view field);

// The absolute, symlink-free form of `path`; for a path that does not exist
// yet, that of its parent directory plus the last name (a copy's target).
Expected<std::string> absolute_path(const std::string& path);

// Percent-encodes a mount-relative path for a control request (every byte but
// unreserved characters and '/' becomes %XX), so the request stays
// space-separated words.
std::string encode_request_path(std::string_view path);

// One request to a control socket: the reply's first line (`ok` or `error
// MSG`) and each following line, read as they arrive.
class ControlRequest {
 public:
  // `line_timeout`: how long to wait for each line before giving up.
  ControlRequest(std::string socket_path, std::chrono::milliseconds line_timeout);

  // Sends `request` and waits for the first line: Unexpected with the message
  // of an `error` reply (or why the socket could not be used).
  boost::asio::awaitable<Expected<void>> send(std::string request);
  // The next line, nullopt at the end of the reply.
  boost::asio::awaitable<Expected<std::optional<std::string>>> next_line();
  // All remaining lines.
  boost::asio::awaitable<Expected<std::vector<std::string>>> rest();

  ~ControlRequest();
  ControlRequest(const ControlRequest&) = delete;
  ControlRequest& operator=(const ControlRequest&) = delete;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// The control socket of the mount at `mountpoint`: the one of the
// mount-*.sock files in `directory` whose `status` names that mount point.
// Also returns the status lines.
struct MountControl {
  std::string socket;
  std::vector<std::string> status;  // "key: value" lines
};
boost::asio::awaitable<Expected<MountControl>> find_mount_control(std::string mountpoint, std::string directory);

// The value of the "key: value" line of `lines`, if there is one.
std::optional<std::string> line_value(const std::vector<std::string>& lines, std::string_view key);
// The same, as a number.
std::optional<std::uint64_t> line_number(const std::vector<std::string>& lines, std::string_view key);

}  // namespace smbx::cpo
