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
#include "server/share_path.hpp"

namespace smbx::server {

IoBuffer IoBufferPool::take(std::size_t size) {
  // The smallest idle buffer that fits.
  auto best = idle_.end();
  for (auto it = idle_.begin(); it != idle_.end(); ++it)
    if (it->capacity >= size && (best == idle_.end() || it->capacity < best->capacity)) best = it;
  if (best != idle_.end()) {
    IoBuffer buffer = std::move(*best);
    idle_.erase(best);
    return buffer;
  }
  // Rounded up so that READs of slightly different sizes share buffers.
  constexpr std::size_t kGrain = 64u << 10;
  IoBuffer buffer;
  buffer.capacity = (size + kGrain - 1) / kGrain * kGrain;
  buffer.data = std::make_unique_for_overwrite<std::uint8_t[]>(buffer.capacity);
  return buffer;
}

void IoBufferPool::give_back(IoBuffer buffer) {
  if (!buffer) return;
  idle_.push_back(std::move(buffer));
  if (idle_.size() <= kMaxIdle) return;
  // Full: the smallest goes.
  auto smallest = idle_.begin();
  for (auto it = idle_.begin(); it != idle_.end(); ++it)
    if (it->capacity < smallest->capacity) smallest = it;
  idle_.erase(smallest);
}

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
  // The state store: persistent opens and FileId ranges (state_store.hpp).
  if (auto ok = check_config(server->config_); !ok) return Unexpected{ok.error()};
  if (!server->config_.state_dir.empty()) {
    if (auto ok = prepare_state_dir(server->config_.state_dir); !ok) return Unexpected{ok.error()};
    auto store = StateStore::open(server->config_.state_dir);
    if (!store) return Unexpected{store.error()};
    server->store_ = std::move(*store);
    // A restarted server is the same server to its clients (MS-SMB2 3.3.1.5
    // ServerGuid; a client may refuse a reconnect to a different one).
    auto guid = server->store_->server_guid(server->server_guid_);
    if (!guid) return Unexpected{guid.error()};
    server->server_guid_ = *guid;
    // Every smbxd on this state dir signs and checks ODX tokens with one key.
    auto key = offload::load_or_create_key(server->config_.state_dir);
    if (!key) return Unexpected{key.error()};
    server->offload_key_ = *key;
  } else {
    server->offload_key_ = offload::random_key();
  }
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
  load_persistent_opens();
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
  if (line == "fault" || line.starts_with("fault ")) return faults_.control(line.substr(5));
  if (line != "status") {
    const auto word = line.substr(0, line.find(' '));
    return {"error unknown command '" + std::string{word} + "' (known: status, fault)"};
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
  // Durable and persistent opens waiting for their client (MS-SMB2 3.3.7.1).
  out.push_back("disconnected handles: " + std::to_string(detached_.size()));
  const auto now = std::chrono::steady_clock::now();
  for (const auto& [id, open] : detached_) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(open->scavenge_at - now).count();
    out.push_back("  handle " + std::to_string(id) + " path " + open->file->share->config.name + ":/" +
                  open->file->path + (open->is_persistent ? " persistent" : " durable") + " timeout-left-ms " +
                  std::to_string(left > 0 ? left : 0) +
                  (open->durable_v2 ? " create-guid " + hex(open->create_guid) : std::string{}) + " user " +
                  open->durable_owner);
  }
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

std::uint64_t Server::allocate_file_id() {
  // With a store, ids come from ranges reserved in it (one synchronous
  // write per range), so a restarted server never hands out the id of a
  // stored persistent open.
  constexpr std::uint64_t kFileIdRange = 4096;
  if (store_ && next_file_id_ >= file_id_limit_) {
    if (auto first = store_->reserve_file_ids(kFileIdRange)) {
      next_file_id_ = std::max(next_file_id_, *first);
      file_id_limit_ = *first + kFileIdRange;
    } else {
      log_error(describe(first.error()) + " (FileIds may repeat after a restart)");
    }
  }
  return next_file_id_++;
}

bool Server::any_continuously_available_share() const {
  for (const auto& share : shares_)
    if (share->config.continuously_available) return true;
  return false;
}

namespace {
// MS-SMB2 3.3.6.2: the durable open scavenger timer of one detached open.
asio::awaitable<void> scavenge_after(Server* server, std::uint64_t id, std::uint64_t serial,
                                     std::chrono::milliseconds after) {
  asio::steady_timer timer{co_await asio::this_coro::executor, after};
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  server->scavenge(id, serial);
}
}  // namespace

void Server::detach_open(std::unique_ptr<Open> open) {
  // An oplock or lease break under way cannot be acknowledged by anyone
  // now: the open loses what was being broken, as 3.3.4.6 / 3.3.4.7 do
  // for a disconnected holder; a non-persistent one that would lose its
  // batch oplock or H goes at once.
  // (smb2.durable-open.lease: the new open then gets RWH). A persistent
  // open takes the lower state at once.
  const bool breaking = open->oplock_breaking || (open->lease && open->lease->breaking);
  if (breaking && !open->is_persistent) {
    log_debug("open " + std::to_string(open->id) + " was being broken when its connection went; closed");
    release_open(*this, std::move(open));
    return;
  }
  if (breaking) {
    if (open->oplock_breaking) {
      open->oplock_level = open->oplock_break_to;
      open->oplock_breaking = false;
    }
    if (open->lease && open->lease->breaking) {
      open->lease->state = open->lease->breaking_to_required;
      open->lease->breaking = false;
    }
    asio::post(io_, [this, key = open->file->key] {
      if (auto file = find_file_state(key)) wake_create_waiters(*file);
    });
  }
  open->detached = true;
  open->connection.reset();
  open->session_id = 0;
  open->tree_id = 0;
  ++open->scavenge_serial;
  const std::chrono::milliseconds timeout{open->durable_timeout_ms};
  open->scavenge_at = std::chrono::steady_clock::now() + timeout;
  if (open->lease) {
    // Break notifications go to another open of the lease that still has a
    // connection, or nowhere.
    Lease& lease = *open->lease;
    lease.connection.reset();
    for (const Open* o : open->file->opens)
      if (o != open.get() && o->lease == open->lease && !o->detached)
        if (auto c = o->connection.lock()) {
          lease.connection = c;
          lease.session_id = o->session_id;
          lease.tree_id = o->tree_id;
          break;
        }
  }
  log_debug("open " + std::to_string(open->id) + " of /" + open->file->path + " disconnected; kept for " +
            std::to_string(open->durable_timeout_ms) + " ms");
  const std::uint64_t id = open->id;
  const std::uint64_t serial = open->scavenge_serial;
  if (open->is_persistent) persist(*open);
  detached_[id] = std::move(open);
  asio::co_spawn(io_, scavenge_after(this, id, serial, timeout), asio::detached);
}

void Server::scavenge(std::uint64_t id, std::uint64_t serial) {
  const auto it = detached_.find(id);
  if (it == detached_.end() || it->second->scavenge_serial != serial) return;
  log_info("durable open " + std::to_string(id) + " of /" + it->second->file->path +
           " not reclaimed in time; closed");
  close_detached(id);
}

Open* Server::find_detached(std::uint64_t id) const {
  const auto it = detached_.find(id);
  return it == detached_.end() ? nullptr : it->second.get();
}

std::unique_ptr<Open> Server::take_detached(std::uint64_t id) {
  const auto it = detached_.find(id);
  if (it == detached_.end()) return nullptr;
  auto open = std::move(it->second);
  detached_.erase(it);
  return open;
}

void Server::close_detached(std::uint64_t id) {
  if (auto open = take_detached(id)) release_open(*this, std::move(open));
}

void Server::close_detached_later(std::uint64_t id) {
  const std::uint64_t serial = detached_.count(id) ? detached_[id]->scavenge_serial : 0;
  asio::co_spawn(io_, scavenge_after(this, id, serial, std::chrono::milliseconds{0}), asio::detached);
}

Open* Server::find_by_create_guid(const wire::Guid& client_guid, const wire::Guid& create_guid) const {
  const auto it = by_create_guid_.find({client_guid, create_guid});
  return it == by_create_guid_.end() ? nullptr : it->second;
}

void Server::register_create_guid(Open& open) {
  auto& slot = by_create_guid_[{open.client_guid, open.create_guid}];
  if (slot != nullptr && slot != &open) slot->has_create_guid = false;  // an older open of a reused guid
  slot = &open;
  open.has_create_guid = true;
}

void Server::forget_create_guid(const Open& open) {
  if (!open.has_create_guid) return;
  const auto it = by_create_guid_.find({open.client_guid, open.create_guid});
  if (it != by_create_guid_.end() && it->second == &open) by_create_guid_.erase(it);
}

void Server::persist(const Open& open) {
  if (!store_ || !open.is_persistent) return;
  PersistentOpen p;
  p.id = open.id;
  p.create_guid = open.create_guid;
  p.client_guid = open.client_guid;
  p.share = open.file->share->config.name;
  p.path = open.file->path;
  p.user = open.durable_owner;
  p.desired_access = open.desired_access;
  p.granted_access = open.granted_access;
  p.share_access = open.share_access;
  p.create_options = open.create_options;
  p.is_directory = open.is_directory();
  p.delete_on_close = open.delete_on_close;
  p.durable_timeout_ms = open.durable_timeout_ms;
  p.channel_sequence = open.channel_sequence;
  p.oplock_level = open.oplock_level;
  if (open.lease) {
    p.has_lease = true;
    p.lease_key = open.lease->key;
    p.lease_state = open.lease->state;
    p.lease_epoch = open.lease->epoch;
    p.lease_v2 = open.lease->v2;
    p.parent_lease_key = open.lease->parent_key;
    p.has_parent_lease_key = open.lease->has_parent_key;
  }
  p.position = open.position;
  for (const auto& l : open.file->locks)
    if (l.owner == &open) p.locks.push_back({l.offset, l.length, l.exclusive});
  p.lock_sequences = open.lock_sequences;
  // The record is on stable storage before the response that depends on it
  // goes out (failover.md section 12).
  if (auto ok = store_->put(p); !ok) log_error("state store: " + describe(ok.error()));
}

void Server::unpersist(const Open& open) {
  if (!store_ || !open.is_persistent) return;
  if (auto ok = store_->remove(open.id); !ok) log_error("state store: " + describe(ok.error()));
}

void Server::persist_lease(const Lease& lease) {
  if (!store_) return;
  if (auto file = find_file_state(lease.file))
    for (const Open* o : file->opens)
      if (o->lease.get() == &lease && o->is_persistent) persist(*o);
}

// After a restart (or a crash) of smbxd every stored persistent open comes
// back disconnected, with its lease and byte-range locks in force, and waits
// DurableOpenTimeout for its client's DH2C (failover.md section 12). Its file
// is opened again here, by path and confined to the share like every open.
void Server::load_persistent_opens() {
  if (!store_) return;
  auto all = store_->load();
  if (!all) {
    log_error("state store: " + describe(all.error()));
    return;
  }
  for (auto& p : *all) {
    const Share* share = find_share(wire::utf16_from_utf8(p.share));
    const std::string where = p.share + ":/" + p.path;
    if (share == nullptr || !share->config.continuously_available) {
      log_warn("persistent open " + std::to_string(p.id) + " of " + where + ": the share is no longer CA; dropped");
      (void)store_->remove(p.id);
      continue;
    }
    constexpr std::uint32_t kWrites = wire::access::write_data | wire::access::append_data |
                                      wire::access::write_attributes | wire::access::write_ea;
    const int flags = p.is_directory ? O_RDONLY | O_DIRECTORY
                                     : ((p.granted_access & kWrites) && !share->config.readonly ? O_RDWR : O_RDONLY);
    const int fd = open_beneath(share->root_fd, p.path, flags);
    std::optional<FileStat> sx;
    if (fd >= 0)
      if (auto got = stat_fd(fd)) sx = *got;
    if (!sx) {
      if (fd >= 0) ::close(fd);
      log_warn("persistent open " + std::to_string(p.id) + " of " + where + " cannot be opened again; dropped");
      (void)store_->remove(p.id);
      continue;
    }
    auto open = std::make_unique<Open>();
    open->id = p.id;
    open->fd = fd;
    open->granted_access = p.granted_access;
    open->share_access = p.share_access;
    open->oplock_level = p.oplock_level;
    open->delete_on_close = p.delete_on_close;
    open->position = p.position;
    open->is_durable = open->is_persistent = open->durable_v2 = open->replay_eligible = true;
    open->create_guid = p.create_guid;
    open->client_guid = p.client_guid;
    open->durable_owner = p.user;
    open->durable_timeout_ms = p.durable_timeout_ms;
    open->desired_access = p.desired_access;
    open->create_options = p.create_options;
    open->create_action = wire::create_action::opened;
    open->channel_sequence = p.channel_sequence;
    open->lock_sequences = p.lock_sequences;
    open->file = file_state({sx->device, sx->inode}, share, p.path, sx->is_directory);
    open->file->opens.push_back(open.get());
    if (p.has_lease) {
      auto lease = find_lease(p.client_guid, p.lease_key);
      if (!lease) {
        lease = std::make_shared<Lease>();
        lease->client_guid = p.client_guid;
        lease->key = p.lease_key;
        lease->file = open->file->key;
        lease->v2 = p.lease_v2;
        lease->parent_key = p.parent_lease_key;
        lease->has_parent_key = p.has_parent_lease_key;
        lease->state = p.lease_state;
        lease->epoch = p.lease_epoch;
        register_lease(lease);
      }
      lease->path = p.path;
      open->lease = lease;
    }
    for (const auto& l : p.locks) open->file->locks.push_back({open.get(), l.offset, l.length, l.exclusive});
    register_create_guid(*open);
    log_info("persistent open " + std::to_string(p.id) + " of " + where + " restored, waiting for its client");
    detach_open(std::move(open));
  }
}

std::vector<std::shared_ptr<Connection>> Server::connections() {
  std::erase_if(connections_, [](const auto& weak) { return weak.expired(); });
  std::vector<std::shared_ptr<Connection>> out;
  for (const auto& weak : connections_)
    if (auto c = weak.lock()) out.push_back(std::move(c));
  return out;
}

}  // namespace smbx::server
