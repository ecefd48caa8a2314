// FUSE node ids for a path-based protocol. SMB names files by path, the kernel
// by node id: the table maps each id the kernel knows (its lookup count says
// how many references it holds) to the file's current path, and keeps what is
// cached about the file (attributes until they expire, the decoded symlink,
// the lease key). Pure bookkeeping, no I/O: tests/unit/fs_inode_table_test.cpp.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "smbx/client.hpp"

namespace smbx::fs {

using Clock = std::chrono::steady_clock;

inline constexpr std::uint64_t kRootId = 1;  // FUSE_ROOT_ID

struct Inode {
  std::uint64_t id = 0;
  std::string path;                          // share-relative, '/' separated ("" is the share's root)
  std::uint64_t lookups = 0;                 // references the kernel holds (lookup, create, readdirplus...)
  bool detached = false;                     // unlinked or replaced: the path names something else now
  std::array<std::uint8_t, 16> lease_key{};  // random, stable for the life of the inode
  std::uint32_t lease_state = 0;             // what the open handles were granted
  std::uint32_t open_handles = 0;            // our handles on it (they keep it alive too)
  std::uint32_t page_cache_handles = 0;      // of those: files opened through the kernel's page cache
  // A WRITE went around the page cache (a write-only handle) since the last
  // open that dropped the file's pages: the next open through the page cache
  // drops them too (no FOPEN_KEEP_CACHE), as pages kept from a closed
  // handle may predate the WRITE.
  bool written_around_cache = false;
  std::uint64_t st_ino = 0;                  // the server's file index once known; then fixed
  // FILETIME of our last WRITE: shown as mtime while the server's is older
  // (Samba moves LastWriteTime only later or at close, MS-FSA 2.1.5.4).
  std::uint64_t local_mtime = 0;

  std::optional<FileInfo> info;  // last attributes seen
  Clock::time_point info_expiry{};
  // Minshall+French symlink state, valid for (size, last_write_time) == symlink_key.
  bool symlink_checked = false;
  std::pair<std::uint64_t, std::uint64_t> symlink_key{};
  std::optional<std::string> symlink_target;

  bool info_fresh(Clock::time_point now) const { return info && now < info_expiry; }
};

class InodeTable {
 public:
  // `root_path`: the share-relative path of the root inode ("" = the share's
  // root; a subdirectory for //server/share/subdir mounts). Every other
  // path is below it, so all paths the filesystem sends carry the prefix.
  explicit InodeTable(std::string root_path = {});

  // "a/b" + "c" -> "a/b/c"; the root's children have no leading slash.
  static std::string child_path(std::string_view parent, std::string_view name);
  // "a/b/c" -> "a/b"; "c" -> "".
  static std::string parent_path(std::string_view path);

  Inode* find(std::uint64_t id);
  const Inode* find(std::uint64_t id) const;
  Inode* find_path(const std::string& path);
  Inode* find_lease(const std::array<std::uint8_t, 16>& key);

  // The inode for `path`, made (with no references) if there is none.
  Inode& ensure(const std::string& path);
  // ensure() plus one kernel reference: what a successful lookup replies.
  Inode& lookup(const std::string& path);
  // FUSE forget: drops `n` references; the inode goes once none remain and
  // no handle keeps it. The root is never removed.
  void forget(std::uint64_t id, std::uint64_t n);
  // Drops an inode nobody references (after a failed create, a closed handle).
  void drop_if_unused(std::uint64_t id);

  // The name is gone (unlink, rmdir): the inode stays while referenced but no
  // longer answers for the path.
  void detach_path(const std::string& path);
  // `from` (and everything below it) now lives at `to`; what was at `to` is detached.
  void rename(const std::string& from, const std::string& to);

  // The other inodes of the same server file (a hard link's other names, each
  // its own inode): same non-zero st_ino. One inode per name, because a lease
  // is bound to the name it was granted for (MS-SMB2 3.3.1.12 Lease.Filename;
  // a durable reconnect through another name fails, 3.3.5.9.7 and 3.3.5.9.12)
  // and each inode has one lease key.
  std::vector<std::uint64_t> same_file(std::uint64_t id) const;

  std::size_t size() const { return by_id_.size(); }

 private:
  void detach(Inode& inode);
  void index_lease(Inode& inode);

  std::unordered_map<std::uint64_t, Inode> by_id_;
  std::map<std::string, std::uint64_t> by_path_;  // ordered: a subtree is one range
  std::map<std::array<std::uint8_t, 16>, std::uint64_t> by_lease_;
  std::uint64_t next_id_ = kRootId + 1;
};

}  // namespace smbx::fs
