// Oplocks (MS-SMB2 3.3.4.6, 3.3.5.22.1): exclusive and batch oplocks for a
// sole open, broken to none when another open arrives; that CREATE waits
// (async) until the holder acknowledges, closes, or 35 s pass.
#include <boost/asio/experimental/awaitable_operators.hpp>

#include "crypto/transform.hpp"
#include "server/connection.hpp"
#include "server/log.hpp"

namespace smbx::server {

namespace asio = boost::asio;
namespace st = wire::status;

namespace {
// MS-SMB2 3.3.2.1 Oplock Break Acknowledgment Timer: 35 s (Windows' value).
constexpr std::chrono::seconds kOplockBreakTimeout{35};

asio::awaitable<void> break_timeout(std::weak_ptr<FileState> weak_file, asio::any_io_executor executor) {
  asio::steady_timer timer{executor, kOplockBreakTimeout};
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  auto file = weak_file.lock();
  if (!file || !file->break_in_progress) co_return;
  log_info("oplock break on " + file->path + " not acknowledged in time; oplock revoked");
  for (Open* o : file->opens) o->oplock_level = wire::oplock::none;
  file->break_in_progress = false;
  wake_create_waiters(*file);
}
}  // namespace

void wake_create_waiters(FileState& file) {
  auto waiters = std::move(file.create_waiters);
  file.create_waiters.clear();
  for (const auto& [connection, async_id] : waiters)
    if (auto c = connection.lock()) c->retry_create(async_id);
}

void Connection::send_oplock_break(const Open& open) {
  // MS-SMB2 2.2.23.1: MessageId all ones, unsigned; encrypted when the
  // session or share requires encryption (3.3.4.6).
  wire::Header h;
  h.command = wire::Command::oplock_break;
  h.flags = wire::flags::server_to_redir;
  h.message_id = wire::kUnsolicitedMessageId;
  Session* session = find_session(open.session_id);
  bool encrypt = false;
  if (session != nullptr && session->nonces) {
    const auto tree = session->trees.find(open.tree_id);
    encrypt = session->encrypt_data || (tree != session->trees.end() && tree->second.encrypt_data);
  }
  if (encrypt) h.session_id = session->id;
  Bytes message = wire::encode_message(h, wire::OplockBreak{wire::oplock::none, {open.id, open.id}});
  if (encrypt) {
    auto nonce = session->nonces->next();
    if (!nonce) return;
    message = crypto::encrypt_message(cipher_, session->keys.decryption, *nonce, session->id, message);
  }
  log_debug("breaking the oplock of open " + std::to_string(open.id));
  queue_frame(std::move(message));
  asio::co_spawn(socket_.get_executor(), break_timeout(open.file, socket_.get_executor()), asio::detached);
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
  Reply reply = handle_create(request);
  if (reply.async) {  // another holder appeared: wait again
    if (auto file = server_.find_file_state(reply.async->file))
      file->create_waiters.emplace_back(weak_from_this(), async_id);
    return;
  }
  complete_pending(async_id, reply.status, reply.body);
}

Reply Connection::handle_oplock_break(Request& r) {
  const auto* ack = std::get_if<wire::OplockBreak>(&r.body);
  if (ack == nullptr) return fail(st::NOT_SUPPORTED);  // lease break acks: no leases are granted
  Open* open = find_open(r, ack->file_id);
  if (open == nullptr) return fail(open_error_);
  // MS-SMB2 3.3.5.22.1: only an oplock being broken can be acknowledged, to none.
  if (!open->file->break_in_progress || open->oplock_level == wire::oplock::none)
    return fail(0xC00000E3);  // STATUS_INVALID_OPLOCK_PROTOCOL
  open->oplock_level = wire::oplock::none;
  open->file->break_in_progress = false;
  Reply reply;
  reply.body = wire::OplockBreak{wire::oplock::none, ack->file_id};
  auto file = open->file;
  wake_create_waiters(*file);
  return reply;
}

}  // namespace smbx::server
