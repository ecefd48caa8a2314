// Connection: framing, decryption, compound chains, credits, signatures and
// dispatch (MS-SMB2 3.3.5.1 - 3.3.5.2, 3.3.4.1).
#include "server/connection.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <span>

#include <boost/asio/experimental/awaitable_operators.hpp>

#include "crypto/signing.hpp"
#include "crypto/transform.hpp"
#include "server/log.hpp"
#include "wire/writer.hpp"

namespace smbx::server {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;
namespace st = wire::status;
using wire::Command;

Open::~Open() {
  if (fd >= 0) ::close(fd);
  if (file) std::erase(file->opens, this);
}

bool CreditWindow::consume(std::uint64_t message_id, std::uint16_t charge) {
  if (charge == 0) charge = 1;
  if (message_id < low_ || message_id >= high_ || high_ - message_id < charge) return false;
  for (std::uint16_t k = 0; k < charge; ++k)
    if (used_above_low_.count(message_id + k) != 0) return false;
  for (std::uint16_t k = 0; k < charge; ++k) used_above_low_.insert(message_id + k);
  while (!used_above_low_.empty() && *used_above_low_.begin() == low_) {
    used_above_low_.erase(used_above_low_.begin());
    ++low_;
  }
  return true;
}

Connection::Connection(Server& server, asio::ip::tcp::socket socket)
    : server_{server}, socket_{std::move(socket)}, opens_{server.open_table()} {
  boost::system::error_code ec;
  const auto ep = socket_.remote_endpoint(ec);
  peer_ = ec ? std::string{"?"} : ep.address().to_string() + ":" + std::to_string(ep.port());
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
}

Connection::~Connection() = default;

asio::awaitable<void> Connection::run() {
  auto self = shared_from_this();
  log_info("connection from " + peer_);
  deadline_ = Clock::now() + idle_timeout_;
  writer_wake_.emplace(socket_.get_executor());
  drained_.emplace(socket_.get_executor());
  co_await (read_loop() || watchdog() || write_loop());
  for (const auto& [id, p] : pending_)
    if (p.work.kind == AsyncWork::Kind::create && p.work.has_create_guid)
      server_.set_create_in_progress(client_guid_, p.work.create_guid, false);
  pending_.clear();
  // MS-SMB2 3.3.7.1: this connection's channels go. A session with another
  // channel lives on there, opens and all; a session without one ends: its
  // durable opens stay, detached, for their timeout, the others close.
  for (auto& [id, binding] : bindings_) std::erase_if(binding.session->channels, [this](const Channel& c) {
    return c.connection == this;
  });
  bindings_.clear();
  const auto sessions = std::move(sessions_);
  sessions_.clear();
  for (const auto& [id, session] : sessions) {
    std::erase_if(session->channels, [this](const Channel& c) { return c.connection == this; });
    std::erase_if(session->channels, [](const Channel& c) { return c.weak.expired(); });
    if (session->channels.empty()) {
      release_opens(id);
      if (server_.find_session(id) == session) server_.unregister_session(id);
    } else {
      channel_gone(*session, this);
    }
  }
  boost::system::error_code ec;
  socket_.close(ec);
  log_info("connection from " + peer_ + " closed");
}

// Ends the connection when deadline_ passes; read_loop() pushes it forward
// before every wait (asio's cpp20 timeout example).
asio::awaitable<void> Connection::watchdog() {
  asio::steady_timer timer{socket_.get_executor()};
  for (;;) {
    timer.expires_at(deadline_);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (deadline_ <= Clock::now()) {
      log_info("connection from " + peer_ + " timed out");
      co_return;
    }
  }
}

asio::awaitable<void> Connection::read_loop() {
  std::array<std::uint8_t, 4> prefix{};
  Bytes frame;
  auto& faults = server_.faults();
  const auto fault_watch = faults.watch(this, socket_);  // fault injection (faults.hpp)
  for (;;) {
    deadline_ = Clock::now() + idle_timeout_;
    auto [ec, n] = co_await asio::async_read(socket_, asio::buffer(prefix), asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    // MS-SMB2 2.1: Direct TCP, a zero byte and a 24-bit big-endian length.
    const std::size_t size = (std::size_t{prefix[1]} << 16) | (std::size_t{prefix[2]} << 8) | prefix[3];
    if (prefix[0] != 0 || size < 4 || size > kMaxFrameSize) {
      log_warn("connection from " + peer_ + ": bad frame header (length " + std::to_string(size) + ")");
      co_return;
    }
    frame.resize(size);
    deadline_ = Clock::now() + std::chrono::seconds{60};
    auto [ec2, n2] = co_await asio::async_read(socket_, asio::buffer(frame), asio::as_tuple(asio::use_awaitable));
    if (ec2) co_return;
    deadline_ = Clock::now() + idle_timeout_;  // a freeze (at most 600 s) is no idle timeout
    if (!co_await faults.hold(this)) co_return;
    OutFrame response;
    if (!process_frame(frame, response)) {
      log_debug("connection from " + peer_ + ": dropped after a protocol violation");
      co_return;
    }
    const auto verdict = faults.after_frame(this);
    if (verdict == Faults::Verdict::drop_and_disconnect) co_return;
    if (!response.empty() && verdict == Faults::Verdict::answer) queue_frame(std::move(response));
    // Back-pressure: read the next request only while little is queued (a
    // client that stops reading stops being served). Up to two large READ
    // responses may wait, so the next pread overlaps the sending of the last.
    while (outgoing_bytes_ > kMaxQueuedBytes) {
      drained_->expires_at(Clock::time_point::max());
      co_await drained_->async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }
}

void Connection::queue_frame(OutFrame frame) {
  outgoing_bytes_ += frame.length();
  outgoing_.push_back(std::move(frame));
  if (writer_wake_) writer_wake_->cancel();
}

// Sends queued frames in order: responses, and the final responses of async
// requests that other events (an unlock, a CANCEL, a close) complete.
asio::awaitable<void> Connection::write_loop() {
  for (;;) {
    while (outgoing_.empty()) {
      writer_wake_->expires_at(Clock::time_point::max());
      co_await writer_wake_->async_wait(asio::as_tuple(asio::use_awaitable));
    }
    OutFrame frame = std::move(outgoing_.front());
    outgoing_.pop_front();
    outgoing_bytes_ -= frame.length();
    if (outgoing_bytes_ <= kMaxQueuedBytes) drained_->cancel();
    const auto out_size = frame.length();
    const std::array<std::uint8_t, 4> out_prefix{0, static_cast<std::uint8_t>(out_size >> 16),
                                                 static_cast<std::uint8_t>(out_size >> 8),
                                                 static_cast<std::uint8_t>(out_size)};
    const ByteView body = frame.view();
    const std::array<asio::const_buffer, 2> buffers{asio::buffer(out_prefix),
                                                    asio::buffer(body.data(), body.size())};
    if (!co_await server_.faults().before_send(this)) co_return;  // freeze, delay (faults.hpp)
    deadline_ = std::max(deadline_, Clock::now() + std::chrono::seconds{60});
    auto [ec, n] = co_await asio::async_write(socket_, buffers, asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    server_.io_buffers().give_back(std::move(frame.buffer));
  }
}

Session* Connection::find_session(std::uint64_t id) {
  const auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : it->second.get();
}

Connection::SigningKey Connection::signing_key_for(Session& session) const {
  if (const Channel* c = session.find_channel(this); c != nullptr && !c->signing_key.empty())
    return {c->signing_key, c->signing_algorithm};
  return {session.keys.signing, session.signing_algorithm};
}

bool Connection::verify_request(Session& session, ByteView message) const {
  const auto key = signing_key_for(session);
  return crypto::verify_signature(key.algorithm, key.key, message);
}

crypto::PreauthHash* Connection::setup_preauth(std::uint64_t session_id) {
  if (const auto it = bindings_.find(session_id); it != bindings_.end()) return &it->second.preauth;
  Session* session = find_session(session_id);
  return session != nullptr ? &session->preauth : nullptr;
}

// The sessions that lost a channel but live on: what pointed at the lost
// connection (break notifications of opens and leases, MS-SMB2 3.3.4.6 /
// 3.3.4.7) now goes to the first channel left.
void Connection::channel_gone(Session& session, const Connection* gone) {
  std::shared_ptr<Connection> next;
  for (const auto& c : session.channels)
    if (c.connection != gone && !c.signing_key.empty())
      if ((next = c.weak.lock())) break;
  if (!next) return;
  for (auto& [id, open] : opens_) {
    if (open->session_id != session.id) continue;
    if (open->connection.lock().get() == gone || open->connection.expired()) open->connection = next;
    if (open->lease && open->lease->session_id == session.id &&
        (open->lease->connection.lock().get() == gone || open->lease->connection.expired()))
      open->lease->connection = next;
  }
  log_debug("session " + std::to_string(session.id) + " lost a channel; " + std::to_string(session.channels.size()) +
            " left");
}

bool Connection::process_frame(Bytes& frame, OutFrame& response) {
  switch (wire::protocol_id(frame)) {
    case wire::kSmb1ProtocolId:
      if (negotiated_ || smb1_negotiated_wildcard_) return false;
      return process_smb1_negotiate(frame, response.bytes);
    case wire::kSmb2ProtocolId:
      return process_chain(frame, nullptr, response);
    case wire::kTransformProtocolId: {
      // MS-SMB2 3.3.5.2.1.1: any failure here ends the connection.
      if (!negotiated_ || cipher_ == crypto::Cipher::none) return false;
      auto message = wire::decode_transform(frame);
      if (!message) return false;
      Session* session = find_session(message->header.session_id);
      if (session == nullptr || !session->has_keys || session->keys.encryption.empty()) return false;
      // Decrypted where it lies: a 1 MiB WRITE is not copied into a second buffer.
      auto plain = crypto::decrypt_message_in_place(cipher_, session->keys.encryption, *message, frame);
      if (!plain) {
        log_warn("connection from " + peer_ + ": " + describe(plain.error()));
        return false;
      }
      if (!session->logged_encryption) {
        session->logged_encryption = true;
        log_debug("connection from " + peer_ + ": session " + std::to_string(session->id) +
                  " sends encrypted requests");
      }
      return process_chain(ByteView{plain->data(), plain->size()}, session, response);
    }
    default:
      return false;  // compressed messages are not negotiated
  }
}

std::uint16_t Connection::charge_of(const wire::Header& h, const wire::Body& body, bool& too_small) const {
  std::uint64_t payload = 0;
  if (const auto* rd = std::get_if<wire::ReadRequest>(&body)) payload = rd->length;
  else if (const auto* wr = std::get_if<wire::WriteRequest>(&body)) payload = wr->data.size();
  else if (const auto* io = std::get_if<wire::IoctlRequest>(&body))
    payload = std::max<std::uint64_t>(io->input.size(), io->max_output_response);
  else if (const auto* qd = std::get_if<wire::QueryDirectoryRequest>(&body)) payload = qd->output_buffer_length;
  // MS-SMB2 3.3.5.2.5
  if (!supports_multi_credit_ || h.credit_charge == 0) {
    too_small = payload > 65536;
    return 1;
  }
  const std::uint64_t needed = payload == 0 ? 1 : (payload - 1) / 65536 + 1;
  too_small = needed > h.credit_charge;
  return h.credit_charge;
}

// MS-SMB2 3.3.1.2: grant what the request consumed plus what more it asked
// for (none more on NEGOTIATE or an unfinished SESSION_SETUP), never past
// 8192 outstanding, never leaving the client with none. A client that asks
// for 65535 in one request gets its window filled to 8192 at once, as from
// Windows (smb2.credits.single_req_credits_granted).
std::uint16_t Connection::credits_to_grant(const wire::Header& h, std::uint16_t charge) {
  constexpr std::uint64_t kMaxCredits = 8192;
  const std::uint64_t requested = std::max<std::uint16_t>(1, h.credits);
  std::uint64_t additional_max = kMaxCredits;
  if (h.command == Command::negotiate) additional_max = 0;
  if (h.command == Command::session_setup)
    additional_max = h.status_or_channel_sequence == st::SUCCESS ? kMaxCredits : 0;
  const std::uint64_t outstanding = credits_.outstanding();
  const std::uint64_t possible = kMaxCredits > outstanding + charge ? kMaxCredits - outstanding - charge : 0;
  const std::uint64_t additional = std::min({requested - 1, additional_max, possible});
  std::uint64_t granted = charge + additional;
  if (outstanding + granted == 0) granted = 1;
  if (outstanding + granted > kMaxCredits) granted = kMaxCredits > outstanding ? kMaxCredits - outstanding : 0;
  credits_.grant(static_cast<std::uint32_t>(granted));
  return static_cast<std::uint16_t>(granted);
}

namespace {

struct ChainMember {
  wire::Header header;
  ByteView bytes;
  bool unknown_command = false;
};

// wire::split_compound, except that a member with a command code MS-SMB2 does
// not define is kept (and answered INVALID_PARAMETER, smb2.compound.invalid4)
// instead of failing the whole chain.
std::optional<std::vector<ChainMember>> split_chain(ByteView frame) {
  std::vector<ChainMember> members;
  std::size_t start = 0;
  for (;;) {
    const ByteView rest = frame.subspan(start);
    ChainMember m;
    auto header = wire::decode_header(rest);
    if (!header && header.error().wire == WireError::unknown_command && rest.size() >= wire::kHeaderSize) {
      Bytes copy(rest.begin(), rest.begin() + wire::kHeaderSize);
      store_le16(copy.data() + 12, 0);
      header = wire::decode_header(copy);
      if (header) header->command = static_cast<Command>(load_le16(rest.data() + 12));
      m.unknown_command = true;
    }
    if (!header) return std::nullopt;
    m.header = *header;
    std::size_t length = rest.size();
    const std::uint32_t next = m.header.next_command;
    if (next != 0) {
      // MS-SMB2 3.3.5.2.7: each next header starts 8-aligned, after this one.
      if (next < wire::kHeaderSize || next % 8 != 0 || next >= rest.size()) return std::nullopt;
      length = next;
    }
    m.bytes = rest.first(length);
    members.push_back(m);
    if (next == 0) return members;
    start += length;
  }
}

}  // namespace

bool Connection::process_chain(ByteView chain, Session* transform_session, OutFrame& out_frame) {
  Bytes& response = out_frame.bytes;
  auto members = split_chain(chain);
  if (!members) return false;
  const bool encrypted = transform_session != nullptr;
  struct Out {
    Bytes bytes;
    bool sign = false;
    Bytes key;
    crypto::SigningAlgorithm algorithm = crypto::SigningAlgorithm::hmac_sha256;
    // The session (or binding) whose preauth hash takes the response as
    // sent (3.1.1 SESSION_SETUP); looked up when it is, as a later member
    // of the chain may have ended it.
    std::optional<std::uint64_t> preauth_session;
    // A lone READ's response, built around its data in the buffer it was
    // read into: the message is buffer[message_at, message_at + message_size),
    // with kTransformHeaderSize bytes of room in front.
    IoBuffer buffer;
    std::size_t message_at = 0;
    std::size_t message_size = 0;
  };
  std::vector<Out> outs;
  std::optional<std::uint64_t> ended_session;
  std::uint64_t related_session = 0;
  std::uint32_t related_tree = 0;
  // MS-SMB2 3.3.5.2.7.2: a related request needs the previous one to have
  // had a session (and tree) that passed the checks.
  bool related_session_ok = false;
  bool related_tree_ok = false;
  related_file_.reset();
  related_status_ = st::SUCCESS;

  for (std::size_t i = 0; i < members->size(); ++i) {
    const auto& m = (*members)[i];
    wire::Header h = m.header;
    if (h.is_response()) return false;
    const bool related = h.is_related() && i > 0;
    // An unrelated request starts a new chain of FileIds (Samba resets its
    // chained open the same way).
    if (!related) related_file_.reset();
    if (related) {
      h.session_id = related_session;
      h.tree_id = related_tree;
    }
    // MS-SMB2 3.3.5.2.9: an encrypted message belongs to the session that encrypted it.
    if (encrypted && h.session_id != transform_session->id) return false;
    // MS-SMB2 3.3.5.16: CANCEL uses no credit and gets no response of its own.
    if (h.command == Command::cancel) {
      if (!server_.faults().ignore_cancels()) cancel_request(h);
      continue;
    }
    if (!negotiated_ && h.command != Command::negotiate) return false;

    auto body = m.unknown_command
                    ? Expected<wire::Body>{wire_error(WireError::unknown_command, "unknown command")}
                    : wire::decode_body(h, m.bytes, negotiated_ ? std::optional{dialect_} : std::nullopt);
    bool too_small = false;
    const std::uint16_t charge = body ? charge_of(h, *body, too_small) : std::max<std::uint16_t>(1, h.credit_charge);
    if (!credits_.consume(h.message_id, supports_multi_credit_ ? charge : 1)) {
      log_warn("connection from " + peer_ + ": MessageId " + std::to_string(h.message_id) +
               " is outside the credit window");
      return false;
    }
    current_related_ = related;

    Reply reply;
    bool session_ok = false;
    bool tree_ok = false;
    Session* session = h.command == Command::negotiate ? nullptr : find_session(h.session_id);
    // MS-SMB2 3.3.5.2.4: a SESSION_SETUP may name a session this connection
    // is no channel of (binding, or a mistake): its signature is checked
    // with Session.SigningKey from the GlobalSessionTable.
    std::shared_ptr<Session> held = h.command == Command::negotiate ? nullptr : server_.find_session(h.session_id);
    Session* signer = session != nullptr ? session : (h.command == Command::session_setup ? held.get() : nullptr);
    const bool can_verify = signer != nullptr && signer->state == Session::State::valid && signer->has_keys;
    bool signature_ok = false;
    const bool needs_session = h.command != Command::negotiate && h.command != Command::session_setup &&
                               h.command != Command::echo;
    const bool needs_tree = needs_session && h.command != Command::logoff && h.command != Command::tree_connect;
    if (!body) {
      log_debug("connection from " + peer_ + ": " + describe(body.error()));
      reply = fail(st::INVALID_PARAMETER);
    } else if (h.is_related() && i == 0) {
      reply = fail(st::INVALID_PARAMETER);  // MS-SMB2 3.3.5.2.7.2: the first cannot be related
    } else if (related && ((needs_session && !related_session_ok) || (needs_tree && !related_tree_ok))) {
      reply = fail(st::INVALID_PARAMETER);
    } else if (too_small) {
      reply = fail(st::INVALID_PARAMETER);
    } else if (h.command == Command::negotiate && h.is_signed()) {
      reply = fail(st::INVALID_PARAMETER);  // MS-SMB2 3.3.5.2.4
    } else if (can_verify && !encrypted && h.is_signed() &&
               !(signature_ok = verify_request(*signer, m.bytes))) {
      log_warn("connection from " + peer_ + ": bad signature on " + std::string{wire::to_string(h.command)});
      reply = fail(st::ACCESS_DENIED);
    } else if (can_verify && !encrypted && !h.is_signed() && signer->signing_required &&
               (h.command != Command::session_setup || session != nullptr)) {
      // MS-SMB2 3.3.5.2.4: signing required; also for a SESSION_SETUP of a
      // session of this connection (a reauthentication is signed), not for
      // one of another connection, which fails USER_SESSION_DELETED
      // (smbtorture's smb2.session.bind_negative_*).
      reply = fail(st::ACCESS_DENIED);
    } else {
      Request request{h, m.bytes, std::move(*body), nullptr, nullptr, encrypted, signature_ok};
      if (needs_session && (session == nullptr || session->state != Session::State::valid)) {
        reply = fail(st::USER_SESSION_DELETED);
      } else if (needs_session && session->encrypt_data && !encrypted) {
        reply = fail(st::ACCESS_DENIED);  // MS-SMB2 3.3.5.2.9
      } else {
        request.session = session;
        session_ok = session != nullptr && session->state == Session::State::valid;
        if (needs_tree) {
          const auto t = session->trees.find(h.tree_id);
          if (t == session->trees.end()) {
            reply = fail(st::NETWORK_NAME_DELETED);
          } else if (t->second.encrypt_data && !encrypted) {
            reply = fail(st::ACCESS_DENIED);  // MS-SMB2 3.3.5.2.11
          } else {
            request.tree = &t->second;
            tree_ok = true;
            reply = execute(request);
          }
        } else {
          reply = execute(request);
        }
      }
    }
    if (reply.disconnect) return false;

    related_status_ = reply.status;
    related_session_ok = session_ok || (reply.session_id.has_value() && reply.status == st::SUCCESS);
    related_tree_ok = tree_ok || reply.tree_id.has_value();
    related_session = reply.session_id.value_or(h.session_id);
    related_tree = reply.tree_id.value_or(h.tree_id);
    if (reply.file_id) related_file_ = reply.file_id;

    wire::Header rh;
    rh.command = h.command;
    rh.credit_charge = h.credit_charge;
    rh.status_or_channel_sequence = reply.status;
    rh.flags = wire::flags::server_to_redir | (h.flags & (wire::flags::related_operations | wire::flags::priority_mask));
    // A signed request for a session this connection does not know: the
    // answer keeps SMB2_FLAGS_SIGNED (a client that signs requires it and
    // skips the check for this status; smb2.session.bind2).
    if (!encrypted && h.is_signed() && reply.status == st::USER_SESSION_DELETED) rh.flags |= wire::flags::is_signed;
    rh.message_id = h.message_id;
    rh.process_id = h.process_id;
    rh.tree_id = related_tree;
    rh.session_id = related_session;
    wire::Header grant_view = h;
    grant_view.status_or_channel_sequence = reply.status;
    rh.credits = credits_to_grant(grant_view, supports_multi_credit_ ? charge : 1);

    Session* rs = h.command == Command::negotiate ? nullptr : find_session(rh.session_id);
    // A SESSION_SETUP whose session this connection is no channel of (yet):
    // answered signed with Session.SigningKey when the request was (Samba;
    // smbtorture's smb2.session.bind_negative_* check the status through it).
    std::shared_ptr<Session> rs_held = rs == nullptr && signature_ok && h.command == Command::session_setup
                                           ? server_.find_session(rh.session_id)
                                           : nullptr;
    if (rs_held) rs = rs_held.get();
    const bool bad_signature = can_verify && !encrypted && h.is_signed() && !signature_ok;
    const bool should_sign = !encrypted && !bad_signature && rs != nullptr && rs->has_keys &&
                             rs->state == Session::State::valid && (h.is_signed() || rs->signing_required);
    if (reply.async) {
      // MS-SMB2 3.3.4.2: an interim response, unsigned, with a new AsyncId;
      // the final one follows from complete_pending().
      const std::uint64_t async_id = next_async_id_++;
      rh.flags |= wire::flags::async_command;
      rh.async_id = async_id;
      rh.status_or_channel_sequence = st::PENDING;
      wire::Header request_header = h;
      request_header.session_id = rh.session_id;
      request_header.tree_id = rh.tree_id;
      pending_[async_id] = Pending{request_header, encrypted, should_sign, std::move(*reply.async)};
      Out interim;
      interim.bytes = wire::encode_message(rh, wire::ErrorResponse{});
      outs.push_back(std::move(interim));
      if (pending_[async_id].work.kind == AsyncWork::Kind::create) {
        if (auto file = server_.find_file_state(pending_[async_id].work.file))
          file->create_waiters.emplace_back(weak_from_this(), async_id);
      }
      if (pending_[async_id].work.kind == AsyncWork::Kind::lock) {
        const auto open = opens_.find(pending_[async_id].work.open_id);
        if (open != opens_.end()) open->second->file->lock_waiters.emplace_back(weak_from_this(), async_id);
      }
      continue;
    }

    Out out;
    const auto* read = std::get_if<wire::ReadResponse>(&reply.body);
    IoBuffer read_buffer = std::move(read_buffer_);
    const std::uint8_t* read_data_at = read_buffer ? read_buffer.data.get() + read_data_offset(read_buffer) : nullptr;
    if (read != nullptr && read_data_at != nullptr && read->data.data() == read_data_at && !read->data.empty() &&
        members->size() == 1 && reply.status == st::SUCCESS) {
      // A lone READ: the header and the fixed part go in front of the data
      // where it was read (room left by handle_read); it is signed or sealed
      // there and sent from there. An 8 MiB READ is never copied.
      out.message_at = read_data_offset(read_buffer) - wire::kReadResponseDataOffset;
      out.message_size = wire::kReadResponseDataOffset + read->data.size();
      Bytes front;
      front.reserve(wire::kReadResponseDataOffset);
      wire::Writer w{front};
      wire::encode_header(w, rh);
      wire::encode_read_response_prefix(w, *read, static_cast<std::uint32_t>(read->data.size()));
      if (front.size() != wire::kReadResponseDataOffset) return false;  // cannot happen: 64 + 16 bytes
      std::copy(front.begin(), front.end(), read_buffer.data.get() + out.message_at);
      out.buffer = std::move(read_buffer);
    } else {
      wire::encode_message(out.bytes, rh, reply.body);  // a READ inside a compound is copied
      server_.io_buffers().give_back(std::move(read_buffer));
    }
    if (h.command == Command::negotiate && reply.status == st::SUCCESS && dialect_ == wire::Dialect::smb311) {
      preauth_.update(m.bytes);  // MS-SMB2 3.3.5.4
      preauth_.update(out.bytes);
    }
    if (h.command == Command::session_setup && reply.status == st::MORE_PROCESSING_REQUIRED &&
        dialect_ == wire::Dialect::smb311)
      out.preauth_session = rh.session_id;  // MS-SMB2 3.3.5.5.3, 3.3.5.5.2
    if (!encrypted && !bad_signature && rs != nullptr && rs->has_keys && (reply.sign_with_new_key || should_sign)) {
      const auto key = signing_key_for(*rs);  // MS-SMB2 3.3.4.1.1: the channel's key
      out.sign = true;
      out.key.assign(key.key.begin(), key.key.end());
      out.algorithm = key.algorithm;
    }
    if ((h.command == Command::logoff && reply.status == st::SUCCESS) || reply.end_session)
      ended_session = rh.session_id;
    outs.push_back(std::move(out));
  }

  if (outs.size() == 1 && outs.front().buffer) {  // a lone READ, built in its buffer
    Out& o = outs.front();
    const std::span<std::uint8_t> message{o.buffer.data.get() + o.message_at, o.message_size};
    if (o.sign) crypto::sign_message(o.algorithm, o.key, message);
    out_frame.offset = o.message_at;
    out_frame.size = o.message_size;
    if (encrypted) {
      if (!transform_session->nonces) return false;
      auto nonce = transform_session->nonces->next();
      if (!nonce) return false;
      out_frame.offset -= wire::kTransformHeaderSize;
      out_frame.size += wire::kTransformHeaderSize;
      const std::span<std::uint8_t> frame{o.buffer.data.get() + out_frame.offset, out_frame.size};
      crypto::encrypt_message_in_place(cipher_, transform_session->keys.decryption, *nonce, transform_session->id,
                                       frame);
    }
    out_frame.buffer = std::move(o.buffer);
    if (ended_session) end_session(*ended_session);
    return true;
  }
  // An encrypted response is sealed in place behind room left for its
  // TRANSFORM_HEADER, and a lone unencrypted one is moved, not copied.
  if (encrypted) {
    std::size_t total = wire::kTransformHeaderSize;
    for (const auto& o : outs) total += o.bytes.size() + 8;
    response.reserve(total);
    response.resize(wire::kTransformHeaderSize);
  }
  // MS-SMB2 3.3.4.1.3: every member but the last padded to 8 bytes; each signed alone.
  for (std::size_t i = 0; i < outs.size(); ++i) {
    auto& bytes = outs[i].bytes;
    if (i + 1 < outs.size()) {
      bytes.resize((bytes.size() + 7) & ~std::size_t{7}, 0);
      store_le32(bytes.data() + wire::kNextCommandOffset, static_cast<std::uint32_t>(bytes.size()));
    }
    if (outs[i].sign) crypto::sign_message(outs[i].algorithm, outs[i].key, bytes);
    if (outs[i].preauth_session)
      if (crypto::PreauthHash* preauth = setup_preauth(*outs[i].preauth_session)) preauth->update(bytes);
    if (!encrypted && outs.size() == 1) response = std::move(bytes);
    else response.insert(response.end(), bytes.begin(), bytes.end());
  }
  if (encrypted) {
    if (response.size() == wire::kTransformHeaderSize) {
      response.clear();  // nothing to send (a CANCEL)
    } else {
      if (!transform_session->nonces) return false;
      auto nonce = transform_session->nonces->next();
      if (!nonce) return false;
      crypto::encrypt_message_in_place(cipher_, transform_session->keys.decryption, *nonce, transform_session->id,
                                       response);
    }
  }
  if (ended_session) end_session(*ended_session);
  return true;
}

namespace {

// The FileId a request names, for the commands that carry one.
std::optional<wire::FileId> request_file_id(const wire::Body& body) {
  return std::visit(
      [](const auto& b) -> std::optional<wire::FileId> {
        if constexpr (requires { b.file_id; }) {
          if constexpr (std::is_same_v<std::remove_cvref_t<decltype(b.file_id)>, wire::FileId>) return b.file_id;
        }
        return std::nullopt;
      },
      body);
}

bool modifies(Command c) { return c == Command::write || c == Command::set_info || c == Command::ioctl; }

}  // namespace

// MS-SMB2 3.3.5.2.10: a request from an older channel epoch than the open
// has seen must not modify anything; a replay while requests of an older
// epoch are still outstanding neither. Only WRITE, SET_INFO and IOCTL fail.
bool Connection::check_channel_sequence(Open& open, const wire::Header& h) {
  const std::uint16_t seq = h.channel_sequence();
  const auto diff = static_cast<std::uint16_t>(seq - open.channel_sequence);
  const bool equal = diff == 0;
  const bool newer = diff >= 1 && diff <= 0x7FFF;
  const std::uint16_t before = open.channel_sequence;
  bool ok = true;
  if (!h.is_replay()) {
    if (equal) {
      ++open.outstanding_requests;
    } else if (newer) {
      open.outstanding_pre_requests += open.outstanding_requests;
      open.outstanding_requests = 1;
      open.channel_sequence = seq;
    } else {
      ok = !modifies(h.command);
    }
  } else {
    if (equal) {
      if (open.outstanding_pre_requests == 0) ++open.outstanding_requests;
      else ok = !modifies(h.command);
    } else if (newer) {
      open.outstanding_pre_requests += open.outstanding_requests;
      open.channel_sequence = seq;
      if (open.outstanding_pre_requests == 0) {
        open.outstanding_requests = 1;
      } else {
        open.outstanding_requests = 0;
        ok = !modifies(h.command);
      }
    } else {
      ok = !modifies(h.command);
    }
  }
  if (open.channel_sequence != before && open.is_persistent) server_.persist(open);
  return ok;
}

Reply Connection::execute(Request& r) {
  if (server_.faults().watching_requests()) {  // drop-responses COMMAND NAME (faults.hpp)
    const auto id = Faults::file_id_of(r.body);
    const Open* open = id ? find_open(r, *id) : nullptr;
    server_.faults().note_request(this, r.header.command, r.body, open && open->file ? &open->file->path : nullptr);
  }
  // MS-SMB2 3.3.5.2.10 for 3.x requests that name an open, and the
  // decrement of 3.3.4.1 once the request is answered.
  std::optional<std::uint64_t> counted;
  std::uint16_t counted_seq = 0;
  if (wire::is_smb3(dialect_) && r.header.command != Command::create) {
    if (const auto fid = request_file_id(r.body)) {
      if (Open* open = find_open(r, *fid)) {
        if (!check_channel_sequence(*open, r.header)) return fail(st::FILE_NOT_AVAILABLE);
        counted = open->id;
        counted_seq = r.header.channel_sequence();
      }
    }
  }
  Reply reply = dispatch(r);
  if (counted) {
    if (const auto it = opens_.find(*counted); it != opens_.end()) {
      Open& open = *it->second;
      auto& count = counted_seq == open.channel_sequence ? open.outstanding_requests : open.outstanding_pre_requests;
      if (count > 0) --count;
    }
  }
  return reply;
}

Reply Connection::dispatch(Request& r) {
  switch (r.header.command) {
    case Command::negotiate: return handle_negotiate(r);
    case Command::session_setup: return handle_session_setup(r);
    case Command::logoff: return handle_logoff(r);
    case Command::tree_connect: return handle_tree_connect(r);
    case Command::tree_disconnect: return handle_tree_disconnect(r);
    case Command::create: return handle_create(r);
    case Command::close: return handle_close(r);
    case Command::flush: return handle_flush(r);
    case Command::read: return handle_read(r);
    case Command::write: return handle_write(r);
    case Command::echo: return handle_echo(r);
    case Command::query_directory: return handle_query_directory(r);
    case Command::query_info: return handle_query_info(r);
    case Command::set_info: return handle_set_info(r);
    case Command::ioctl: return handle_ioctl(r);
    case Command::lock: return handle_lock(r);
    case Command::change_notify: return handle_change_notify(r);
    case Command::oplock_break: return handle_oplock_break(r);
    default:
      return fail(st::INVALID_PARAMETER);
  }
}

void Connection::complete_pending(std::uint64_t async_id, wire::NtStatus status, const wire::Body& body) {
  const auto it = pending_.find(async_id);
  if (it == pending_.end()) return;
  const Pending p = std::move(it->second);
  pending_.erase(it);
  if (p.work.kind == AsyncWork::Kind::create && p.work.has_create_guid)
    server_.set_create_in_progress(client_guid_, p.work.create_guid, false);
  // MS-SMB2 3.3.4.3: the final response of an async request: same MessageId
  // and AsyncId, no credits (they went with the interim response).
  wire::Header rh;
  rh.command = p.header.command;
  rh.credit_charge = p.header.credit_charge;
  rh.status_or_channel_sequence = status;
  rh.flags = wire::flags::server_to_redir | wire::flags::async_command;
  rh.message_id = p.header.message_id;
  rh.async_id = async_id;
  rh.session_id = p.header.session_id;
  Bytes message = wire::encode_message(rh, wire::is_error(status) ? wire::Body{wire::ErrorResponse{}} : body);
  Session* session = find_session(p.header.session_id);
  if (p.encrypted) {
    if (session == nullptr || !session->nonces) return;
    auto nonce = session->nonces->next();
    if (!nonce) return;
    message = crypto::encrypt_message(cipher_, session->keys.decryption, *nonce, session->id, message);
  } else if (p.sign && session != nullptr && session->has_keys) {
    const auto key = signing_key_for(*session);  // MS-SMB2 3.3.4.1.1
    crypto::sign_message(key.algorithm, key.key, message);
  }
  queue_frame(std::move(message));
}

// MS-SMB2 3.3.5.16: find the request by AsyncId (async form) or MessageId.
void Connection::cancel_request(const wire::Header& cancel) {
  for (const auto& [async_id, p] : pending_) {
    const bool match = cancel.is_async() ? async_id == cancel.async_id : p.header.message_id == cancel.message_id;
    if (!match) continue;
    complete_pending(async_id, st::CANCELLED, wire::ErrorResponse{});
    return;
  }
}

void Connection::end_pending_for_open(std::uint64_t open_id) {
  // Requests on the open may wait on any channel of its session.
  for (const auto& c : server_.connections()) c->end_pending_here(open_id);
}

// The open is going away: its pending requests end (MS-SMB2 3.3.4.17: a
// CHANGE_NOTIFY completes with STATUS_NOTIFY_CLEANUP).
void Connection::end_pending_here(std::uint64_t open_id) {
  std::vector<std::pair<std::uint64_t, AsyncWork::Kind>> ended;
  for (const auto& [async_id, p] : pending_)
    if (p.work.open_id == open_id) ended.emplace_back(async_id, p.work.kind);
  for (const auto& [async_id, kind] : ended) {
    if (kind == AsyncWork::Kind::change_notify)
      complete_pending(async_id, st::NOTIFY_CLEANUP, wire::ChangeNotifyResponse{});
    else
      complete_pending(async_id, st::RANGE_NOT_LOCKED, wire::ErrorResponse{});  // as Samba (smb2.lock.cancel)
  }
}

void Connection::retry_lock(std::uint64_t async_id) {
  const auto it = pending_.find(async_id);
  if (it == pending_.end() || it->second.work.kind != AsyncWork::Kind::lock) return;
  const auto open = opens_.find(it->second.work.open_id);
  if (open == opens_.end()) return;
  wire::NtStatus status = st::SUCCESS;
  bool would_block = false;
  if (try_lock(*open->second, it->second.work.locks, status, would_block)) {
    const auto& work = it->second.work;
    lock_succeeded(server_, *open->second, work.lock_sequence_index, work.lock_sequence_number);
    complete_pending(async_id, st::SUCCESS, wire::LockResponse{});
  } else if (would_block) {
    open->second->file->lock_waiters.emplace_back(weak_from_this(), async_id);
  } else {
    complete_pending(async_id, status, wire::ErrorResponse{});
  }
}

Open* Connection::find_open(const Request& r, const wire::FileId& requested) {
  wire::FileId id = requested;
  open_error_ = st::FILE_CLOSED;
  if (id == wire::FileId::related()) {
    // MS-SMB2 3.3.5.2.7.2: the FileId of the previous member of a related chain.
    if (!current_related_) return nullptr;
    if (!related_file_) {
      open_error_ = wire::is_error(related_status_) ? related_status_ : st::INVALID_PARAMETER;
      return nullptr;
    }
    id = *related_file_;
  }
  const auto it = opens_.find(id.volatile_id);
  if (it == opens_.end() || it->second->id != id.persistent) return nullptr;
  Open* open = it->second.get();
  if (open->session_id != r.header.session_id || open->tree_id != r.header.tree_id) return nullptr;
  return open;
}

// Control socket lines: "  session ..." for each valid session, then
// "  handle ..." for each open.
void Connection::describe_state(std::vector<std::string>& lines) const {
  // A session is listed once, by its first channel, with its opens.
  std::set<std::uint64_t> listed;
  for (const auto& [id, session] : sessions_) {
    if (session->state != Session::State::valid) continue;
    if (session->channels.empty() || session->channels.front().connection != this) continue;
    listed.insert(id);
    bool tree_encrypts = false;
    for (const auto& [tid, tree] : session->trees) tree_encrypts = tree_encrypts || tree.encrypt_data;
    const bool encrypting = session->encrypt_data || tree_encrypts;
    std::string line = "  session " + std::to_string(id) + " user " + session->user + " peer " + peer_ +
                       " dialect " + std::string{wire::to_string(dialect_)} + " signing " +
                       (session->signing_required ? std::string{crypto::to_string(signing_algorithm_)} : "optional") +
                       " encryption " +
                       (encrypting ? std::string{crypto::to_string(cipher_)} : std::string{"none"});
    if (session->channels.size() > 1) line += " channels " + std::to_string(session->channels.size());
    lines.push_back(std::move(line));
  }
  for (const auto& [id, open] : opens_) {
    if (listed.count(open->session_id) == 0) continue;
    char access[16];
    const std::string durability = open->is_persistent ? " persistent" : open->is_durable ? " durable" : "";
    std::snprintf(access, sizeof access, "0x%08x", open->granted_access);
    std::string caching;
    if (open->lease) caching = "lease " + lease_state_name(open->lease->state);
    else if (open->oplock_level == wire::oplock::batch) caching = "oplock batch";
    else if (open->oplock_level == wire::oplock::exclusive) caching = "oplock exclusive";
    else if (open->oplock_level == wire::oplock::level_ii) caching = "oplock level2";
    else caching = "none";
    lines.push_back("  handle " + std::to_string(id) + " session " + std::to_string(open->session_id) + " path " +
                    open->file->share->config.name + ":/" + open->file->path + " access " + access + " caching " +
                    caching + durability);
  }
}

}  // namespace smbx::server
