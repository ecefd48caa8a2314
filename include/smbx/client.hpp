// libsmbx's client API: connect and log on to a server, attach to a share, and
// work with its files. Coroutines on the caller's io_context (one thread, as
// in DESIGN.md, Concurrency); every call has the client's request deadline.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "smbx/expected.hpp"

namespace smbx {

namespace client {
class Session;
class Tree;
}  // namespace client

class Files;

struct ClientOptions {
  std::string host;
  std::uint16_t port = 445;
  std::string user;
  std::string domain;
  std::string password;
  // Dialects to offer, e.g. {0x0311}; empty offers 2.0.2 through 3.1.1.
  std::vector<std::uint16_t> dialects;
  bool seal = false;  // encrypt all traffic; fail when the server cannot
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds request_timeout{60'000};
  // Failover (DESIGN.md, Failover): when the connection is lost the client
  // reconnects (first try at once, then 50 ms doubling to 500 ms), logs on
  // again with PreviousSessionId, reclaims durable handles and re-sends what
  // was in flight. `hard`: calls wait as long as it takes; soft (default):
  // they fail with ErrorKind::transport after `recovery_timeout`.
  bool recover = true;
  bool hard = false;
  std::chrono::milliseconds recovery_timeout{60'000};
  // DH2Q Timeout asked for (MS-SMB2 2.2.13.2.11), ms; 0: the server's default.
  std::uint32_t handle_timeout = 0;
  // Persistent handles: unset on CA shares only (SHARE_CAP_CONTINUOUS_AVAILABILITY); false: never.
  std::optional<bool> persistent_handles;
  // ECHO keep-alive: the connection counts as dead when an ECHO stays
  // unanswered this long (mount.cifs echo_interval). 0: off.
  std::chrono::milliseconds echo_interval{0};
  // Told each failover transition (connection lost, reconnected, handle lost),
  // one line each, for a log. Called on the engine's thread.
  std::function<void(const std::string&)> failover_log;
  // Reads and writes kept in flight by download() and upload().
  unsigned io_depth = 8;
  std::uint32_t io_size = 1 << 20;  // bytes per READ/WRITE, capped by the server's maximum
};

// MS-FSCC times are FILETIMEs: 100 ns ticks since 1601-01-01 UTC.
struct FileInfo {
  std::string name;
  std::uint64_t size = 0;
  std::uint64_t allocation_size = 0;
  std::uint32_t attributes = 0;  // FILE_ATTRIBUTE_* (MS-FSCC 2.6)
  std::uint64_t creation_time = 0;
  std::uint64_t last_access_time = 0;
  std::uint64_t last_write_time = 0;
  std::uint64_t change_time = 0;
  std::uint64_t file_index = 0;  // the server's inode number, when known
  std::uint32_t links = 0;       // when known (stat)

  bool is_directory() const noexcept { return (attributes & 0x10) != 0; }
};

struct ConnectionInfo {
  std::string dialect;    // "3.1.1"
  std::string signing;    // "AES-GMAC", or "" when the session does not sign
  std::string cipher;     // the negotiated cipher ("AES-128-GCM"), "" when none
  bool session_encrypted = false;  // every request of the session is encrypted
  std::uint32_t max_read_size = 0;
  std::uint32_t max_write_size = 0;
  // SMB frames (SMB2 or TRANSFORM messages, without the 4-byte Direct TCP
  // header) sent and received on the session's connections, summed across
  // reconnects: what crossed the wire.
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
};

// Progress of a transfer: bytes done so far and the expected total (0 if unknown).
using ProgressFn = std::function<void(std::uint64_t done, std::uint64_t total)>;
// Takes the next bytes of a download, in file order.
using SinkFn = std::function<Expected<void>(std::span<const std::uint8_t>)>;
// Fills up to the buffer's size for an upload; returns the byte count, 0 at the end.
using SourceFn = std::function<Expected<std::size_t>(std::span<std::uint8_t>)>;

// A tree connect. Paths are relative to the share root, '/' or '\' separated.
class Share {
 public:
  explicit Share(std::shared_ptr<client::Tree> tree, const ClientOptions& options);

  boost::asio::awaitable<Expected<std::vector<FileInfo>>> list(std::string directory);
  // CREATE + QUERY_INFO + CLOSE in one compound (MS-SMB2 3.2.4.1.4).
  boost::asio::awaitable<Expected<FileInfo>> stat(std::string path);
  boost::asio::awaitable<Expected<void>> mkdir(std::string path);
  boost::asio::awaitable<Expected<void>> rmdir(std::string path);
  boost::asio::awaitable<Expected<void>> remove(std::string path);
  boost::asio::awaitable<Expected<void>> rename(std::string from, std::string to, bool replace_if_exists = false);
  // Reads the whole file with several READs in flight; returns the bytes read.
  boost::asio::awaitable<Expected<std::uint64_t>> download(std::string path, SinkFn sink, ProgressFn progress = {});
  // Creates or truncates `path` and writes what `source` yields, several
  // WRITEs in flight; `size_hint` only feeds progress. Returns the bytes written.
  boost::asio::awaitable<Expected<std::uint64_t>> upload(std::string path, SourceFn source, std::uint64_t size_hint = 0,
                                                         ProgressFn progress = {});
  boost::asio::awaitable<Expected<void>> disconnect();

  const std::string& name() const noexcept;
  bool is_encrypted() const noexcept;

 private:
  friend class Files;  // file.hpp: handle-level operations on the same tree
  std::shared_ptr<client::Tree> tree_;
  unsigned io_depth_;
  std::uint32_t io_size_;
};

// One connection with one authenticated session.
class Client {
 public:
  static boost::asio::awaitable<Expected<std::unique_ptr<Client>>> connect(ClientOptions options);
  ~Client();

  boost::asio::awaitable<Expected<Share>> share(std::string name);
  boost::asio::awaitable<Expected<void>> logoff();
  ConnectionInfo info() const;

 private:
  Client(std::shared_ptr<client::Session> session, ClientOptions options);
  std::shared_ptr<client::Session> session_;
  ClientOptions options_;
};

}  // namespace smbx
