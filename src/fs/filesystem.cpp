// mount.smbx's FUSE filesystem: libfuse3's low-level API driven from the
// engine's io_context (DESIGN.md, Concurrency). The /dev/fuse fd is
// non-blocking and waited on with asio; fuse_session_process_buf calls the
// op callbacks below synchronously, and each callback starts a coroutine that
// does the SMB work and answers the kernel exactly once.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#define FUSE_USE_VERSION 314
#include "fs/filesystem.hpp"

#include <fcntl.h>
#include <fuse3/fuse_lowlevel.h>
#include <malloc.h>
#include <sys/file.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "fs/errno_map.hpp"
#include "fs/inode_table.hpp"
#include "fs/mfsymlink.hpp"
#include "smbx/file.hpp"
#include "wire/bytes.hpp"
#include "wire/create.hpp"
#include "wire/fscc.hpp"
#include "wire/ntstatus.hpp"

namespace smbx::fs {

namespace asio = boost::asio;
using asio::awaitable;

namespace {

namespace acc = wire::access;
namespace disp = wire::disposition;
namespace opts = wire::create_options;
namespace attr = wire::file_attributes;

// FILE_GENERIC_READ / FILE_GENERIC_WRITE (MS-SMB2 2.2.13.1.1).
constexpr std::uint32_t kGenericRead =
    acc::read_data | acc::read_ea | acc::read_attributes | acc::read_control | acc::synchronize;
constexpr std::uint32_t kGenericWrite = acc::write_data | acc::append_data | acc::write_ea |
                                        acc::write_attributes | acc::read_control | acc::synchronize;
constexpr std::uint32_t kMaxIo = 1u << 20;  // FUSE's largest request: 256 pages
// WRITEs answered before the server has them, per handle, whatever their
// size: the 4 MiB write-behind bound alone would let 8192 writes of 512
// bytes wait. 1024 is what 4 MiB of 4 KiB writes take: fio 4k randwrite
// against Samba ran at 21k IOPS with 1024, 13k with 512 and 11k with 256.
constexpr std::size_t kMaxWritesBehind = 1024;
// Coroutines per handle that send those WRITEs; the rest wait in
// Handle::wb_queue as their data alone. Each sender holds its coroutine
// frames, the request and its signing state (about 7 KiB, heaptrack), so
// 1024 of them came to 7 MiB of the 4k randwrite peak. 64 keep Samba as busy.
constexpr unsigned kWriteBehindSenders = 64;
// The whole mount's write-behind, all files together: this many times the
// per-file bound (writebehind=, 64 MiB by default) and this many WRITEs. Per
// file alone, memory would grow with the number of files being written.
constexpr std::uint64_t kWriteBehindFilesWorth = 16;
constexpr std::uint64_t kMaxWritesBehindMount = 4096;

// The data of one FUSE WRITE, alive until the WRITE is done: a copy for a
// small write, or for a large one the request buffer itself, taken over from
// the receive loop (Impl::write_data), so 1 MiB is not copied once more.
struct WriteData {
  std::shared_ptr<void> owner;
  std::span<const std::uint8_t> bytes;
  std::size_t size() const noexcept { return bytes.size(); }
};

// FUSE request buffers that WRITEs took over, given back to the receive loop
// when the WRITE is done (a 1 MiB malloc would be an mmap and 256 page faults
// each time). Bounded: more than kMax idle are freed.
struct SpareRequestBuffers {
  static constexpr std::size_t kMax = 2;
  std::vector<void*> idle;
  ~SpareRequestBuffers() {
    for (void* m : idle) std::free(m);
  }
};
constexpr std::uint64_t kWholeFile = std::numeric_limits<std::uint64_t>::max();
// copy_file_range: the most one FUSE_COPY_FILE_RANGE copies (its reply's
// size is 32 bits; callers loop, as cp does). A multiple of the engine's ODX range.
constexpr std::uint64_t kMaxCopyRange = 1ull << 30;
// Directory listings kept to answer lookups of absent names (see DirNames):
// at most this many names per directory, and in all.
constexpr std::size_t kDirNamesPerDir = 16384;
constexpr std::size_t kDirNamesTotal = 65536;
// A listing that answered this many lookups is listed again when it expires.
constexpr std::uint64_t kDirNamesHot = 8;
// Files unlinked or replaced while open through this mount wait under this
// name for their last close (silly rename); never listed nor looked up.
constexpr std::string_view kHiddenPrefix = ".smbx-deleted-";

struct HeldLock {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  std::uint64_t owner = 0;
  bool flock = false;
  bool exclusive = false;
};

// An open file or directory (the fh the kernel passes back).
struct Handle {
  std::uint64_t ino = 0;
  std::optional<File> file;
  bool directory = false;
  bool writable = false;
  // Opened without FOPEN_DIRECT_IO: the kernel may cache the file's pages
  // for it (counted in Inode::page_cache_handles).
  bool page_cache = false;
  // Directory listing: a snapshot taken at offset 0, served by index so that
  // the kernel can resume at any offset it was given.
  bool listed = false;
  std::vector<FileInfo> entries;
  std::unordered_map<std::string, std::string> symlinks;  // entry name -> target
  std::vector<HeldLock> locks;
  // Write-behind under a write-caching lease: WRITEs answered to the kernel
  // but not yet by the server, and the first error one of them met (reported
  // by the next write, flush, fsync or close, as NFS does).
  std::uint64_t wb_bytes = 0;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> wb_ranges;  // [offset, end) queued or in flight
  std::deque<std::pair<std::uint64_t, WriteData>> wb_queue;        // offset, data: not sent yet
  unsigned wb_senders = 0;                                          // coroutines sending wb_queue
  int wb_error = 0;
  std::unique_ptr<asio::steady_timer> wb_signal;  // cancelled whenever a WRITE completes
  bool closing = false;                           // RELEASE sent the CLOSE
};

std::string escape_option(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == ',' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// "/mnt/a b" as /proc/self/mountinfo writes it ("/mnt/a\040b").
std::string mountinfo_escape(std::string_view path) {
  std::string out;
  for (char c : path) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\\') {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\%03o", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

std::uint64_t now_filetime() {
  struct timespec ts {};
  clock_gettime(CLOCK_REALTIME, &ts);
  return wire::fscc::filetime_from_timespec(ts);
}

std::string server_of(std::string_view fsname) {
  while (!fsname.empty() && (fsname.front() == '/' || fsname.front() == '\\')) fsname.remove_prefix(1);
  const auto slash = fsname.find_first_of("/\\");
  return std::string{fsname.substr(0, slash)};
}

}  // namespace

struct Filesystem::Impl {
  Impl(asio::io_context& io_context, std::unique_ptr<Client> c, Share s, MountConfig cfg)
      : io{io_context},
        client{std::move(c)},
        share{std::move(s)},
        files{share},
        config{std::move(cfg)},
        inodes{config.subdir} {}
  ~Impl();

  asio::io_context& io;
  std::unique_ptr<Client> client;
  Share share;
  Files files;
  MountConfig config;

  fuse_session* se = nullptr;
  bool mounted = false;
  std::optional<asio::posix::stream_descriptor> fuse_fd;
  std::atomic<bool> stopping{false};  // read by the notifier thread too
  bool init_done = false;
  bool readahead_set = false;

  InodeTable inodes;
  std::unordered_map<std::uint64_t, std::shared_ptr<Handle>> handles;
  std::uint64_t next_fh = 1;
  // Inodes being moved to a hidden name (hide()): opens of them wait, so
  // that they open the file under whichever name it has then.
  std::unordered_map<std::uint64_t, std::shared_ptr<asio::steady_timer>> replacing;
  std::mt19937_64 rng{std::random_device{}()};

  // The buffer serve() is receiving into (ll_write may take it over), and
  // the ones WRITEs gave back.
  fuse_buf* receiving = nullptr;
  std::uint32_t max_write = kMaxIo;  // as agreed with the kernel (ll_init); libfuse's buffer is that + a header
  std::shared_ptr<SpareRequestBuffers> spare_buffers = std::make_shared<SpareRequestBuffers>();
  WriteData write_data(const char* data, std::size_t size);

  std::uint64_t in_flight = 0;       // coroutines running: ops and write-behind senders (shutdown waits for them)
  std::uint64_t behind_senders = 0;  // of those: write-behind senders (send_behind)
  std::uint64_t written_behind = 0;  // WRITEs taken behind (answered, or about to be), not yet by the server
  std::uint64_t behind_bytes = 0;    // their bytes
  std::uint64_t behind_bytes_peak = 0;
  // Cancelled whenever a WRITE behind completes: a write waiting for room
  // under the mount's bound (kWriteBehindFilesWorth) waits on it.
  asio::steady_timer behind_room{io, asio::steady_timer::time_point::max()};
  std::uint64_t fuse_requests = 0;
  std::uint64_t bytes_read = 0;
  std::uint64_t bytes_written = 0;
  std::uint64_t lease_breaks = 0;
  std::uint64_t bytes_copied = 0;
  std::uint64_t bytes_copied_through_client = 0;
  // What each server refused of ODX and copy chunks (src/copy): one memory
  // for the mount, so a refusal is learnt once.
  copy::MethodMemory copy_memory;

  // notify_inval_inode waits for page locks that a READ in flight holds; the
  // READ is answered by this io_context's thread, so the notification must be
  // sent from another one (libfuse: "must not be called in the execution path
  // of a related filesystem operation").
  asio::thread_pool notifier{1};
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);

  // ---- helpers ----
  double timeout() const {
    return config.cache == CacheMode::none ? 0.0 : static_cast<double>(config.actimeo.count()) / 1000.0;
  }
  Clock::time_point expiry() const {
    return Clock::now() +
           (config.cache == CacheMode::none ? Clock::duration::zero() : Clock::duration{config.actimeo});
  }

  void set_info(Inode& n, FileInfo info) {
    if (info.file_index != 0 && n.st_ino == 0) n.st_ino = info.file_index;
    if (n.local_mtime != 0 && info.last_write_time >= n.local_mtime) n.local_mtime = 0;
    n.info = std::move(info);
    n.info_expiry = expiry();
  }

  struct stat stat_of(const Inode& n) const {
    struct stat st {};
    const FileInfo empty{};
    const FileInfo& i = n.info ? *n.info : empty;
    st.st_ino = n.st_ino != 0 ? n.st_ino : n.id;
    if (n.symlink_target) {
      st.st_mode = S_IFLNK | 0777;
      st.st_size = static_cast<off_t>(n.symlink_target->size());
      st.st_nlink = 1;
    } else if (i.is_directory()) {
      st.st_mode = S_IFDIR | (config.dir_mode & 07777);
      st.st_size = static_cast<off_t>(i.size);
      st.st_nlink = 2;
    } else {
      st.st_mode = S_IFREG | (config.file_mode & 07777);
      // MS-FSCC 2.6 FILE_ATTRIBUTE_READONLY: nobody may write.
      if ((i.attributes & attr::readonly) != 0) st.st_mode &= ~static_cast<mode_t>(0222);
      st.st_size = static_cast<off_t>(i.size);
      st.st_nlink = i.links != 0 ? i.links : 1;
    }
    st.st_uid = config.uid;
    st.st_gid = config.gid;
    st.st_blksize = kMaxIo;  // cp and friends size their buffers from it
    st.st_blocks = static_cast<blkcnt_t>((i.allocation_size + 511) / 512);
    st.st_atim = wire::fscc::timespec_from_filetime(i.last_access_time);
    const auto mtime = std::max(i.last_write_time, n.local_mtime);
    st.st_mtim = wire::fscc::timespec_from_filetime(mtime);
    st.st_ctim = wire::fscc::timespec_from_filetime(
        std::max(i.change_time != 0 ? i.change_time : mtime, n.local_mtime));
    return st;
  }

  fuse_entry_param entry_of(const Inode& n) const {
    fuse_entry_param e{};
    e.ino = n.id;
    e.generation = 1;
    e.attr = stat_of(n);
    e.attr_timeout = timeout();
    e.entry_timeout = timeout();
    return e;
  }

  // The attributes changed on the server: the next getattr asks it.
  void invalidate(std::uint64_t ino) {
    if (auto* n = inodes.find(ino)) n->info_expiry = {};
  }
  // An entry was added to or removed from the directory of `path` through
  // this mount: its mtime moved. Shown as moved now (local_mtime, as after a
  // WRITE) while its attributes are fresh, instead of asking the server: with
  // default_permissions the kernel asks for the directory's attributes after
  // every create, for the next path walk's permission check.
  void invalidate_parent(const std::string& path) {
    auto* n = inodes.find_path(InodeTable::parent_path(path));
    if (n == nullptr) return;
    if (n->info_fresh(Clock::now()))
      n->local_mtime = now_filetime();
    else
      n->info_expiry = {};
  }
  // Has the notifier thread tell the kernel to drop what it cached of `ino`:
  // its attributes, and its pages in [offset, offset + length) (length 0: to
  // the end of the file; offset -1: no pages). See notifier_caught_up().
  void notify_inval_inode(std::uint64_t ino, off_t offset, off_t length) {
    asio::post(notifier, [this, ino, offset, length, weak = std::weak_ptr<bool>{alive}] {
      if (!weak.expired() && !stopping) fuse_lowlevel_notify_inval_inode(se, ino, offset, length);
    });
  }
  // Data or size of `ino` changed through this name: the file's other names
  // (hard links, each its own inode) have stale attributes and pages. True
  // when the kernel is told (see notifier_caught_up()).
  bool invalidate_links(std::uint64_t ino) {
    const auto* n = inodes.find(ino);
    if (n == nullptr || !n->info || n->info->links < 2) return false;
    bool told = false;
    for (auto other : inodes.same_file(ino)) {
      invalidate(other);
      notify_inval_inode(other, 0, 0);
      told = true;
    }
    return told;
  }
  // A WRITE through a handle that bypasses the page cache (write-only, see
  // direct_io_for()) goes around pages that the file's other handles may
  // have cached for the range. True when such handles are open: then the
  // kernel drops the range (notify_inval_inode) before the WRITE is sent, so
  // that a page dirtied through a shared mapping is written back first and
  // cannot land after the WRITE and undo it, and again before the WRITE is
  // answered, for pages read in meanwhile. Kernels since about 6.6 do the
  // first on their own; older ones do neither. Pages kept from handles
  // already closed are dropped by the next open (written_around_cache).
  bool writes_around_cache(const Handle& h, std::uint64_t length) {
    auto* n = inodes.find(h.ino);
    if (h.page_cache || length == 0 || n == nullptr) return false;
    n->written_around_cache = true;
    return n->page_cache_handles > 0;
  }
  // Whether a file opened with `flags` bypasses the kernel's page cache
  // (FOPEN_DIRECT_IO). cache=none: always. cache=strict: when opened
  // write-only. Nothing can read the file through such a descriptor, nor map
  // it (mmap needs read access), so its pages would serve only later opens
  // (until a stat shows the new mtime: FUSE_CAP_AUTO_INVAL_DATA drops them),
  // and copying every write into them is the largest cost of a sequential
  // write (cp, dd, tar x) after the network. The kernel drops the file's
  // cached pages when it opens the file so (no FOPEN_KEEP_CACHE), and
  // writes_around_cache() keeps other handles' pages right after that.
  // cache=loose: never, as the writeback cache works in pages.
  bool direct_io_for(int flags) const {
    return config.cache == CacheMode::none ||
           (config.cache == CacheMode::strict && (flags & O_ACCMODE) == O_WRONLY);
  }
  void count_handle(Inode& n, const Handle& h) {
    ++n.open_handles;
    if (h.page_cache) ++n.page_cache_handles;
  }
  void uncount_handle(Inode& n, const Handle& h) {
    if (n.open_handles > 0) --n.open_handles;
    if (h.page_cache && n.page_cache_handles > 0) --n.page_cache_handles;
  }
  // Returns once the notifier thread has run what was posted to it before
  // (one task at a time, in order). A write through one name of a file is
  // answered only after the kernel dropped the other names' size and pages:
  // a read through another name right after write(2) or close(2) returned
  // must not see the old size.
  awaitable<void> notifier_caught_up() {
    if (stopping) co_return;
    auto timer = std::make_shared<asio::steady_timer>(io, asio::steady_timer::time_point::max());
    // The post back cannot run before the wait below starts: both run on
    // the io_context thread, and this coroutine runs until it suspends.
    asio::post(notifier, [this, timer] { asio::post(io, [timer] { timer->cancel(); }); });
    boost::system::error_code ec;
    co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  // The link count of `names` changed: the kernel drops their cached
  // attributes before the request is answered.
  awaitable<void> invalidate_attributes(std::vector<std::uint64_t> names) {
    for (auto id : names) notify_inval_inode(id, -1, 0);
    co_await notifier_caught_up();
  }
  static bool hidden_name(std::string_view name) {
    return name.substr(0, kHiddenPrefix.size()) == kHiddenPrefix;
  }

  std::shared_ptr<Handle> handle(std::uint64_t fh) const {
    auto it = handles.find(fh);
    return it == handles.end() ? nullptr : it->second;
  }

  // The lease of our handles open on `path`, for a short open of the same
  // file (unlink, rename, link, setattr, xattrs): an open with the lease key
  // already held breaks none of its caching (MS-SMB2 3.3.5.9.8, opens of one
  // lease key share the lease), where one without a key costs a break and its
  // acknowledgement first.
  void add_lease(OpenRequest& r) {
    if (config.cache == CacheMode::none) return;
    const auto* n = inodes.find_path(r.path);
    if (n == nullptr || n->open_handles == 0 || n->lease_state == 0) return;
    r.lease_key = n->lease_key;
    r.lease_state = n->lease_state;
  }

  awaitable<Expected<File>> open_path(std::string path, std::uint32_t access, std::uint32_t disposition,
                                      std::uint32_t options, std::uint32_t attributes = 0) {
    OpenRequest r;
    r.path = std::move(path);
    r.desired_access = access;
    r.disposition = disposition;
    r.create_options = options;
    r.attributes = attributes;
    add_lease(r);
    co_return co_await files.open(std::move(r));
  }

  // The target when `info` describes a Minshall+French symlink file of `path`.
  awaitable<std::optional<std::string>> symlink_of(std::string path, FileInfo info) {
    if (!config.mfsymlinks || info.is_directory() || info.size != kMfSymlinkFileSize) co_return std::nullopt;
    if (auto* n = inodes.find_path(path);
        n != nullptr && n->symlink_checked && n->symlink_key == std::pair{info.size, info.last_write_time})
      co_return n->symlink_target;
    auto f = co_await open_path(path, acc::read_data | acc::read_attributes | acc::synchronize, disp::open,
                                opts::non_directory_file);
    if (!f) co_return std::nullopt;
    std::vector<std::uint8_t> buf(kMfSymlinkFileSize);
    auto got = co_await f->read_all(0, buf, 1);
    (void)co_await f->close();
    if (!got || *got != buf.size()) co_return std::nullopt;
    co_return decode_mfsymlink(buf);
  }

  static void set_symlink(Inode& n, const FileInfo& info, std::optional<std::string> target) {
    n.symlink_checked = true;
    n.symlink_key = {info.size, info.last_write_time};
    n.symlink_target = std::move(target);
  }

  // Starts `op`; when it returns an errno (not 0) the kernel gets that error.
  // 0 means the op replied itself.
  void spawn(fuse_req_t req, awaitable<int> op) {
    ++in_flight;
    ++fuse_requests;
    asio::co_spawn(io, std::move(op), [this, req](std::exception_ptr e, int err) {
      --in_flight;
      if (e) err = EIO;
      if (err != 0) fuse_reply_err(req, err);
    });
  }

  // ---- write-behind ----
  awaitable<void> wb_wait(Handle& h) {
    if (!h.wb_signal)
      h.wb_signal = std::make_unique<asio::steady_timer>(io, asio::steady_timer::time_point::max());
    boost::system::error_code ec;
    co_await h.wb_signal->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  std::uint64_t behind_limit() const { return std::uint64_t{config.write_behind} * kWriteBehindFilesWorth; }
  static void wb_notify(Handle& h) {
    if (h.wb_signal) h.wb_signal->cancel();
  }
  // Waits until the server has answered every WRITE of `h`; returns (and
  // clears) the first error one of them met.
  awaitable<int> drain(std::shared_ptr<Handle> h) {
    while (h->wb_bytes > 0) co_await wb_wait(*h);
    const int err = h->wb_error;
    h->wb_error = 0;
    co_return err;
  }
  // Sends `h`'s queued write-behind WRITEs, one at a time, until the queue
  // is empty (kWriteBehindSenders of these run per handle).
  awaitable<void> send_behind(std::shared_ptr<Handle> h) {
    while (!h->wb_queue.empty()) {
      auto item = std::move(h->wb_queue.front());
      h->wb_queue.pop_front();
      const auto offset = item.first;
      const auto length = item.second.size();
      int err = EBADF;
      try {
        if (h->file) {
          auto put = co_await h->file->write(offset, item.second.bytes);
          if (put) bytes_written += *put;
          err = !put ? errno_from_error(put.error()) : *put != length ? EIO : 0;
        }
      } catch (const std::exception&) {
        err = EIO;  // (bad_alloc) the data is lost: say so on the next call
      }
      if (err != 0 && h->wb_error == 0) h->wb_error = err;
      --written_behind;
      behind_bytes -= length;
      behind_room.cancel();
      h->wb_bytes -= length;
      const std::pair range{offset, offset + length};
      h->wb_ranges.erase(std::find(h->wb_ranges.begin(), h->wb_ranges.end(), range));
      wb_notify(*h);
    }
    --h->wb_senders;
  }
  void start_sender(const std::shared_ptr<Handle>& h) {
    ++h->wb_senders;
    ++in_flight;
    ++behind_senders;
    asio::co_spawn(io, send_behind(h), [this](const std::exception_ptr&) {
      --in_flight;
      --behind_senders;
    });
  }
  awaitable<int> drain_inode(std::uint64_t ino) {
    std::vector<std::shared_ptr<Handle>> of;
    for (auto& [_, h] : handles)
      if (h->ino == ino && (h->wb_bytes > 0 || h->wb_error != 0)) of.push_back(h);
    int first = 0;
    for (auto& h : of) {
      const int err = co_await drain(h);
      if (first == 0) first = err;
    }
    co_return first;
  }
  bool writes_pending(std::uint64_t ino) const {
    return std::any_of(handles.begin(), handles.end(),
                       [ino](const auto& e) { return e.second->ino == ino && e.second->wb_bytes > 0; });
  }

  // Open FILE handles of ours on `ino` (directory handles do not count).
  bool open_by_us(std::uint64_t ino) const {
    return std::any_of(handles.begin(), handles.end(), [ino](const auto& e) {
      // A handle whose CLOSE is still out keeps the file open on the server too.
      return e.second->ino == ino && !e.second->directory && e.second->file &&
             (e.second->file->is_open() || e.second->closing);
    });
  }
  // Cancelled (and dropped) each time a RELEASE's CLOSE is answered.
  std::shared_ptr<asio::steady_timer> closes_signal;
  void closed_one() {
    if (closes_signal) closes_signal->cancel();
    closes_signal.reset();
  }
  // Until no handle of `ino` has its CLOSE out (5 s at most: a CLOSE that
  // hangs on a dead server must not hang the caller with it).
  awaitable<void> wait_closed(std::uint64_t ino) {
    const auto give_up = Clock::now() + std::chrono::seconds{5};
    auto closing = [&] {
      return std::any_of(handles.begin(), handles.end(),
                         [ino](const auto& e) { return e.second->ino == ino && e.second->closing; });
    };
    while (closing() && Clock::now() < give_up) {
      if (!closes_signal) closes_signal = std::make_shared<asio::steady_timer>(io, give_up);
      auto signal = closes_signal;
      boost::system::error_code ec;
      co_await signal->async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (!ec && closes_signal == signal) closes_signal.reset();  // expired: the next waiter starts afresh
    }
  }
  // ---- directory listings: lookups of absent names ----
  // The names of a directory as last listed (readdir, or our mkdir: empty),
  // plus and minus what this mount made and removed there since, kept for
  // actimeo like the attributes (issue: "directory entries cached for
  // actimeo"). A lookup of a name it lacks is answered ENOENT at once: a
  // create (tar x, a build) looks each new name up first, and the server
  // answers a miss only after scanning the directory for a case-insensitive
  // match. Names are ASCII-folded; others always go to the server.
  struct DirNames {
    std::unordered_set<std::string> names;
    Clock::time_point expiry{};
    std::uint64_t answered = 0;  // lookups it answered
  };
  std::unordered_map<std::uint64_t, DirNames> dir_names;  // by directory inode
  std::size_t dir_names_total = 0;
  std::uint64_t namespace_changes = 0;  // a listing taken across a change is not kept

  static std::optional<std::string> fold(std::string_view name) {
    std::string out{name};
    for (auto& c : out) {
      const auto u = static_cast<unsigned char>(c);
      if (u >= 0x80) return std::nullopt;
      if (u >= 'A' && u <= 'Z') c = static_cast<char>(u - 'A' + 'a');
    }
    return out;
  }
  void forget_listing(std::uint64_t dir) {
    if (auto it = dir_names.find(dir); it != dir_names.end()) {
      dir_names_total -= it->second.names.size();
      dir_names.erase(it);
    }
  }
  void remember_listing(std::uint64_t dir, const std::vector<FileInfo>& entries, Clock::time_point listed_at) {
    forget_listing(dir);
    if (config.cache == CacheMode::none || entries.size() > kDirNamesPerDir) return;
    if (dir_names_total + entries.size() > kDirNamesTotal) {
      const auto now = Clock::now();
      for (auto it = dir_names.begin(); it != dir_names.end();) {
        if (now < it->second.expiry) {
          ++it;
          continue;
        }
        dir_names_total -= it->second.names.size();
        it = dir_names.erase(it);
      }
      if (dir_names_total + entries.size() > kDirNamesTotal) {
        dir_names.clear();
        dir_names_total = 0;
      }
    }
    DirNames d;
    for (const auto& e : entries) {
      auto key = fold(e.name);
      if (!key) continue;  // never asked about: such lookups go to the server
      d.names.insert(std::move(*key));
    }
    d.expiry = listed_at + config.actimeo;
    dir_names_total += d.names.size();
    dir_names.emplace(dir, std::move(d));
  }
  void dir_added(std::uint64_t dir, std::string_view name) {
    ++namespace_changes;
    auto it = dir_names.find(dir);
    if (it == dir_names.end()) return;
    auto key = fold(name);
    if (!key) return;
    if (it->second.names.size() >= kDirNamesPerDir || dir_names_total >= kDirNamesTotal) {
      forget_listing(dir);
      return;
    }
    if (it->second.names.insert(std::move(*key)).second) ++dir_names_total;
  }
  void dir_removed(std::uint64_t dir, std::string_view name) {
    ++namespace_changes;
    auto it = dir_names.find(dir);
    if (it == dir_names.end()) return;
    if (auto key = fold(name); key && it->second.names.erase(*key) > 0) --dir_names_total;
  }
  // Lookups of absent names the server answered, per directory without a
  // listing, in the current actimeo window; `skip_until`: the directory was
  // too large to keep.
  struct DirMisses {
    std::uint64_t count = 0;
    Clock::time_point window{};
    Clock::time_point skip_until{};
  };
  std::unordered_map<std::uint64_t, DirMisses> dir_misses;
  void missed(std::uint64_t dir) {
    if (config.cache == CacheMode::none) return;
    if (dir_misses.size() > 1024) dir_misses.clear();
    auto& m = dir_misses[dir];
    const auto now = Clock::now();
    if (now >= m.window + config.actimeo) {
      m.count = 0;
      m.window = now;
    }
    ++m.count;
  }
  // Whether `name` is known to be absent from directory `dir`. A directory
  // where lookups keep missing (a create loop) is listed, and listed again
  // when that listing expires: one enumeration per actimeo instead of a round
  // trip per new name.
  awaitable<bool> known_absent(std::uint64_t dir, std::string name) {
    if (config.cache == CacheMode::none) co_return false;
    auto key = fold(name);
    if (!key) co_return false;
    const auto now = Clock::now();
    auto it = dir_names.find(dir);
    if (it == dir_names.end() || now >= it->second.expiry) {
      bool hot = false;
      if (it != dir_names.end()) {
        hot = it->second.answered >= kDirNamesHot;
        forget_listing(dir);
      }
      if (auto m = dir_misses.find(dir); m != dir_misses.end()) {
        if (now < m->second.skip_until) co_return false;
        hot = hot || (m->second.count >= kDirNamesHot && now < m->second.window + config.actimeo);
      }
      if (!hot) co_return false;
      dir_misses.erase(dir);
      if (!co_await relist(dir)) {
        // Too large (or it changed meanwhile): not again for a while.
        if (dir_misses.size() > 1024) dir_misses.clear();
        dir_misses[dir].skip_until = Clock::now() + std::chrono::seconds{30};
        co_return false;
      }
      it = dir_names.find(dir);
      if (it == dir_names.end()) co_return false;
    }
    if (it->second.names.count(*key) != 0) co_return false;
    ++it->second.answered;
    co_return true;
  }
  awaitable<bool> relist(std::uint64_t dir) {
    const auto* d = inodes.find(dir);
    if (d == nullptr || d->detached) co_return false;
    const auto changes = namespace_changes;
    const auto started = Clock::now();
    auto f = co_await open_path(d->path, acc::list_directory | acc::read_attributes | acc::synchronize, disp::open,
                                opts::directory_file);
    if (!f) co_return false;
    std::vector<FileInfo> entries;
    bool complete = false;
    for (bool first = true; entries.size() <= kDirNamesPerDir; first = false) {
      auto batch = co_await f->read_directory(first);
      if (!batch) break;
      if (batch->empty()) {
        complete = true;
        break;
      }
      for (auto& e : *batch) entries.push_back(std::move(e));
    }
    (void)co_await f->close();
    if (!complete || changes != namespace_changes) co_return false;
    remember_listing(dir, entries, started);
    co_return true;
  }

  awaitable<void> wait_replacing(std::uint64_t ino) {
    for (auto it = replacing.find(ino); it != replacing.end(); it = replacing.find(ino)) {
      auto timer = it->second;
      boost::system::error_code ec;
      co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }
  // A request with a deadline: the request runs on in its own coroutine
  // (plain functions, not capturing lambdas: g++ 12 mis-destroys the captures
  // of a lambda coroutine) and wakes the waiter through the timer.
  template <class T>
  struct Race {
    Race(asio::io_context& c, Clock::duration d) : timer{c, d} {}
    std::optional<T> result;
    asio::steady_timer timer;
  };
  static awaitable<void> race_stat(std::shared_ptr<Race<Expected<FileInfo>>> race, Share sh,
                                   std::string path) {
    auto r = co_await sh.stat(std::move(path));
    race->result.emplace(std::move(r));
    race->timer.cancel();
  }
  static awaitable<void> race_fs_info(std::shared_ptr<Race<Expected<FsInfo>>> race, Files fl) {
    auto r = co_await fl.fs_info();
    race->result.emplace(std::move(r));
    race->timer.cancel();
  }
  template <class T>
  static awaitable<std::optional<T>> finish_race(std::shared_ptr<Race<T>> race) {
    boost::system::error_code ec;
    if (!race->result) co_await race->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    co_return std::move(race->result);
  }
  // share.stat() with a deadline: nullopt when the server did not answer in time.
  awaitable<std::optional<Expected<FileInfo>>> stat_within(std::string path, Clock::duration limit) {
    auto race = std::make_shared<Race<Expected<FileInfo>>>(io, limit);
    asio::co_spawn(io, race_stat(race, share, std::move(path)), asio::detached);
    co_return co_await finish_race(race);
  }
  awaitable<std::optional<Expected<FsInfo>>> fs_info_within(Clock::duration limit) {
    auto race = std::make_shared<Race<Expected<FsInfo>>>(io, limit);
    asio::co_spawn(io, race_fs_info(race, files), asio::detached);
    co_return co_await finish_race(race);
  }
  std::optional<struct statvfs> last_statfs;
  static awaitable<void> close_counted(std::shared_ptr<Handle> h, std::shared_ptr<std::size_t> closing,
                                       std::shared_ptr<asio::steady_timer> closed) {
    (void)co_await h->file->close();
    if (--*closing == 0) closed->cancel();
  }
  // The opener is gone (interrupted) before the open/create reply reached it:
  // no RELEASE (nor FORGET, for a create's entry) will come for `fh`, so undo
  // what the open counted and close the handle.
  awaitable<void> abandon_handle(std::uint64_t fh, fuse_ino_t ino, bool with_lookup);
  awaitable<Expected<File>> hide(std::string path);
  awaitable<void> bury(File& d);
  awaitable<Expected<void>> rename_on_server(std::string from, std::string to, bool replace);

  // ---- operations ----
  awaitable<int> flush(fuse_req_t req, std::uint64_t fh);
  awaitable<int> lookup(fuse_req_t req, fuse_ino_t parent, std::string name);
  awaitable<int> getattr(fuse_req_t req, fuse_ino_t ino, std::uint64_t fh, bool has_fh);
  awaitable<int> setattr(fuse_req_t req, fuse_ino_t ino, struct stat attr, int to_set, std::uint64_t fh,
                         bool has_fh);
  awaitable<int> readlink(fuse_req_t req, fuse_ino_t ino);
  awaitable<int> mkdir(fuse_req_t req, fuse_ino_t parent, std::string name);
  awaitable<int> remove(fuse_req_t req, fuse_ino_t parent, std::string name, bool directory);
  awaitable<int> symlink(fuse_req_t req, std::string target, fuse_ino_t parent, std::string name);
  awaitable<int> rename(fuse_req_t req, fuse_ino_t parent, std::string name, fuse_ino_t newparent,
                        std::string newname, unsigned flags);
  awaitable<int> link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, std::string newname);
  awaitable<int> open(fuse_req_t req, fuse_ino_t ino, fuse_file_info fi);
  awaitable<int> create(fuse_req_t req, fuse_ino_t parent, std::string name, mode_t mode, fuse_file_info fi);
  awaitable<int> read(fuse_req_t req, std::size_t size, off_t off, std::uint64_t fh);
  awaitable<int> write(fuse_req_t req, fuse_ino_t ino, WriteData data, off_t off,
                       std::uint64_t fh);
  awaitable<int> fsync(fuse_req_t req, std::uint64_t fh);
  awaitable<int> release(fuse_req_t req, fuse_ino_t ino, std::uint64_t fh);
  awaitable<int> opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info fi);
  awaitable<int> readdir(fuse_req_t req, fuse_ino_t ino, std::size_t size, off_t off, std::uint64_t fh,
                         bool plus);
  awaitable<int> statfs(fuse_req_t req);
  awaitable<int> setlk(fuse_req_t req, std::uint64_t fh, std::uint64_t owner, struct flock lock, bool sleep,
                       bool flock);
  awaitable<int> getlk(fuse_req_t req, std::uint64_t fh, struct flock lock);
  awaitable<int> fallocate(fuse_req_t req, int mode, off_t offset, off_t length, std::uint64_t fh);
  awaitable<int> copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in, std::uint64_t fh_in,
                                 fuse_ino_t ino_out, off_t off_out, std::uint64_t fh_out, std::size_t len,
                                 int flags);
  awaitable<Expected<CopyFiles>> open_copy(std::string source, std::string target);
  awaitable<Expected<copy::CopyStats>> run_copy(CopyFiles& pair, copy::CopyOptions options);
  void changed_on_server(const std::string& path);
  static Error copy_error(std::string action, int err, std::string detail = {}) {
    Error e;
    e.kind = ErrorKind::local;
    e.action = std::move(action);
    e.detail = detail.empty() ? std::strerror(err) : std::move(detail);
    return e;
  }
  void copied(const copy::CopyStats& stats) {
    bytes_copied += stats.bytes_copied;
    bytes_copied_through_client += stats.bytes_through_client;
  }
  awaitable<int> getxattr(fuse_req_t req, fuse_ino_t ino, std::string name, std::size_t size);
  awaitable<int> listxattr(fuse_req_t req, fuse_ino_t ino, std::size_t size);
  awaitable<int> setxattr(fuse_req_t req, fuse_ino_t ino, std::string name, std::vector<std::uint8_t> value,
                          int flags);

  awaitable<Expected<std::vector<ExtendedAttribute>>> eas_of(std::string path);

  void lease_break(const LeaseBreak& b);
  void set_readahead();
  awaitable<void> trim_when_idle();
  awaitable<void> serve();
  awaitable<void> shutdown();
};

// ---- lookup and attributes ----

awaitable<int> Filesystem::Impl::lookup(fuse_req_t req, fuse_ino_t parent, std::string name) {
  const auto* p = inodes.find(parent);
  if (p == nullptr) co_return ENOENT;
  if (name.size() > 255) co_return ENAMETOOLONG;
  if (hidden_name(name)) co_return ENOENT;
  const auto path = InodeTable::child_path(p->path, name);
  if (auto* n = inodes.find_path(path); n != nullptr && n->info_fresh(Clock::now())) {
    ++n->lookups;
    const auto e = entry_of(*n);
    fuse_reply_entry(req, &e);
    co_return 0;
  }
  if (inodes.find_path(path) == nullptr && co_await known_absent(parent, name)) co_return ENOENT;
  if (auto* n = inodes.find_path(path); n != nullptr && writes_pending(n->id)) {
    // The server's size is behind until they land.
    if (const int err = co_await drain_inode(n->id); err != 0) co_return err;
  }
  auto st = co_await share.stat(path);
  if (!st) {
    const int err = errno_from_error(st.error());
    if (err == ENOENT) missed(parent);
    co_return err;
  }
  auto target = co_await symlink_of(path, *st);
  auto& n = inodes.lookup(path);
  set_info(n, *st);
  set_symlink(n, *st, std::move(target));
  const auto e = entry_of(n);
  fuse_reply_entry(req, &e);
  co_return 0;
}

awaitable<int> Filesystem::Impl::getattr(fuse_req_t req, fuse_ino_t ino, std::uint64_t fh, bool has_fh) {
  auto* n = inodes.find(ino);
  if (n == nullptr) co_return ENOENT;
  if (n->info_fresh(Clock::now())) {
    const auto st = stat_of(*n);
    fuse_reply_attr(req, &st, timeout());
    co_return 0;
  }
  if (writes_pending(ino)) {
    // The server's size is behind until they land.
    const int err = co_await drain_inode(ino);
    if (err != 0) co_return err;
    n = inodes.find(ino);
    if (n == nullptr) co_return ENOENT;
  }
  auto h = has_fh ? handle(fh) : nullptr;
  if ((h == nullptr || !h->file) && n->detached) {
    // An unlinked file still open: ask any handle of it.
    for (auto& [_, other] : handles)
      if (other->ino == ino && other->file) h = other;
  }
  if ((h == nullptr || !h->file) && n->detached) co_return ENOENT;  // its old path names another file now
  const auto path = n->path;
  Expected<FileInfo> info = Error{};
  if (h && h->file) {
    info = co_await h->file->query();
  } else if (ino == kRootId && n->info) {
    // umount(8) stats the mountpoint before umount(2): an unreachable server
    // must not hang it. After 1 s the root's last attributes do.
    auto got = co_await stat_within(path, std::chrono::seconds{1});
    n = inodes.find(ino);
    if (n == nullptr) co_return ENOENT;
    if (!got) {
      const auto st = stat_of(*n);
      fuse_reply_attr(req, &st, timeout());
      co_return 0;
    }
    info = std::move(*got);
  } else {
    info = co_await share.stat(path);
  }
  if (!info) co_return errno_from_error(info.error());
  auto target = co_await symlink_of(path, *info);
  n = inodes.find(ino);
  if (n == nullptr) co_return ENOENT;
  set_info(*n, *info);
  set_symlink(*n, *info, std::move(target));
  const auto st = stat_of(*n);
  fuse_reply_attr(req, &st, timeout());
  co_return 0;
}

awaitable<int> Filesystem::Impl::setattr(fuse_req_t req, fuse_ino_t ino, struct stat a, int to_set,
                                         std::uint64_t fh, bool has_fh) {
  if (const int err = co_await drain_inode(ino); err != 0) co_return err;
  auto* n = inodes.find(ino);
  if (n == nullptr) co_return ENOENT;
  if ((to_set & FUSE_SET_ATTR_UID) != 0 && a.st_uid != config.uid) co_return EPERM;
  if ((to_set & FUSE_SET_ATTR_GID) != 0 && a.st_gid != config.gid) co_return EPERM;
  const bool size = (to_set & FUSE_SET_ATTR_SIZE) != 0;
  const bool mode = (to_set & FUSE_SET_ATTR_MODE) != 0;
  const bool times = (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_ATIME_NOW |
                                FUSE_SET_ATTR_MTIME_NOW)) != 0;
  if (size && config.read_only) co_return EROFS;
  if (size && n->info && n->info->is_directory()) co_return EISDIR;
  // chown to the owner every file shows already (tar x as root does it for
  // each file): nothing to change on the server.
  if (!size && !mode && !times) co_return co_await getattr(req, ino, fh, has_fh);

  // futimens/ftruncate on a handle of ours: that handle. Times set there
  // stick (MS-FSA 2.1.5.14.2: the server stops moving LastWriteTime for the
  // handle's writes and at its close), which is what tar x wants.
  auto h = has_fh ? handle(fh) : nullptr;
  if (h && (h->closing || !h->writable || !h->file || !h->file->is_open())) h = nullptr;
  if (!h) {
    // utimensat right after close(2): the RELEASE may still be on its way. A
    // handle that wrote sets LastWriteTime at its CLOSE unless the times were
    // set through it (MS-FSA 2.1.5.4), so set them after the CLOSEs are
    // answered. Otherwise a writable handle of ours still open serves (futimens
    // and fchmod come without a handle: tar x sends them before close(2));
    // without one, a compound CREATE-SET_INFO-QUERY_INFO-CLOSE by path.
    if (times) {
      co_await wait_closed(ino);
      n = inodes.find(ino);
      if (n == nullptr) co_return ENOENT;
    }
    for (auto& [_, other] : handles)
      if (other->ino == ino && other->writable && !other->closing && other->file && other->file->is_open())
        h = other;
  }
  BasicInfoChange c;
  if ((to_set & FUSE_SET_ATTR_ATIME_NOW) != 0)
    c.last_access_time = now_filetime();
  else if ((to_set & FUSE_SET_ATTR_ATIME) != 0)
    c.last_access_time = wire::fscc::filetime_from_timespec(a.st_atim);
  if ((to_set & FUSE_SET_ATTR_MTIME_NOW) != 0)
    c.last_write_time = now_filetime();
  else if ((to_set & FUSE_SET_ATTR_MTIME) != 0)
    c.last_write_time = wire::fscc::filetime_from_timespec(a.st_mtim);
  if (mode) {
    // The attributes as last seen while fresh, else asked for.
    std::optional<FileInfo> cur;
    if (n->info_fresh(Clock::now())) cur = n->info;
    if (!cur) {
      Expected<FileInfo> got = Error{};
      if (h)
        got = co_await h->file->query();
      else
        got = co_await share.stat(n->path);
      if (!got) co_return errno_from_error(got.error());
      cur = std::move(*got);
      n = inodes.find(ino);
      if (n == nullptr) co_return ENOENT;
    }
    // The only permission SMB keeps without POSIX extensions: no write bit
    // at all = FILE_ATTRIBUTE_READONLY (as cifs does).
    std::uint32_t attrs = cur->attributes & ~attr::normal;
    if ((a.st_mode & 0222) == 0 && !cur->is_directory())
      attrs |= attr::readonly;
    else
      attrs &= ~attr::readonly;
    c.attributes = attrs == 0 ? attr::normal : attrs;
    if (c.attributes == cur->attributes) c.attributes = 0;
  }
  InfoUpdate change;
  if (size) change.size = static_cast<std::uint64_t>(a.st_size);
  if (c.attributes != 0 || c.last_access_time != 0 || c.last_write_time != 0) change.basic = c;
  if (!change.size && !change.basic && n->info_fresh(Clock::now())) {
    // chmod to what it is already (tar x): nothing to send.
    const auto st = stat_of(*n);
    fuse_reply_attr(req, &st, timeout());
    co_return 0;
  }
  Expected<FileInfo> info = Error{};
  if (h) {
    info = co_await h->file->update(std::move(change));
  } else {
    if (n->detached) co_return ENOENT;
    OpenRequest r;
    r.path = n->path;
    r.desired_access =
        acc::read_attributes | acc::write_attributes | acc::synchronize | (size ? acc::write_data : 0u);
    r.disposition = disp::open;
    add_lease(r);
    info = co_await files.update(std::move(r), std::move(change));
  }
  if (!info) co_return errno_from_error(info.error());
  n = inodes.find(ino);
  if (n == nullptr) co_return ENOENT;
  if ((to_set & (FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_MTIME_NOW)) != 0 || size) n->local_mtime = 0;
  // FileAllInformation carries the link count; a listing's lack of it is no concern here.
  set_info(*n, *info);
  if (size && invalidate_links(ino)) co_await notifier_caught_up();
  const auto st = stat_of(*n);
  fuse_reply_attr(req, &st, timeout());
  co_return 0;
}

awaitable<int> Filesystem::Impl::readlink(fuse_req_t req, fuse_ino_t ino) {
  auto* n = inodes.find(ino);
  if (n == nullptr) co_return ENOENT;
  if (!n->symlink_target && !n->detached) {
    auto info = co_await share.stat(n->path);
    if (!info) co_return errno_from_error(info.error());
    auto target = co_await symlink_of(n->path, *info);
    n = inodes.find(ino);
    if (n == nullptr) co_return ENOENT;
    set_info(*n, *info);
    set_symlink(*n, *info, std::move(target));
  }
  if (!n->symlink_target) co_return EINVAL;
  fuse_reply_readlink(req, n->symlink_target->c_str());
  co_return 0;
}

// ---- namespace changes ----

awaitable<int> Filesystem::Impl::mkdir(fuse_req_t req, fuse_ino_t parent, std::string name) {
  const auto* p = inodes.find(parent);
  if (p == nullptr) co_return ENOENT;
  const auto path = InodeTable::child_path(p->path, name);
  // CREATE + QUERY_INFO + CLOSE in one compound: one round trip.
  OpenRequest r;
  r.path = path;
  r.desired_access = acc::read_attributes | acc::synchronize;
  r.disposition = disp::create;
  r.create_options = opts::directory_file;
  InfoUpdate nothing;
  const auto made_at = Clock::now();
  auto info = co_await files.update(std::move(r), std::move(nothing));
  if (!info) co_return errno_from_error(info.error());
  invalidate_parent(path);
  dir_added(parent, name);
  auto& n = inodes.lookup(path);
  remember_listing(n.id, {}, made_at);  // new: empty
  set_info(n, *info);
  set_symlink(n, *info, std::nullopt);
  const auto e = entry_of(n);
  fuse_reply_entry(req, &e);
  co_return 0;
}

// unlink and rmdir: FileDispositionInformation on a handle opened for DELETE
// (MS-FSCC 2.4.11); the name goes when the last handle closes, so an open
// file stays usable through its handles.
awaitable<int> Filesystem::Impl::remove(fuse_req_t req, fuse_ino_t parent, std::string name, bool directory) {
  const auto* p = inodes.find(parent);
  if (p == nullptr) co_return ENOENT;
  const auto path = InodeTable::child_path(p->path, name);
  if (auto* n = inodes.find_path(path); !directory && n != nullptr && open_by_us(n->id)) {
    // The name must go now, the file only at its last close: silly rename.
    auto d = co_await hide(path);
    if (!d) co_return errno_from_error(d.error());
    co_await bury(*d);
    invalidate_parent(path);
    dir_removed(parent, name);
    fuse_reply_err(req, 0);
    co_return 0;
  }
  const auto reconnects = files.failover().reconnects;
  auto f =
      co_await open_path(path, acc::delete_ | acc::read_attributes | acc::write_attributes | acc::synchronize,
                         disp::open, directory ? opts::directory_file : opts::non_directory_file);
  if (!f) co_return errno_from_error(f.error());
  auto r = co_await f->set_delete_pending(true);
  if (!r && r.error().kind == ErrorKind::status && r.error().status == wire::status::CANNOT_DELETE) {
    // A READONLY file: POSIX lets the directory's owner unlink it anyway.
    auto cur = co_await f->query();
    if (cur) {
      BasicInfoChange c;
      const auto attrs = cur->attributes & ~attr::readonly & ~attr::normal;
      c.attributes = attrs == 0 ? attr::normal : attrs;
      if (co_await f->set_basic(c)) r = co_await f->set_delete_pending(true);
    }
  }
  (void)co_await f->close();
  if (!r && files.failover().reconnects != reconnects) {
    // The answer was lost with the connection and the handle (not durable
    // without a lease) could not be reclaimed; the server closed it when the
    // connection went, which deleted the file if the request had run. Gone
    // now: done, as asked.
    auto now = co_await share.stat(path);
    if (!now && now.error().kind == ErrorKind::status &&
        (now.error().status == wire::status::OBJECT_NAME_NOT_FOUND ||
         now.error().status == wire::status::OBJECT_PATH_NOT_FOUND))
      r = Expected<void>{};
  }
  if (!r) co_return errno_from_error(r.error());
  if (auto* n = inodes.find_path(path); n != nullptr && n->info && n->info->links > 1) {
    // The file's other names lost a link.
    auto names = inodes.same_file(n->id);
    for (auto other : names) invalidate(other);
    co_await invalidate_attributes(names);  // a stat(2) right after unlink(2) sees the new count
  }
  inodes.detach_path(path);
  invalidate_parent(path);
  dir_removed(parent, name);
  fuse_reply_err(req, 0);
  co_return 0;
}

awaitable<int> Filesystem::Impl::symlink(fuse_req_t req, std::string target, fuse_ino_t parent,
                                         std::string name) {
  if (!config.mfsymlinks) co_return EPERM;
  const auto* p = inodes.find(parent);
  if (p == nullptr) co_return ENOENT;
  auto contents = encode_mfsymlink(target);
  if (!contents) co_return ENAMETOOLONG;
  const auto path = InodeTable::child_path(p->path, name);
  auto f = co_await open_path(path, kGenericWrite | acc::read_attributes, disp::create,
                              opts::non_directory_file, attr::normal);
  if (!f) co_return errno_from_error(f.error());
  auto w = co_await f->write(0, *contents);
  Expected<FileInfo> info = Error{};
  if (w) info = co_await f->query();
  (void)co_await f->close();
  if (!w || !info) {
    // Do not leave half a symlink behind.
    auto del =
        co_await open_path(path, acc::delete_ | acc::synchronize, disp::open, opts::non_directory_file);
    if (del) {
      (void)co_await del->set_delete_pending(true);
      (void)co_await del->close();
    }
    co_return errno_from_error(!w ? w.error() : info.error());
  }
  invalidate_parent(path);
  dir_added(parent, name);
  auto& n = inodes.lookup(path);
  set_info(n, *info);
  set_symlink(n, *info, target);
  const auto e = entry_of(n);
  fuse_reply_entry(req, &e);
  co_return 0;
}

// Silly rename (as the cifs and NFS clients do): POSIX lets an open file lose
// its name, Windows refuses to delete or replace a file while it is open. The
// file moves to a hidden name in its directory through a DELETE handle, which
// bury() then marks delete-pending (MS-FSCC 2.4.11): the server removes it at
// the last close, and our handles keep working until then.
awaitable<Expected<File>> Filesystem::Impl::hide(std::string path) {
  const auto* n = inodes.find_path(path);
  const auto ino = n != nullptr ? n->id : 0;
  auto timer = std::make_shared<asio::steady_timer>(io, asio::steady_timer::time_point::max());
  if (ino != 0) replacing[ino] = timer;
  auto done = [&] {
    if (auto it = replacing.find(ino); it != replacing.end() && it->second == timer) replacing.erase(it);
    timer->cancel();
  };
  auto d =
      co_await open_path(path, acc::delete_ | acc::read_attributes | acc::write_attributes | acc::synchronize,
                         disp::open, opts::non_directory_file);
  if (!d) {
    done();
    co_return Unexpected{d.error()};
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(rng()));
  const auto hidden = InodeTable::child_path(InodeTable::parent_path(path), std::string{kHiddenPrefix} + hex);
  auto r = co_await d->rename(hidden, false);
  if (!r) {
    (void)co_await d->close();
    done();
    co_return Unexpected{r.error()};
  }
  inodes.rename(path, hidden);
  done();
  co_return std::move(*d);
}

awaitable<void> Filesystem::Impl::bury(File& d) {
  const auto hidden = d.path();
  auto r = co_await d.set_delete_pending(true);
  if (!r && r.error().kind == ErrorKind::status && r.error().status == wire::status::CANNOT_DELETE) {
    // READONLY: POSIX lets the directory's owner unlink it anyway.
    auto cur = co_await d.query();
    if (cur) {
      BasicInfoChange c;
      const auto attrs = cur->attributes & ~attr::readonly & ~attr::normal;
      c.attributes = attrs == 0 ? attr::normal : attrs;
      if (co_await d.set_basic(c)) (void)co_await d.set_delete_pending(true);
    }
  }
  (void)co_await d.close();
  inodes.detach_path(hidden);
}

awaitable<Expected<void>> Filesystem::Impl::rename_on_server(std::string from, std::string to, bool replace) {
  const auto* source = inodes.find_path(from);
  const std::uint64_t source_index = source != nullptr ? source->st_ino : 0;
  const auto reconnects = files.failover().reconnects;
  auto f = co_await open_path(from, acc::delete_ | acc::read_attributes | acc::synchronize, disp::open, 0);
  if (!f) co_return Unexpected{f.error()};
  auto r = co_await f->rename(to, replace);
  (void)co_await f->close();
  if (!r && source_index != 0 && files.failover().reconnects != reconnects) {
    // The answer was lost with the connection, and the handle could not be
    // reclaimed (an open without a lease is not durable, so on a share
    // without `ca` the server keeps no replay state for it): sent again, the
    // rename fails because its source is gone. It did run if `to` now names
    // the very file `from` named: the same server file index (MS-FSCC
    // 2.4.20 IndexNumber).
    auto now = co_await share.stat(to);
    if (now && now->file_index == source_index) r = Expected<void>{};
  }
  if (!r) {
    // MS-FSCC 2.4.42: replacing a directory is refused; POSIX allows it when
    // it is empty. Remove the empty target and try once more.
    if (replace && r.error().kind == ErrorKind::status && r.error().status == wire::status::ACCESS_DENIED) {
      auto target = co_await share.stat(to);
      if (target && target->is_directory()) {
        auto del = co_await open_path(to, acc::delete_ | acc::synchronize, disp::open, opts::directory_file);
        if (!del) co_return Unexpected{del.error()};
        auto d = co_await del->set_delete_pending(true);
        (void)co_await del->close();
        if (!d) co_return Unexpected{d.error()};
        auto again =
            co_await open_path(from, acc::delete_ | acc::read_attributes | acc::synchronize, disp::open, 0);
        if (!again) co_return Unexpected{again.error()};
        r = co_await again->rename(to, replace);
        (void)co_await again->close();
      }
    }
  }
  co_return r;
}

awaitable<int> Filesystem::Impl::rename(fuse_req_t req, fuse_ino_t parent, std::string name,
                                        fuse_ino_t newparent, std::string newname, unsigned flags) {
  // SMB has no atomic exchange (and no whiteouts).
  if ((flags & ~static_cast<unsigned>(RENAME_NOREPLACE)) != 0) co_return EINVAL;
  const auto* p = inodes.find(parent);
  const auto* np = inodes.find(newparent);
  if (p == nullptr || np == nullptr) co_return ENOENT;
  if (hidden_name(newname)) co_return EINVAL;
  const auto from = InodeTable::child_path(p->path, name);
  const auto to = InodeTable::child_path(np->path, newname);
  const bool replace = (flags & RENAME_NOREPLACE) == 0;
  // Replacing a file we have open: the server would refuse (ACCESS_DENIED),
  // so the old file steps aside first (silly rename, see hide()).
  std::optional<File> buried;
  if (const auto* t = inodes.find_path(to);
      replace && t != nullptr && to != from && open_by_us(t->id) && !(t->info && t->info->is_directory())) {
    auto d = co_await hide(to);
    if (!d) co_return errno_from_error(d.error());
    buried.emplace(std::move(*d));
  }
  auto r = co_await rename_on_server(from, to, replace);
  if (!r && !buried && replace && to != from && r.error().kind == ErrorKind::status &&
      (r.error().status == wire::status::ACCESS_DENIED ||
       r.error().status == wire::status::SHARING_VIOLATION)) {
    // The target is open (an open of ours still on its way, or another
    // client's): step it aside too and try again.
    auto target = co_await share.stat(to);
    if (target && !target->is_directory()) {
      auto d = co_await hide(to);
      if (d) {
        buried.emplace(std::move(*d));
        r = co_await rename_on_server(from, to, replace);
      }
    }
  }
  if (buried) {
    if (r) {
      co_await bury(*buried);
    } else {
      // Put the old file back under its name.
      const auto hidden = buried->path();
      if (co_await buried->rename(to, false)) inodes.rename(hidden, to);
      (void)co_await buried->close();
    }
  }
  if (!r) co_return errno_from_error(r.error());
  inodes.rename(from, to);
  if (auto* n = inodes.find_path(to)) n->info_expiry = {};  // ctime changed
  invalidate_parent(from);
  invalidate_parent(to);
  dir_removed(parent, name);
  dir_added(newparent, newname);
  fuse_reply_err(req, 0);
  co_return 0;
}

awaitable<int> Filesystem::Impl::link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
                                      std::string newname) {
  const auto* n = inodes.find(ino);
  const auto* np = inodes.find(newparent);
  if (n == nullptr || np == nullptr || n->detached) co_return ENOENT;
  const auto from = n->path;
  const auto to = InodeTable::child_path(np->path, newname);
  auto f = co_await open_path(from, acc::read_attributes | acc::write_attributes | acc::synchronize,
                              disp::open, opts::non_directory_file);
  if (!f) co_return errno_from_error(f.error());
  auto r = co_await f->link(to, false);
  Expected<FileInfo> info = Error{};
  if (r) info = co_await f->query();
  (void)co_await f->close();
  if (!r) co_return errno_from_error(r.error());
  if (!info) co_return errno_from_error(info.error());
  if (auto* old = inodes.find(ino)) {
    // nlink changed: the kernel caches the old names' attributes, and only
    // a notification (from another thread, see `notifier`) refreshes them.
    set_info(*old, *info);
    for (auto other : inodes.same_file(ino))
      if (auto* o = inodes.find(other); o != nullptr && o->info) o->info->links = info->links;
    auto names = inodes.same_file(ino);
    names.push_back(ino);
    co_await invalidate_attributes(names);  // a stat(2) right after link(2) sees the new count
  }
  auto target = co_await symlink_of(to, *info);
  invalidate_parent(to);
  dir_added(newparent, newname);
  auto& created = inodes.lookup(to);
  set_info(created, *info);
  set_symlink(created, *info, std::move(target));
  const auto e = entry_of(created);
  fuse_reply_entry(req, &e);
  co_return 0;
}

// ---- files ----

awaitable<int> Filesystem::Impl::open(fuse_req_t req, fuse_ino_t ino, fuse_file_info fi) {
  if (!replacing.empty()) co_await wait_replacing(ino);
  auto* n = inodes.find(ino);
  if (n == nullptr) co_return ENOENT;
  // The name the kernel resolved to this inode went after its path walk (a
  // rename over it, an unlink). ESTALE makes the kernel walk the path again
  // and open what the name is now (do_filp_open's LOOKUP_REVAL retry), as
  // a local open that raced the rename would: rename(2) must look atomic to
  // a reader that keeps opening the target.
  if (n->detached) co_return ESTALE;
  const int mode = fi.flags & O_ACCMODE;
  const bool write = mode != O_RDONLY;
  // With the writeback cache the kernel reads pages of write-only files too.
  const bool read = mode != O_WRONLY || config.cache == CacheMode::loose;
  if (write && config.read_only) co_return EROFS;
  OpenRequest r;
  r.path = n->path;
  r.desired_access =
      (read ? kGenericRead : (acc::read_attributes | acc::synchronize)) | (write ? kGenericWrite : 0u);
  r.disposition = (fi.flags & O_TRUNC) != 0 && write ? disp::overwrite : disp::open;
  r.create_options = opts::non_directory_file;
  if (config.cache != CacheMode::none) {
    r.lease_key = n->lease_key;
    r.lease_state = lease::read | lease::handle | (write ? lease::write : 0u);
  }
  auto f = co_await files.open(std::move(r));
  if (!f) {
    const int err = errno_from_error(f.error());
    if (err != ENOENT) co_return err;
    // Gone on the server since the lookup (or the rename above finished in
    // between): the kernel looks the name up again, and this time asks us.
    if (auto* gone = inodes.find(ino)) gone->info_expiry = {};
    co_return ESTALE;
  }
  n = inodes.find(ino);
  if (n == nullptr) {
    (void)co_await f->close();
    co_return ENOENT;
  }
  n->lease_state = f->reply().lease_state;
  {
    auto info = f->reply().info;
    // The CREATE response has no link count; keep the one we knew.
    if (info.links == 0 && n->info) info.links = n->info->links;
    set_info(*n, std::move(info));
  }
  auto h = std::make_shared<Handle>();
  h->ino = ino;
  h->writable = write;
  h->page_cache = !direct_io_for(fi.flags);
  h->file.emplace(std::move(*f));
  const auto fh = next_fh++;
  handles.emplace(fh, h);
  count_handle(*n, *h);
  fi.fh = fh;
  if (!h->page_cache)
    fi.direct_io = 1;
  else if (n->written_around_cache)
    n->written_around_cache = false;  // no keep_cache: the kernel drops the pages
  else if (((n->lease_state & lease::read) != 0 || config.cache == CacheMode::loose) &&
           !(n->info && n->info->links > 1))
    // The server tells us (lease break) when the cache goes stale. Not for a
    // file of several names: each name is its own inode with its own pages,
    // and a write through one name leaves the other's stale.
    fi.keep_cache = 1;
  if (fuse_reply_open(req, &fi) != 0) co_await abandon_handle(fh, ino, false);
  co_return 0;
}

awaitable<int> Filesystem::Impl::create(fuse_req_t req, fuse_ino_t parent, std::string name, mode_t mode,
                                        fuse_file_info fi) {
  if (config.read_only) co_return EROFS;
  const auto* p = inodes.find(parent);
  if (p == nullptr) co_return ENOENT;
  if (name.size() > 255) co_return ENAMETOOLONG;
  const auto path = InodeTable::child_path(p->path, name);
  const int accmode = fi.flags & O_ACCMODE;
  const bool read = accmode != O_WRONLY || config.cache == CacheMode::loose;
  auto& pending = inodes.ensure(path);
  const auto id = pending.id;
  ++pending.open_handles;  // keeps it while the CREATE is out
  OpenRequest r;
  r.path = path;
  r.desired_access = (read ? kGenericRead : (acc::read_attributes | acc::synchronize)) | kGenericWrite;
  r.disposition = (fi.flags & O_EXCL) != 0    ? disp::create
                  : (fi.flags & O_TRUNC) != 0 ? disp::overwrite_if
                                              : disp::open_if;
  r.create_options = opts::non_directory_file;
  r.attributes = (mode & 0222) == 0 ? attr::readonly : attr::normal;
  if (config.cache != CacheMode::none) {
    r.lease_key = pending.lease_key;
    r.lease_state = lease::read | lease::handle | lease::write;
  }
  auto f = co_await files.open(std::move(r));
  Expected<FileInfo> info = Error{};
  if (f && f->reply().create_action == wire::create_action::created && f->reply().info.file_index != 0) {
    // A new file: the CREATE response has all but the link count, and the
    // on-disk id came with it (QFid, MS-SMB2 2.2.14.2.9). No QUERY_INFO.
    info = f->reply().info;
    info->links = 1;
  } else if (f) {
    info = co_await f->query();  // the CREATE response has no file index (or it is an old file)
  }
  auto* n = inodes.find(id);
  if (!f || !info || n == nullptr) {
    if (n != nullptr) {
      --n->open_handles;
      inodes.drop_if_unused(id);
    }
    if (f) (void)co_await f->close();
    co_return !f ? errno_from_error(f.error()) : !info ? errno_from_error(info.error()) : ENOENT;
  }
  n->lease_state = f->reply().lease_state;
  set_info(*n, *info);
  set_symlink(*n, *info, std::nullopt);
  ++n->lookups;
  invalidate_parent(path);
  dir_added(parent, name);
  auto h = std::make_shared<Handle>();
  h->ino = id;
  h->writable = true;
  h->page_cache = !direct_io_for(fi.flags);
  h->file.emplace(std::move(*f));
  const auto fh = next_fh++;
  handles.emplace(fh, h);
  if (h->page_cache) ++n->page_cache_handles;  // open_handles was counted above
  fi.fh = fh;
  if (!h->page_cache)
    fi.direct_io = 1;
  else
    n->written_around_cache = false;  // never keep_cache here: the kernel drops the pages
  const auto e = entry_of(*n);
  if (fuse_reply_create(req, &e, &fi) != 0) co_await abandon_handle(fh, id, true);
  co_return 0;
}

awaitable<void> Filesystem::Impl::abandon_handle(std::uint64_t fh, fuse_ino_t ino, bool with_lookup) {
  auto h = handle(fh);
  handles.erase(fh);
  if (auto* again = inodes.find(ino)) {
    if (h)
      uncount_handle(*again, *h);
    else if (again->open_handles > 0)
      --again->open_handles;
    if (with_lookup) --again->lookups;
    inodes.drop_if_unused(ino);
  }
  if (h && h->file) (void)co_await h->file->close();
}

awaitable<int> Filesystem::Impl::read(fuse_req_t req, std::size_t size, off_t off, std::uint64_t fh) {
  auto h = handle(fh);
  if (!h || !h->file) co_return EBADF;
  // A READ must not overtake a WRITE the kernel thinks is done.
  if (writes_pending(h->ino)) {
    if (const int err = co_await drain_inode(h->ino); err != 0) co_return err;
  }
  // Answered straight from the READ responses' frames: no buffer of our own,
  // so a READ in flight holds its response's memory only.
  const auto length = std::min<std::size_t>(size, kMaxIo);
  auto got = co_await h->file->read_frames(static_cast<std::uint64_t>(off), length, 4);
  if (!got) co_return errno_from_error(got.error());
  bytes_read += got->size;
  std::vector<iovec> iov;
  iov.reserve(got->pieces.size());
  for (const auto& piece : got->pieces)
    iov.push_back(iovec{const_cast<std::uint8_t*>(piece.data()), piece.size()});
  fuse_reply_iov(req, iov.data(), static_cast<int>(iov.size()));
  co_return 0;
}

awaitable<int> Filesystem::Impl::write(fuse_req_t req, fuse_ino_t ino, WriteData data,
                                       off_t off, std::uint64_t fh) {
  auto h = handle(fh);
  if (!h || !h->file) co_return EBADF;
  if (!h->writable) co_return EBADF;
  const auto offset = static_cast<std::uint64_t>(off);
  const auto end = offset + data.size();
  const bool around_cache = writes_around_cache(*h, data.size());
  if (around_cache) {
    notify_inval_inode(ino, off, static_cast<off_t>(data.size()));
    co_await notifier_caught_up();
  }
  const auto* node = inodes.find(ino);
  if (config.cache != CacheMode::none && config.write_behind > 0 && node != nullptr &&
      (node->lease_state & lease::write) != 0) {
    // DESIGN.md, Failover: under a write-caching lease a WRITE may be
    // answered before the server has it. Bounded per handle; overlapping
    // WRITEs wait for each other so the server applies them in order.
    for (;;) {
      const bool full = (h->wb_bytes > 0 && h->wb_bytes + data.size() > config.write_behind) ||
                        h->wb_ranges.size() >= kMaxWritesBehind;
      const bool overlap = std::any_of(h->wb_ranges.begin(), h->wb_ranges.end(),
                                       [&](const auto& r) { return r.first < end && offset < r.second; });
      const bool mount_full = behind_bytes > 0 && (behind_bytes + data.size() > behind_limit() ||
                                                   written_behind >= kMaxWritesBehindMount);
      if (!full && !overlap && !mount_full) break;
      if (full || overlap) {
        co_await wb_wait(*h);  // only this file's WRITEs can end it
      } else {
        boost::system::error_code ec;
        co_await behind_room.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      }
    }
    if (h->wb_error != 0) {
      const int err = h->wb_error;
      h->wb_error = 0;
      co_return err;
    }
    auto* n = inodes.find(ino);
    if (n != nullptr && (n->lease_state & lease::write) != 0) {
      if (n->info) n->info->size = std::max<std::uint64_t>(n->info->size, end);
      n->local_mtime = now_filetime();
      const auto length = data.size();
      bool told = invalidate_links(ino);
      if (around_cache) {
        notify_inval_inode(ino, off, static_cast<off_t>(length));
        told = true;
      }
      h->wb_bytes += length;
      behind_bytes += length;
      behind_bytes_peak = std::max(behind_bytes_peak, behind_bytes);
      h->wb_ranges.emplace_back(offset, end);
      ++written_behind;
      h->wb_queue.emplace_back(offset, std::move(data));
      if (h->wb_senders < kWriteBehindSenders) start_sender(h);
      // Sent before the wait: a READ that holds the pages being dropped waits
      // for this WRITE to land (writes_pending), and the drop for the READ.
      if (told) co_await notifier_caught_up();  // after the range is taken: no other write slips in
      fuse_reply_write(req, length);
      co_return 0;
    }
    // The lease went while we waited: write through.
  }
  // After a lease break, WRITEs sent behind must land before this one.
  if (h->wb_bytes > 0 || h->wb_error != 0) {
    if (const int err = co_await drain(h); err != 0) co_return err;
  }
  // DESIGN.md, Failover: answered only once the server has the data.
  auto put = co_await h->file->write(static_cast<std::uint64_t>(off), data.bytes);
  if (!put) co_return errno_from_error(put.error());
  bytes_written += *put;
  if (auto* n = inodes.find(ino); n != nullptr) {
    if (n->info)
      n->info->size = std::max<std::uint64_t>(n->info->size, static_cast<std::uint64_t>(off) + *put);
    n->local_mtime = now_filetime();
    n->info_expiry = {};  // times changed on the server
  }
  bool told = invalidate_links(ino);
  if (around_cache) {
    notify_inval_inode(ino, off, static_cast<off_t>(*put));
    told = true;
  }
  if (told) co_await notifier_caught_up();
  fuse_reply_write(req, *put);
  co_return 0;
}

// close(2): the last chance to report a failed write-behind WRITE.
awaitable<int> Filesystem::Impl::flush(fuse_req_t req, std::uint64_t fh) {
  auto h = handle(fh);
  if (!h) co_return EBADF;
  if (const int err = co_await drain(h); err != 0) co_return err;
  fuse_reply_err(req, 0);
  co_return 0;
}

awaitable<int> Filesystem::Impl::fsync(fuse_req_t req, std::uint64_t fh) {
  auto h = handle(fh);
  if (!h || !h->file) co_return EBADF;
  if (const int err = co_await drain(h); err != 0) co_return err;
  if (h->writable) {
    auto r = co_await h->file->flush();
    if (!r) co_return errno_from_error(r.error());
  }
  fuse_reply_err(req, 0);
  co_return 0;
}

awaitable<int> Filesystem::Impl::release(fuse_req_t req, fuse_ino_t ino, std::uint64_t fh) {
  auto it = handles.find(fh);
  if (it == handles.end()) co_return EBADF;
  auto h = it->second;
  (void)co_await drain(h);  // close(2) has had its answer from flush
  // Listed until the CLOSE is answered: setattr waits for it (see there).
  h->closing = true;
  if (h->file) (void)co_await h->file->close();
  handles.erase(fh);
  closed_one();
  if (auto* n = inodes.find(ino)) {
    uncount_handle(*n, *h);
    if (h->writable) {
      // The server has set LastWriteTime at the CLOSE (MS-FSA 2.1.5.4): ask it again.
      n->info_expiry = {};
      const bool writers = std::any_of(handles.begin(), handles.end(), [ino](const auto& e) {
        return e.second->ino == ino && e.second->writable;
      });
      if (!writers) n->local_mtime = 0;
    }
    inodes.drop_if_unused(ino);
  }
  fuse_reply_err(req, 0);
  co_return 0;
}

// ---- directories ----

awaitable<int> Filesystem::Impl::opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info fi) {
  auto* n = inodes.find(ino);
  if (n == nullptr || n->detached) co_return ENOENT;
  auto f = co_await open_path(n->path, acc::list_directory | acc::read_attributes | acc::synchronize,
                              disp::open, opts::directory_file);
  if (!f) co_return errno_from_error(f.error());
  auto h = std::make_shared<Handle>();
  h->ino = ino;
  h->directory = true;
  h->file.emplace(std::move(*f));
  const auto fh = next_fh++;
  handles.emplace(fh, h);
  if (auto* again = inodes.find(ino)) ++again->open_handles;
  fi.fh = fh;
  if (fuse_reply_open(req, &fi) != 0) co_await abandon_handle(fh, ino, false);
  co_return 0;
}

awaitable<int> Filesystem::Impl::readdir(fuse_req_t req, fuse_ino_t ino, std::size_t size, off_t off,
                                         std::uint64_t fh, bool plus) {
  auto h = handle(fh);
  if (!h || !h->directory || !h->file) co_return EBADF;
  auto* dir = inodes.find(ino);
  if (dir == nullptr) co_return ENOENT;
  const auto dir_path = dir->path;
  if (off == 0 || !h->listed) {
    // offset 0 is opendir or rewinddir: a fresh snapshot.
    std::vector<FileInfo> entries;
    const auto changes = namespace_changes;
    const auto listed_at = Clock::now();
    for (bool first = true;; first = false) {
      auto batch = co_await h->file->read_directory(first);
      if (!batch) co_return errno_from_error(batch.error());
      if (batch->empty()) break;
      for (auto& e : *batch)
        if (!hidden_name(e.name)) entries.push_back(std::move(e));
    }
    h->symlinks.clear();
    if (config.mfsymlinks && plus) {
      for (const auto& e : entries) {
        if (e.is_directory() || e.size != kMfSymlinkFileSize) continue;
        auto target = co_await symlink_of(InodeTable::child_path(dir_path, e.name), e);
        if (target) h->symlinks[e.name] = std::move(*target);
      }
    }
    if (changes == namespace_changes) remember_listing(ino, entries, listed_at);
    h->entries = std::move(entries);
    h->listed = true;
  }
  dir = inodes.find(ino);
  if (dir == nullptr) co_return ENOENT;
  std::vector<char> buf(size);
  std::size_t used = 0;
  const auto total = h->entries.size() + 2;
  for (auto i = static_cast<std::size_t>(off); i < total; ++i) {
    const auto next = static_cast<off_t>(i + 1);
    const char* name = i == 0 ? "." : i == 1 ? ".." : h->entries[i - 2].name.c_str();
    std::size_t need = 0;
    if (plus) {
      need = fuse_add_direntry_plus(req, nullptr, 0, name, nullptr, 0);
    } else {
      need = fuse_add_direntry(req, nullptr, 0, name, nullptr, 0);
    }
    if (used + need > size) break;
    if (i < 2) {
      // "." and "..": no lookup reference (the kernel does not link them).
      fuse_entry_param e{};
      e.attr.st_ino = dir->st_ino != 0 ? dir->st_ino : dir->id;
      e.attr.st_mode = S_IFDIR;
      if (plus)
        fuse_add_direntry_plus(req, buf.data() + used, size - used, name, &e, next);
      else
        fuse_add_direntry(req, buf.data() + used, size - used, name, &e.attr, next);
      used += need;
      continue;
    }
    const auto& info = h->entries[i - 2];
    const auto child = InodeTable::child_path(dir_path, info.name);
    if (plus) {
      auto& n = inodes.lookup(child);
      // With WRITEs still in flight the listing's size is behind ours.
      if (!writes_pending(n.id)) {
        // A listing has no link count (MS-FSCC 2.4.17): keep the one we know.
        FileInfo listed = info;
        if (listed.links == 0 && n.info) listed.links = n.info->links;
        set_info(n, std::move(listed));
        auto s = h->symlinks.find(info.name);
        set_symlink(n, info, s == h->symlinks.end() ? std::nullopt : std::optional<std::string>{s->second});
      }
      const auto e = entry_of(n);
      fuse_add_direntry_plus(req, buf.data() + used, size - used, name, &e, next);
    } else {
      struct stat st {};
      st.st_ino = info.file_index;
      // A file of the symlink size may be a symlink: let the reader stat it.
      st.st_mode = info.is_directory()                                      ? S_IFDIR
                   : (config.mfsymlinks && info.size == kMfSymlinkFileSize) ? 0
                                                                            : S_IFREG;
      fuse_add_direntry(req, buf.data() + used, size - used, name, &st, next);
    }
    used += need;
  }
  fuse_reply_buf(req, buf.data(), used);
  co_return 0;
}

awaitable<int> Filesystem::Impl::statfs(fuse_req_t req) {
  // umount(8) calls statfs on the mountpoint first: an unreachable server
  // must not hang it. After 1 s the last answer (or an empty one) does.
  auto got = co_await fs_info_within(std::chrono::seconds{1});
  if (!got) {
    struct statvfs st {};
    if (last_statfs) {
      st = *last_statfs;
    } else {
      st.f_bsize = st.f_frsize = 4096;
      st.f_namemax = 255;
    }
    fuse_reply_statfs(req, &st);
    co_return 0;
  }
  auto& info = *got;
  if (!info) co_return errno_from_error(info.error());
  struct statvfs st {};
  const std::uint64_t bs = info->block_size != 0 ? info->block_size : 4096;
  st.f_bsize = bs;
  st.f_frsize = bs;
  st.f_blocks = info->total_bytes / bs;
  st.f_bfree = info->free_bytes / bs;
  st.f_bavail = info->free_bytes / bs;
  st.f_namemax = info->max_name_length != 0 ? info->max_name_length : 255;
  last_statfs = st;
  fuse_reply_statfs(req, &st);
  co_return 0;
}

// ---- byte-range locks (MS-SMB2 2.2.26) ----
// SMB locks belong to the handle and must be unlocked with exactly the range
// that was locked, so each handle remembers what it holds and a POSIX unlock
// of a larger range releases every lock inside it.

// A sleeping lock whose application gets a signal: the kernel sends
// FUSE_INTERRUPT and libfuse calls on_interrupt, on the engine's thread
// (inside fuse_session_process_buf) with the request's mutex held, so the
// cancel (SMB2 CANCEL, File::lock) is posted, not run, from there. Cleared
// before the request is answered: after the reply `req` is gone.
namespace {
class LockInterrupt {
 public:
  LockInterrupt(asio::io_context& io, fuse_req_t req, LockCancel cancel)
      : io_{io}, req_{req}, cancel_{std::move(cancel)} {
    fuse_req_interrupt_func(req_, on_interrupt, this);  // runs it at once if already interrupted
  }
  LockInterrupt(const LockInterrupt&) = delete;
  LockInterrupt& operator=(const LockInterrupt&) = delete;
  ~LockInterrupt() { disarm(); }
  void disarm() {
    if (!armed_) return;
    armed_ = false;
    fuse_req_interrupt_func(req_, nullptr, nullptr);
  }

 private:
  static void on_interrupt(fuse_req_t, void* data) {
    auto* self = static_cast<LockInterrupt*>(data);
    asio::post(self->io_, [cancel = self->cancel_]() mutable { cancel.cancel(); });
  }
  asio::io_context& io_;
  fuse_req_t req_;
  LockCancel cancel_;
  bool armed_ = true;
};
}  // namespace

awaitable<int> Filesystem::Impl::setlk(fuse_req_t req, std::uint64_t fh, std::uint64_t owner,
                                       struct flock lock, bool sleep, bool flock) {
  auto h = handle(fh);
  if (!h || !h->file) co_return EBADF;
  // Data written under a lock reaches the server before the lock changes.
  if (const int err = co_await drain(h); err != 0) co_return err;
  const auto offset = static_cast<std::uint64_t>(lock.l_start);
  const auto length = lock.l_len == 0 ? kWholeFile - offset : static_cast<std::uint64_t>(lock.l_len);
  const auto end = offset + length;
  auto unlock_matching = [&](auto pred) -> awaitable<Expected<void>> {
    for (std::size_t i = 0; i < h->locks.size();) {
      auto held = h->locks[i];
      if (!pred(held)) {
        ++i;
        continue;
      }
      auto r = co_await h->file->unlock(held.offset, held.length);
      if (!r && !(r.error().kind == ErrorKind::status && r.error().status == wire::status::RANGE_NOT_LOCKED))
        co_return r;
      // The vector may have changed while the UNLOCK was out.
      auto it = std::find_if(h->locks.begin(), h->locks.end(), [&](const HeldLock& l) {
        return l.offset == held.offset && l.length == held.length && l.owner == held.owner &&
               l.flock == held.flock;
      });
      if (it != h->locks.end()) h->locks.erase(it);
      i = 0;
    }
    co_return Expected<void>{};
  };
  if (lock.l_type == F_UNLCK) {
    auto r = co_await unlock_matching([&](const HeldLock& l) {
      return l.owner == owner && l.flock == flock && l.offset >= offset && l.offset + l.length <= end;
    });
    if (!r) co_return errno_from_error(r.error());
    fuse_reply_err(req, 0);
    co_return 0;
  }
  const bool exclusive = lock.l_type != F_RDLCK;
  const auto same_range = [&](const HeldLock& l) {
    return l.owner == owner && l.flock == flock && l.offset == offset && l.length == length;
  };
  std::optional<HeldLock> converted;
  if (auto it = std::find_if(h->locks.begin(), h->locks.end(), same_range); it != h->locks.end()) {
    if (it->exclusive == exclusive) {
      fuse_reply_err(req, 0);  // held already, as asked: fcntl(2) and flock(2) succeed
      co_return 0;
    }
    converted = *it;
  }
  if (converted && !exclusive) {
    // Downgrade without a gap: a handle may stack a shared lock on its own
    // exclusive one (MS-FSA 2.1.5.8), and an unlock then removes the
    // exclusive one first (2.1.5.9), so a process waiting for the range
    // never finds it free. A server that refuses the stacking gets the
    // unlock-then-lock below.
    if (auto stacked = co_await h->file->lock(offset, length, LockKind::shared, false); stacked) {
      auto dropped = co_await h->file->unlock(offset, length);
      if (!dropped) {
        // Both are held, the old one as fcntl(2) leaves it on failure; an
        // unlock of the range gives back both.
        h->locks.push_back(HeldLock{offset, length, owner, flock, false});
        co_return errno_from_error(dropped.error());
      }
      if (auto it = std::find_if(h->locks.begin(), h->locks.end(), same_range); it != h->locks.end())
        it->exclusive = false;
      fuse_reply_err(req, 0);
      co_return 0;
    }
  }
  // Converting a lock the owner holds (shared <-> exclusive): SMB would see
  // its own lock as a conflict, so drop it first.
  auto r = co_await unlock_matching(same_range);
  if (!r) co_return errno_from_error(r.error());
  const auto kind = exclusive ? LockKind::exclusive : LockKind::shared;
  Expected<void> got;
  if (sleep) {
    // F_SETLKW / flock without LOCK_NB: a signal ends the wait with EINTR
    // (STATUS_CANCELLED) and leaves nothing locked on the server.
    LockCancel cancel;
    LockInterrupt interrupt{io, req, cancel};
    got = co_await h->file->lock(offset, length, kind, cancel);
    interrupt.disarm();
  } else {
    got = co_await h->file->lock(offset, length, kind, false);
  }
  if (!got && converted && !flock) {
    // fcntl(2): a conversion that fails leaves the lock held as it was.
    // flock(2) conversions are not atomic on Linux either: the old lock goes.
    const auto old_kind = converted->exclusive ? LockKind::exclusive : LockKind::shared;
    auto back = co_await h->file->lock(offset, length, old_kind, false);
    if (back) h->locks.push_back(*converted);
  }
  if (!got) {
    const auto& e = got.error();
    if (e.kind == ErrorKind::status &&
        (e.status == wire::status::LOCK_NOT_GRANTED || e.status == wire::status::FILE_LOCK_CONFLICT))
      co_return EAGAIN;
    co_return errno_from_error(e);
  }
  h->locks.push_back(HeldLock{offset, length, owner, flock, exclusive});
  fuse_reply_err(req, 0);
  co_return 0;
}

// SMB cannot ask who holds a lock: take it and give it back, as cifs does.
awaitable<int> Filesystem::Impl::getlk(fuse_req_t req, std::uint64_t fh, struct flock lock) {
  auto h = handle(fh);
  if (!h || !h->file) co_return EBADF;
  const auto offset = static_cast<std::uint64_t>(lock.l_start);
  const auto length = lock.l_len == 0 ? kWholeFile - offset : static_cast<std::uint64_t>(lock.l_len);
  auto got = co_await h->file->lock(offset, length,
                                    lock.l_type == F_RDLCK ? LockKind::shared : LockKind::exclusive, false);
  if (got) {
    (void)co_await h->file->unlock(offset, length);
    lock.l_type = F_UNLCK;
  } else if (!(got.error().kind == ErrorKind::status &&
               (got.error().status == wire::status::LOCK_NOT_GRANTED ||
                got.error().status == wire::status::FILE_LOCK_CONFLICT))) {
    co_return errno_from_error(got.error());
  } else {
    lock.l_pid = 0;  // held by another client: no local pid
  }
  fuse_reply_lock(req, &lock);
  co_return 0;
}

awaitable<int> Filesystem::Impl::fallocate(fuse_req_t req, int mode, off_t offset, off_t length,
                                           std::uint64_t fh) {
  if (mode != 0) co_return EOPNOTSUPP;
  auto h = handle(fh);
  if (!h || !h->file) co_return EBADF;
  if (!h->writable) co_return EBADF;
  if (const int err = co_await drain(h); err != 0) co_return err;
  const auto end = static_cast<std::uint64_t>(offset) + static_cast<std::uint64_t>(length);
  auto cur = co_await h->file->query();
  if (!cur) co_return errno_from_error(cur.error());
  if (end > cur->size) {
    // Allocation below the size would truncate (MS-FSCC 2.4.4): only grow.
    auto a = co_await h->file->set_allocation(end);
    if (!a) co_return errno_from_error(a.error());
    auto s = co_await h->file->set_size(end);
    if (!s) co_return errno_from_error(s.error());
  }
  if (auto* n = inodes.find(h->ino)) n->info_expiry = {};
  fuse_reply_err(req, 0);
  co_return 0;
}

// ---- server-side copies (src/copy) ----

// copy_file_range(2) between two files of the mount (cp of coreutils >= 9
// uses it): the copy engine has the server copy the range (ODX, else copy
// chunks), so the data crosses neither /dev/fuse nor the network. The kernel
// has checked the arguments (same file: no overlap) and, with the writeback
// cache, written back its dirty pages of both ranges (fs/fuse/file.c,
// __fuse_copy_file_range); after the reply it drops the target's pages in
// the range and moves its size (fuse_write_update_attr).
awaitable<int> Filesystem::Impl::copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
                                                 std::uint64_t fh_in, fuse_ino_t ino_out, off_t off_out,
                                                 std::uint64_t fh_out, std::size_t len, int flags) {
  if (flags != 0) co_return EINVAL;
  if (config.read_only) co_return EROFS;
  auto in = handle(fh_in);
  auto out = handle(fh_out);
  if (!in || !out || !in->file || !out->file || in->directory || out->directory || !out->writable)
    co_return EBADF;
  // WRITEs answered to the kernel but not yet by the server (write-behind)
  // must be on the server before it reads the source or writes the target.
  if (const int err = co_await drain_inode(ino_in); err != 0) co_return err;
  if (ino_out != ino_in) {
    if (const int err = co_await drain_inode(ino_out); err != 0) co_return err;
  }
  const auto source_offset = static_cast<std::uint64_t>(off_in);
  const auto target_offset = static_cast<std::uint64_t>(off_out);
  const auto length = std::min<std::uint64_t>(len, kMaxCopyRange);
  copy::CopyOptions options;  // automatic: ODX -> copy chunks -> a stream inside the daemon
  auto stats = co_await copy::copy_range(*in->file, *out->file, source_offset, target_offset, length,
                                         std::move(options), copy_memory);
  if (!stats) {
    int err = errno_from_error(stats.error());
    // Nothing the server could copy this way (a method refused, arguments
    // the engine does not take, files of two sessions): EOPNOTSUPP has the
    // kernel copy by splice through READ and WRITE instead, unseen by the
    // caller (fuse_copy_file_range). Never ENOSYS: the kernel would not send
    // COPY_FILE_RANGE again for the life of the mount.
    if (err == EOPNOTSUPP || err == EXDEV || err == EINVAL || err == ENOSYS) err = EOPNOTSUPP;
    co_return err;
  }
  copied(*stats);
  const auto done = stats->bytes_copied;  // short at the source's end of file
  if (done > 0) {
    if (auto* n = inodes.find(ino_out)) {
      if (n->info) n->info->size = std::max(n->info->size, target_offset + done);
      n->local_mtime = now_filetime();
      n->info_expiry = {};  // the server moved the times (and the size)
    }
    if (invalidate_links(ino_out)) co_await notifier_caught_up();
  }
  fuse_reply_write(req, static_cast<std::size_t>(done));
  if (done > 0) {
    // The pages and attributes the kernel cached for the target's range
    // (also when it did not drop them itself: a copy it did not see).
    notify_inval_inode(ino_out, off_out, static_cast<off_t>(done));
  }
  co_return 0;
}

// The control socket's `copy`: two opens of our own (not the kernel's), so
// write-behind of the mount's handles on either file lands first.
awaitable<Expected<CopyFiles>> Filesystem::Impl::open_copy(std::string source, std::string target) {
  if (config.read_only) co_return Unexpected{copy_error("copy to " + target, EROFS)};
  if (auto* n = inodes.find_path(source); n != nullptr) {
    if (const int err = co_await drain_inode(n->id); err != 0)
      co_return Unexpected{copy_error("write back " + source, err)};
  }
  if (auto* n = inodes.find_path(target); n != nullptr) {
    if (const int err = co_await drain_inode(n->id); err != 0)
      co_return Unexpected{copy_error("write back " + target, err)};
  }
  auto src = co_await open_path(source, acc::read_data | acc::read_attributes | acc::synchronize, disp::open,
                                opts::non_directory_file);
  if (!src) co_return Unexpected{src.error()};
  auto info = co_await src->query();  // the CREATE response has no file index
  if (!info) {
    (void)co_await src->close();
    co_return Unexpected{info.error()};
  }
  // The target is truncated at its open: were it the source (another name,
  // a hard link), the source would be gone before the copy.
  if (auto existing = co_await share.stat(target); existing) {
    const bool same =
        existing->file_index != 0 ? existing->file_index == info->file_index : equal_ascii_ci(source, target);
    if (same || existing->is_directory()) {
      (void)co_await src->close();
      co_return Unexpected{copy_error("copy " + source + " to " + target, same ? EINVAL : EISDIR,
                                      same ? "the source and the target are the same file" : "")};
    }
  }
  // Read access too: FSCTL_SRV_COPYCHUNK (not _WRITE) wants it on the target
  // (MS-SMB2 3.3.5.15.6).
  auto dst = co_await open_path(target, kGenericRead | kGenericWrite, disp::overwrite_if,
                                opts::non_directory_file, attr::normal);
  if (!dst) {
    (void)co_await src->close();
    co_return Unexpected{dst.error()};
  }
  invalidate_parent(target);
  if (auto* dir = inodes.find_path(InodeTable::parent_path(target))) {
    const auto slash = target.rfind('/');
    dir_added(dir->id, slash == std::string::npos ? target : target.substr(slash + 1));
  }
  CopyFiles pair{std::move(*src), std::move(*dst), target, info->size};
  co_return pair;
}

awaitable<Expected<copy::CopyStats>> Filesystem::Impl::run_copy(CopyFiles& pair, copy::CopyOptions options) {
  auto stats = co_await copy::copy_file(pair.source, pair.target, std::move(options), copy_memory);
  (void)co_await pair.source.close();
  auto closed = co_await pair.target.close();
  if (stats) copied(*stats);
  changed_on_server(pair.target_path);
  if (stats && !closed) co_return Unexpected{closed.error()};
  co_return stats;
}

// `path` changed on the server behind the kernel's back (created or
// rewritten): its cached attributes and pages, and its directory entry (a
// negative one, for a new file) go.
void Filesystem::Impl::changed_on_server(const std::string& path) {
  invalidate_parent(path);
  std::uint64_t ino = 0;
  std::uint64_t parent = 0;
  if (auto* n = inodes.find_path(path)) {
    n->info_expiry = {};
    n->local_mtime = 0;
    ino = n->id;
    invalidate_links(ino);
  }
  if (auto* p = inodes.find_path(InodeTable::parent_path(path))) parent = p->id;
  const auto slash = path.rfind('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (parent != 0) dir_added(parent, name);
  if (ino == 0 && parent == 0) return;  // the kernel knows neither
  asio::post(notifier, [this, ino, parent, name, weak = std::weak_ptr<bool>{alive}] {
    if (weak.expired() || stopping) return;
    if (ino != 0) fuse_lowlevel_notify_inval_inode(se, ino, 0, 0);
    if (parent != 0) fuse_lowlevel_notify_inval_entry(se, parent, name.data(), name.size());
  });
}

// ---- extended attributes: "user.NAME" <-> the file's EA "NAME" ----

awaitable<Expected<std::vector<ExtendedAttribute>>> Filesystem::Impl::eas_of(std::string path) {
  auto f = co_await open_path(path, acc::read_ea | acc::read_attributes | acc::synchronize, disp::open, 0);
  if (!f) co_return Unexpected{f.error()};
  auto eas = co_await f->query_eas();
  (void)co_await f->close();
  if (!eas && eas.error().kind == ErrorKind::status &&
      (eas.error().status == wire::status::NO_EAS_ON_FILE ||
       eas.error().status == wire::status::NONEXISTENT_EA_ENTRY))
    co_return std::vector<ExtendedAttribute>{};
  co_return eas;
}

awaitable<int> Filesystem::Impl::getxattr(fuse_req_t req, fuse_ino_t ino, std::string name,
                                          std::size_t size) {
  const auto* n = inodes.find(ino);
  if (n == nullptr || n->detached) co_return ENOENT;
  auto eas = co_await eas_of(n->path);
  if (!eas) co_return errno_from_error(eas.error());
  for (const auto& ea : *eas) {
    if (!equal_ascii_ci(ea.name, name)) continue;
    if (size == 0) {
      fuse_reply_xattr(req, ea.value.size());
    } else if (size < ea.value.size()) {
      co_return ERANGE;
    } else {
      fuse_reply_buf(req, reinterpret_cast<const char*>(ea.value.data()), ea.value.size());
    }
    co_return 0;
  }
  co_return ENODATA;
}

awaitable<int> Filesystem::Impl::listxattr(fuse_req_t req, fuse_ino_t ino, std::size_t size) {
  const auto* n = inodes.find(ino);
  if (n == nullptr || n->detached) co_return ENOENT;
  auto eas = co_await eas_of(n->path);
  if (!eas) co_return errno_from_error(eas.error());
  std::string names;
  for (const auto& ea : *eas) {
    names += "user.";
    names += ea.name;
    names += '\0';
  }
  if (size == 0) {
    fuse_reply_xattr(req, names.size());
  } else if (size < names.size()) {
    co_return ERANGE;
  } else {
    fuse_reply_buf(req, names.data(), names.size());
  }
  co_return 0;
}

// An empty value removes the EA (MS-FSCC 2.4.15), so removexattr comes here too.
awaitable<int> Filesystem::Impl::setxattr(fuse_req_t req, fuse_ino_t ino, std::string name,
                                          std::vector<std::uint8_t> value, int flags) {
  const auto* n = inodes.find(ino);
  if (n == nullptr || n->detached) co_return ENOENT;
  if (config.read_only) co_return EROFS;
  const auto path = n->path;
  const bool remove = flags < 0;
  if (remove) flags = 0;
  if (remove || (flags & (XATTR_CREATE | XATTR_REPLACE)) != 0) {
    auto eas = co_await eas_of(path);
    if (!eas) co_return errno_from_error(eas.error());
    const bool exists = std::any_of(eas->begin(), eas->end(),
                                    [&](const ExtendedAttribute& ea) { return equal_ascii_ci(ea.name, name); });
    if ((remove || (flags & XATTR_REPLACE) != 0) && !exists) co_return ENODATA;
    if ((flags & XATTR_CREATE) != 0 && exists) co_return EEXIST;
  }
  if (!remove && value.empty()) co_return EINVAL;  // SMB cannot store an empty EA
  auto f = co_await open_path(path, acc::write_ea | acc::read_attributes | acc::synchronize, disp::open, 0);
  if (!f) co_return errno_from_error(f.error());
  // A named argument: g++ 12 mis-copies a braced aggregate temporary passed
  // by value to a coroutine (the callee frees a string it does not own).
  ExtendedAttribute ea;
  ea.name = name;
  if (!remove) ea.value = std::move(value);
  auto r = co_await f->set_ea(std::move(ea));
  (void)co_await f->close();
  if (!r) co_return errno_from_error(r.error());
  fuse_reply_err(req, 0);
  co_return 0;
}

// ---- lease breaks (MS-SMB2 3.2.5.19.2) ----

void Filesystem::Impl::lease_break(const LeaseBreak& b) {
  ++lease_breaks;
  std::uint64_t ino = 0;
  if (auto* n = inodes.find_lease(b.key)) {
    ino = n->id;
    n->lease_state = b.new_state;  // new WRITEs go through from now on
    n->info_expiry = {};
  }
  asio::co_spawn(
      io,
      [this, b, ino, weak = std::weak_ptr<bool>{alive}]() -> awaitable<void> {
        // Dirty data the lease covered goes to the server first (MS-SMB2 3.2.5.19.2).
        if (ino != 0) (void)co_await drain_inode(ino);
        if (weak.expired()) co_return;
        auto ack = [this, b, weak] {
          if (weak.expired() || !b.ack_required) return;
          asio::co_spawn(
              io,
              [this, b]() -> awaitable<void> { (void)co_await files.acknowledge_break(b.key, b.new_state); },
              asio::detached);
        };
        if (ino != 0 && (b.new_state & lease::read) == 0 && se != nullptr && !stopping) {
          asio::post(notifier, [this, ino, ack, weak] {
            if (weak.expired()) return;
            fuse_lowlevel_notify_inval_inode(se, ino, 0, 0);
            asio::post(io, ack);
          });
        } else {
          ack();
        }
      },
      asio::detached);
}

// ---- serving /dev/fuse ----

// The kernel reads ahead ra_pages of the mount's bdi; FUSE caps it at the
// INIT reply's max_readahead, which cannot exceed the kernel's 128 KiB
// default. With more in flight, sequential reads keep several 1 MiB READs
// outstanding (cifs does the same with rasize).
void Filesystem::Impl::set_readahead() {
  readahead_set = true;
  std::ifstream mountinfo{"/proc/self/mountinfo"};
  const auto want = mountinfo_escape(config.mountpoint);
  std::string line, device;
  while (std::getline(mountinfo, line)) {
    std::istringstream fields{line};
    std::string id, parent, dev, root, point;
    fields >> id >> parent >> dev >> root >> point;
    if (point == want && line.find(" - fuse.smbx ") != std::string::npos) device = dev;
  }
  if (device.empty()) return;
  std::ofstream ra{"/sys/class/bdi/" + device + "/read_ahead_kb"};
  if (ra) ra << (config.rasize / 1024u) << '\n';
}

// Memory back to the system once the mount has been quiet for a second:
// glibc keeps the pages of freed heap blocks (the 1 MiB I/O buffers) mapped,
// so without this the RSS after a transfer would stay at its peak.
awaitable<void> Filesystem::Impl::trim_when_idle() {
  asio::steady_timer tick{io};
  std::uint64_t seen = fuse_requests;
  bool dirty = false;
  while (!stopping) {
    tick.expires_after(std::chrono::seconds{1});
    boost::system::error_code ec;
    co_await tick.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec || stopping) break;
    if (fuse_requests != seen) {
      seen = fuse_requests;
      dirty = true;
    } else if (dirty && in_flight == 0) {
      ::malloc_trim(0);
      dirty = false;
    }
  }
}

// The receive loop reuses its buffer for the next request, so a WRITE's data
// must outlive it: a large WRITE (at least half the buffer, so an idle
// buffer is never mostly empty) takes the buffer over, and the loop takes a
// spare or lets libfuse allocate one (fuse_session_receive_buf allocates
// when fuse_buf::mem is null; splice is off, so the data is in it).
WriteData Filesystem::Impl::write_data(const char* data, std::size_t size) {
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(data);
  const auto* mem = receiving != nullptr ? static_cast<const std::uint8_t*>(receiving->mem) : nullptr;
  if (mem != nullptr && size >= max_write / 2 && size >= 64 * 1024 && bytes >= mem &&
      bytes + size <= mem + receiving->size) {
    void* taken = receiving->mem;
    receiving->mem = nullptr;
    std::shared_ptr<void> owner{taken, [spare = std::weak_ptr<SpareRequestBuffers>{spare_buffers}](void* m) {
                                  auto pool = spare.lock();
                                  if (pool && pool->idle.size() < SpareRequestBuffers::kMax)
                                    pool->idle.push_back(m);
                                  else
                                    std::free(m);
                                }};
    return WriteData{std::move(owner), std::span<const std::uint8_t>{bytes, size}};
  }
  auto copy = std::make_shared<std::vector<std::uint8_t>>(bytes, bytes + size);
  std::span<const std::uint8_t> view{*copy};
  return WriteData{std::move(copy), view};
}

awaitable<void> Filesystem::Impl::serve() {
  asio::co_spawn(io, trim_when_idle(), asio::detached);
  fuse_buf buf{};
  receiving = &buf;
  while (!stopping) {
    if (buf.mem == nullptr && !spare_buffers->idle.empty()) {  // a WRITE took the last one
      buf.mem = spare_buffers->idle.back();
      spare_buffers->idle.pop_back();
    }
    const int res = fuse_session_receive_buf(se, &buf);
    if (res == -EAGAIN || res == -EINTR) {
      boost::system::error_code ec;
      co_await fuse_fd->async_wait(asio::posix::descriptor_base::wait_read,
                                   asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;  // stop() cancelled the wait
      continue;
    }
    // 0: the kernel ended the session (umount, fusermount3 -u, abort).
    if (res <= 0 || fuse_session_exited(se)) break;
    fuse_session_process_buf(se, &buf);
    if (init_done && !readahead_set) set_readahead();
  }
  receiving = nullptr;
  std::free(buf.mem);
  co_await shutdown();
}

awaitable<void> Filesystem::Impl::shutdown() {
  stopping = true;
  // Let what is in flight answer while the server makes progress: a request
  // that got no answer for 1 s (a dead server, a hard mount) must not keep
  // umount and the daemon's exit waiting (30 s at most in all).
  asio::steady_timer timer{io};
  constexpr auto kStall = std::chrono::seconds{1};
  const auto give_up = Clock::now() + std::chrono::seconds{30};
  auto stalled = Clock::now() + kStall;
  // Progress: a request answered or a WRITE behind landed.
  const auto pending = [this] { return in_flight + written_behind; };
  for (auto last = pending(); in_flight > 0 && Clock::now() < stalled && Clock::now() < give_up;) {
    timer.expires_after(std::chrono::milliseconds{10});
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (pending() < last) stalled = Clock::now() + kStall;
    last = pending();
  }
  // CLOSE every handle at once and wait at most 1 s for the answers; the
  // server drops what it does not hear about with the connection.
  auto open = std::move(handles);
  handles.clear();
  auto closing = std::make_shared<std::size_t>(0);
  auto closed = std::make_shared<asio::steady_timer>(io, kStall);
  for (auto& [_, h] : open) {
    if (!h->file || !h->file->is_open()) continue;
    ++*closing;
    asio::co_spawn(io, close_counted(h, closing, closed), asio::detached);
  }
  if (*closing > 0) {
    boost::system::error_code ec;
    co_await closed->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (fuse_fd) {
    fuse_fd->release();  // libfuse owns and closes the fd
    fuse_fd.reset();
  }
  if (mounted) {
    fuse_session_unmount(se);
    mounted = false;
  }
}

Filesystem::Impl::~Impl() {
  files.on_lease_break({});
  *alive = false;
  alive.reset();
  notifier.join();
  if (fuse_fd) {
    fuse_fd->release();
    fuse_fd.reset();
  }
  if (se != nullptr) {
    if (mounted) fuse_session_unmount(se);
    fuse_session_destroy(se);
  }
}

// ---- libfuse callbacks: copy what the request points into, start the op ----

namespace {

Filesystem::Impl* self(fuse_req_t req) { return static_cast<Filesystem::Impl*>(fuse_req_userdata(req)); }

void ll_init(void* userdata, fuse_conn_info* conn) {
  auto* s = static_cast<Filesystem::Impl*>(userdata);
  const auto& cfg = s->config;
  auto want = [conn](unsigned cap) {
    if ((conn->capable & cap) != 0) conn->want |= cap;
  };
  want(FUSE_CAP_ASYNC_READ);
  want(FUSE_CAP_ATOMIC_O_TRUNC);
  want(FUSE_CAP_READDIRPLUS);
  want(FUSE_CAP_PARALLEL_DIROPS);
  want(FUSE_CAP_AUTO_INVAL_DATA);
  if (!cfg.nobrl) {
    want(FUSE_CAP_POSIX_LOCKS);
    want(FUSE_CAP_FLOCK_LOCKS);
  } else {
    conn->want &= ~static_cast<unsigned>(FUSE_CAP_POSIX_LOCKS | FUSE_CAP_FLOCK_LOCKS);
  }
  if (cfg.cache == CacheMode::loose) want(FUSE_CAP_WRITEBACK_CACHE);
  conn->want &= ~static_cast<unsigned>(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE);
  // The kernel derives max_pages from max_write (fuse_lowlevel.c, do_init);
  // 1 MiB = FUSE_MAX_MAX_PAGES pages is the most a request can carry.
  conn->max_write = cfg.wsize != 0 ? std::min(cfg.wsize, kMaxIo) : kMaxIo;
  s->max_write = conn->max_write;
  if (cfg.rsize != 0) conn->max_read = std::min(cfg.rsize, kMaxIo);
  conn->max_background = 64;
  conn->congestion_threshold = 48;
  conn->time_gran = 100;  // FILETIME resolution
  s->init_done = true;
}

void ll_lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  auto* s = self(req);
  s->spawn(req, s->lookup(req, parent, name));
}

void ll_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
  self(req)->inodes.forget(ino, nlookup);
  fuse_reply_none(req);
}

void ll_forget_multi(fuse_req_t req, size_t count, fuse_forget_data* forgets) {
  auto* s = self(req);
  for (size_t i = 0; i < count; ++i) s->inodes.forget(forgets[i].ino, forgets[i].nlookup);
  fuse_reply_none(req);
}

void ll_getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  auto* s = self(req);
  s->spawn(req, s->getattr(req, ino, fi != nullptr ? fi->fh : 0, fi != nullptr));
}

void ll_setattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set, fuse_file_info* fi) {
  auto* s = self(req);
  s->spawn(req, s->setattr(req, ino, *attr, to_set, fi != nullptr ? fi->fh : 0, fi != nullptr));
}

void ll_readlink(fuse_req_t req, fuse_ino_t ino) {
  auto* s = self(req);
  s->spawn(req, s->readlink(req, ino));
}

void ll_mknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t) {
  // Only regular files exist on an SMB share without POSIX extensions.
  if (!S_ISREG(mode)) {
    fuse_reply_err(req, EPERM);
    return;
  }
  auto* s = self(req);
  // CREATE then CLOSE: mknod leaves no handle behind.
  s->spawn(req, [](Filesystem::Impl* impl, fuse_req_t r, fuse_ino_t p, std::string n) -> awaitable<int> {
    const auto* dir = impl->inodes.find(p);
    if (dir == nullptr) co_return ENOENT;
    const auto path = InodeTable::child_path(dir->path, n);
    OpenRequest o;
    o.path = path;
    o.desired_access = acc::read_attributes | acc::write_data | acc::synchronize;
    o.disposition = disp::create;
    o.create_options = opts::non_directory_file;
    o.attributes = attr::normal;
    auto f = co_await impl->files.open(std::move(o));
    if (!f) co_return errno_from_error(f.error());
    auto info = co_await f->query();
    (void)co_await f->close();
    if (!info) co_return errno_from_error(info.error());
    impl->invalidate_parent(path);
    impl->dir_added(p, n);
    auto& node = impl->inodes.lookup(path);
    impl->set_info(node, *info);
    Filesystem::Impl::set_symlink(node, *info, std::nullopt);
    const auto e = impl->entry_of(node);
    fuse_reply_entry(r, &e);
    co_return 0;
  }(s, req, parent, name));
}

void ll_mkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t) {
  auto* s = self(req);
  s->spawn(req, s->mkdir(req, parent, name));
}

void ll_unlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
  auto* s = self(req);
  s->spawn(req, s->remove(req, parent, name, false));
}

void ll_rmdir(fuse_req_t req, fuse_ino_t parent, const char* name) {
  auto* s = self(req);
  s->spawn(req, s->remove(req, parent, name, true));
}

void ll_symlink(fuse_req_t req, const char* link, fuse_ino_t parent, const char* name) {
  auto* s = self(req);
  s->spawn(req, s->symlink(req, link, parent, name));
}

void ll_rename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t newparent, const char* newname,
               unsigned int flags) {
  auto* s = self(req);
  s->spawn(req, s->rename(req, parent, name, newparent, newname, flags));
}

void ll_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char* newname) {
  auto* s = self(req);
  s->spawn(req, s->link(req, ino, newparent, newname));
}

void ll_open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  auto* s = self(req);
  s->spawn(req, s->open(req, ino, *fi));
}

void ll_create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, fuse_file_info* fi) {
  auto* s = self(req);
  s->spawn(req, s->create(req, parent, name, mode, *fi));
}

void ll_read(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info* fi) {
  auto* s = self(req);
  s->spawn(req, s->read(req, size, off, fi->fh));
}

void ll_write(fuse_req_t req, fuse_ino_t ino, const char* buf, size_t size, off_t off, fuse_file_info* fi) {
  auto* s = self(req);
  auto data = s->write_data(buf, size);
  s->spawn(req, s->write(req, ino, std::move(data), off, fi->fh));
}

void ll_flush(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  auto* s = self(req);
  if (auto h = s->handle(fi->fh); !h || (h->wb_bytes == 0 && h->wb_error == 0)) {
    fuse_reply_err(req, 0);  // nothing written behind: answer at once
    return;
  }
  s->spawn(req, s->flush(req, fi->fh));
}

void ll_release(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  auto* s = self(req);
  s->spawn(req, s->release(req, ino, fi->fh));
}

void ll_fsync(fuse_req_t req, fuse_ino_t, int, fuse_file_info* fi) {
  auto* s = self(req);
  s->spawn(req, s->fsync(req, fi->fh));
}

void ll_opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  auto* s = self(req);
  s->spawn(req, s->opendir(req, ino, *fi));
}

void ll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  auto* s = self(req);
  s->spawn(req, s->readdir(req, ino, size, off, fi->fh, false));
}

void ll_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  auto* s = self(req);
  s->spawn(req, s->readdir(req, ino, size, off, fi->fh, true));
}

void ll_releasedir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  auto* s = self(req);
  s->spawn(req, s->release(req, ino, fi->fh));
}

void ll_fsyncdir(fuse_req_t req, fuse_ino_t, int, fuse_file_info*) { fuse_reply_err(req, 0); }

void ll_statfs(fuse_req_t req, fuse_ino_t) {
  auto* s = self(req);
  s->spawn(req, s->statfs(req));
}

constexpr std::string_view kUserPrefix = "user.";

void ll_setxattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value, size_t size,
                 int flags) {
  const std::string_view n{name};
  if (n.substr(0, kUserPrefix.size()) != kUserPrefix || n.size() == kUserPrefix.size()) {
    fuse_reply_err(req, ENOTSUP);
    return;
  }
  auto* s = self(req);
  std::vector<std::uint8_t> v(reinterpret_cast<const std::uint8_t*>(value),
                              reinterpret_cast<const std::uint8_t*>(value) + size);
  s->spawn(req, s->setxattr(req, ino, std::string{n.substr(kUserPrefix.size())}, std::move(v), flags));
}

void ll_getxattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size) {
  const std::string_view n{name};
  // security.capability is asked before every write: answer it here, at once.
  if (n.substr(0, kUserPrefix.size()) != kUserPrefix || n.size() == kUserPrefix.size()) {
    fuse_reply_err(req, ENODATA);
    return;
  }
  auto* s = self(req);
  s->spawn(req, s->getxattr(req, ino, std::string{n.substr(kUserPrefix.size())}, size));
}

void ll_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
  auto* s = self(req);
  s->spawn(req, s->listxattr(req, ino, size));
}

void ll_removexattr(fuse_req_t req, fuse_ino_t ino, const char* name) {
  const std::string_view n{name};
  if (n.substr(0, kUserPrefix.size()) != kUserPrefix || n.size() == kUserPrefix.size()) {
    fuse_reply_err(req, ENODATA);
    return;
  }
  auto* s = self(req);
  s->spawn(req, s->setxattr(req, ino, std::string{n.substr(kUserPrefix.size())}, {}, -1));
}

void ll_getlk(fuse_req_t req, fuse_ino_t, fuse_file_info* fi, struct flock* lock) {
  auto* s = self(req);
  s->spawn(req, s->getlk(req, fi->fh, *lock));
}

void ll_setlk(fuse_req_t req, fuse_ino_t, fuse_file_info* fi, struct flock* lock, int sleep) {
  auto* s = self(req);
  s->spawn(req, s->setlk(req, fi->fh, fi->lock_owner, *lock, sleep != 0, false));
}

void ll_flock(fuse_req_t req, fuse_ino_t, fuse_file_info* fi, int op) {
  auto* s = self(req);
  struct flock lock {};
  lock.l_whence = SEEK_SET;
  lock.l_start = 0;
  lock.l_len = 0;
  const int kind = op & ~LOCK_NB;
  lock.l_type = static_cast<short>(kind == LOCK_UN ? F_UNLCK : kind == LOCK_SH ? F_RDLCK : F_WRLCK);
  // flock locks belong to the open file, not to a lock owner.
  s->spawn(req, s->setlk(req, fi->fh, 0, lock, (op & LOCK_NB) == 0, true));
}

void ll_fallocate(fuse_req_t req, fuse_ino_t, int mode, off_t offset, off_t length, fuse_file_info* fi) {
  auto* s = self(req);
  s->spawn(req, s->fallocate(req, mode, offset, length, fi->fh));
}

void ll_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in, fuse_file_info* fi_in, fuse_ino_t ino_out,
                        off_t off_out, fuse_file_info* fi_out, size_t len, int flags) {
  auto* s = self(req);
  s->spawn(req, s->copy_file_range(req, ino_in, off_in, fi_in->fh, ino_out, off_out, fi_out->fh, len, flags));
}

fuse_lowlevel_ops make_ops() {
  fuse_lowlevel_ops ops{};
  ops.init = ll_init;
  ops.lookup = ll_lookup;
  ops.forget = ll_forget;
  ops.forget_multi = ll_forget_multi;
  ops.getattr = ll_getattr;
  ops.setattr = ll_setattr;
  ops.readlink = ll_readlink;
  ops.mknod = ll_mknod;
  ops.mkdir = ll_mkdir;
  ops.unlink = ll_unlink;
  ops.rmdir = ll_rmdir;
  ops.symlink = ll_symlink;
  ops.rename = ll_rename;
  ops.link = ll_link;
  ops.open = ll_open;
  ops.create = ll_create;
  ops.read = ll_read;
  ops.write = ll_write;
  ops.flush = ll_flush;
  ops.release = ll_release;
  ops.fsync = ll_fsync;
  ops.opendir = ll_opendir;
  ops.readdir = ll_readdir;
  ops.readdirplus = ll_readdirplus;
  ops.releasedir = ll_releasedir;
  ops.fsyncdir = ll_fsyncdir;
  ops.statfs = ll_statfs;
  ops.setxattr = ll_setxattr;
  ops.getxattr = ll_getxattr;
  ops.listxattr = ll_listxattr;
  ops.removexattr = ll_removexattr;
  ops.getlk = ll_getlk;
  ops.setlk = ll_setlk;
  ops.flock = ll_flock;
  ops.fallocate = ll_fallocate;
  // No remap_file_range in the kernel's FUSE: FICLONE/FICLONERANGE (cp
  // --reflink=always) fail with EOPNOTSUPP before reaching us.
  ops.copy_file_range = ll_copy_file_range;
  return ops;
}

const fuse_lowlevel_ops kOps = make_ops();

Error mount_error(std::string action, std::string detail) {
  Error e;
  e.kind = ErrorKind::local;
  e.action = std::move(action);
  e.detail = std::move(detail);
  return e;
}

}  // namespace

// ---- Filesystem ----

Filesystem::Filesystem(std::unique_ptr<Impl> impl) : impl_{std::move(impl)} {}
Filesystem::~Filesystem() = default;

Expected<std::unique_ptr<Filesystem>> Filesystem::mount(asio::io_context& io, std::unique_ptr<Client> client,
                                                        Share share, MountConfig config) {
  auto impl = std::make_unique<Impl>(io, std::move(client), std::move(share), std::move(config));
  const auto& cfg = impl->config;
  std::string options = "fsname=" + escape_option(cfg.fsname) + ",subtype=smbx,default_permissions";
  if (cfg.allow_other) options += ",allow_other";
  if (cfg.read_only) options += ",ro";
  if (cfg.rsize != 0) options += ",max_read=" + std::to_string(std::min(cfg.rsize, kMaxIo));
  // libfuse turns these into MS_* flags of mount(2) (it mounts nosuid,nodev
  // unless told suid/dev). "atime" and "relatime" only undo noatime/strictatime:
  // relatime is already the kernel's default, and libfuse does not know them.
  for (const auto& flag : cfg.mount_flags)
    if (flag != "atime" && flag != "relatime") options += "," + flag;
  std::vector<std::string> argv_storage{"mount.smbx", "-o", options};
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());
  impl->se = fuse_session_new(&args, &kOps, sizeof kOps, impl.get());
  fuse_opt_free_args(&args);
  if (impl->se == nullptr)
    return mount_error("create the FUSE session", "fuse_session_new failed (options: " + options + ")");
  if (fuse_session_mount(impl->se, cfg.mountpoint.c_str()) != 0)
    return mount_error("mount " + cfg.mountpoint, "fuse_session_mount failed (is /dev/fuse usable?)");
  impl->mounted = true;
  const int fd = fuse_session_fd(impl->se);
  const int fl = ::fcntl(fd, F_GETFL);
  if (fl < 0 || ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
    return mount_error("mount " + cfg.mountpoint,
                       std::string{"make /dev/fuse non-blocking: "} + std::strerror(errno));
  impl->fuse_fd.emplace(io, fd);
  impl->files.on_lease_break([raw = impl.get()](const LeaseBreak& b) { raw->lease_break(b); });
  return std::unique_ptr<Filesystem>{new Filesystem{std::move(impl)}};
}

asio::awaitable<void> Filesystem::run() { co_await impl_->serve(); }

asio::awaitable<Expected<CopyFiles>> Filesystem::open_copy(std::string source, std::string target) {
  co_return co_await impl_->open_copy(std::move(source), std::move(target));
}

asio::awaitable<Expected<copy::CopyStats>> Filesystem::run_copy(CopyFiles& files, copy::CopyOptions options) {
  co_return co_await impl_->run_copy(files, std::move(options));
}

void Filesystem::stop() {
  impl_->stopping = true;
  if (impl_->fuse_fd) {
    boost::system::error_code ec;
    impl_->fuse_fd->cancel(ec);
  }
}

MountStatus Filesystem::status() const {
  const auto& s = *impl_;
  MountStatus out;
  out.mountpoint = s.config.mountpoint;
  out.server = server_of(s.config.fsname);
  out.share = s.share.name();
  out.connection = s.client ? s.client->info() : s.files.info();
  out.open_handles = s.handles.size();
  out.cached_inodes = s.inodes.size();
  out.requests_in_flight = s.in_flight - s.behind_senders;
  out.write_behind_bytes = s.behind_bytes;
  out.write_behind_peak = s.behind_bytes_peak;
  out.write_behind_limit = s.behind_limit();
  out.bytes_read = s.bytes_read;
  out.bytes_written = s.bytes_written;
  out.fuse_requests = s.fuse_requests;
  out.lease_breaks = s.lease_breaks;
  out.bytes_copied = s.bytes_copied;
  out.bytes_copied_through_client = s.bytes_copied_through_client;
  const auto f = s.files.failover();
  out.reconnects = f.reconnects;
  out.handles_reopened = f.handles_reopened;
  out.handles_lost = f.handles_lost;
  out.requests_replayed = f.requests_replayed;
  out.recovering = f.recovering;
  return out;
}

}  // namespace smbx::fs
