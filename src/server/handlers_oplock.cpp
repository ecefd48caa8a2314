// Oplocks and leases (MS-SMB2 3.3.4.6, 3.3.4.7, 3.3.5.22). A CREATE that
// conflicts with another open's caching breaks it (write caching always,
// handle caching when share modes would clash, read caching when the file
// is overwritten) and, when the holder must acknowledge, waits (async) until
// it does, closes, or the break times out. Writes break other opens' read
// caching to none without waiting. The rules follow Windows as Samba's
// smbtorture records it (smb2.lease, smb2.oplock).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#include <boost/asio/experimental/awaitable_operators.hpp>

#include "crypto/transform.hpp"
#include "server/connection.hpp"
#include "server/log.hpp"

namespace smbx::server {

namespace asio = boost::asio;
namespace st = wire::status;
namespace ls = wire::lease_state;
namespace acc = wire::access;

namespace {

constexpr std::uint32_t kRWH = ls::read_caching | ls::write_caching | ls::handle_caching;

std::string lease_name(std::uint32_t state) {
  std::string s;
  if (state & ls::read_caching) s += 'R';
  if (state & ls::write_caching) s += 'W';
  if (state & ls::handle_caching) s += 'H';
  return s.empty() ? "none" : s;
}

// MS-SMB2 3.3.4.7: a lease break nobody acknowledged in time: the server
// lowers the lease itself and lets the waiting opens go on.
asio::awaitable<void> lease_break_timeout(Server& server, std::weak_ptr<Lease> weak, std::uint64_t serial,
                                          std::chrono::milliseconds after) {
  asio::steady_timer timer{co_await asio::this_coro::executor, after};
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  auto lease = weak.lock();
  if (!lease || !lease->breaking || lease->break_serial != serial) co_return;
  // MS-SMB2 3.3.2.5: an unacknowledged lease drops to none (smb2.lease.timeout).
  log_info("lease break on " + lease->path + " not acknowledged in time; lease dropped");
  lease->state = 0;
  lease->breaking = false;
  if (auto file = server.find_file_state(lease->file)) wake_create_waiters(*file);
}

asio::awaitable<void> oplock_break_timeout(std::weak_ptr<Connection> weak, std::uint64_t open_id,
                                           std::uint64_t serial, std::chrono::milliseconds after) {
  asio::steady_timer timer{co_await asio::this_coro::executor, after};
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  if (auto c = weak.lock()) c->oplock_break_timed_out(open_id, serial);
}

}  // namespace

std::string lease_state_name(std::uint32_t state) { return lease_name(state); }

std::uint32_t caching_of(const Open& open) {
  if (open.lease) return open.lease->state;
  switch (open.oplock_level) {
    case wire::oplock::batch: return kRWH;
    case wire::oplock::exclusive: return ls::read_caching | ls::write_caching;
    case wire::oplock::level_ii: return ls::read_caching;
    default: return 0;
  }
}

// Samba's is_oplock_stat_open / is_lease_stat_open: opens for attributes
// only neither break nor count against caching.
bool is_stat_open(std::uint32_t access, bool with_read_control) {
  std::uint32_t bits = acc::synchronize | acc::read_attributes | acc::write_attributes;
  if (with_read_control) bits |= acc::read_control;
  return (access & bits) != 0 && (access & ~bits) == 0;
}

void wake_create_waiters(FileState& file) {
  auto waiters = std::move(file.create_waiters);
  file.create_waiters.clear();
  for (const auto& [connection, async_id] : waiters)
    if (auto c = connection.lock()) c->retry_create(async_id);
}

bool Connection::break_for_create(FileState& file, const Lease* own, std::uint32_t access, bool sharing,
                                  bool overwrite) {
  // A stat open breaks no oplock; one with READ_CONTROL also no lease.
  if (is_stat_open(access, false)) return false;
  const bool lease_stat = is_stat_open(access, true);
  // Write caching goes; on a share-mode clash handle caching instead, so the
  // holder can close (smb2.lease.break_twice: RWH -> RW).
  const std::uint32_t delay_mask = sharing ? ls::handle_caching : ls::write_caching;
  bool delay = false;
  std::vector<Open*> holders{file.opens.begin(), file.opens.end()};
  for (Open* o : holders) {
    if (o->lease != nullptr && o->lease.get() == own) continue;
    if (o->lease != nullptr && lease_stat) continue;
    const std::uint32_t held = caching_of(*o);
    const bool breaking = o->lease ? o->lease->breaking : o->oplock_breaking;
    std::uint32_t to = held & ~delay_mask;
    if (overwrite) to &= ~(ls::handle_caching | ls::read_caching);
    if ((held & ~to) == 0) {
      if (breaking) delay = true;  // a break already under way: wait for it
      continue;
    }
    if (!o->lease) to &= ~(ls::handle_caching | ls::write_caching);  // oplocks: level II or none
    break_caching(*o, to);
    // Wait for what must be acknowledged; a holder already breaking holds
    // up a retried CREATE, not a first attempt (smb2.lease.breaking4).
    if ((held & delay_mask) != 0 || (breaking && retrying_create_)) delay = true;
  }
  return delay;
}

bool Connection::drop_detached_conflicts(FileState& file, const Lease* own, std::uint32_t access, std::uint32_t share,
                                         bool overwrite) {
  if (is_stat_open(access, false)) return false;
  const bool lease_stat = is_stat_open(access, true);
  std::vector<std::uint64_t> doomed;
  for (const Open* o : file.opens) {
    // A persistent open keeps its place; its caching is lowered by
    // break_caching() when a break reaches it (3.3.4.7).
    if (!o->detached || o->is_persistent) continue;
    if (own != nullptr && o->lease.get() == own) continue;
    const bool clash = sharing_violation(*o, access, share);
    if (o->lease != nullptr && lease_stat && !clash) continue;
    const std::uint32_t held = caching_of(*o);
    std::uint32_t to = held & ~(clash ? ls::handle_caching : ls::write_caching);
    if (overwrite) to &= ~(ls::handle_caching | ls::read_caching);
    if (clash || (held & ~to) != 0) doomed.push_back(o->id);
  }
  for (const auto id : doomed) {
    log_debug("open " + std::to_string(id) + " (disconnected, durable) closed by a conflicting open");
    server_.close_detached(id);
  }
  return !doomed.empty();
}

void Connection::break_read_caching(const Open& writer) {
  std::vector<Open*> holders{writer.file->opens.begin(), writer.file->opens.end()};
  for (Open* o : holders) {
    if (o == &writer || (o->lease != nullptr && o->lease == writer.lease)) continue;
    if ((caching_of(*o) & ls::read_caching) == 0) continue;
    if (o->lease && o->lease->breaking && o->lease->breaking_to_required == 0) continue;
    break_caching(*o, 0);
  }
}

void Connection::break_caching(Open& holder, std::uint32_t to, bool bump_epoch) {
  const auto timeout = std::chrono::milliseconds{server_.config().break_timeout_ms};
  if (holder.lease) {
    Lease& lease = *holder.lease;
    if (lease.breaking) {
      lease.breaking_to_required &= to;  // told once; the ack is checked against this
      return;
    }
    if ((lease.state & ~to) == 0) return;
    // H alone is no lease state Windows grants.
    if ((to & ls::read_caching) == 0) to = 0;
    lease.breaking = true;
    lease.breaking_to_requested = lease.breaking_to_required = to;
    ++lease.break_serial;
    if (lease.v2 && bump_epoch) ++lease.epoch;  // MS-SMB2 3.3.4.7
    // Only a lease that caches writes or handles must be acknowledged.
    const bool ack = (lease.state & (ls::write_caching | ls::handle_caching)) != 0;
    auto c = lease.connection.lock();
    if (!c) {
      // The connection of the latest open is gone: any other of the lease's
      // opens (same client, another connection) can take the break.
      for (const Open* o : holder.file->opens)
        if (o->lease == holder.lease)
          if (auto other = o->connection.lock()) {
            c = other;
            lease.connection = other;
            lease.session_id = o->session_id;
            lease.tree_id = o->tree_id;
            break;
          }
    }
    if (c) c->send_lease_break(lease, ack);
    if (!ack || !c) {
      lease.state = to;
      lease.breaking = false;
      server_.persist_lease(lease);
      // MS-SMB2 3.3.4.7: nobody to tell; a disconnected durable open that
      // loses H goes (a persistent one keeps the lowered state).
      if (!c && (to & ls::handle_caching) == 0)
        for (const Open* o : holder.file->opens)
          if (o->lease == holder.lease && o->detached && !o->is_persistent) server_.close_detached_later(o->id);
      return;
    }
    asio::co_spawn(socket_.get_executor(),
                   lease_break_timeout(server_, holder.lease, lease.break_serial, timeout), asio::detached);
    return;
  }
  const std::uint8_t target = (to & ls::read_caching) ? wire::oplock::level_ii : wire::oplock::none;
  if (holder.oplock_level == wire::oplock::none || holder.oplock_level == target) return;
  if (holder.oplock_breaking) {
    holder.oplock_break_to = std::min(holder.oplock_break_to, target);
    return;
  }
  auto c = holder.connection.lock();
  if (holder.oplock_level == wire::oplock::level_ii) {
    // MS-SMB2 3.3.4.6: level II to none needs no acknowledgment.
    if (c) c->send_oplock_break(holder, wire::oplock::none);
    holder.oplock_level = wire::oplock::none;
    return;
  }
  if (!c) {
    holder.oplock_level = target;
    // MS-SMB2 3.3.4.6: a disconnected durable open loses its batch oplock: it goes.
    if (holder.detached && !holder.is_persistent) server_.close_detached_later(holder.id);
    return;
  }
  holder.oplock_breaking = true;
  holder.oplock_break_to = target;
  ++holder.oplock_break_serial;
  c->send_oplock_break(holder, target);
  asio::co_spawn(socket_.get_executor(), oplock_break_timeout(c, holder.id, holder.oplock_break_serial, timeout),
                 asio::detached);
}

void Connection::oplock_break_timed_out(std::uint64_t open_id, std::uint64_t serial) {
  const auto it = opens_.find(open_id);
  if (it == opens_.end()) return;
  Open& open = *it->second;
  if (!open.oplock_breaking || open.oplock_break_serial != serial) return;
  // MS-SMB2 3.3.2.1: an unacknowledged oplock drops to none.
  log_info("oplock break on " + open.file->path + " not acknowledged in time; oplock dropped");
  open.oplock_level = wire::oplock::none;
  open.oplock_breaking = false;
  wake_create_waiters(*open.file);
}

// MS-SMB2 2.2.23.1: MessageId all ones, unsigned; encrypted when the
// session or share requires encryption (3.3.4.6, 3.3.4.7).
void Connection::send_unsolicited(std::uint64_t session_id, std::uint32_t tree_id, const wire::Body& body) {
  wire::Header h;
  h.command = wire::Command::oplock_break;
  h.flags = wire::flags::server_to_redir;
  h.message_id = wire::kUnsolicitedMessageId;
  Session* session = find_session(session_id);
  bool encrypt = false;
  if (session != nullptr && session->nonces) {
    const auto tree = session->trees.find(tree_id);
    encrypt = session->encrypt_data || (tree != session->trees.end() && tree->second.encrypt_data);
  }
  if (encrypt) h.session_id = session->id;
  Bytes message = wire::encode_message(h, body);
  if (encrypt) {
    auto nonce = session->nonces->next();
    if (!nonce) return;
    message = crypto::encrypt_message(cipher_, session->keys.decryption, *nonce, session->id, message);
  }
  queue_frame(std::move(message));
}

void Connection::send_oplock_break(const Open& open, std::uint8_t level) {
  log_debug("breaking the oplock of open " + std::to_string(open.id));
  send_unsolicited(open.session_id, open.tree_id, wire::OplockBreak{level, {open.id, open.id}});
}

void Connection::send_lease_break(const Lease& lease, bool ack_required) {
  log_debug("breaking the lease on " + lease.path + " from " + lease_name(lease.state) + " to " +
            lease_name(lease.breaking_to_requested) + ", epoch " + std::to_string(lease.epoch));
  wire::LeaseBreakNotification n;
  n.new_epoch = lease.v2 ? lease.epoch : 0;
  n.flags = ack_required ? wire::lease_break_flags::ack_required : 0;
  n.lease_key = lease.key;
  n.current_lease_state = lease.state;
  n.new_lease_state = lease.breaking_to_requested;
  send_unsolicited(lease.session_id, lease.tree_id, n);
}

void Connection::retry_create(std::uint64_t async_id) {
  const auto it = pending_.find(async_id);
  if (it == pending_.end() || it->second.work.kind != AsyncWork::Kind::create) return;
  const Pending& p = it->second;
  auto body = wire::decode_body(p.header, p.work.message, dialect_);
  Session* session = find_session(p.header.session_id);
  if (!body || session == nullptr || session->state != Session::State::valid) {
    complete_pending(async_id, st::USER_SESSION_DELETED, wire::ErrorResponse{});
    return;
  }
  const auto tree = session->trees.find(p.header.tree_id);
  if (tree == session->trees.end()) {
    complete_pending(async_id, st::NETWORK_NAME_DELETED, wire::ErrorResponse{});
    return;
  }
  Request request{p.header, p.work.message, std::move(*body), session, &tree->second, p.encrypted};
  current_related_ = false;
  retrying_create_ = true;
  // A rename (SET_INFO) waits for breaks the same way as a CREATE.
  const bool is_set_info = std::holds_alternative<wire::SetInfoRequest>(request.body);
  Reply reply = is_set_info ? handle_set_info(request) : handle_create(request);
  retrying_create_ = false;
  if (reply.async) {  // still (or again) breaking: wait again
    if (auto file = server_.find_file_state(reply.async->file))
      file->create_waiters.emplace_back(weak_from_this(), async_id);
    return;
  }
  complete_pending(async_id, reply.status, reply.body);
}

Reply Connection::handle_oplock_break(Request& r) {
  if (const auto* lack = std::get_if<wire::LeaseBreakAck>(&r.body)) return handle_lease_break_ack(*lack);
  const auto* ack = std::get_if<wire::OplockBreak>(&r.body);
  if (ack == nullptr) return fail(st::INVALID_PARAMETER);
  Open* open = find_open(r, ack->file_id);
  if (open == nullptr) return fail(open_error_);
  // MS-SMB2 3.3.5.22.1: only an oplock being broken can be acknowledged.
  if (!open->oplock_breaking) return fail(0xC00000E3);  // STATUS_INVALID_OPLOCK_PROTOCOL
  if (ack->oplock_level != wire::oplock::none && ack->oplock_level != wire::oplock::level_ii) {
    open->oplock_breaking = false;
    open->oplock_level = wire::oplock::none;
    wake_create_waiters(*open->file);
    return fail(st::INVALID_PARAMETER);
  }
  const std::uint8_t level =
      ack->oplock_level == wire::oplock::level_ii && open->oplock_break_to == wire::oplock::level_ii
          ? wire::oplock::level_ii
          : wire::oplock::none;
  open->oplock_level = level;
  open->oplock_breaking = false;
  if (open->is_persistent) server_.persist(*open);
  Reply reply;
  reply.body = wire::OplockBreak{level, ack->file_id};
  auto file = open->file;
  wake_create_waiters(*file);
  return reply;
}

// MS-SMB2 3.3.5.22.2
Reply Connection::handle_lease_break_ack(const wire::LeaseBreakAck& ack) {
  auto lease = server_.find_lease(client_guid_, ack.lease_key);
  if (!lease) return fail(st::OBJECT_NAME_NOT_FOUND);
  if (!lease->breaking) return fail(st::UNSUCCESSFUL);
  if ((ack.lease_state & ~lease->breaking_to_requested) != 0) return fail(st::REQUEST_NOT_ACCEPTED);
  lease->state = ack.lease_state;
  if ((lease->state & ~lease->breaking_to_required) != 0) {
    // Opens that arrived during the break need less than was asked: break
    // again, in steps as Windows does (H first, then R; smb2.lease.breaking3).
    const std::uint32_t required = lease->breaking_to_required;
    std::uint32_t step = required;
    if ((lease->state & ~ls::read_caching) != 0) step |= lease->state & ls::read_caching;
    lease->breaking = false;
    if (auto file = server_.find_file_state(lease->file))
      for (Open* o : file->opens)
        if (o->lease == lease) {
          // Follow-up breaks keep the epoch, as Windows does (smb2.lease.v2_breaking3).
          break_caching(*o, step, false);
          if (lease->breaking) lease->breaking_to_required = required;
          break;
        }
  } else {
    lease->breaking = false;
  }
  server_.persist_lease(*lease);  // before the acknowledgment is answered (failover.md section 12)
  Reply reply;
  reply.body = wire::LeaseBreakAck{0, ack.lease_key, ack.lease_state, 0};
  if (auto file = server_.find_file_state(lease->file)) wake_create_waiters(*file);
  return reply;
}

}  // namespace smbx::server
