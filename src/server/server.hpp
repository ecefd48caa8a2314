// smbxd's server object: the listening socket, the shares and users, and
// what every connection shares (server GUID, session ids, the file table).
// Runs entirely on one io_context thread (DESIGN.md, Concurrency).
#pragma once

#include <boost/asio.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "auth/ntlm.hpp"
#include "server/config.hpp"
#include "server/state.hpp"
#include "smbx/expected.hpp"
#include "wire/types.hpp"

namespace smbx::server {

namespace asio = boost::asio;

class Connection;

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
  std::uint64_t allocate_file_id() { return next_file_id_++; }

  // The shared state of the file with this key, made on first use.
  std::shared_ptr<FileState> file_state(const FileKey& key, const Share* share, const std::string& path,
                                        bool is_directory);
  // Which connection holds a session (MS-SMB2 3.3.1.5 GlobalSessionTable),
  // for PreviousSessionId (3.3.5.5.3).
  void register_session(std::uint64_t id, std::weak_ptr<Connection> connection) { sessions_[id] = std::move(connection); }
  std::shared_ptr<Connection> session_owner(std::uint64_t id) const {
    const auto it = sessions_.find(id);
    return it == sessions_.end() ? nullptr : it->second.lock();
  }
  void unregister_session(std::uint64_t id) { sessions_.erase(id); }

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

 private:
  Server(asio::io_context& io, ServerConfig config);
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> control_loop();
  asio::awaitable<void> control_session(asio::local::stream_protocol::socket socket);

  asio::io_context& io_;
  ServerConfig config_;
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
  std::map<std::uint64_t, std::weak_ptr<Connection>> sessions_;
  std::map<std::pair<wire::Guid, wire::Guid>, std::weak_ptr<Lease>> leases_;
  std::vector<std::weak_ptr<Connection>> connections_;
};

}  // namespace smbx::server
