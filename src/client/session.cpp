#include "client/session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <algorithm>
#include <type_traits>

#include "auth/spnego.hpp"
#include "crypto/random.hpp"
#include "crypto/signing.hpp"
#include "wire/fsctl.hpp"
#include "wire/ntstatus.hpp"

// g++ 12 at -O2 reports -Wmismatched-new-delete for asio::awaitable frames, which
// pair awaitable_frame_base's own operator new and delete: a false positive, so
// it is off in the files that define coroutines.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace smbx::client {

namespace {

Error auth_error(std::uint32_t status, std::string action, std::string detail = {}) {
  return Error{.kind = ErrorKind::auth, .wire = WireError::none, .status = status, .action = std::move(action),
               .detail = std::move(detail)};
}

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

Error transport_error(std::string action, std::string detail) {
  return Error{.kind = ErrorKind::transport, .wire = WireError::none, .status = 0, .action = std::move(action),
               .detail = std::move(detail)};
}

// MS-SMB2 3.2.4.1 / 3.2.7.1 / failover.md 6.4: the requests sent again with
// SMB2_FLAGS_REPLAY_OPERATION. LOCK carries its LockSequence as well.
bool replayable(const Request& r) {
  switch (r.header.command) {
    case wire::Command::write:
    case wire::Command::set_info:
    case wire::Command::ioctl:
    case wire::Command::lock:
      return true;
    case wire::Command::create:
      if (const auto* c = std::get_if<wire::CreateRequest>(&r.body))
        return wire::find_context<wire::DurableHandleRequestV2>(c->contexts) != nullptr;
      return false;
    default:
      return false;
  }
}

asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer t{co_await asio::this_coro::executor, d};
  co_await t.async_wait(kUseTuple);
}

}  // namespace

std::chrono::milliseconds recovery_backoff(unsigned attempt) noexcept {
  if (attempt == 0) return std::chrono::milliseconds{0};
  std::chrono::milliseconds d{50};
  for (unsigned i = 1; i < attempt && d < std::chrono::milliseconds{500}; ++i) d *= 2;
  return std::min(d, std::chrono::milliseconds{500});
}

Error lost_handle_error(const Open& open) {
  // STATUS_NETWORK_NAME_DELETED: fs maps it to ESTALE (this handle only).
  return Error{.kind = ErrorKind::status, .wire = WireError::none, .status = wire::status::NETWORK_NAME_DELETED,
               .action = "use " + open.path,
               .detail = "the handle was lost: the server no longer knew it after the reconnect"};
}

bool is_lost_handle_error(const Error& error) noexcept {
  return error.kind == ErrorKind::status && error.status == wire::status::NETWORK_NAME_DELETED &&
         error.detail.starts_with("the handle was lost");
}

void patch_file_id(wire::Body& body, const wire::FileId& id) {
  std::visit(
      [&id](auto& b) {
        if constexpr (requires { b.file_id = id; }) {
          // The 0xFF.. FileId of a related compound member stays as it is.
          if (!(b.file_id == wire::FileId::related())) b.file_id = id;
        }
      },
      body);
}

Session::~Session() {
  if (echo_timer_) echo_timer_->cancel();
}

std::string Session::principal() const {
  const auto& c = options_.credentials;
  return c.domain.empty() ? c.user : c.domain + "\\" + c.user;
}

Request Session::request(wire::Command command, wire::Body body, std::uint32_t tree_id,
                         std::uint64_t payload_size) const {
  Request r{.header = {}, .body = std::move(body), .payload_size = payload_size, .write_data = {}};
  r.header.command = command;
  r.header.session_id = id_;
  r.header.tree_id = tree_id;
  return r;
}

asio::awaitable<Expected<std::shared_ptr<Session>>> Session::setup(std::shared_ptr<Connection> connection,
                                                                  SessionOptions options, RecoveryOptions recovery) {
  std::shared_ptr<Session> session{new Session{connection, std::move(options), recovery}};
  session->executor_ = co_await asio::this_coro::executor;
  auto done = co_await session->authenticate(connection, 0);
  if (!done) co_return Unexpected{done.error()};
  session->client_guid_ = connection->negotiated().client_guid;
  session->install_handlers(*connection);
  session->install_lost_handler();
  if (connection->is_dead()) session->connection_lost(session->generation_);
  if (recovery.enabled && recovery.echo_interval.count() > 0) {
    session->echo_timer_ = std::make_shared<asio::steady_timer>(session->executor_);
    std::weak_ptr<Session> weak = session;
    auto timer = session->echo_timer_;
    asio::co_spawn(session->executor_, keep_alive(weak, timer), asio::detached);
  }
  co_return session;
}

asio::awaitable<Expected<void>> Session::authenticate(std::shared_ptr<Connection> connection, std::uint64_t previous) {
  auto& conn = *connection;
  const auto& n = conn.negotiated();
  const std::string host = conn.options().host;
  Session* session = this;
  session->id_ = 0;  // the first SESSION_SETUP of a new session carries SessionId 0
  const std::string action = "log on as " + session->principal() + " at " + host;
  if (session->options_.seal && n.cipher == crypto::Cipher::none)
    co_return Unexpected{Error{.kind = ErrorKind::crypto, .wire = WireError::none, .status = 0,
                               .action = "seal the session with " + host,
                               .detail = "the server negotiated dialect " + std::string{wire::to_string(n.dialect)} +
                                         " without encryption"}};

  auth::SpnegoClient spnego{auth::NtlmClient{session->options_.credentials, "SMBX", "cifs/" + host}};
  if (auto hint = spnego.accept_negotiate_hint(n.security_buffer); !hint) co_return Unexpected{hint.error()};
  Bytes token = spnego.initial_token();
  crypto::PreauthHash preauth{n.preauth.value()};  // MS-SMB2 3.2.4.2.3: starts from the connection's
  const bool hashes = n.dialect == wire::Dialect::smb311;

  for (int round = 0; round < 4; ++round) {
    wire::SessionSetupRequest req;
    req.security_mode = wire::negotiate_signing::enabled;
    req.security_buffer = token;
    // MS-SMB2 3.2.4.2.3.1 / 3.3.5.5.3: after a reconnect, the old session, so
    // the server tears it down and its durable opens become reclaimable.
    req.previous_session_id = previous;
    Bytes sent;
    auto response = co_await conn.call(session->request(wire::Command::session_setup, req),
                                       SubmitOptions{.encrypt = false, .sent = &sent});
    if (!response) co_return Unexpected{response.error()};
    if (hashes) preauth.update(sent);
    const auto status = response->status();
    session->id_ = response->header.session_id;
    if (status != wire::status::SUCCESS && status != wire::status::MORE_PROCESSING_REQUIRED)
      co_return Unexpected{auth_error(status, action)};
    auto rsp = wire::decode_session_setup_response(response->bytes);
    if (!rsp) co_return Unexpected{rsp.error()};
    if (status == wire::status::MORE_PROCESSING_REQUIRED) {
      if (hashes) preauth.update(response->bytes);  // MS-SMB2 3.2.5.3
      auto next = spnego.step(rsp->security_buffer);
      if (!next) co_return Unexpected{auth_error(0, action, describe(next.error()))};
      token = std::move(*next);
      continue;
    }
    // SUCCESS: the final response.
    if (!rsp->security_buffer.empty()) {
      if (auto done = spnego.finish(rsp->security_buffer); !done)
        co_return Unexpected{auth_error(0, action, describe(done.error()))};
    }
    const bool anonymous = (rsp->session_flags & (wire::session_flags::is_guest | wire::session_flags::is_null)) != 0;
    if (anonymous && session->options_.seal)
      co_return Unexpected{auth_error(0, action, "the server made this a guest session, which cannot be encrypted")};
    const auto& hash = preauth.value();
    auto security = std::make_shared<SessionSecurity>();
    security->keys = crypto::derive_session_keys(n.dialect, spnego.session_key(), n.cipher,
                                                 hashes ? ByteView{hash} : ByteView{});
    security->sign = !anonymous;
    security->encrypt = session->options_.seal || (rsp->session_flags & wire::session_flags::encrypt_data) != 0;
    if (security->encrypt && n.cipher == crypto::Cipher::none)
      co_return Unexpected{auth_error(0, action, "the server requires encryption but no cipher was negotiated")};
    // MS-SMB2 3.2.5.3.1: a 3.x server signs the final response; check it with the new key.
    if (!anonymous && (response->header.is_signed() || wire::is_smb3(n.dialect))) {
      if (!response->header.is_signed() ||
          !crypto::verify_signature(n.signing, security->keys.signing, response->bytes))
        co_return Unexpected{Error{.kind = ErrorKind::crypto, .wire = WireError::none, .status = 0, .action = action,
                                   .detail = "the final SESSION_SETUP response is not signed with the session's key"}};
    }
    session->security_ = security;
    conn.add_session(session->id_, security);
    co_return Expected<void>{};
  }
  co_return Unexpected{auth_error(0, action, "too many SESSION_SETUP rounds")};
}


asio::awaitable<Expected<void>> Session::logoff() {
  auto conn = connection_;
  auto response = co_await conn->call(request(wire::Command::logoff, wire::LogoffRequest{}));
  conn->remove_session(id_);
  shutdown();
  if (!response) co_return Unexpected{response.error()};
  co_return Expected<void>{};
}

// ---- failover ----------------------------------------------------------------

bool Session::uses_channel_sequence() const noexcept {
  const auto& n = connection_->negotiated();
  return wire::is_smb3(n.dialect) &&
         (n.server_capabilities & (wire::global_caps::persistent_handles | wire::global_caps::multi_channel)) != 0;
}

void Session::install_handlers(Connection& connection) {
  const auto dialect = connection.negotiated().dialect;
  // Weak: the connection must not own its Session (Session -> Connection).
  std::weak_ptr<Session> weak = weak_from_this();
  connection.set_unsolicited_handler([weak, dialect](const Response& r) {
    auto self = weak.lock();
    if (!self) return;
    auto body = wire::decode_body(r.header, r.bytes, dialect);
    if (!body) return;  // MS-SMB2 3.2.5.19: nothing to act on in a malformed notification
    // An OplockBreak would be for an oplock, which smbx never requests.
    const auto* n = std::get_if<wire::LeaseBreakNotification>(&*body);
    if (n == nullptr) return;
    // The Open records follow the lease, so a reclaim asks for what is held.
    for (auto& w : self->trees_)
      if (auto tree = w.lock())
        for (auto& open : tree->live_opens())
          if (open->lease_key && *open->lease_key == n->lease_key) {
            open->lease_state = n->new_lease_state;
            open->lease_epoch = n->new_epoch;
          }
    self->report_lease_break(LeaseBreak{.key = n->lease_key, .current_state = n->current_lease_state,
                                        .new_state = n->new_lease_state,
                                        .ack_required = (n->flags & wire::lease_break_flags::ack_required) != 0});
  });
}

void Session::install_lost_handler() {
  std::weak_ptr<Session> weak = weak_from_this();
  connection_->set_lost_handler([weak, generation = generation_]() {
    if (auto self = weak.lock()) self->connection_lost(generation);
  });
}

void Session::set_lease_handler(std::function<void(const LeaseBreak&)> handler) {
  lease_handler_ = handler ? std::make_shared<std::function<void(const LeaseBreak&)>>(std::move(handler)) : nullptr;
}

void Session::report_lease_break(const LeaseBreak& b) {
  // A copy: the handler may replace itself.
  if (auto handler = lease_handler_) (*handler)(b);
}

void Session::add_tree(const std::shared_ptr<Tree>& tree) {
  std::erase_if(trees_, [](const auto& w) { return w.expired(); });
  trees_.push_back(tree);
}

void Session::wake_waiters() {
  for (auto* w : waiters_) w->cancel();
  waiters_.clear();
}

void Session::shutdown() {
  state_ = SessionState::closed;
  if (echo_timer_) echo_timer_->cancel();
  wake_waiters();
  connection_->close();
}

void Session::connection_lost(std::uint64_t generation) {
  if (!recovery_.enabled || state_ != SessionState::up || generation != generation_) return;
  state_ = SessionState::recovering;
  lost_at_ = Clock::now();
  const auto& why = connection_->failure();
  log("connection to " + connection_->options().host + " lost" + (why ? " (" + describe(*why) + ")" : std::string{}) +
      ": reconnecting");
  connection_->close();
  asio::co_spawn(executor_, recover(shared_from_this()), asio::detached);
}

asio::awaitable<Expected<void>> Session::wait_recovered(std::uint64_t generation, Clock::time_point deadline) {
  auto executor = co_await asio::this_coro::executor;
  while (state_ == SessionState::recovering && generation_ == generation) {
    if (Clock::now() >= deadline)
      co_return Unexpected{transport_error(
          "reach " + connection_->options().host,
          "the server did not come back within " + std::to_string(recovery_.timeout.count()) + " ms (soft mount)")};
    asio::steady_timer t{executor, deadline};
    waiters_.push_back(&t);
    co_await t.async_wait(kUseTuple);
    std::erase(waiters_, &t);
  }
  if (state_ == SessionState::closed)
    co_return Unexpected{transport_error("reach " + connection_->options().host, "the session is closed")};
  co_return Expected<void>{};
}

namespace {

constexpr std::chrono::milliseconds kRefusedRetry{30'000};

// The logon or the tree connect was refused (not a network failure).
bool is_refusal(const Error& e) {
  if (e.kind == ErrorKind::auth) return true;
  if (e.kind != ErrorKind::status) return false;
  switch (e.status) {
    case wire::status::LOGON_FAILURE:
    case wire::status::WRONG_PASSWORD:
    case wire::status::ACCOUNT_RESTRICTION:
    case wire::status::PASSWORD_EXPIRED:
    case wire::status::ACCOUNT_DISABLED:
    case wire::status::ACCOUNT_LOCKED_OUT:
    case wire::status::ACCESS_DENIED:
    case wire::status::BAD_NETWORK_NAME:
      return true;
    default:
      return false;
  }
}

}  // namespace

// One coroutine per Session (connection_lost starts it once per loss): first
// attempt at once, then a backoff, until the session is back or shut down.
asio::awaitable<void> Session::recover(std::shared_ptr<Session> self) {
  bool refused = false;
  for (unsigned attempt = 0; self->state_ == SessionState::recovering; ++attempt) {
    // A server that refuses the logon or the share will not change its mind
    // in 500 ms; retrying that fast would also lock a domain account out.
    if (attempt > 0) co_await sleep_for(refused ? kRefusedRetry : recovery_backoff(attempt));
    if (self->state_ != SessionState::recovering) break;
    auto done = co_await self->recover_once();
    if (done) break;
    const bool now_refused = is_refusal(done.error());
    if (now_refused && !refused)
      self->log("reconnect refused: " + describe(done.error()) + "; trying again every " +
                std::to_string(kRefusedRetry.count() / 1000) + " s");
    refused = now_refused;
  }
}

// MS-SMB2 3.2.7.1, failover.md 6.2-6.4: new connection with the same
// ClientGuid, SESSION_SETUP with PreviousSessionId, TREE_CONNECT each tree,
// reclaim each open, then let the waiting requests go.
asio::awaitable<Expected<void>> Session::recover_once() {
  auto options = connection_->options();
  options.client_guid = client_guid_;
  auto connection = co_await Connection::connect(options);
  if (!connection) co_return Unexpected{connection.error()};
  if (state_ != SessionState::recovering) {
    (*connection)->close();
    co_return Expected<void>{};
  }
  if (lost_session_id_ == 0) lost_session_id_ = id_;
  const auto previous = id_;
  auto authenticated = co_await authenticate(*connection, lost_session_id_);
  if (!authenticated) {
    (*connection)->close();
    id_ = previous;
    co_return Unexpected{authenticated.error()};
  }
  auto old = std::exchange(connection_, *connection);
  old->close();
  install_handlers(*connection_);
  std::vector<std::shared_ptr<Tree>> trees;
  for (auto& w : trees_)
    if (auto t = w.lock()) trees.push_back(std::move(t));
  for (auto& tree : trees) {
    auto attached = co_await tree->attach();
    if (!attached) {
      connection_->close();
      co_return Unexpected{attached.error()};
    }
  }
  for (auto& tree : trees) {
    auto reclaimed = co_await tree->reclaim_opens();
    if (!reclaimed) {
      connection_->close();
      co_return Unexpected{reclaimed.error()};
    }
  }
  if (state_ != SessionState::recovering) co_return Expected<void>{};
  // Requests from before the loss now count as older (MS-SMB2 3.3.5.2.10).
  ++channel_sequence_;
  ++generation_;
  install_lost_handler();
  lost_session_id_ = 0;
  ++counters_.reconnects;
  log("reconnected to " + connection_->options().host + " in " +
      std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - lost_at_).count()) +
      " ms (reconnect " + std::to_string(counters_.reconnects) + "; handles reopened " +
      std::to_string(counters_.handles_reopened) + ", lost " + std::to_string(counters_.handles_lost) + " in all)");
  state_ = SessionState::up;
  wake_waiters();
  // The new connection may have died before its handler was in place.
  if (connection_->is_dead()) connection_lost(generation_);
  co_return Expected<void>{};
}

asio::awaitable<void> Session::keep_alive(std::weak_ptr<Session> weak, std::shared_ptr<asio::steady_timer> timer) {
  while (true) {
    std::chrono::milliseconds interval{0};
    {
      auto self = weak.lock();
      if (!self || self->state_ == SessionState::closed) co_return;
      interval = self->recovery_.echo_interval;
    }
    timer->expires_after(interval);
    (void)co_await timer->async_wait(kUseTuple);
    auto self = weak.lock();
    if (!self || self->state_ == SessionState::closed) co_return;
    if (self->state_ != SessionState::up) continue;
    // A request that is merely slow does not make the connection dead; an
    // ECHO unanswered for a whole interval does.
    auto conn = self->connection_;
    const auto generation = self->generation_;
    SubmitOptions options{.encrypt = false, .sent = nullptr, .timeout = interval};
    auto r = co_await conn->call(self->request(wire::Command::echo, wire::EchoRequest{}), options);
    if (!r && self->state_ == SessionState::up && self->generation_ == generation) {
      self->log("no answer to an ECHO within " + std::to_string(interval.count()) + " ms: the connection counts as lost");
      conn->close();
      self->connection_lost(generation);
    }
  }
}

// ---- Tree --------------------------------------------------------------------

asio::awaitable<Expected<std::shared_ptr<Tree>>> Tree::connect(std::shared_ptr<Session> session, std::string share) {
  std::shared_ptr<Tree> tree{new Tree{session, share}};
  tree->executor_ = co_await asio::this_coro::executor;
  auto attached = co_await tree->attach();
  if (!attached) co_return Unexpected{attached.error()};
  session->add_tree(tree);
  co_return tree;
}

asio::awaitable<Expected<void>> Tree::attach() {
  auto session = session_;
  auto connection = session->connection_ptr();
  auto& conn = *connection;
  const std::string unc = "\\\\" + conn.options().host + "\\" + share_;
  wire::TreeConnectRequest req;
  req.path = wire::utf16_from_utf8(unc);
  auto response = co_await conn.call(session->request(wire::Command::tree_connect, req));
  if (!response) co_return Unexpected{response.error()};
  if (response->status() != wire::status::SUCCESS)
    co_return Unexpected{status_error(response->status(), "connect to share " + unc)};
  auto rsp = wire::decode_tree_connect_response(response->bytes);
  if (!rsp) co_return Unexpected{rsp.error()};
  id_ = response->header.tree_id;
  share_flags_ = rsp->share_flags;
  capabilities_ = rsp->capabilities;
  // MS-SMB2 3.2.5.5: SMB2_SHAREFLAG_ENCRYPT_DATA makes every request on the tree encrypted.
  encrypt_ = session->security().encrypt || (rsp->share_flags & wire::share_flags::encrypt_data) != 0;
  if (encrypt_ && conn.negotiated().cipher == crypto::Cipher::none)
    co_return Unexpected{Error{.kind = ErrorKind::status, .wire = WireError::none, .status = wire::status::ACCESS_DENIED,
                               .action = "connect to share " + unc,
                               .detail = "the share requires encryption, which dialect " +
                                         std::string{wire::to_string(conn.negotiated().dialect)} + " lacks here"}};
  const auto dialect = conn.negotiated().dialect;
  if (dialect == wire::Dialect::smb300 || dialect == wire::Dialect::smb302) {
    auto valid = co_await validate_negotiate();
    if (!valid) co_return Unexpected{valid.error()};
  }
  co_return Expected<void>{};
}

// MS-SMB2 3.2.4.2.4 / 3.2.5.14.12: repeat the NEGOTIATE in a signed IOCTL and
// check the server's answer against what it negotiated, so a downgrade by a
// man in the middle is caught. Sent straight on the current connection: it
// runs inside recovery too.
asio::awaitable<Expected<void>> Tree::validate_negotiate() {
  auto connection = session_->connection_ptr();
  auto& conn = *connection;
  const auto& n = conn.negotiated();
  wire::ValidateNegotiateInfoRequest vni{.capabilities = n.client_capabilities, .guid = n.client_guid,
                                         .security_mode = n.client_security_mode, .dialects = n.offered};
  Bytes input;
  wire::Writer w{input};
  wire::encode(w, vni);
  wire::IoctlRequest req{.ctl_code = wire::fsctl::validate_negotiate_info, .file_id = wire::FileId::related(),
                         .input = input, .max_input_response = 0, .output = {}, .max_output_response = 24,
                         .flags = wire::ioctl_flags::is_fsctl};
  auto response = co_await conn.call(request(wire::Command::ioctl, req, input.size()), submit_options());
  const std::string action = "validate the negotiation with " + conn.options().host;
  if (!response) co_return Unexpected{response.error()};
  if (response->status() != wire::status::SUCCESS)
    co_return Unexpected{status_error(response->status(), action)};
  auto rsp = wire::decode_ioctl_response(response->bytes);
  if (!rsp) co_return Unexpected{rsp.error()};
  auto info = wire::decode_validate_negotiate_info_response(rsp->output);
  if (!info) co_return Unexpected{info.error()};
  if (info->capabilities != n.server_capabilities || info->guid != n.server_guid ||
      info->security_mode != n.server_security_mode || info->dialect != n.dialect)
    co_return Unexpected{Error{.kind = ErrorKind::crypto, .wire = WireError::none, .status = 0, .action = action,
                               .detail = "the server's answer differs from its NEGOTIATE response"}};
  co_return Expected<void>{};
}

asio::awaitable<Expected<void>> Tree::disconnect() {
  auto response = co_await call(request(wire::Command::tree_disconnect, wire::TreeDisconnectRequest{}));
  if (!response) co_return Unexpected{response.error()};
  co_return Expected<void>{};
}

void Tree::prepare(Request& r, const Open* open, bool resent) const {
  const auto& s = *session_;
  r.header.session_id = s.id();
  r.header.tree_id = id_;
  if (open != nullptr) patch_file_id(r.body, open->file_id);
  if (wire::is_smb3(s.connection_ptr()->negotiated().dialect)) {
    // MS-SMB2 3.2.4.1: the ChannelSequence in place of the Status field.
    if (s.uses_channel_sequence()) r.header.status_or_channel_sequence = s.channel_sequence();
    // MS-SMB2 2.2.1.2: SMB2_FLAGS_REPLAY_OPERATION, 3.x only.
    if (resent && replayable(r)) r.header.flags |= wire::flags::replay_operation;
  }
}

namespace {

asio::awaitable<void> send_cancel_of(std::shared_ptr<Connection> conn, Ticket ticket) {
  co_await conn->cancel(std::move(ticket));
}

// One send of a call that can be withdrawn: cancel.on_cancel sends the
// CANCEL while it is out (at once when the cancel came during the send).
asio::awaitable<Expected<Response>> call_cancellable(std::shared_ptr<Connection> conn, Request request,
                                                     SubmitOptions options, std::shared_ptr<CallCancel> cancel) {
  std::vector<Request> chain;
  chain.push_back(std::move(request));
  auto tickets = co_await conn->submit(std::move(chain), options);
  if (!tickets) co_return Unexpected{tickets.error()};
  auto ticket = tickets->front();
  auto executor = co_await asio::this_coro::executor;
  auto send_cancel = [executor, conn, ticket] { asio::co_spawn(executor, send_cancel_of(conn, ticket), asio::detached); };
  if (cancel->cancelled)
    send_cancel();
  else
    cancel->on_cancel = send_cancel;
  auto result = co_await conn->wait(ticket);
  cancel->on_cancel = nullptr;
  co_return result;
}

}  // namespace

asio::awaitable<Expected<Response>> Tree::call(Request request, std::shared_ptr<Open> open, bool resent,
                                               std::shared_ptr<CallCancel> cancel) {
  auto session = session_;  // alive until the final answer, whatever the caller does
  std::optional<Clock::time_point> deadline;
  auto recovery_deadline = [&]() {
    if (!deadline)
      deadline = session->recovery().hard ? Clock::time_point::max() : Clock::now() + session->recovery().timeout;
    return *deadline;
  };
  unsigned busy = 0;
  // Set once a send may have reached the server without its answer coming
  // back (the connection died); not by SERVER_UNAVAILABLE/FILE_NOT_AVAILABLE,
  // which say the request did not run.
  bool maybe_executed = false;
  while (true) {
    if (cancel && cancel->cancelled) {
      // Withdrawn before (another) send: never sent again.
      cancel->maybe_executed = maybe_executed;
      co_return Unexpected{status_error(wire::status::CANCELLED,
                                        std::string{wire::to_string(request.header.command)} + " on " + share_)};
    }
    if (session->state() == SessionState::closed)
      co_return Unexpected{transport_error(std::string{wire::to_string(request.header.command)} + " on " + share_,
                                           "the session is closed")};
    if (session->state() == SessionState::recovering) {
      // A call that can be withdrawn waits in short slices, so that a cancel
      // is seen while the server is away.
      const auto until =
          cancel ? std::min(recovery_deadline(), Clock::now() + std::chrono::milliseconds{200}) : recovery_deadline();
      auto back = co_await session->wait_recovered(session->generation(), until);
      if (!back && (!cancel || Clock::now() >= recovery_deadline() || session->state() == SessionState::closed))
        co_return Unexpected{back.error()};
      continue;
    }
    if (open && open->lost) co_return Unexpected{lost_handle_error(*open)};
    // A copy goes out; `request` stays unsigned, ready to be sent again.
    Request r = request;
    prepare(r, open.get(), resent);
    const auto generation = session->generation();
    auto conn = session->connection_ptr();
    // (Not a conditional expression: g++ 12 mishandles co_await in one.)
    Expected<Response> result = Unexpected{Error{}};
    if (cancel) {
      result = co_await call_cancellable(conn, std::move(r), submit_options(), cancel);
      cancel->maybe_executed = maybe_executed;
    } else {
      result = co_await conn->call(std::move(r), submit_options());
    }
    if (!result) {
      // The connection died under it: park here until the session is back,
      // then send it again (MS-SMB2 3.2.7.1; failover.md 6.4).
      if (result.error().kind == ErrorKind::transport && conn->is_dead() && session->recovery().enabled &&
          session->state() != SessionState::closed) {
        session->connection_lost(generation);
        resent = true;
        maybe_executed = true;
        ++session->counters().requests_replayed;
        continue;
      }
      co_return result;
    }
    const auto status = result->status();
    // MS-SMB2 3.2.5.7 (CREATE), 3.2.5.12 (WRITE), 3.2.5.14 (IOCTL), SET_INFO:
    // a server that cannot serve it yet, or older-epoch requests still
    // draining (3.3.5.2.10): send it again with the replay flag, a little later.
    if ((status == wire::status::SERVER_UNAVAILABLE ||
         (status == wire::status::FILE_NOT_AVAILABLE && replayable(request))) &&
        session->recovery().enabled && wire::is_smb3(conn->negotiated().dialect)) {
      if (Clock::now() >= recovery_deadline()) co_return result;
      co_await sleep_for(std::max(recovery_backoff(++busy), std::chrono::milliseconds{10}));
      resent = true;
      ++session->counters().requests_replayed;
      continue;
    }
    // A FILE_CREATE sent again after a lost connection finds what its first
    // send made, when that one ran but its answer was lost: without a
    // replay-eligible CreateGuid (directories, 2.x) the server cannot tell
    // (failover.md 6.4), so smbx takes the name as its own and opens it.
    // The risk, documented: another client made the same name in that window.
    if (maybe_executed && status == wire::status::OBJECT_NAME_COLLISION) {
      if (auto* create = std::get_if<wire::CreateRequest>(&request.body);
          create != nullptr && create->create_disposition == wire::disposition::create) {
        create->create_disposition = wire::disposition::open;
        continue;
      }
    }
    co_return result;
  }
}

// A compound (MS-SMB2 3.2.4.1.4), sent again as a whole when the connection
// dies under it. `open`, when set, gives the members that name it their
// FileId as it is then (a reconnect reclaims the handle under a new one); a
// chain that starts with a FILE_CREATE opens what its lost first send made,
// as Tree::call does (failover.md 6.4).
asio::awaitable<Expected<std::vector<Expected<Response>>>> Tree::call_chain(std::vector<Request> chain,
                                                                            std::shared_ptr<Open> open) {
  auto session = session_;
  std::optional<Clock::time_point> deadline;
  auto recovery_deadline = [&] {
    if (!deadline)
      deadline = session->recovery().hard ? Clock::time_point::max() : Clock::now() + session->recovery().timeout;
    return *deadline;
  };
  bool resent = false;
  unsigned busy = 0;
  while (true) {
    if (session->state() == SessionState::closed)
      co_return Unexpected{transport_error("compound on " + share_, "the session is closed")};
    if (session->state() == SessionState::recovering) {
      auto back = co_await session->wait_recovered(session->generation(), recovery_deadline());
      if (!back) co_return Unexpected{back.error()};
      continue;
    }
    if (open && open->lost) co_return Unexpected{lost_handle_error(*open)};
    std::vector<Request> copy = chain;
    for (auto& r : copy) prepare(r, open.get(), false);
    const auto generation = session->generation();
    auto conn = session->connection_ptr();
    auto tickets = co_await conn->submit(std::move(copy), submit_options());
    bool lost = false;
    std::vector<Expected<Response>> responses;
    if (!tickets) {
      lost = tickets.error().kind == ErrorKind::transport && conn->is_dead();
      if (!lost) co_return Unexpected{tickets.error()};
    } else {
      for (auto& t : *tickets) responses.push_back(co_await conn->wait(t));
      for (auto& r : responses)
        if (!r && r.error().kind == ErrorKind::transport && conn->is_dead()) lost = true;
    }
    if (lost && session->recovery().enabled && session->state() != SessionState::closed) {
      session->connection_lost(generation);
      ++session->counters().requests_replayed;
      resent = true;
      continue;
    }
    // A server that cannot serve it yet (MS-SMB2 3.3.5.2.10; a CA server
    // coming back): a little later, as Tree::call does.
    const bool unavailable = std::any_of(responses.begin(), responses.end(), [](const auto& r) {
      return r && (r->status() == wire::status::SERVER_UNAVAILABLE || r->status() == wire::status::FILE_NOT_AVAILABLE);
    });
    if (unavailable && session->recovery().enabled && wire::is_smb3(conn->negotiated().dialect) &&
        Clock::now() < recovery_deadline()) {
      asio::steady_timer pause{co_await asio::this_coro::executor,
                               std::max(recovery_backoff(++busy), std::chrono::milliseconds{10})};
      co_await pause.async_wait(asio::use_awaitable);
      resent = true;
      ++session->counters().requests_replayed;
      continue;
    }
    if (resent && !responses.empty() && responses.front() &&
        responses.front()->status() == wire::status::OBJECT_NAME_COLLISION) {
      if (auto* create = std::get_if<wire::CreateRequest>(&chain.front().body);
          create != nullptr && create->create_disposition == wire::disposition::create) {
        create->create_disposition = wire::disposition::open;
        continue;
      }
    }
    co_return responses;
  }
}

void Tree::add_open(const std::shared_ptr<Open>& open) {
  std::erase_if(opens_, [](const auto& w) {
    auto o = w.lock();
    return !o || o->closed;
  });
  opens_.push_back(open);
}

std::vector<std::shared_ptr<Open>> Tree::live_opens() {
  std::vector<std::shared_ptr<Open>> out;
  for (auto& w : opens_)
    if (auto o = w.lock(); o && !o->closed && !o->lost) out.push_back(std::move(o));
  return out;
}

bool Tree::has_durable_open(const wire::Guid& lease_key) const {
  for (const auto& w : opens_)
    if (auto o = w.lock(); o && !o->closed && !o->lost && o->durable && o->lease_key && *o->lease_key == lease_key)
      return true;
  return false;
}

bool Tree::wants_persistent() const noexcept {
  const auto& p = session_->recovery().persistent;
  return p ? *p : is_ca();
}

// Adds what makes a CREATE durable (MS-SMB2 3.2.4.3.5): DH2Q on 3.x
// (persistent on a CA share), DHnQ on 2.1 when an H lease is asked for.
void add_durable_request(wire::CreateRequest& req, Open& open, const Tree& tree, const Session& session) {
  // A directory is never durable (3.3.5.9.10), except persistent on a CA
  // share where the server grants it (smbxd does): then a replayed mkdir is
  // recognised by its CreateGuid instead of guessed (Tree::call).
  if ((req.create_options & wire::create_options::directory_file) != 0 && !tree.wants_persistent()) return;
  // One durable open per file (lease key) unless persistent: Samba (4.17,
  // durable.c) refuses every DH2C/DHnC of a file that had more than one open
  // at the disconnect, so a second durable open would lose both. The other
  // opens are reopened by path after a reconnect (Tree::reclaim).
  if (!tree.wants_persistent() && open.lease_key && tree.has_durable_open(*open.lease_key)) return;
  const auto dialect = session.connection_ptr()->negotiated().dialect;
  if (wire::is_smb3(dialect)) {
    open.v2 = true;
    open.create_guid = crypto::random_array<16>();  // CSPRNG, before the first send
    req.contexts.emplace_back(wire::DurableHandleRequestV2{
        .timeout = session.recovery().handle_timeout,
        .flags = tree.wants_persistent() ? wire::durable_flags::persistent : 0u, .create_guid = open.create_guid});
  } else if (dialect == wire::Dialect::smb210 && open.lease_key && (open.lease_state & wire::lease_state::handle_caching)) {
    open.v2 = false;
    req.contexts.emplace_back(wire::DurableHandleRequest{});
  }
}

// What the CREATE response granted, into the Open (MS-SMB2 3.2.5.7).
void record_create_response(Open& open, const wire::CreateResponse& rsp, bool lease_requested) {
  open.file_id = rsp.file_id;
  open.durable = false;
  open.persistent = false;
  if (const auto* d = wire::find_context<wire::DurableHandleResponseV2>(rsp.contexts)) {
    open.durable = true;
    open.persistent = (d->flags & wire::durable_flags::persistent) != 0;
    open.durable_timeout = d->timeout;
  } else if (wire::find_context<wire::DurableHandleResponse>(rsp.contexts) != nullptr) {
    open.durable = true;
  }
  const auto* granted = wire::find_context<wire::Lease>(rsp.contexts);
  if (lease_requested && granted != nullptr && rsp.oplock_level == wire::oplock::lease) {
    open.lease_state = granted->lease_state;
    open.lease_epoch = granted->epoch;
    open.lease_version = granted->version;
  } else {
    open.lease_state = 0;
  }
}

asio::awaitable<Expected<void>> Tree::reclaim_opens() {
  // Durable opens first: Samba refuses a DH2C/DHnC once another open of the
  // same file exists, and the others are reopened by path.
  auto opens = live_opens();
  std::stable_partition(opens.begin(), opens.end(), [](const auto& o) { return o->durable; });
  for (auto& open : opens) {
    auto done = co_await reclaim(open);
    if (!done) co_return done;
  }
  co_return Expected<void>{};
}

// MS-SMB2 3.2.4.4 / failover.md 6.3: the CREATE as first sent, with DH2C
// (same CreateGuid, PERSISTENT iff persistent) or DHnC, and the lease context
// with the same key - nothing else (Samba refuses a reconnect carrying more).
// An open that was never durable is opened again by path, FILE_OPEN only, so
// nothing is created or truncated. A transport failure fails the whole
// recovery attempt (tried again); a refusal loses this handle only.
namespace {

// The server no longer has this handle: its calls fail (ESTALE through
// mount.smbx), and the caching its lease gave is reported as broken to none.
void mark_lost(Session& session, Open& open, const std::string& why) {
  open.lost = true;
  ++session.counters().handles_lost;
  session.log("lost the handle of " + open.path + ": " + why);
  if (open.lease_key && open.lease_state != 0)
    session.report_lease_break(LeaseBreak{.key = *open.lease_key, .current_state = open.lease_state,
                                          .new_state = wire::lease_state::none, .ack_required = false});
}

}  // namespace

asio::awaitable<Expected<void>> Tree::reclaim(std::shared_ptr<Open> open) {
  auto session = session_;
  if (!open->durable && open->locks_held > 0) {
    mark_lost(*session, *open, "it holds byte-range locks and was not durable, so reopening it would drop them");
    co_return Expected<void>{};
  }
  auto connection = session->connection_ptr();
  wire::CreateRequest req;
  req.desired_access = open->desired_access;
  req.file_attributes = open->attributes;
  req.share_access = open->share_access;
  req.create_disposition = wire::disposition::open;
  req.create_options = open->create_options;
  req.name = open->name;
  const bool lease = open->lease_key.has_value();
  const std::uint32_t held = open->lease_state;
  if (lease) req.requested_oplock_level = wire::oplock::lease;
  if (open->durable) {
    if (open->v2)
      req.contexts.emplace_back(wire::DurableHandleReconnectV2{
          .file_id = open->file_id, .create_guid = open->create_guid,
          .flags = open->persistent ? wire::durable_flags::persistent : 0u});
    else
      req.contexts.emplace_back(wire::DurableHandleReconnect{.file_id = open->file_id});
  }
  if (lease)
    req.contexts.emplace_back(wire::Lease{.version = open->lease_version, .lease_key = *open->lease_key,
                                          .lease_state = held, .flags = 0, .lease_duration = 0,
                                          .parent_lease_key = {}, .epoch = open->lease_epoch});
  if (!open->durable) add_durable_request(req, *open, *this, *session);
  Request r = request(wire::Command::create, req);
  prepare(r, nullptr, false);
  auto response = co_await connection->call(std::move(r), submit_options());
  if (!response) co_return Unexpected{response.error()};
  const auto status = response->status();
  if (status == wire::status::SERVER_UNAVAILABLE || status == wire::status::FILE_NOT_AVAILABLE)
    co_return Unexpected{status_error(status, "reclaim " + open->path)};  // not yet: the attempt is retried
  auto rsp = status == wire::status::SUCCESS ? wire::decode_create_response(response->bytes)
                                              : Expected<wire::CreateResponse>{Unexpected{Error{}}};
  // A durable (not persistent) open the server forgot, e.g. because the
  // process serving it was killed (Samba 4.17 answers the DH2C with
  // OBJECT_NAME_NOT_FOUND, 3.3.5.9.7), is opened again by path like any
  // non-durable open, as the kernel's cifs client does (cifs_reopen_file):
  // FILE_OPEN only, never with locks held, and the in-flight requests are then
  // replayed on the new handle. A persistent open is never guessed at.
  if (!rsp && status == wire::status::OBJECT_NAME_NOT_FOUND && open->durable && !open->persistent &&
      open->locks_held == 0) {
    session->log("the server no longer knows the durable handle of " + open->path + ": opening it again by path");
    open->durable = false;
    co_return co_await reclaim(std::move(open));
  }
  if (!rsp) {
    mark_lost(*session, *open, "the server answered " + std::string{wire::status_name(status)} + " to its reclaim");
    co_return Expected<void>{};
  }
  const bool was_durable = open->durable;
  const bool was_persistent = open->persistent;
  const auto timeout = open->durable_timeout;
  record_create_response(*open, *rsp, lease);
  // A reclaim's response has no durable context (3.3.5.9.12): the open stays
  // what it was (durable, persistent, its timeout).
  if (was_durable) {
    open->durable = true;
    open->persistent = was_persistent;
    open->durable_timeout = timeout;
  }
  if (!was_durable) ++open->reopened_by_path;
  ++session->counters().handles_reopened;
  // Less caching than held: the fs must write back or drop what the lost part covered.
  if (lease && (held & ~open->lease_state) != 0)
    session->report_lease_break(LeaseBreak{.key = *open->lease_key, .current_state = held,
                                           .new_state = open->lease_state, .ack_required = false});
  co_return Expected<void>{};
}

}  // namespace smbx::client
