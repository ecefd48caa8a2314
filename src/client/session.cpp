#include "client/session.hpp"

#include <boost/asio/this_coro.hpp>

#include "auth/spnego.hpp"
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

}  // namespace

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
                                                                  SessionOptions options) {
  auto& conn = *connection;
  const auto& n = conn.negotiated();
  const std::string host = conn.options().host;
  std::shared_ptr<Session> session{new Session{connection, std::move(options)}};
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
    co_return session;
  }
  co_return Unexpected{auth_error(0, action, "too many SESSION_SETUP rounds")};
}

asio::awaitable<Expected<void>> Session::logoff() {
  auto response = co_await connection_->call(request(wire::Command::logoff, wire::LogoffRequest{}));
  connection_->remove_session(id_);
  if (!response) co_return Unexpected{response.error()};
  co_return Expected<void>{};
}

asio::awaitable<Expected<std::shared_ptr<Tree>>> Tree::connect(std::shared_ptr<Session> session, std::string share) {
  auto& conn = session->connection();
  std::shared_ptr<Tree> tree{new Tree{session, share}};
  tree->executor_ = co_await asio::this_coro::executor;
  const std::string unc = "\\\\" + conn.options().host + "\\" + share;
  wire::TreeConnectRequest req;
  req.path = wire::utf16_from_utf8(unc);
  auto response = co_await conn.call(session->request(wire::Command::tree_connect, req));
  if (!response) co_return Unexpected{response.error()};
  if (response->status() != wire::status::SUCCESS)
    co_return Unexpected{status_error(response->status(), "connect to share " + unc)};
  auto rsp = wire::decode_tree_connect_response(response->bytes);
  if (!rsp) co_return Unexpected{rsp.error()};
  tree->id_ = response->header.tree_id;
  tree->share_flags_ = rsp->share_flags;
  // MS-SMB2 3.2.5.5: SMB2_SHAREFLAG_ENCRYPT_DATA makes every request on the tree encrypted.
  tree->encrypt_ = session->security().encrypt || (rsp->share_flags & wire::share_flags::encrypt_data) != 0;
  if (tree->encrypt_ && conn.negotiated().cipher == crypto::Cipher::none)
    co_return Unexpected{Error{.kind = ErrorKind::status, .wire = WireError::none, .status = wire::status::ACCESS_DENIED,
                               .action = "connect to share " + unc,
                               .detail = "the share requires encryption, which dialect " +
                                         std::string{wire::to_string(conn.negotiated().dialect)} + " lacks here"}};
  const auto dialect = conn.negotiated().dialect;
  if (dialect == wire::Dialect::smb300 || dialect == wire::Dialect::smb302) {
    auto valid = co_await tree->validate_negotiate();
    if (!valid) co_return Unexpected{valid.error()};
  }
  co_return tree;
}

// MS-SMB2 3.2.4.2.4 / 3.2.5.14.12: repeat the NEGOTIATE in a signed IOCTL and
// check the server's answer against what it negotiated, so a downgrade by a
// man in the middle is caught.
asio::awaitable<Expected<void>> Tree::validate_negotiate() {
  auto& conn = connection();
  const auto& n = conn.negotiated();
  wire::ValidateNegotiateInfoRequest vni{.capabilities = n.client_capabilities, .guid = n.client_guid,
                                         .security_mode = n.client_security_mode, .dialects = n.offered};
  Bytes input;
  wire::Writer w{input};
  wire::encode(w, vni);
  wire::IoctlRequest req{.ctl_code = wire::fsctl::validate_negotiate_info, .file_id = wire::FileId::related(),
                         .input = input, .max_input_response = 0, .output = {}, .max_output_response = 24,
                         .flags = wire::ioctl_flags::is_fsctl};
  auto response = co_await call(request(wire::Command::ioctl, req, input.size()));
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

}  // namespace smbx::client
