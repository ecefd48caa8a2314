#include "client/connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "crypto/random.hpp"
#include "crypto/signing.hpp"
#include "transport/tcp_transport.hpp"
#include "wire/ntstatus.hpp"
#include "wire/transform.hpp"

// g++ 12 at -O2 reports -Wmismatched-new-delete for asio::awaitable frames, which
// pair awaitable_frame_base's own operator new and delete: a false positive, so
// it is off in the files that define coroutines.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace smbx::client {

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
// The credit balance smbx asks the server to keep it at: enough for a few
// 8 MiB reads in flight plus small requests (Samba grants up to 8192).
constexpr std::uint32_t kCreditTarget = 512;

const std::vector<wire::Dialect> kAllDialects{wire::Dialect::smb202, wire::Dialect::smb210, wire::Dialect::smb300,
                                              wire::Dialect::smb302, wire::Dialect::smb311};

Error connection_error(std::string action, std::string detail) {
  return Error{.kind = ErrorKind::transport, .wire = WireError::none, .status = 0, .action = std::move(action),
               .detail = std::move(detail)};
}

Error crypto_error(std::string action, std::string detail) {
  return Error{.kind = ErrorKind::crypto, .wire = WireError::none, .status = 0, .action = std::move(action),
               .detail = std::move(detail)};
}

// MS-SMB2 3.1.5.2: only these commands may be charged more than one credit.
bool is_multi_credit_command(wire::Command c) {
  return c == wire::Command::read || c == wire::Command::write || c == wire::Command::ioctl ||
         c == wire::Command::query_directory;
}

}  // namespace

struct PendingRequest {
  explicit PendingRequest(const asio::any_io_executor& executor)
      : signal{executor, asio::steady_timer::time_point::max()} {}
  std::uint64_t message_id = 0;
  wire::Command command = wire::Command::negotiate;
  std::uint64_t session_id = 0;
  std::uint32_t tree_id = 0;
  std::uint64_t async_id = 0;  // set by an interim response (MS-SMB2 3.2.5.1.5)
  bool encrypt = false;
  Clock::time_point deadline;
  std::optional<Expected<Response>> result;
  asio::steady_timer signal;  // cancelled to wake the waiter
};

Error status_error(std::uint32_t status, std::string action) {
  return Error{.kind = ErrorKind::status, .wire = WireError::none, .status = status, .action = std::move(action),
               .detail = {}};
}

Connection::Connection(ConnectionOptions options, std::unique_ptr<transport::Transport> transport)
    : options_{std::move(options)}, transport_{std::move(transport)} {
  if (!options_.traffic) options_.traffic = std::make_shared<TrafficCounters>();
}

Connection::~Connection() { close(); }

void Connection::close() noexcept {
  if (transport_) transport_->close();
}

asio::awaitable<Expected<std::shared_ptr<Connection>>> Connection::connect(ConnectionOptions options) {
  auto tcp = co_await transport::TcpTransport::connect(
      // A send that makes no progress for 2 minutes (a peer that stopped
      // reading) ends the connection even on a hard mount, whose requests
      // wait indefinitely: recovery then takes over.
      options.host, options.port, transport::TcpOptions{.connect_timeout = options.connect_timeout,
                                                        .send_timeout = std::min<std::chrono::milliseconds>(
                                                            options.request_timeout, std::chrono::minutes{2}),
                                                        .max_frame_size = transport::kMaxFrameSize});
  if (!tcp) co_return Unexpected{tcp.error()};
  std::shared_ptr<Connection> connection{new Connection{std::move(options), std::move(*tcp)}};
  auto executor = co_await asio::this_coro::executor;
  asio::co_spawn(executor, [self = connection]() { return self->receive_loop(); }, asio::detached);
  auto negotiated = co_await connection->negotiate();
  if (!negotiated) {
    connection->close();
    co_return Unexpected{negotiated.error()};
  }
  co_return connection;
}

asio::awaitable<Expected<void>> Connection::negotiate() {
  const auto& dialects = options_.dialects.empty() ? kAllDialects : options_.dialects;
  wire::NegotiateRequest req;
  req.security_mode = wire::negotiate_signing::enabled;
  // MS-SMB2 3.2.4.2.2.2: a client that requests leases sets SMB2_GLOBAL_CAP_LEASING.
  // PERSISTENT_HANDLES (3.2.4.2.2.2): smbx reclaims persistent opens on CA shares.
  req.capabilities = wire::global_caps::large_mtu | wire::global_caps::encryption | wire::global_caps::leasing |
                     wire::global_caps::persistent_handles;
  req.client_guid = options_.client_guid ? *options_.client_guid : crypto::random_array<16>();
  for (auto d : dialects) req.dialects.push_back(static_cast<std::uint16_t>(d));
  const auto salt = crypto::random_array<32>();
  if (req.offers(wire::Dialect::smb311)) {
    // MS-SMB2 2.2.3.1: SHA-512 is the only hash; ciphers and signing
    // algorithms in smbx's order of preference (GCM/GMAC are the fastest).
    req.negotiate_contexts.emplace_back(wire::PreauthIntegrityCapabilities{{wire::preauth_hash::sha512}, salt});
    req.negotiate_contexts.emplace_back(wire::EncryptionCapabilities{
        {wire::encryption_cipher::aes128_gcm, wire::encryption_cipher::aes128_ccm, wire::encryption_cipher::aes256_gcm,
         wire::encryption_cipher::aes256_ccm}});
    req.negotiate_contexts.emplace_back(wire::SigningCapabilities{
        {wire::signing_algorithm::aes_gmac, wire::signing_algorithm::aes_cmac, wire::signing_algorithm::hmac_sha256}});
  }
  negotiated_.client_capabilities = req.capabilities;
  negotiated_.client_security_mode = req.security_mode;
  negotiated_.client_guid = req.client_guid;
  negotiated_.offered = dialects;

  Request request{.header = {}, .body = req, .payload_size = 0, .write_data = {}};
  request.header.command = wire::Command::negotiate;
  Bytes sent;
  auto response = co_await call(std::move(request), SubmitOptions{.encrypt = false, .sent = &sent});
  if (!response) co_return Unexpected{response.error()};
  if (response->status() != wire::status::SUCCESS)
    co_return Unexpected{status_error(response->status(), "negotiate with " + options_.host)};
  auto decoded = wire::decode_negotiate_response(response->bytes);
  if (!decoded) co_return Unexpected{decoded.error()};
  const auto& rsp = *decoded;

  const auto dialect = static_cast<wire::Dialect>(rsp.dialect_revision);
  if (std::find(dialects.begin(), dialects.end(), dialect) == dialects.end())
    co_return Unexpected{connection_error("negotiate with " + options_.host,
                                          "the server chose dialect " + std::string{wire::to_string(dialect)} +
                                              ", which was not offered")};
  auto& n = negotiated_;
  n.dialect = dialect;
  n.server_security_mode = rsp.security_mode;
  n.server_capabilities = rsp.capabilities;
  n.server_guid = rsp.server_guid;
  n.max_transact_size = rsp.max_transact_size;
  n.max_read_size = rsp.max_read_size;
  n.max_write_size = rsp.max_write_size;
  n.security_buffer.assign(rsp.security_buffer.begin(), rsp.security_buffer.end());
  n.signing = crypto::default_signing_algorithm(dialect);
  // MS-SMB2 3.2.5.2: multi-credit needs 2.1+ and LARGE_MTU.
  credits_.set_multi_credit(dialect != wire::Dialect::smb202 && (rsp.capabilities & wire::global_caps::large_mtu) != 0);
  if (!credits_.multi_credit()) {
    // Without multi-credit a request carries at most 64 KiB (MS-SMB2 3.2.4.1.5).
    n.max_read_size = std::min<std::uint32_t>(n.max_read_size, 65536);
    n.max_write_size = std::min<std::uint32_t>(n.max_write_size, 65536);
    n.max_transact_size = std::min<std::uint32_t>(n.max_transact_size, 65536);
  }
  if (dialect == wire::Dialect::smb300 || dialect == wire::Dialect::smb302) {
    // MS-SMB2 3.2.5.2: 3.0.x encrypts with AES-128-CCM when both sides have the capability.
    if ((rsp.capabilities & wire::global_caps::encryption) != 0) n.cipher = crypto::Cipher::aes128_ccm;
  } else if (dialect == wire::Dialect::smb311) {
    const auto* preauth = wire::find_context<wire::PreauthIntegrityCapabilities>(rsp.negotiate_contexts);
    if (preauth == nullptr || preauth->hash_algorithms.size() != 1 ||
        preauth->hash_algorithms[0] != wire::preauth_hash::sha512)
      co_return Unexpected{connection_error("negotiate with " + options_.host,
                                            "the 3.1.1 response lacks a SHA-512 preauth integrity context")};
    n.preauth.update(sent);
    n.preauth.update(response->bytes);
    if (const auto* enc = wire::find_context<wire::EncryptionCapabilities>(rsp.negotiate_contexts);
        enc != nullptr && enc->ciphers.size() == 1) {
      if (auto c = crypto::cipher_from_id(enc->ciphers[0])) n.cipher = *c;
    }
    if (const auto* sign = wire::find_context<wire::SigningCapabilities>(rsp.negotiate_contexts);
        sign != nullptr && sign->signing_algorithms.size() == 1) {
      if (auto a = crypto::signing_algorithm_from_id(sign->signing_algorithms[0])) n.signing = *a;
    }
  }
  co_return Expected<void>{};
}

std::uint16_t Connection::charge_of(const Request& r) const noexcept {
  if (!credits_.multi_credit() || !is_multi_credit_command(r.header.command)) return 1;
  return credit_charge_for(r.payload_size);
}

asio::awaitable<Expected<void>> Connection::acquire_credits(std::uint32_t charge, Clock::time_point deadline) {
  auto executor = co_await asio::this_coro::executor;
  while (credits_.available() < charge) {
    if (failure_) co_return Unexpected{*failure_};
    if (Clock::now() >= deadline)
      co_return Unexpected{connection_error("wait for credits from " + options_.host,
                                            "timed out with " + std::to_string(credits_.available()) +
                                                " credits, needing " + std::to_string(charge))};
    asio::steady_timer turn{executor, deadline};
    credit_waiters_.push_back(&turn);
    co_await turn.async_wait(kUseTuple);
    std::erase(credit_waiters_, &turn);
  }
  co_return Expected<void>{};
}

void Connection::wake_credit_waiters() {
  for (auto* waiter : credit_waiters_) waiter->cancel();
  credit_waiters_.clear();
}

asio::awaitable<Expected<std::vector<Ticket>>> Connection::submit(std::vector<Request> chain, SubmitOptions options) {
  if (failure_) co_return Unexpected{*failure_};
  if (chain.empty()) co_return std::vector<Ticket>{};
  const ByteView write_data = chain.front().write_data;
  if (!write_data.empty() && (chain.size() != 1 || !std::holds_alternative<wire::WriteRequest>(chain.front().body)))
    co_return Unexpected{Error{.kind = ErrorKind::usage, .wire = WireError::none, .status = 0, .action = "submit",
                               .detail = "write_data is only for a single WRITE request"}};
  const auto deadline =
      Clock::now() + (options.timeout != Clock::duration{} ? options.timeout
                                                           : Clock::duration{options_.request_timeout});
  std::uint32_t total = 0;
  for (const auto& r : chain) total += charge_of(r);
  auto credited = co_await acquire_credits(total, deadline);
  if (!credited) co_return Unexpected{credited.error()};

  const auto session_id = chain.front().header.session_id;
  const auto session = sessions_.find(session_id);
  SessionSecurity* security = session == sessions_.end() ? nullptr : session->second.get();
  const bool encrypt = security != nullptr && (options.encrypt || security->encrypt);
  auto executor = co_await asio::this_coro::executor;

  std::vector<wire::ChainMember> members;
  std::vector<Ticket> tickets;
  for (auto& r : chain) {
    const auto charge = charge_of(r);
    auto& h = r.header;
    h.message_id = *credits_.take(charge);
    h.credit_charge = credits_.multi_credit() ? charge : 0;
    h.credits = credits_.request_for(charge, kCreditTarget);
    h.flags &= ~wire::flags::server_to_redir;
    auto ticket = std::make_shared<PendingRequest>(executor);
    ticket->message_id = h.message_id;
    ticket->command = h.command;
    ticket->session_id = h.session_id;
    ticket->tree_id = h.tree_id;
    ticket->encrypt = encrypt;
    ticket->deadline = deadline;
    tickets.push_back(ticket);
    members.push_back(wire::ChainMember{h, std::move(r.body)});
  }
  Bytes frame;
  // A WRITE's data stays in the caller's buffer: `frame` holds its header and
  // fixed part, and the data follows as a second piece, signed where it lies
  // and written with writev (or sealed from it when encrypting).
  ByteView tail;
  if (!write_data.empty()) {
    // MS-SMB2 2.2.21: the fixed part with DataOffset 0x70, the data after it.
    wire::Writer w{frame};
    wire::encode_header(w, members[0].header);
    wire::encode_write_request_prefix(w, std::get<wire::WriteRequest>(members[0].body),
                                      static_cast<std::uint32_t>(write_data.size()));
    tail = write_data;
    // MS-SMB2 3.1.4.1: an encrypted message is not signed (3.1.4.3).
    if (security != nullptr && security->sign && !encrypt) {
      const ByteView rest[] = {tail};
      crypto::sign_message(negotiated_.signing, security->keys.signing, frame, rest);
    }
  } else {
    frame = members.size() == 1 ? wire::encode_message(members[0].header, members[0].body)
                                : wire::encode_compound(members);
    // MS-SMB2 3.1.4.1: each member is signed on its own, padding included; an
    // encrypted message is not signed (3.1.4.3).
    if (security != nullptr && security->sign && !encrypt) {
      auto views = wire::split_compound(frame);
      if (!views) co_return Unexpected{views.error()};
      for (const auto& v : *views) {
        const auto offset = static_cast<std::size_t>(v.bytes.data() - frame.data());
        crypto::sign_message(negotiated_.signing, security->keys.signing,
                             std::span<std::uint8_t>{frame.data() + offset, v.bytes.size()});
      }
    }
  }
  if (options.sent != nullptr) {
    // The plaintext as one message (NEGOTIATE and SESSION_SETUP for the
    // preauth hash; no caller passes a WRITE, which would pay for a copy here).
    *options.sent = frame;
    options.sent->insert(options.sent->end(), tail.begin(), tail.end());
  }
  if (encrypt) {
    auto nonce = security->nonces->next();
    if (!nonce) co_return Unexpected{nonce.error()};
    const std::array<ByteView, 2> pieces{ByteView{frame}, tail};
    frame = crypto::encrypt_message(negotiated_.cipher, security->keys.encryption,
                                    ByteView{nonce->data(), crypto::nonce_size(negotiated_.cipher)}, session_id,
                                    std::span<const ByteView>{pieces.data(), tail.empty() ? 1u : 2u});
    tail = {};
  }
  // Registered before sending: the response may be dispatched while send() is suspended.
  for (const auto& t : tickets) pending_[t->message_id] = t;
  const auto frame_size = frame.size() + tail.size();
  // `tail` (the caller's WRITE data) lives until submit() returns, and send
  // returns only once the frame is written or the transport is closed.
  auto sent = co_await transport_->send(std::move(frame), tail);
  if (!sent) {
    for (const auto& t : tickets) pending_.erase(t->message_id);
    // A frame half sent leaves the stream unusable: the connection is dead,
    // and a recovering Session takes over (Tree::call).
    abort(sent.error());
    co_return Unexpected{sent.error()};
  }
  options_.traffic->bytes_sent += frame_size;
  co_return tickets;
}

asio::awaitable<Expected<Response>> Connection::wait(Ticket ticket) {
  auto& p = *ticket;
  while (!p.result) {
    if (Clock::now() >= p.deadline) {
      pending_.erase(p.message_id);
      co_await send_cancel(p);
      co_return Unexpected{connection_error(std::string{wire::to_string(p.command)} + " to " + options_.host,
                                            "timed out waiting for the response")};
    }
    p.signal.expires_at(p.deadline);
    co_await p.signal.async_wait(kUseTuple);
  }
  co_return std::move(*p.result);
}

asio::awaitable<Expected<Response>> Connection::call(Request request, SubmitOptions options) {
  std::vector<Request> chain;
  chain.push_back(std::move(request));
  auto tickets = co_await submit(std::move(chain), options);
  if (!tickets) co_return Unexpected{tickets.error()};
  co_return co_await wait(tickets->front());
}

asio::awaitable<void> Connection::cancel(Ticket ticket) {
  if (!ticket || ticket->result) co_return;
  const auto found = pending_.find(ticket->message_id);
  if (found == pending_.end() || found->second != ticket) co_return;  // answered, or timed out
  co_await send_cancel(*ticket);
}

asio::awaitable<void> Connection::send_cancel(const PendingRequest& p) {
  // MS-SMB2 3.2.4.24: CANCEL reuses the target's MessageId and takes no credit;
  // once an interim response named an AsyncId, the async form carries it.
  if (failure_) co_return;
  wire::Header h;
  h.command = wire::Command::cancel;
  h.message_id = p.message_id;
  h.session_id = p.session_id;
  if (p.async_id != 0) {
    h.flags |= wire::flags::async_command;
    h.async_id = p.async_id;
  } else {
    h.tree_id = p.tree_id;
  }
  Bytes frame = wire::encode_message(h, wire::CancelRequest{});
  const auto session = sessions_.find(p.session_id);
  if (session != sessions_.end()) {
    auto& security = *session->second;
    if (p.encrypt) {
      auto nonce = security.nonces->next();
      if (!nonce) co_return;
      frame = crypto::encrypt_message(negotiated_.cipher, security.keys.encryption,
                                      ByteView{nonce->data(), crypto::nonce_size(negotiated_.cipher)}, p.session_id,
                                      frame);
    } else if (security.sign) {
      crypto::sign_message(negotiated_.signing, security.keys.signing, frame);
    }
  }
  const auto frame_size = frame.size();
  if (co_await transport_->send(std::move(frame))) options_.traffic->bytes_sent += frame_size;
}

void Connection::add_session(std::uint64_t session_id, std::shared_ptr<SessionSecurity> security) {
  if (!security->nonces && negotiated_.cipher != crypto::Cipher::none) security->nonces.emplace(negotiated_.cipher);
  sessions_[session_id] = std::move(security);
}

void Connection::remove_session(std::uint64_t session_id) { sessions_.erase(session_id); }

asio::awaitable<void> Connection::receive_loop() {
  // Frames are decrypted here, on the engine thread: no worker thread, since
  // one core is not saturated (measured, tests/bench/transfer.sh, 1 GiB
  // AES-128-GCM get from Samba: smbx used 0.8-1.0 CPU s in 1.7-2.3 s of wall
  // time, AES a quarter of it; smbd encrypting was the limit).
  while (true) {
    auto frame = co_await transport_->receive();
    if (!frame) {
      fail_all(frame.error());
      break;
    }
    options_.traffic->bytes_received += frame->size();
    handle_frame(std::move(*frame));
  }
}

void Connection::fail_all(const Error& error) {
  const bool first = !failure_;
  if (!failure_) failure_ = error;  // the first cause is the one worth reporting
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& [id, p] : pending) {
    p->result.emplace(Unexpected{*failure_});
    p->signal.cancel();
  }
  wake_credit_waiters();
  if (first && lost_) {
    auto lost = std::move(lost_);
    lost_ = nullptr;
    lost();
  }
}

void Connection::handle_frame(transport::Frame frame) {
  bool encrypted = false;
  std::span<std::uint8_t> plain = frame.bytes();
  if (wire::protocol_id(plain) == wire::kTransformProtocolId) {
    // MS-SMB2 3.2.5.1.1: find the session by the transform's SessionId and
    // decrypt; a frame that does not decrypt ends the connection. Decrypted
    // in place: the plaintext of a READ response stays where the socket put it.
    auto transform = wire::decode_transform(plain);
    if (!transform) return abort(transform.error());
    const auto session = sessions_.find(transform->header.session_id);
    if (session == sessions_.end())
      return abort(crypto_error("decrypt a response", "no session " + std::to_string(transform->header.session_id)));
    auto plaintext =
        crypto::decrypt_message_in_place(negotiated_.cipher, session->second->keys.decryption, *transform, plain);
    if (!plaintext) return abort(plaintext.error());
    plain = *plaintext;
    encrypted = true;
  }
  const auto owned = frame.keep_alive();
  auto members = wire::split_compound(plain);
  if (!members) return abort(members.error());
  for (const auto& view : *members) handle_message(owned, view, encrypted);
}

void Connection::abort(const Error& error) {
  fail_all(error);
  close();
}

void Connection::handle_message(const std::shared_ptr<const void>& frame, const wire::MessageView& view,
                                bool encrypted) {
  const auto& h = view.header;
  if (!h.is_response()) return;
  if (h.credits != 0) {
    credits_.grant(h.credits);
    wake_credit_waiters();
  }
  if (h.message_id == wire::kUnsolicitedMessageId) {
    // MS-SMB2 3.2.5.19: a break notification is not signed (its SessionId may
    // be 0); an encrypted one was authenticated by its transform header.
    if (unsolicited_ && h.command == wire::Command::oplock_break) unsolicited_(Response{h, frame, view.bytes, encrypted});
    return;
  }
  const auto found = pending_.find(h.message_id);
  if (found == pending_.end()) return;
  auto& p = *found->second;
  if (h.status() == wire::status::PENDING && h.is_async()) {
    // MS-SMB2 3.2.5.1.5: an interim response; remember the AsyncId and keep waiting.
    p.async_id = h.async_id;
    // A blocking LOCK waits for the other holder and CHANGE_NOTIFY for a change:
    // no deadline fits them (the caller cancels). Others get pending_timeout.
    if (p.command == wire::Command::lock || p.command == wire::Command::change_notify)
      p.deadline = Clock::time_point::max();
    else
      p.deadline = std::max(p.deadline, Clock::now() + options_.pending_timeout);
    p.signal.cancel();
    return;
  }
  Expected<Response> result{Response{h, frame, view.bytes, encrypted}};
  const auto session = sessions_.find(h.session_id);
  if (!encrypted && session != sessions_.end() && session->second->sign && h.command != wire::Command::session_setup) {
    // MS-SMB2 3.2.5.1.3: verify every signed response; a successful one must be signed.
    if (h.is_signed()) {
      if (!crypto::verify_signature(negotiated_.signing, session->second->keys.signing, view.bytes))
        result = Unexpected{crypto_error(std::string{wire::to_string(h.command)} + " response",
                                         "bad " + std::string{crypto::to_string(negotiated_.signing)} + " signature")};
    } else if (!wire::is_error(h.status())) {
      result = Unexpected{crypto_error(std::string{wire::to_string(h.command)} + " response",
                                       "unsigned response on a session that requires signing")};
    }
  } else if (!encrypted && session != sessions_.end() && session->second->encrypt) {
    result = Unexpected{crypto_error(std::string{wire::to_string(h.command)} + " response",
                                     "unencrypted response on a session that requires encryption")};
  }
  auto ticket = found->second;
  pending_.erase(found);
  ticket->result.emplace(std::move(result));
  ticket->signal.cancel();
}

}  // namespace smbx::client
