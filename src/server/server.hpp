// smbxd's server object: the listening socket, the shares and users, and
// what every connection shares (server GUID, session ids, the file table).
// Runs entirely on one io_context thread (DESIGN.md, Concurrency).
#pragma once

#include <boost/asio.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "auth/ntlm.hpp"
#include "server/config.hpp"
#include "server/faults.hpp"
#include "server/offload.hpp"
#include "server/state.hpp"
#include "server/state_store.hpp"
#include "smbx/expected.hpp"
#include "wire/types.hpp"

namespace smbx::server {

namespace asio = boost::asio;

class Connection;

// Uninitialised storage for a large response built where it is sent from (a
// READ response: the data is pread straight into it, no zero-fill, no copy).
struct IoBuffer {
  std::unique_ptr<std::uint8_t[]> data;
  std::size_t capacity = 0;
  explicit operator bool() const { return data != nullptr; }
};

// The IoBuffers of the server's connections, recycled once a connection's
// write loop has sent them: a stream of 8 MiB READs reuses a few buffers
// whose pages are already mapped instead of faulting in fresh ones each
// time. How many are out at once is bounded by each connection's queued
// bytes; at most kMaxIdle wait here, the rest are freed.
class IoBufferPool {
 public:
  // A buffer of at least `size` bytes, contents undefined.
  IoBuffer take(std::size_t size);
  void give_back(IoBuffer buffer);

 private:
  static constexpr std::size_t kMaxIdle = 4;
  std::vector<IoBuffer> idle_;
};

class Server {
 public:
  // Opens every share root; fails with a message naming the share when a path
  // is missing or not a directory.
  static Expected<std::unique_ptr<Server>> create(asio::io_context& io, ServerConfig config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens; fails with a message when the address is in use or invalid.
  Expected<void> listen();
  // MS-SMB2 has no say here: smbxctl's control socket (a Unix stream socket,
  // mode 0600; the protocol is in DESIGN.md's smbxctl notes). A stale socket
  // file at `path` is replaced.
  Expected<void> open_control(const std::string& path);
  // Accepts connections (and control requests) until stop().
  void start();
  // The reply to one control request line: "ok" or "error <message>", then lines.
  std::vector<std::string> control_request(std::string_view line);
  void stop();
  std::uint16_t bound_port() const { return bound_port_; }

  const ServerConfig& config() const { return config_; }
  const Share* find_share(std::u16string_view name) const;
  std::optional<auth::NtHash> nt_hash(std::u16string_view user) const;
  const wire::Guid& server_guid() const { return server_guid_; }
  std::uint64_t start_time() const { return start_time_; }
  std::uint64_t allocate_session_id() { return next_session_id_++; }
  // FileIds are never reused, not even across restarts when there is a
  // state store (ranges reserved in it).
  std::uint64_t allocate_file_id();

  // The shared state of the file with this key, made on first use.
  std::shared_ptr<FileState> file_state(const FileKey& key, const Share* share, const std::string& path,
                                        bool is_directory);
  // MS-SMB2 3.3.1.5 GlobalSessionTable: sessions by id, whichever
  // connections they are bound to (binding 3.3.5.5.2, PreviousSessionId
  // 3.3.5.5.3). The channels' connections own the sessions.
  void register_session(const std::shared_ptr<Session>& session) { sessions_[session->id] = session; }
  std::shared_ptr<Session> find_session(std::uint64_t id) const {
    const auto it = sessions_.find(id);
    return it == sessions_.end() ? nullptr : it->second.lock();
  }
  void unregister_session(std::uint64_t id) { sessions_.erase(id); }
  // MS-SMB2 3.3.1.5 GlobalOpenTable, the attached part: every open a
  // session holds, whichever of its channels made it or uses it. Keyed by
  // the FileId (Persistent == Volatile, never reused).
  std::map<std::uint64_t, std::unique_ptr<Open>>& open_table() { return opens_; }

  // An existing file state (an open of the file is live), or null.
  std::shared_ptr<FileState> find_file_state(const FileKey& key) const;

  // MS-SMB2 3.3.1.5 GlobalLeaseTableList: the live lease of (ClientGuid, LeaseKey), or null.
  std::shared_ptr<Lease> find_lease(const wire::Guid& client_guid, const wire::Guid& key) const;
  void register_lease(const std::shared_ptr<Lease>& lease) {
    if (leases_.size() > 4096) std::erase_if(leases_, [](const auto& entry) { return entry.second.expired(); });
    leases_[{lease->client_guid, lease->key}] = lease;
  }
  // Every live lease (control socket).
  std::vector<std::shared_ptr<Lease>> leases() const;
  // Every live connection (control socket).
  void register_connection(const std::shared_ptr<Connection>& c) {
    if (connections_.size() > 256) std::erase_if(connections_, [](const auto& weak) { return weak.expired(); });
    connections_.push_back(c);
  }
  std::vector<std::shared_ptr<Connection>> connections();
  // Fault injection (control request "fault ...", faults.hpp).
  Faults& faults() { return faults_; }
  IoBufferPool& io_buffers() { return io_buffers_; }

  // MS-SMB2 3.3.1.5 GlobalOpenTable, the part no connection holds: durable
  // and persistent opens whose connection or session went away (3.3.7.1,
  // 3.3.5.5.3), until a DHnC/DH2C reattaches them or the durable scavenger
  // closes them (3.3.6.2).
  void detach_open(std::unique_ptr<Open> open);
  Open* find_detached(std::uint64_t id) const;
  std::unique_ptr<Open> take_detached(std::uint64_t id);
  void close_detached(std::uint64_t id);
  // Closes it from the io_context's queue (callers iterating over opens).
  void close_detached_later(std::uint64_t id);
  void scavenge(std::uint64_t id, std::uint64_t serial);
  const std::map<std::uint64_t, std::unique_ptr<Open>>& detached_opens() const { return detached_; }
  // (ClientGuid, CreateGuid) -> open, attached or not (MS-SMB2 3.3.5.9.10
  // replay detection, 3.3.5.9.12 persistent reconnect by CreateGuid).
  Open* find_by_create_guid(const wire::Guid& client_guid, const wire::Guid& create_guid) const;
  void register_create_guid(Open& open);
  void forget_create_guid(const Open& open);
  // DH2Q creates waiting for an oplock or lease break (Samba's replay cache).
  void set_create_in_progress(const wire::Guid& client_guid, const wire::Guid& create_guid, bool in_progress) {
    if (in_progress) creates_in_progress_.insert({client_guid, create_guid});
    else creates_in_progress_.erase({client_guid, create_guid});
  }
  bool create_in_progress(const wire::Guid& client_guid, const wire::Guid& create_guid) const {
    return creates_in_progress_.count({client_guid, create_guid}) != 0;
  }
  // Persistent opens in the state store (MS-SMB2 3.3.1.10 with IsPersistent;
  // no-ops without --state-dir). persist() writes the whole record again.
  void persist(const Open& open);
  void unpersist(const Open& open);
  // Every persistent open holding this lease (its state changed).
  void persist_lease(const Lease& lease);
  // Startup: every stored open becomes a detached persistent open.
  void load_persistent_opens();
  bool any_continuously_available_share() const;
  // The state store (--state-dir), or null without one.
  StateStore* store() { return store_.get(); }
  // The key of ODX tokens (offload.hpp): shared through the state dir.
  const offload::Key& offload_key() const { return offload_key_; }

 private:
  Server(asio::io_context& io, ServerConfig config);
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> control_loop();
  asio::awaitable<void> control_session(asio::local::stream_protocol::socket socket);

  asio::io_context& io_;
  ServerConfig config_;
  Faults faults_{io_};
  IoBufferPool io_buffers_;
  std::vector<std::unique_ptr<Share>> shares_;
  std::map<std::u16string, auth::NtHash> users_;  // keyed by the upper-cased user name
  std::optional<asio::ip::tcp::acceptor> acceptor_;
  std::optional<asio::local::stream_protocol::acceptor> control_;
  std::string control_path_;
  std::uint16_t bound_port_ = 0;
  wire::Guid server_guid_{};
  std::uint64_t start_time_ = 0;
  std::uint64_t next_session_id_ = 0;
  std::uint64_t next_file_id_ = 1;
  std::map<FileKey, std::weak_ptr<FileState>> files_;
  std::map<std::uint64_t, std::weak_ptr<Session>> sessions_;
  std::map<std::pair<wire::Guid, wire::Guid>, std::weak_ptr<Lease>> leases_;
  std::vector<std::weak_ptr<Connection>> connections_;
  std::map<std::uint64_t, std::unique_ptr<Open>> detached_;
  std::map<std::uint64_t, std::unique_ptr<Open>> opens_;
  std::map<std::pair<wire::Guid, wire::Guid>, Open*> by_create_guid_;
  std::set<std::pair<wire::Guid, wire::Guid>> creates_in_progress_;
  std::uint64_t file_id_limit_ = 0;  // with a store: one past the reserved range
  std::unique_ptr<StateStore> store_;
  offload::Key offload_key_{};
};

}  // namespace smbx::server
