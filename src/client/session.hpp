// An authenticated session (MS-SMB2 3.2.4.2.3, 3.2.5.3) and a tree connect
// on it (3.2.4.2.4, 3.2.5.5), both recoverable: when the connection dies the
// Session reconnects, authenticates again with PreviousSessionId, connects its
// trees again and reclaims every durable open (MS-SMB2 3.2.7.1, 3.2.4.4), while
// the requests that were out wait in Tree::call and are then re-sent
// (DESIGN.md, Failover: the invariants).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "auth/ntlm.hpp"
#include "client/connection.hpp"
#include "client/open.hpp"
#include "smbx/file.hpp"

namespace smbx::client {

struct SessionOptions {
  auth::Credentials credentials;
  bool seal = false;  // encrypt everything; fail when the server cannot
};

// How a session rides out a lost connection (mount.smbx: hard/soft,
// handletimeout, persistenthandles, echo_interval).
struct RecoveryOptions {
  bool enabled = true;
  // hard: a request waits for the server as long as it takes; soft: it fails
  // (ErrorKind::transport, EIO through mount.smbx) after `timeout`.
  bool hard = false;
  std::chrono::milliseconds timeout{60'000};
  // DH2Q Timeout in ms (MS-SMB2 2.2.13.2.11); 0 lets the server choose.
  std::uint32_t handle_timeout = 0;
  // Persistent handles: unset asks for them on CA shares only; false never.
  std::optional<bool> persistent;
  // ECHO keep-alive (MS-SMB2 3.2.6.2-like): a connection whose ECHO stays
  // unanswered this long is declared dead. 0: no keep-alive.
  std::chrono::milliseconds echo_interval{0};
  // Each transition, one line (mount.smbx logs them).
  std::function<void(const std::string&)> log;
};

// What smbxctl status shows about failovers.
struct FailoverCounters {
  std::uint64_t reconnects = 0;        // sessions re-established
  std::uint64_t handles_reopened = 0;  // opens reclaimed (DH2C/DHnC) or reopened by path
  std::uint64_t handles_lost = 0;      // opens the server no longer knew
  std::uint64_t requests_replayed = 0; // requests sent again after a reconnect or FILE_NOT_AVAILABLE
};

enum class SessionState : std::uint8_t { up, recovering, closed };

// First recovery attempt at once, then 50 ms doubling up to 500 ms.
std::chrono::milliseconds recovery_backoff(unsigned attempt) noexcept;

class Tree;

class Session : public std::enable_shared_from_this<Session> {
 public:
  // NTLMv2 in SPNEGO. For 3.1.1 the preauth hash covers every SESSION_SETUP
  // message but the last; the keys come from it, and the final response must
  // be signed with the new signing key (MS-SMB2 3.2.5.3.1).
  static asio::awaitable<Expected<std::shared_ptr<Session>>> setup(std::shared_ptr<Connection> connection,
                                                                  SessionOptions options,
                                                                  RecoveryOptions recovery = {});
  ~Session();

  std::uint64_t id() const noexcept { return id_; }
  // The current connection; recovery replaces it. Hold connection_ptr() across
  // a co_await, never a reference.
  Connection& connection() noexcept { return *connection_; }
  const std::shared_ptr<Connection>& connection_ptr() const noexcept { return connection_; }
  const SessionSecurity& security() const noexcept { return *security_; }
  const SessionOptions& options() const noexcept { return options_; }
  const RecoveryOptions& recovery() const noexcept { return recovery_; }
  // "DOMAIN\user" as a person reads it.
  std::string principal() const;

  // A request on this session: SessionId set, the rest for the caller.
  Request request(wire::Command command, wire::Body body, std::uint32_t tree_id = 0,
                  std::uint64_t payload_size = 0) const;

  asio::awaitable<Expected<void>> logoff();

  // ---- failover ----
  SessionState state() const noexcept { return state_; }
  // Bumped by each successful recovery: a request sent in generation g whose
  // connection died reports connection_lost(g).
  std::uint64_t generation() const noexcept { return generation_; }
  // MS-SMB2 3.2.4.1: 3.x with PERSISTENT_HANDLES or MULTI_CHANNEL puts
  // Session.ChannelSequence in header bytes 8..9 of every request.
  bool uses_channel_sequence() const noexcept;
  std::uint16_t channel_sequence() const noexcept { return channel_sequence_; }
  // The connection of `generation` died: start recovering (once).
  void connection_lost(std::uint64_t generation);
  // Waits until the session is up in a generation after `generation`, or the
  // deadline passes (an error), or the session is closed (an error).
  asio::awaitable<Expected<void>> wait_recovered(std::uint64_t generation, Clock::time_point deadline);
  // Ends recovery and the keep-alive; later calls fail. (Client's destructor.)
  void shutdown();

  // Lease breaks for this session's opens, from every connection it uses
  // (set again on each new connection). Reclaims that come back with less
  // caching than held are reported here too, as breaks without ack_required.
  void set_lease_handler(std::function<void(const LeaseBreak&)> handler);
  void report_lease_break(const LeaseBreak& b);

  // One line about a failover transition, to RecoveryOptions::log.
  void log(const std::string& line) const {
    if (recovery_.log) recovery_.log(line);
  }

  FailoverCounters& counters() noexcept { return counters_; }
  const FailoverCounters& counters() const noexcept { return counters_; }

  void add_tree(const std::shared_ptr<Tree>& tree);

 private:
  Session(std::shared_ptr<Connection> connection, SessionOptions options, RecoveryOptions recovery)
      : connection_{std::move(connection)}, options_{std::move(options)}, recovery_{recovery} {}
  // SESSION_SETUP on `connection` (PreviousSessionId = `previous`, MS-SMB2 3.2.4.2.3.1).
  asio::awaitable<Expected<void>> authenticate(std::shared_ptr<Connection> connection, std::uint64_t previous);
  void install_handlers(Connection& connection);
  // The current connection's death starts recovery (for this generation).
  void install_lost_handler();
  void wake_waiters();
  static asio::awaitable<void> recover(std::shared_ptr<Session> self);
  asio::awaitable<Expected<void>> recover_once();
  static asio::awaitable<void> keep_alive(std::weak_ptr<Session> weak, std::shared_ptr<asio::steady_timer> timer);

  std::shared_ptr<Connection> connection_;
  SessionOptions options_;
  RecoveryOptions recovery_;
  std::uint64_t id_ = 0;
  std::shared_ptr<SessionSecurity> security_;
  asio::any_io_executor executor_;

  SessionState state_ = SessionState::up;
  std::uint64_t generation_ = 0;
  std::uint16_t channel_sequence_ = 0;
  std::uint64_t lost_session_id_ = 0;  // PreviousSessionId while recovering
  Clock::time_point lost_at_{};
  wire::Guid client_guid_{};
  std::vector<std::weak_ptr<Tree>> trees_;
  std::vector<asio::steady_timer*> waiters_;
  std::shared_ptr<asio::steady_timer> echo_timer_;
  std::shared_ptr<std::function<void(const LeaseBreak&)>> lease_handler_;
  FailoverCounters counters_;
};

// Lets a caller withdraw a call that waits (an interrupted blocking LOCK:
// File::lock with a LockCancel). Tree::call checks `cancelled` before each
// send and while the session recovers (then it fails with STATUS_CANCELLED
// and does not send the request again); while a send is out, cancel() sends
// its SMB2 CANCEL (MS-SMB2 3.2.4.24) and the server's answer ends the call.
// Use on the engine's thread.
struct CallCancel {
  bool cancelled = false;
  // Set by Tree::call when a send reached a connection that died before
  // answering: the request may have run with its answer lost.
  bool maybe_executed = false;
  std::function<void()> on_cancel;  // set by Tree::call while a send is out

  void cancel() {
    if (cancelled) return;
    cancelled = true;
    auto send = std::move(on_cancel);
    on_cancel = nullptr;
    if (send) send();
  }
};

class Tree : public std::enable_shared_from_this<Tree> {
 public:
  // TREE_CONNECT to \\host\share; for 3.0/3.0.2 then FSCTL_VALIDATE_NEGOTIATE_INFO
  // (MS-SMB2 3.2.5.5, 3.2.4.2.4).
  static asio::awaitable<Expected<std::shared_ptr<Tree>>> connect(std::shared_ptr<Session> session, std::string share);

  std::uint32_t id() const noexcept { return id_; }
  const std::string& share() const noexcept { return share_; }
  Session& session() noexcept { return *session_; }
  const std::shared_ptr<Session>& session_ptr() const noexcept { return session_; }
  Connection& connection() noexcept { return session_->connection(); }
  bool encrypts() const noexcept { return encrypt_; }
  std::uint32_t share_flags() const noexcept { return share_flags_; }
  // SMB2_SHARE_CAP_CONTINUOUS_AVAILABILITY (MS-SMB2 2.2.10, 3.2.5.5: TreeConnect.IsCAShare).
  bool is_ca() const noexcept { return (capabilities_ & wire::share_caps::continuous_availability) != 0; }
  // The engine's executor (where Tree::connect ran): background work on this
  // tree, such as the CLOSE of a File destroyed while open, runs there.
  const asio::any_io_executor& executor() const noexcept { return executor_; }

  Request request(wire::Command command, wire::Body body, std::uint64_t payload_size = 0) const {
    return session_->request(command, std::move(body), id_, payload_size);
  }
  SubmitOptions submit_options() const noexcept { return SubmitOptions{.encrypt = encrypt_, .sent = nullptr}; }

  // The one place requests become retryable. Sends `request` and returns its
  // final response; when the connection dies (or a CA server answers
  // STATUS_FILE_NOT_AVAILABLE / STATUS_SERVER_UNAVAILABLE) it waits for the
  // session's recovery (hard: without limit; soft: RecoveryOptions::timeout)
  // and sends it again with the new SessionId, TreeId, ChannelSequence and
  // the FileId `open` has then, with SMB2_FLAGS_REPLAY_OPERATION where
  // MS-SMB2 3.2.4.1 / 3.2.7.1 ask for it. The coroutine frames suspended here,
  // each holding its unsigned Request, are the request tracker of DESIGN.md:
  // nothing without a final response is forgotten. `resent`: the request
  // already went out once on a connection that died (the pipelines).
  // `cancel`: see CallCancel.
  asio::awaitable<Expected<Response>> call(Request request, std::shared_ptr<Open> open = nullptr,
                                           bool resent = false, std::shared_ptr<CallCancel> cancel = nullptr);
  // A compound, retried as a whole: only for chains that may run twice
  // (CREATE-QUERY-CLOSE, stat, SET_INFOs on `open`'s handle, whose members
  // get its current FileId).
  asio::awaitable<Expected<std::vector<Expected<Response>>>> call_chain(std::vector<Request> chain,
                                                                        std::shared_ptr<Open> open = nullptr);

  // Patches a request for the current session (SessionId, TreeId,
  // ChannelSequence), `open`'s current FileId and, when `resent`, the replay flag.
  void prepare(Request& request, const Open* open, bool resent) const;

  // Opens that recovery must reclaim (File holds them; weak here).
  void add_open(const std::shared_ptr<Open>& open);
  std::vector<std::shared_ptr<Open>> live_opens();
  // Whether a live open with this lease key is durable already.
  bool has_durable_open(const wire::Guid& lease_key) const;
  // Whether a CREATE on this tree asks for a persistent handle.
  bool wants_persistent() const noexcept;

  asio::awaitable<Expected<void>> disconnect();

 private:
  friend class Session;
  Tree(std::shared_ptr<Session> session, std::string share) : session_{std::move(session)}, share_{std::move(share)} {}
  // TREE_CONNECT (again, after a reconnect) on the session's current connection.
  asio::awaitable<Expected<void>> attach();
  asio::awaitable<Expected<void>> validate_negotiate();
  // Recovery: DH2C/DHnC (or a reopen by path) for each live open.
  asio::awaitable<Expected<void>> reclaim_opens();
  asio::awaitable<Expected<void>> reclaim(std::shared_ptr<Open> open);

  std::shared_ptr<Session> session_;
  std::string share_;
  std::uint32_t id_ = 0;
  std::uint32_t share_flags_ = 0;
  std::uint32_t capabilities_ = 0;
  bool encrypt_ = false;
  asio::any_io_executor executor_;
  std::vector<std::weak_ptr<Open>> opens_;
};

// The error a call on a lost handle fails with: fs maps it to ESTALE.
Error lost_handle_error(const Open& open);
bool is_lost_handle_error(const Error& error) noexcept;

// Adds what makes a CREATE durable (MS-SMB2 3.2.4.3.5): DH2Q with a fresh
// CreateGuid on 3.x (PERSISTENT on a CA share), DHnQ on 2.1 with an H lease.
void add_durable_request(wire::CreateRequest& req, Open& open, const Tree& tree, const Session& session);
// What a CREATE response granted (FileId, durability, lease), into the Open.
void record_create_response(Open& open, const wire::CreateResponse& rsp, bool lease_requested);

// Sets `file_id` on the body types that carry one (the visitor behind Tree::prepare).
void patch_file_id(wire::Body& body, const wire::FileId& id);

}  // namespace smbx::client
