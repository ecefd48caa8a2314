// The FUSE filesystem of mount.smbx: a libfuse3 low-level session whose
// /dev/fuse fd is serviced from the engine's io_context (DESIGN.md,
// Concurrency). Each FUSE request runs as a coroutine and replies exactly once.
#pragma once

#include <sys/types.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "copy/copy.hpp"
#include "smbx/client.hpp"
#include "smbx/expected.hpp"
#include "smbx/file.hpp"

namespace smbx::fs {

enum class CacheMode : std::uint8_t { strict, none, loose };  // mount.cifs `cache=`

// What the mount options (src/fs/mount_options.hpp) settle for the filesystem.
struct MountConfig {
  std::string mountpoint;        // absolute, canonical
  std::string fsname;            // "//server/share", shown in /proc/mounts
  uid_t uid = 0;                 // owner shown for every file (mount.cifs uid=)
  gid_t gid = 0;
  mode_t file_mode = 0755;
  mode_t dir_mode = 0755;
  bool read_only = false;
  std::chrono::milliseconds actimeo{1000};
  CacheMode cache = CacheMode::strict;
  std::uint32_t rsize = 0;  // 0: the negotiated MaxReadSize (capped by FUSE's 1 MiB)
  std::uint32_t wsize = 0;
  // Memory windows (what bounds the daemon's memory under streaming I/O):
  // the kernel's read-ahead for the mount (mount.cifs rasize=; several 1 MiB
  // READs in flight), and the bytes of WRITEs per handle answered before the
  // server has them under a write-caching lease (0: none).
  std::uint32_t rasize = 4u << 20;
  std::uint32_t write_behind = 4u << 20;
  bool soft = false;        // soft: EIO after the deadline; hard: keep retrying
  bool nobrl = false;       // byte-range locks stay local
  bool mfsymlinks = true;
  bool allow_other = true;  // other users may use the mount (as with cifs)
  // mount(8)'s generic flags as given (noexec, nosuid, nodev, noatime, sync, ...),
  // applied to the FUSE mount.
  std::vector<std::string> mount_flags;
  // //server/share/SUBDIR: the share-relative directory shown as the mount's
  // root ("" for the share itself). Nothing above it is reachable.
  std::string subdir;
};

// What `smbxctl status` shows for a mount.
struct MountStatus {
  std::string mountpoint;
  std::string server;  // host[:port]
  std::string share;
  ConnectionInfo connection;
  std::uint64_t open_handles = 0;
  std::uint64_t cached_inodes = 0;
  std::uint64_t requests_in_flight = 0;  // FUSE requests not yet answered
  // Write-behind, all files: bytes answered to the kernel but not yet by the
  // server, the most there have been at once, and the mount's bound.
  std::uint64_t write_behind_bytes = 0;
  std::uint64_t write_behind_peak = 0;
  std::uint64_t write_behind_limit = 0;
  std::uint64_t reconnects = 0;
  std::uint64_t handles_reopened = 0;   // reclaimed (DH2C/DHnC) or reopened after a reconnect
  std::uint64_t handles_lost = 0;       // not reclaimable: their calls fail with ESTALE
  std::uint64_t requests_replayed = 0;  // sent again after a reconnect
  bool recovering = false;              // the connection is down, being re-established
  std::uint64_t bytes_read = 0;
  std::uint64_t bytes_written = 0;
  std::uint64_t fuse_requests = 0;
  std::uint64_t lease_breaks = 0;
  // Server-side copies (copy_file_range and the control socket's `copy`):
  // bytes copied, and of those the bytes the copy engine moved through the
  // client itself (its READ/WRITE fallback).
  std::uint64_t bytes_copied = 0;
  std::uint64_t bytes_copied_through_client = 0;
};

// Both files of a control-socket copy, open.
struct CopyFiles {
  File source;
  File target;
  std::string target_path;
  std::uint64_t size = 0;  // the source's, at its open
};

class Filesystem {
 public:
  // Creates the FUSE session and mounts it on config.mountpoint. Returns once
  // the kernel has the mount; run() then serves it.
  static Expected<std::unique_ptr<Filesystem>> mount(boost::asio::io_context& io, std::unique_ptr<Client> client,
                                                     Share share, MountConfig config);
  ~Filesystem();

  // Serves FUSE requests until the filesystem is unmounted (umount, fusermount3
  // -u) or stop() is called; flushes dirty data and closes every handle first.
  boost::asio::awaitable<void> run();
  // SIGTERM: finish what is in flight, flush, close handles, unmount.
  void stop();

  MountStatus status() const;

  // The control socket's `copy` (control_server.hpp), in two steps. First
  // opens `source` for reading and creates or truncates `target` through the
  // mount's session (share-relative paths, already confined to the share);
  // refuses a target that is the source itself.
  boost::asio::awaitable<Expected<CopyFiles>> open_copy(std::string source, std::string target);
  // Then copies the whole source with the copy engine and the mount's
  // per-server memory of refused methods, closes both files and tells the
  // kernel that the target (and its directory) changed.
  boost::asio::awaitable<Expected<copy::CopyStats>> run_copy(CopyFiles& files, copy::CopyOptions options);

  struct Impl;  // opaque; public only so that the libfuse callbacks can reach it

 private:
  explicit Filesystem(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace smbx::fs
