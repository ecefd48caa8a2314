#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#include "server/server.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "auth/ntlm_crypto.hpp"
#include "crypto/random.hpp"
#include "server/connection.hpp"
#include "server/file_info.hpp"
#include "server/log.hpp"

namespace smbx::server {

namespace {
Error local_error(std::string action, std::string detail) {
  return Error{.kind = ErrorKind::local, .wire = WireError::none, .status = 0, .action = std::move(action),
               .detail = std::move(detail)};
}

std::u16string upper(std::u16string_view s) {
  std::u16string out{s};
  for (auto& c : out)
    if (c >= u'a' && c <= u'z') c = static_cast<char16_t>(c - 32);
  return out;
}
}  // namespace

Server::Server(asio::io_context& io, ServerConfig config) : io_{io}, config_{std::move(config)} {}

Server::~Server() {
  if (!control_path_.empty()) ::unlink(control_path_.c_str());
  for (const auto& share : shares_)
    if (share->root_fd >= 0) ::close(share->root_fd);
}

Expected<std::unique_ptr<Server>> Server::create(asio::io_context& io, ServerConfig config) {
  std::unique_ptr<Server> server{new Server{io, std::move(config)}};
  if (server->config_.shares.empty()) return local_error("start smbxd", "no --share given");
  for (const auto& sc : server->config_.shares) {
    auto share = std::make_unique<Share>();
    share->config = sc;
    share->name16 = wire::utf16_from_utf8(sc.name);
    for (const auto& other : server->shares_)
      if (equal_ignore_case(other->name16, share->name16))
        return local_error("add share " + sc.name, "a share of that name already exists");
    share->root_fd = ::open(sc.path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (share->root_fd < 0)
      return local_error("open share " + sc.name + " at " + sc.path, std::strerror(errno));
    server->shares_.push_back(std::move(share));
  }
  if (server->config_.users.empty()) return local_error("start smbxd", "no --user given");
  if (auto ok = auth::ensure_ntlm_crypto(); !ok) return Unexpected{ok.error()};
  for (const auto& user : server->config_.users)
    server->users_[upper(wire::utf16_from_utf8(user.user))] = auth::nt_hash_from_password(user.password);
  crypto::random_bytes(server->server_guid_);
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  server->start_time_ = wire::fscc::filetime_from_timespec(ts);
  // Session ids: a random part so ids differ between server runs, kept
  // below 2^32 because some clients (smbtorture's sessid test) store them
  // in 32 bits.
  std::array<std::uint8_t, 2> r{};
  crypto::random_bytes(r);
  server->next_session_id_ = (std::uint64_t{static_cast<std::uint16_t>(load_le16(r.data()) & 0x7FFF) | 0x100u} << 16) + 1;
  return server;
}

Expected<void> Server::listen() {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(config_.listen_address, ec);
  if (ec) return local_error("listen on " + config_.listen_address, "not an IP address");
  const asio::ip::tcp::endpoint endpoint{address, config_.port};
  acceptor_.emplace(io_);
  const std::string where = config_.listen_address + ":" + std::to_string(config_.port);
  if (acceptor_->open(endpoint.protocol(), ec); ec) return local_error("listen on " + where, ec.message());
  acceptor_->set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
  if (acceptor_->bind(endpoint, ec); ec) return local_error("listen on " + where, ec.message());
  if (acceptor_->listen(asio::socket_base::max_listen_connections, ec); ec)
    return local_error("listen on " + where, ec.message());
  bound_port_ = acceptor_->local_endpoint(ec).port();
  return {};
}

void Server::start() {
  asio::co_spawn(io_, accept_loop(), asio::detached);
  if (control_) asio::co_spawn(io_, control_loop(), asio::detached);
}

void Server::stop() {
  boost::system::error_code ec;
  if (acceptor_) acceptor_->close(ec);
  if (control_) control_->close(ec);
}

Expected<void> Server::open_control(const std::string& path) {
  const std::string action = "open control socket " + path;
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return local_error(action, "the path exists and is not a socket");
    ::unlink(path.c_str());  // left behind by an earlier run
  }
  boost::system::error_code ec;
  control_.emplace(io_);
  if (control_->open(asio::local::stream_protocol{}, ec); ec) return local_error(action, ec.message());
  // Root only: no other user may connect, not even between bind and chmod.
  const mode_t old_mask = ::umask(0177);
  control_->bind(asio::local::stream_protocol::endpoint{path}, ec);
  ::umask(old_mask);
  if (ec) return local_error(action, ec.message());
  if (::chmod(path.c_str(), 0600) != 0) return local_error(action, std::strerror(errno));
  if (control_->listen(asio::socket_base::max_listen_connections, ec); ec) return local_error(action, ec.message());
  control_path_ = path;
  return {};
}

asio::awaitable<void> Server::control_loop() {
  for (;;) {
    auto [ec, socket] = co_await control_->async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted || !control_->is_open()) co_return;
    if (ec) continue;
    asio::co_spawn(io_, control_session(std::move(socket)), asio::detached);
  }
}

// One request line (at most 4096 bytes, '\n'-terminated), the reply, close.
asio::awaitable<void> Server::control_session(asio::local::stream_protocol::socket socket) {
  std::string buffer;
  auto [ec, n] = co_await asio::async_read_until(socket, asio::dynamic_buffer(buffer, 4097), '\n',
                                                 asio::as_tuple(asio::use_awaitable));
  std::vector<std::string> reply;
  if (ec || n == 0) {
    reply = {"error request line missing or longer than 4096 bytes"};
  } else {
    reply = control_request(std::string_view{buffer}.substr(0, n - 1));
  }
  std::string text;
  for (const auto& line : reply) text += line + "\n";
  co_await asio::async_write(socket, asio::buffer(text), asio::as_tuple(asio::use_awaitable));
  boost::system::error_code ignored;
  socket.shutdown(asio::local::stream_protocol::socket::shutdown_both, ignored);
}

std::vector<std::string> Server::control_request(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line != "status") {
    const auto word = line.substr(0, line.find(' '));
    return {"error unknown command '" + std::string{word} + "' (known: status)"};
  }
  std::vector<std::string> sessions;
  std::vector<std::string> handles;
  std::vector<std::string> all;
  for (const auto& c : connections()) c->describe_state(all);
  for (auto& l : all) (l.rfind("  session ", 0) == 0 ? sessions : handles).push_back(std::move(l));
  std::vector<std::string> out{"ok"};
  out.push_back("listen: " + config_.listen_address + ":" + std::to_string(bound_port_));
  out.push_back("sessions: " + std::to_string(sessions.size()));
  out.insert(out.end(), sessions.begin(), sessions.end());
  out.push_back("open handles: " + std::to_string(handles.size()));
  out.insert(out.end(), handles.begin(), handles.end());
  const auto live = leases();
  out.push_back("leases: " + std::to_string(live.size()));
  auto hex = [](const wire::Guid& g) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string h;
    for (const auto b : g) {
      h += kDigits[b >> 4];
      h += kDigits[b & 15];
    }
    return h;
  };
  for (const auto& lease : live)
    out.push_back("  lease " + hex(lease->key) + " client " + hex(lease->client_guid) + " file /" + lease->path +
                  " state " + lease_state_name(lease->state) + (lease->v2 ? " v2 epoch " + std::to_string(lease->epoch) : " v1") +
                  (lease->breaking ? " breaking-to " + lease_state_name(lease->breaking_to_requested) : ""));
  return out;
}

asio::awaitable<void> Server::accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_->async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted || !acceptor_->is_open()) co_return;
    if (ec) {
      log_warn("accept: " + ec.message());
      continue;
    }
    auto connection = std::make_shared<Connection>(*this, std::move(socket));
    register_connection(connection);
    asio::co_spawn(io_, connection->run(), [](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        log_error(std::string{"connection ended by an exception: "} + ex.what());
      }
    });
  }
}

const Share* Server::find_share(std::u16string_view name) const {
  for (const auto& share : shares_)
    if (equal_ignore_case(share->name16, name)) return share.get();
  return nullptr;
}

std::optional<auth::NtHash> Server::nt_hash(std::u16string_view user) const {
  const auto it = users_.find(upper(user));
  if (it == users_.end()) return std::nullopt;
  return it->second;
}

std::shared_ptr<FileState> Server::file_state(const FileKey& key, const Share* share, const std::string& path,
                                              bool is_directory) {
  auto& slot = files_[key];
  if (auto existing = slot.lock()) return existing;
  auto fresh = std::make_shared<FileState>();
  fresh->key = key;
  fresh->share = share;
  fresh->path = path;
  fresh->is_directory = is_directory;
  slot = fresh;
  // Drop entries whose files have no opens left, so the table stays small.
  if (files_.size() > 4096)
    std::erase_if(files_, [](const auto& entry) { return entry.second.expired(); });
  return fresh;
}

std::shared_ptr<FileState> Server::find_file_state(const FileKey& key) const {
  const auto it = files_.find(key);
  return it == files_.end() ? nullptr : it->second.lock();
}

std::shared_ptr<Lease> Server::find_lease(const wire::Guid& client_guid, const wire::Guid& key) const {
  const auto it = leases_.find({client_guid, key});
  return it == leases_.end() ? nullptr : it->second.lock();
}

std::vector<std::shared_ptr<Lease>> Server::leases() const {
  std::vector<std::shared_ptr<Lease>> out;
  for (const auto& [key, weak] : leases_)
    if (auto lease = weak.lock()) out.push_back(std::move(lease));
  return out;
}

std::vector<std::shared_ptr<Connection>> Server::connections() {
  std::erase_if(connections_, [](const auto& weak) { return weak.expired(); });
  std::vector<std::shared_ptr<Connection>> out;
  for (const auto& weak : connections_)
    if (auto c = weak.lock()) out.push_back(std::move(c));
  return out;
}

}  // namespace smbx::server
