// One SMB2 connection (MS-SMB2 3.2.1.2): NEGOTIATE, the credit and MessageId
// window, and the single place every request goes through. submit() assigns
// MessageIds and credits, signs or encrypts, and sends; wait() awaits the
// response that the receive loop dispatches by MessageId. The failover work
// (request tracker, replay) hooks in here.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/credit_window.hpp"
#include "crypto/keys.hpp"
#include "crypto/preauth.hpp"
#include "crypto/transform.hpp"
#include "transport/transport.hpp"
#include "wire/message.hpp"

namespace smbx::client {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

// A response as received: its header and bytes (header + body), kept alive by
// the frame they came in (received, and decrypted in place, by the transport's
// recycled buffers: transport.hpp).
struct Response {
  wire::Header header;
  std::shared_ptr<const void> frame;
  ByteView bytes;
  bool was_encrypted = false;

  std::uint32_t status() const noexcept { return header.status(); }
};

struct Request {
  // Command, Flags, SessionId and TreeId; Connection fills in MessageId,
  // CreditCharge and CreditRequest.
  wire::Header header;
  wire::Body body;
  // The variable payload in either direction (MS-SMB2 3.1.5.2), for the credit charge.
  std::uint64_t payload_size = 0;
  // WRITE only: the data, kept out of `body` so that an encrypted request is
  // sealed straight from the caller's buffer instead of a copy of it. The
  // caller keeps it alive until submit() returns.
  ByteView write_data;
};

// What the connection needs to protect one session's traffic.
struct SessionSecurity {
  crypto::SessionKeys keys;
  bool sign = false;     // sign requests; a successful response must be signed
  bool encrypt = false;  // encrypt every request (SMB2_SESSION_FLAG_ENCRYPT_DATA or `seal`)
  std::optional<crypto::NonceGenerator> nonces;
};

// SMB frames (TRANSFORM or SMB2 messages, without the 4-byte Direct TCP
// header) that crossed the wire. Shared by the connections of one session:
// a reconnect copies the options, and with them this pointer, so the sums
// cover every connection (smbxctl status, cp-offload's byte accounting).
struct TrafficCounters {
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
};

struct ConnectionOptions {
  std::string host;
  std::uint16_t port = 445;
  std::vector<wire::Dialect> dialects;  // empty: 2.0.2 through 3.1.1
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds request_timeout{60'000};
  // How long to keep waiting after each STATUS_PENDING interim response.
  std::chrono::milliseconds pending_timeout{300'000};
  // NEGOTIATE's ClientGuid; unset: a random one. A recovering session passes
  // the first connection's, so the server finds its leases and durable opens
  // again (MS-SMB2 3.3.5.9.7, 3.3.5.9.12 match them by ClientGuid).
  std::optional<wire::Guid> client_guid;
  // Where the frame sizes are summed; unset: connect() makes new counters.
  std::shared_ptr<TrafficCounters> traffic;
};

// What NEGOTIATE settled (MS-SMB2 3.2.5.2), and what VALIDATE_NEGOTIATE_INFO repeats.
struct Negotiated {
  wire::Dialect dialect = wire::Dialect::smb202;
  std::uint16_t server_security_mode = 0;
  std::uint32_t server_capabilities = 0;
  wire::Guid server_guid{};
  std::uint32_t max_transact_size = 65536;
  std::uint32_t max_read_size = 65536;
  std::uint32_t max_write_size = 65536;
  crypto::Cipher cipher = crypto::Cipher::none;
  crypto::SigningAlgorithm signing = crypto::SigningAlgorithm::hmac_sha256;
  Bytes security_buffer;                 // the server's SPNEGO hint
  crypto::PreauthHash preauth;           // Connection.PreauthIntegrityHashValue (3.1.1)
  // The request as sent, repeated by FSCTL_VALIDATE_NEGOTIATE_INFO (MS-SMB2 2.2.31.4).
  std::uint32_t client_capabilities = 0;
  std::uint16_t client_security_mode = 0;
  wire::Guid client_guid{};
  std::vector<wire::Dialect> offered;
};

struct PendingRequest;
using Ticket = std::shared_ptr<PendingRequest>;

struct SubmitOptions {
  bool encrypt = false;       // encrypt even if the session does not require it (an ENCRYPT_DATA share)
  Bytes* sent = nullptr;      // receives the plaintext frame as sent (for the preauth hash)
  // Response deadline instead of ConnectionOptions::request_timeout (0: that one).
  Clock::duration timeout{};
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // Connects, starts the receive loop and negotiates.
  static asio::awaitable<Expected<std::shared_ptr<Connection>>> connect(ConnectionOptions options);
  ~Connection();

  // Sends `chain` as one frame (a compound when there are several; callers set
  // SMB2_FLAGS_RELATED_OPERATIONS on related members). Waits for credits up
  // to the request deadline. One ticket per member.
  asio::awaitable<Expected<std::vector<Ticket>>> submit(std::vector<Request> chain, SubmitOptions options = {});
  // The final response of a submitted request. On timeout a CANCEL is sent
  // (MS-SMB2 3.2.4.24) and a transport error with "timed out" returned.
  asio::awaitable<Expected<Response>> wait(Ticket ticket);
  // Sends CANCEL (MS-SMB2 3.2.4.24) for a submitted request still without its
  // final response (a blocking LOCK). That response (STATUS_CANCELLED, or
  // what the server had done already) still comes through wait().
  asio::awaitable<void> cancel(Ticket ticket);
  // submit + wait for one request.
  asio::awaitable<Expected<Response>> call(Request request, SubmitOptions options = {});

  void add_session(std::uint64_t session_id, std::shared_ptr<SessionSecurity> security);
  void remove_session(std::uint64_t session_id);

  // Messages the server sends on its own (MessageId 0xFFFFFFFFFFFFFFFF: oplock
  // and lease break notifications, MS-SMB2 3.2.5.19), after signature checks.
  // One handler per connection; the fs layer sets it.
  using UnsolicitedHandler = std::function<void(const Response&)>;
  void set_unsolicited_handler(UnsolicitedHandler handler) { unsolicited_ = std::move(handler); }
  // Called once when the connection dies (receive error, bad frame, close()),
  // after every waiter got its error: a Session starts recovering at once,
  // not only when the next request fails.
  void set_lost_handler(std::function<void()> handler) { lost_ = std::move(handler); }

  const Negotiated& negotiated() const noexcept { return negotiated_; }
  const ConnectionOptions& options() const noexcept { return options_; }
  const TrafficCounters& traffic() const noexcept { return *options_.traffic; }
  bool is_open() const noexcept { return transport_ && transport_->is_open() && !failure_; }
  // The transport died (or was closed): every request on it failed or will fail,
  // and recovery (Session) takes over.
  bool is_dead() const noexcept { return !is_open(); }
  // Why it died, once it did.
  const std::optional<Error>& failure() const noexcept { return failure_; }
  void close() noexcept;

 private:
  Connection(ConnectionOptions options, std::unique_ptr<transport::Transport> transport);
  asio::awaitable<Expected<void>> negotiate();
  asio::awaitable<void> receive_loop();
  void handle_frame(transport::Frame frame);
  void handle_message(const std::shared_ptr<const void>& frame, const wire::MessageView& view, bool encrypted);
  void fail_all(const Error& error);
  // A frame that cannot be trusted or parsed ends the connection (MS-SMB2 3.2.5.1).
  void abort(const Error& error);
  asio::awaitable<Expected<void>> acquire_credits(std::uint32_t charge, Clock::time_point deadline);
  void wake_credit_waiters();
  asio::awaitable<void> send_cancel(const PendingRequest& pending);
  std::uint16_t charge_of(const Request& r) const noexcept;

  ConnectionOptions options_;
  std::unique_ptr<transport::Transport> transport_;
  Negotiated negotiated_;
  CreditWindow credits_;
  std::map<std::uint64_t, Ticket> pending_;  // by MessageId
  std::map<std::uint64_t, std::shared_ptr<SessionSecurity>> sessions_;
  std::deque<asio::steady_timer*> credit_waiters_;
  std::optional<Error> failure_;  // set once the transport died
  UnsolicitedHandler unsolicited_;
  std::function<void()> lost_;
};

// Builds the error a failed response means: kind status, the NTSTATUS, and `action`.
Error status_error(std::uint32_t status, std::string action);

}  // namespace smbx::client
