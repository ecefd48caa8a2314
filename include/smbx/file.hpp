// Handle-level access to a share: an open file or directory and what can be
// done with it. mount.smbx (src/fs) is built on this; Share (client.hpp) keeps
// the path-level conveniences for the command-line client.
//
// Every call is a coroutine on the engine's io_context thread. A failure is an
// Error; when the server answered with a failure NTSTATUS, Error::kind is
// ErrorKind::status and Error::status holds it (src/fs maps it to an errno).
#pragma once

#include <array>
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "smbx/client.hpp"
#include "smbx/expected.hpp"

namespace smbx {

namespace client {
class Tree;
struct Open;
}

using LeaseKey = std::array<std::uint8_t, 16>;

// SMB2_LEASE_* state bits (MS-SMB2 2.2.13.2.8).
namespace lease {
inline constexpr std::uint32_t none = 0x00;
inline constexpr std::uint32_t read = 0x01;    // R: cache reads
inline constexpr std::uint32_t handle = 0x02;  // H: keep the handle open after close
inline constexpr std::uint32_t write = 0x04;   // W: cache writes
}  // namespace lease

// What a CREATE asks for (MS-SMB2 2.2.13). Access, share and option bits are the
// wire's (wire::access, wire::share_access, wire::create_options, wire::disposition).
struct OpenRequest {
  std::string path;  // relative to the share root, '/' separated; "" is the root
  std::uint32_t desired_access = 0;
  std::uint32_t share_access = 0x07;  // read | write | delete
  std::uint32_t disposition = 1;      // FILE_OPEN
  std::uint32_t create_options = 0;
  std::uint32_t attributes = 0;       // FILE_ATTRIBUTE_* for a new file
  // Ask for a lease (RqLs v2 on 3.x, v1 on 2.1; ignored on 2.0.2 and when the
  // server has no SMB2_GLOBAL_CAP_LEASING). The key names the cached object
  // (mount.smbx uses one stable key per inode).
  std::optional<LeaseKey> lease_key;
  std::uint32_t lease_state = 0;
};

// What the server granted.
struct OpenReply {
  FileInfo info;                     // times, sizes, attributes from the CREATE response
  std::uint32_t create_action = 0;   // FILE_OPENED, FILE_CREATED, FILE_OVERWRITTEN, ...
  std::uint32_t lease_state = 0;     // granted lease::*, 0 without a lease
  std::uint32_t maximal_access = 0;  // when the server answered MxAc, else 0
};

// FileFsFullSizeInformation, in bytes.
struct FsInfo {
  std::uint64_t total_bytes = 0;
  std::uint64_t free_bytes = 0;       // free for the caller
  std::uint32_t block_size = 4096;    // bytes per allocation unit
  std::uint32_t max_name_length = 255;
};

// SET_INFO FileBasicInformation: a 0 time leaves it unchanged (MS-FSCC 2.4.7).
struct BasicInfoChange {
  std::uint64_t creation_time = 0;
  std::uint64_t last_access_time = 0;
  std::uint64_t last_write_time = 0;
  std::uint64_t change_time = 0;
  std::uint32_t attributes = 0;  // 0 leaves them unchanged
};

// What File::update and Files::update change before they read the file's
// attributes back; unset parts are left alone.
struct InfoUpdate {
  std::optional<std::uint64_t> size;     // FileEndOfFileInformation
  std::optional<BasicInfoChange> basic;  // FileBasicInformation
};

// What File::read_frames read: views into the received READ responses, in
// file order, kept alive by `frames` (no copy of the data).
struct ReadData {
  std::vector<std::shared_ptr<const void>> frames;
  std::vector<std::span<const std::uint8_t>> pieces;
  std::size_t size = 0;  // bytes in all pieces; short only at end of file
};

// One extended attribute (MS-FSCC 2.4.15 FILE_FULL_EA_INFORMATION).
struct ExtendedAttribute {
  std::string name;  // ASCII, case-insensitive on the server
  std::vector<std::uint8_t> value;
};

enum class LockKind : std::uint8_t { shared, exclusive };

// Withdraws a waiting File::lock (an interrupted F_SETLKW or flock): the lock
// sends SMB2 CANCEL (MS-SMB2 3.2.4.24) for its LOCK and ends with
// STATUS_CANCELLED; a lock the server granted before the CANCEL reached it is
// given back first. Copies share one state. Use it on the engine's thread.
class LockCancel {
 public:
  LockCancel();
  void cancel();
  bool cancelled() const noexcept;

 private:
  friend class File;
  struct State;
  std::shared_ptr<State> state_;
};

// An FSCTL's outcome whatever its status (File::ioctl_with_status).
struct IoctlResult {
  std::uint32_t status = 0;          // the response's NTSTATUS
  std::vector<std::uint8_t> output;  // the IOCTL response's output; empty after an ERROR response
};

// An open handle. Closing is explicit (close()); a File destroyed while open
// sends the CLOSE in the background (on the engine's executor, holding the
// tree). Calls on a closed or moved-from File fail with ErrorKind::usage and
// send nothing.
//
// Failover: the handle survives a lost connection when the server made it
// durable (DH2Q/DHnQ, asked for on every CREATE that can have it): calls made
// meanwhile wait for the reconnect and go on with the reclaimed handle. A
// handle the server no longer knows afterwards fails its calls with
// STATUS_NETWORK_NAME_DELETED (ESTALE through mount.smbx); its close() succeeds.
class File {
 public:
  File(std::shared_ptr<client::Tree> tree, std::shared_ptr<client::Open> open, OpenReply reply);
  File(File&&) noexcept;
  File& operator=(File&&) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File();

  const std::string& path() const noexcept { return path_; }
  const OpenReply& reply() const noexcept { return reply_; }
  bool is_open() const noexcept { return open_; }
  // The DesiredAccess the handle was opened with (wire::access bits; with
  // MAXIMUM_ALLOWED, reply().maximal_access says what was granted).
  std::uint32_t desired_access() const noexcept;
  // "host:port" of the server the handle lives on (the host as the Client was
  // given it, in lower case): two Files with the same key are on the same
  // server, and ODX tokens travel between its sessions. "" for a moved-from File.
  std::string server_key() const;
  // Identifies the handle's session (the same across reconnects): copy chunks
  // need source and target in one session (MS-SMB2 3.3.5.15.6). nullptr for a
  // moved-from File.
  const void* session_identity() const noexcept;

  // One READ of at most the server's MaxReadSize; returns the bytes read, 0 at
  // end of file (STATUS_END_OF_FILE is not an error here).
  boost::asio::awaitable<Expected<std::size_t>> read(std::uint64_t offset, std::span<std::uint8_t> out);
  // Reads `out.size()` bytes from `offset` with up to `depth` READs in flight;
  // returns the bytes read (short only at end of file).
  boost::asio::awaitable<Expected<std::size_t>> read_all(std::uint64_t offset, std::span<std::uint8_t> out,
                                                         unsigned depth = 4);
  // The same without a destination buffer: the data stays in the frames it
  // came in (mount.smbx answers FUSE from them), so a read in flight costs
  // its response's memory only.
  boost::asio::awaitable<Expected<ReadData>> read_frames(std::uint64_t offset, std::size_t length,
                                                         unsigned depth = 4);
  // Writes all of `data` at `offset` (several WRITEs in flight when it is larger
  // than MaxWriteSize); returns the bytes written.
  boost::asio::awaitable<Expected<std::size_t>> write(std::uint64_t offset, std::span<const std::uint8_t> data,
                                                      bool write_through = false);
  boost::asio::awaitable<Expected<void>> flush();

  // FileAllInformation (or the 2.x equivalent): the file's current metadata.
  boost::asio::awaitable<Expected<FileInfo>> query();
  boost::asio::awaitable<Expected<void>> set_size(std::uint64_t size);  // FileEndOfFileInformation
  boost::asio::awaitable<Expected<void>> set_allocation(std::uint64_t size);  // FileAllocationInformation
  boost::asio::awaitable<Expected<void>> set_basic(BasicInfoChange change);
  // The changes, then FileAllInformation, in one related compound (MS-SMB2
  // 3.2.4.1.4): one round trip. Sent again as a whole after a reconnect (the
  // changes set absolute values). (g++ 12: pass a named InfoUpdate.)
  boost::asio::awaitable<Expected<FileInfo>> update(InfoUpdate change);
  // FileRenameInformation / FileLinkInformation; `to` is share-relative. The
  // handle needs DELETE access to be renamed; after a rename path() is `to`.
  boost::asio::awaitable<Expected<void>> rename(std::string to, bool replace_if_exists);
  boost::asio::awaitable<Expected<void>> link(std::string to, bool replace_if_exists);
  boost::asio::awaitable<Expected<void>> set_delete_pending(bool pending);  // FileDispositionInformation

  // Byte-range locks (MS-SMB2 2.2.26). `wait` blocks until granted (the server
  // answers STATUS_PENDING first); without it a conflict fails at once with
  // STATUS_LOCK_NOT_GRANTED. (A waiting lock still fails with a transport
  // "timed out" error once ConnectionOptions::pending_timeout, 300 s, passes.)
  boost::asio::awaitable<Expected<void>> lock(std::uint64_t offset, std::uint64_t length, LockKind kind, bool wait);
  // A waiting lock that `cancel` can withdraw: then it fails with
  // STATUS_CANCELLED (EINTR) and leaves the range unlocked, also when the
  // cancel comes while a reconnect is under way (it is not sent again), and
  // within 2 s even if the server never answers the CANCEL (a grant that
  // comes later is given back).
  // (g++ 12: pass a named LockCancel.)
  boost::asio::awaitable<Expected<void>> lock(std::uint64_t offset, std::uint64_t length, LockKind kind,
                                              LockCancel cancel);
  boost::asio::awaitable<Expected<void>> unlock(std::uint64_t offset, std::uint64_t length);

  // QUERY_DIRECTORY (FileIdBothDirectoryInformation) on a directory handle: the
  // next batch of entries without "." and "..", empty once there are no more.
  // `restart` starts the enumeration again.
  boost::asio::awaitable<Expected<std::vector<FileInfo>>> read_directory(bool restart, std::string pattern = "*");

  // Extended attributes (QUERY_INFO/SET_INFO FileFullEaInformation). An empty
  // value removes the attribute. (g++ 12: pass a named ExtendedAttribute; a
  // braced temporary inside the co_await expression is destroyed twice.)
  boost::asio::awaitable<Expected<std::vector<ExtendedAttribute>>> query_eas();
  boost::asio::awaitable<Expected<void>> set_ea(ExtendedAttribute ea);

  // FSCTL on this handle; returns the output buffer.
  boost::asio::awaitable<Expected<std::vector<std::uint8_t>>> ioctl(std::uint32_t ctl_code,
                                                                   std::span<const std::uint8_t> input,
                                                                   std::uint32_t max_output);
  // The same, but a failure status is a result, not an error: some FSCTLs
  // answer a failure with an IOCTL response that carries output (MS-SMB2
  // 3.3.4.4: FSCTL_SRV_COPYCHUNK* with STATUS_INVALID_PARAMETER sends its
  // limits, 3.3.5.15.6.1 the progress of a failed copy), others with an ERROR
  // response (output empty). Only a transport, decoding or closed-handle
  // problem is an error.
  boost::asio::awaitable<Expected<IoctlResult>> ioctl_with_status(std::uint32_t ctl_code,
                                                                  std::span<const std::uint8_t> input,
                                                                  std::uint32_t max_output);

  // CLOSE. The handle counts as closed afterwards even when this fails.
  boost::asio::awaitable<Expected<void>> close();

 private:
  friend class Files;
  // Sends the CLOSE of an open handle without waiting for it (the destructor,
  // and assigning over an open File).
  void close_in_background() noexcept;

  std::shared_ptr<client::Tree> tree_;
  std::string path_;
  std::shared_ptr<client::Open> open_record_;  // FileId, CreateGuid, lease: what a reconnect needs
  // read_directory(): entries returned since the last restart, and the
  // handle's reopen count they came from.
  std::uint64_t listed_ = 0;
  std::uint32_t listing_reopens_ = 0;
  OpenReply reply_;
  bool open_ = false;
  // From the Share's ClientOptions: bytes per READ/WRITE (capped by the
  // server's maxima) and WRITEs in flight.
  std::uint32_t io_size_ = 1 << 20;
  unsigned io_depth_ = 8;
};

// What the session's failovers did so far (smbxctl status).
struct FailoverStats {
  std::uint64_t reconnects = 0;
  std::uint64_t handles_reopened = 0;
  std::uint64_t handles_lost = 0;
  std::uint64_t requests_replayed = 0;
  bool recovering = false;  // the connection is down and being re-established
};

// A lease break notification (MS-SMB2 2.2.23.2) for a key this client holds.
// After a reconnect, a lease that came back with less caching is reported the
// same way, with ack_required false.
struct LeaseBreak {
  LeaseKey key{};
  std::uint32_t current_state = 0;
  std::uint32_t new_state = 0;
  bool ack_required = false;  // SMB2_NOTIFY_BREAK_LEASE_FLAG_ACK_REQUIRED
};

// Handle-level operations of a share; made from a Share (client.hpp).
class Files {
 public:
  explicit Files(const Share& share);

  boost::asio::awaitable<Expected<File>> open(OpenRequest request);
  // CREATE `request`, the changes of `change`, FileAllInformation and CLOSE
  // in one related compound (MS-SMB2 3.2.4.1.4): a change by path, or a new
  // directory with its attributes, in one round trip. Never durable; sent
  // again as a whole after a reconnect (a FILE_CREATE that finds the name
  // taken then counts as done, as Tree::call does). With the lease key of
  // handles already open the server breaks none of their caching (MS-SMB2
  // 3.3.5.9.8: opens of one lease key share its state).
  boost::asio::awaitable<Expected<FileInfo>> update(OpenRequest request, InfoUpdate change);
  boost::asio::awaitable<Expected<FsInfo>> fs_info();
  // Called on the io_context thread for each lease break. The handler must
  // flush and invalidate what the lease covered and then call
  // acknowledge_break() when ack_required (MS-SMB2 3.2.5.19.2). It runs inside
  // the connection's receive loop: it must not block, so it starts a coroutine
  // (co_spawn) for anything that waits. One handler per session (it stays
  // across reconnects): a later call (from any Files of the same Client)
  // replaces it; an empty function removes it. After a reconnect a lease that
  // came back with less caching than held is reported too (ack_required
  // false). Oplock breaks are not reported (smbx never requests oplocks).
  void on_lease_break(std::function<void(const LeaseBreak&)> handler);
  // LEASE_BREAK_ACK (MS-SMB2 2.2.24.2) with `state` (a subset of new_state).
  // STATUS_OBJECT_NAME_NOT_FOUND / STATUS_UNSUCCESSFUL (the lease or its break
  // is already gone) count as success.
  boost::asio::awaitable<Expected<void>> acknowledge_break(LeaseKey key, std::uint32_t state);

  // Counters for smbxctl status.
  ConnectionInfo info() const;
  FailoverStats failover() const;

 private:
  std::shared_ptr<client::Tree> tree_;
  std::uint32_t io_size_ = 1 << 20;
  unsigned io_depth_ = 8;
};

}  // namespace smbx
