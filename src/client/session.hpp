// An authenticated session (MS-SMB2 3.2.4.2.3, 3.2.5.3) and a tree connect
// on it (3.2.4.2.4, 3.2.5.5).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <memory>
#include <string>

#include "auth/ntlm.hpp"
#include "client/connection.hpp"

namespace smbx::client {

struct SessionOptions {
  auth::Credentials credentials;
  bool seal = false;  // encrypt everything; fail when the server cannot
};

class Session {
 public:
  // NTLMv2 in SPNEGO. For 3.1.1 the preauth hash covers every SESSION_SETUP
  // message but the last; the keys come from it, and the final response must
  // be signed with the new signing key (MS-SMB2 3.2.5.3.1).
  static asio::awaitable<Expected<std::shared_ptr<Session>>> setup(std::shared_ptr<Connection> connection,
                                                                  SessionOptions options);

  std::uint64_t id() const noexcept { return id_; }
  Connection& connection() noexcept { return *connection_; }
  const std::shared_ptr<Connection>& connection_ptr() const noexcept { return connection_; }
  const SessionSecurity& security() const noexcept { return *security_; }
  const SessionOptions& options() const noexcept { return options_; }
  // "DOMAIN\user" as a person reads it.
  std::string principal() const;

  // A request on this session: SessionId set, the rest for the caller.
  Request request(wire::Command command, wire::Body body, std::uint32_t tree_id = 0,
                  std::uint64_t payload_size = 0) const;

  asio::awaitable<Expected<void>> logoff();

 private:
  Session(std::shared_ptr<Connection> connection, SessionOptions options)
      : connection_{std::move(connection)}, options_{std::move(options)} {}

  std::shared_ptr<Connection> connection_;
  SessionOptions options_;
  std::uint64_t id_ = 0;
  std::shared_ptr<SessionSecurity> security_;
};

class Tree {
 public:
  // TREE_CONNECT to \\host\share; for 3.0/3.0.2 then FSCTL_VALIDATE_NEGOTIATE_INFO
  // (MS-SMB2 3.2.5.5, 3.2.4.2.4).
  static asio::awaitable<Expected<std::shared_ptr<Tree>>> connect(std::shared_ptr<Session> session, std::string share);

  std::uint32_t id() const noexcept { return id_; }
  const std::string& share() const noexcept { return share_; }
  Session& session() noexcept { return *session_; }
  Connection& connection() noexcept { return session_->connection(); }
  bool encrypts() const noexcept { return encrypt_; }
  std::uint32_t share_flags() const noexcept { return share_flags_; }
  // The engine's executor (where Tree::connect ran): background work on this
  // tree, such as the CLOSE of a File destroyed while open, runs there.
  const asio::any_io_executor& executor() const noexcept { return executor_; }

  Request request(wire::Command command, wire::Body body, std::uint64_t payload_size = 0) const {
    return session_->request(command, std::move(body), id_, payload_size);
  }
  SubmitOptions submit_options() const noexcept { return SubmitOptions{.encrypt = encrypt_, .sent = nullptr}; }
  asio::awaitable<Expected<Response>> call(Request request) {
    co_return co_await connection().call(std::move(request), submit_options());
  }

  asio::awaitable<Expected<void>> disconnect();

 private:
  Tree(std::shared_ptr<Session> session, std::string share) : session_{std::move(session)}, share_{std::move(share)} {}
  asio::awaitable<Expected<void>> validate_negotiate();

  std::shared_ptr<Session> session_;
  std::string share_;
  std::uint32_t id_ = 0;
  std::uint32_t share_flags_ = 0;
  bool encrypt_ = false;
  asio::any_io_executor executor_;
};

}  // namespace smbx::client
