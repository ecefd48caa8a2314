// One client connection (MS-SMB2 3.3.1.7): Direct-TCP framing, decryption,
// compound splitting, credit and signature checks, dispatch to the command
// handlers, and signing/encrypting the responses. Requests of a connection are
// executed one frame at a time, in order.
#pragma once

#include <boost/asio.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crypto/keys.hpp"
#include "crypto/preauth.hpp"
#include "server/server.hpp"
#include "server/state.hpp"
#include "wire/fsctl.hpp"
#include "wire/message.hpp"
#include "wire/ntstatus.hpp"
#include "wire/read_write.hpp"
#include "wire/transform.hpp"

namespace smbx::server {

// Largest Direct-TCP frame accepted: the largest WRITE plus headers.
inline constexpr std::size_t kMaxFrameSize = (8u << 20) + (1u << 16);

// Work a request leaves behind when it goes async (MS-SMB2 3.3.4.2).
struct AsyncWork {
  enum class Kind { change_notify, lock, create } kind = Kind::change_notify;
  std::uint64_t open_id = 0;
  std::vector<wire::LockElement> locks;
  Bytes message;  // create: the CREATE request, run again once the oplock break is acknowledged
  FileKey file;   // create: the file whose oplock is being broken
  // lock: the LockSequenceArray entry (1..64; 0: none) to set once the lock
  // is granted, and its LockSequenceNumber (MS-SMB2 3.3.5.14).
  std::uint32_t lock_sequence_index = 0;
  std::uint8_t lock_sequence_number = 0;
  // create with DH2Q: its CreateGuid is "in progress" until it completes
  // (a replay meanwhile gets STATUS_FILE_NOT_AVAILABLE, failover.md section 9).
  bool has_create_guid = false;
  wire::Guid create_guid{};
};

// A READ's data is read into an IoBuffer behind this much room, so that its
// response is built around it: the TRANSFORM_HEADER (MS-SMB2 2.2.41), the
// SMB2 header and the READ response's fixed part (2.2.20, DataOffset 0x50).
inline constexpr std::size_t kReadFrontRoom = wire::kTransformHeaderSize + wire::kReadResponseDataOffset;
// What an IoBuffer for a READ of n bytes needs: n + kReadBufferSlack.
inline constexpr std::size_t kReadBufferSlack = kReadFrontRoom + 63;
// Where the data goes in `buffer`: after kReadFrontRoom, 64-byte aligned.
inline std::size_t read_data_offset(const IoBuffer& buffer) {
  const auto base = reinterpret_cast<std::uintptr_t>(buffer.data.get());
  return ((base + kReadFrontRoom + 63) & ~std::uintptr_t{63}) - base;
}

// A frame to send (without its Direct-TCP prefix): encoded into `bytes`, or
// built in place in part of a pooled `buffer` (a READ response).
struct OutFrame {
  Bytes bytes;
  IoBuffer buffer;
  std::size_t offset = 0;  // the frame within `buffer`
  std::size_t size = 0;

  OutFrame() = default;
  OutFrame(Bytes b) : bytes{std::move(b)} {}  // implicit: any encoded frame is one
  ByteView view() const { return buffer ? ByteView{buffer.data.get() + offset, size} : ByteView{bytes}; }
  std::size_t length() const { return buffer ? size : bytes.size(); }
  bool empty() const { return length() == 0; }
};

// What a handler answers. A failure status with no body set goes out as an
// ERROR response. Views in `body` point into `storage`, the request, or (a
// READ) Connection::read_buffer_.
struct Reply {
  wire::NtStatus status = wire::status::SUCCESS;
  wire::Body body = wire::ErrorResponse{};
  Bytes storage;
  std::optional<std::uint64_t> session_id;  // set by SESSION_SETUP
  std::optional<std::uint32_t> tree_id;     // set by TREE_CONNECT
  std::optional<wire::FileId> file_id;      // the open this request used or made (related compounds)
  bool disconnect = false;                  // drop the connection instead of answering
  bool sign_with_new_key = false;           // final SESSION_SETUP response
  bool end_session = false;                 // the session ends once this response is signed
  std::optional<AsyncWork> async;           // answer STATUS_PENDING now, the rest later
};

inline Reply fail(wire::NtStatus status) {
  Reply r;
  r.status = status;
  return r;
}

// The request as handlers see it.
struct Request {
  wire::Header header;
  ByteView message;  // the whole SMB2 message
  wire::Body body;
  Session* session = nullptr;
  TreeConnect* tree = nullptr;
  bool encrypted = false;
  bool signature_verified = false;  // signed, and the signature checked out (3.3.5.2.4)
};

// MS-FSA 2.1.5.1.2.1: would an open with this access and share mode clash
// with the file's existing opens (with `other` alone)?
bool sharing_violation(const FileState& file, std::uint32_t access, std::uint32_t share);
bool sharing_violation(const Open& other, std::uint32_t access, std::uint32_t share);

// The end of an open no connection holds any more (CLOSE, a closed
// connection's non-durable opens, the durable scavenger): its locks go, a
// pending delete happens on the last close (MS-FSA 2.1.5.4), waiters retry,
// a persistent open leaves the state store.
void release_open(Server& server, std::unique_ptr<Open> open);
// The RqLs response context describing `lease` (MS-SMB2 2.2.14.2.10/.11).
wire::Lease lease_context(const Lease& lease);

// Runs every CREATE waiting for an oplock or lease break on `file` again.
void wake_create_waiters(FileState& file);
// The caching an open holds, as lease_state bits (an oplock mapped: batch
// RWH, exclusive RW, level II R).
std::uint32_t caching_of(const Open& open);
// Samba's is_oplock_stat_open (and is_lease_stat_open with READ_CONTROL).
bool is_stat_open(std::uint32_t access, bool with_read_control);
// "RWH", "R", "none".
std::string lease_state_name(std::uint32_t state);

// Lets every LOCK blocked on `file` try again (a lock was released or an open closed).
void wake_lock_waiters(FileState& file);
// A LOCK request succeeded on `open`, at once or after blocking: records its
// LockSequence (MS-SMB2 3.3.5.14; index 0: none) and writes a persistent
// open's record, locks included, before the response goes out.
void lock_succeeded(Server& server, Open& open, std::uint32_t sequence_index, std::uint8_t sequence_number);

// MS-FSA 2.1.4.10: whether a READ (or WRITE) of [offset, offset + length) by
// `open` runs into another open's byte-range lock.
bool read_conflicts(const Open& open, std::uint64_t offset, std::uint64_t length);
bool write_conflicts(const Open& open, std::uint64_t offset, std::uint64_t length);

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Server& server, boost::asio::ip::tcp::socket socket);
  ~Connection();
  boost::asio::awaitable<void> run();

  // Exposed for the handlers (handlers_*.cpp).
  Server& server() { return server_; }
  // A lock went away on a file this connection waits on: try the blocked LOCK again.
  void retry_lock(std::uint64_t async_id);
  void retry_create(std::uint64_t async_id);
  // MS-SMB2 3.3.5.5.3: a new session of the same user names this one as its
  // PreviousSessionId: close its opens and forget it, on every channel.
  void expire_session(std::uint64_t session_id, const std::string& user);
  // The session ends on every channel (LOGOFF, a failed reauthentication,
  // PreviousSessionId): its durable opens are detached, the others closed.
  void end_session(std::uint64_t session_id);
  // MS-SMB2 3.3.7.1: the connection of one channel of the session went
  // away; another channel takes over what pointed at it.
  void channel_gone(Session& session, const Connection* gone);
  // MS-SMB2 3.3.4.6 / 3.3.4.7: break notifications to this connection's client.
  void send_oplock_break(const Open& open, std::uint8_t level);
  void send_lease_break(const Lease& lease, bool ack_required);
  void oplock_break_timed_out(std::uint64_t open_id, std::uint64_t serial);
  // Breaks `holder`'s lease or oplock down to `to` (lease_state bits), on
  // whichever connection holds it.
  void break_caching(Open& holder, std::uint32_t to, bool bump_epoch = true);
  // A CREATE of `file` with this access: break what conflicts; true when it
  // has to wait for an acknowledgment.
  bool break_for_create(FileState& file, const Lease* own, std::uint32_t access, bool sharing, bool overwrite);
  // A write or truncation through `writer`: other opens lose read caching.
  void break_read_caching(const Open& writer);
  // Control socket: sessions and open handles of this connection.
  void describe_state(std::vector<std::string>& lines) const;

 private:
  using Clock = std::chrono::steady_clock;
  boost::asio::awaitable<void> read_loop();
  boost::asio::awaitable<void> watchdog();
  boost::asio::awaitable<void> write_loop();
  void queue_frame(OutFrame frame);

  // A request that went async (MS-SMB2 3.3.4.2): its final response comes later.
  struct Pending {
    wire::Header header;  // the request's, with related ids filled in
    bool encrypted = false;
    bool sign = false;
    AsyncWork work;
  };
  void complete_pending(std::uint64_t async_id, wire::NtStatus status, const wire::Body& body);
  void cancel_request(const wire::Header& cancel);
  // The open is going away: its pending requests end, on every channel.
  void end_pending_for_open(std::uint64_t open_id);
  void end_pending_here(std::uint64_t open_id);
  bool try_lock(Open& open, const std::vector<wire::LockElement>& locks, wire::NtStatus& status,
                bool& would_block);

  // Turns one frame into the frame to send back (empty: nothing to send).
  // Returns false when the connection must be dropped.
  bool process_frame(Bytes& frame, OutFrame& response);
  bool process_smb1_negotiate(ByteView frame, Bytes& response);
  bool process_chain(ByteView chain, Session* transform_session, OutFrame& response);
  Reply execute(Request& request);
  Reply dispatch(Request& request);
  std::uint16_t credits_to_grant(const wire::Header& request, std::uint16_t charge);
  std::uint16_t charge_of(const wire::Header& header, const wire::Body& body, bool& too_small) const;

  // Handlers, one per command (handlers_session.cpp, handlers_file.cpp, handlers_info.cpp).
  Reply handle_negotiate(Request& r);
  Reply handle_session_setup(Request& r);
  // MS-SMB2 3.3.5.5.2: SESSION_SETUP with SMB2_SESSION_FLAG_BINDING.
  Reply bind_session(Request& r);
  Reply handle_logoff(Request& r);
  Reply handle_tree_connect(Request& r);
  Reply handle_tree_disconnect(Request& r);
  Reply handle_echo(Request& r);
  Reply handle_ioctl(Request& r);
  // Server-side copy FSCTLs (handlers_copy.cpp).
  Reply handle_resume_key(const wire::IoctlRequest& req, Open& open);
  Reply handle_copychunk(Request& r, const wire::IoctlRequest& req, Open& target);
  Reply handle_offload_read(const wire::IoctlRequest& req, Open& open);
  Reply handle_offload_write(Request& r, const wire::IoctlRequest& req, Open& target);
  // The open whose Open.ResumeKey this is (MS-SMB2 3.3.5.15.6), or null.
  Open* find_by_resume_key(const wire::ResumeKey& key);
  Reply handle_create(Request& r);
  // MS-SMB2 3.3.5.9.7 / 3.3.5.9.12: DHnC or DH2C.
  Reply reconnect_durable(Request& r, const wire::CreateRequest& req, std::uint64_t persistent_id,
                          const wire::DurableHandleReconnectV2* v2);
  // A detached durable open joins this connection, session and tree.
  Open& attach_open(std::uint64_t id, const Request& r);
  // The CREATE response for an open that already exists (reconnect, replay).
  Reply answer_from_open(Open& open, std::uint32_t create_action, bool durable_context);
  // A CREATE meets disconnected durable opens of the file: those whose
  // caching it would break, or whose share modes it clashes with, are closed
  // (MS-SMB2 3.3.4.6 / 3.3.4.7, what Windows and Samba do). True when it
  // closed any.
  bool drop_detached_conflicts(FileState& file, const Lease* own, std::uint32_t access, std::uint32_t share,
                               bool overwrite);
  // Connection loss, PreviousSessionId (3.3.7.1, 3.3.5.5.3): durable opens
  // of the session (every session when empty) are detached, the rest closed.
  void release_opens(std::optional<std::uint64_t> session_id);
  // MS-SMB2 3.3.5.2.10; false when the request must fail FILE_NOT_AVAILABLE.
  bool check_channel_sequence(Open& open, const wire::Header& h);
  void grant_caching(Open& open, const wire::CreateRequest& req, const wire::Lease* lease_request,
                     std::shared_ptr<Lease> existing, wire::CreateResponse& rsp);
  Reply handle_close(Request& r);
  Reply handle_flush(Request& r);
  Reply handle_read(Request& r);
  Reply handle_write(Request& r);
  Reply handle_query_directory(Request& r);
  Reply handle_query_info(Request& r);
  Reply handle_set_info(Request& r);
  Reply handle_lock(Request& r);
  Reply handle_change_notify(Request& r);
  Reply handle_oplock_break(Request& r);
  Reply handle_lease_break_ack(const wire::LeaseBreakAck& ack);
  void send_unsolicited(std::uint64_t session_id, std::uint32_t tree_id, const wire::Body& body);

  // Open lookup with the related-compound FileId substitution done by the caller.
  Open* find_open(const Request& r, const wire::FileId& id);
  void close_open(std::uint64_t id);
  void close_tree_opens(std::uint64_t session_id, std::optional<std::uint32_t> tree_id);
  // MS-SMB2 3.3.1.7 Connection.SessionTable: the sessions this connection
  // is a channel of.
  Session* find_session(std::uint64_t id);
  // MS-SMB2 3.3.5.2.4 / 3.3.4.1.1: the key (and its algorithm) that signs
  // and verifies this connection's messages of `session`: the channel's,
  // or Session.SigningKey while the connection is not (yet) a channel.
  struct SigningKey {
    ByteView key;
    crypto::SigningAlgorithm algorithm = crypto::SigningAlgorithm::hmac_sha256;
  };
  SigningKey signing_key_for(Session& session) const;
  bool verify_request(Session& session, ByteView message) const;
  // The preauth hash a SESSION_SETUP of this session id on this connection
  // feeds (3.1.1): the binding's own (3.3.5.5.2) or the session's (3.3.5.5.1).
  crypto::PreauthHash* setup_preauth(std::uint64_t session_id);

  Server& server_;
  boost::asio::ip::tcp::socket socket_;
  std::string peer_;
  Clock::time_point deadline_;
  std::chrono::seconds idle_timeout_{900};

  // MS-SMB2 3.3.1.7 Connection state.
  bool negotiated_ = false;
  bool smb1_negotiated_wildcard_ = false;
  wire::Dialect dialect_ = wire::Dialect::smb202;
  bool supports_multi_credit_ = false;
  wire::Guid client_guid_{};
  std::uint16_t client_security_mode_ = 0;
  std::uint32_t client_capabilities_ = 0;
  std::vector<std::uint16_t> client_dialects_;
  std::uint16_t server_security_mode_ = 0;
  std::uint32_t server_capabilities_ = 0;
  crypto::Cipher cipher_ = crypto::Cipher::none;
  crypto::SigningAlgorithm signing_algorithm_ = crypto::SigningAlgorithm::hmac_sha256;
  crypto::PreauthHash preauth_;
  CreditWindow credits_;

  // The chain being executed (MS-SMB2 3.3.5.2.7.2).
  bool current_related_ = false;
  std::optional<wire::FileId> related_file_;
  wire::NtStatus related_status_ = wire::status::SUCCESS;
  wire::NtStatus open_error_ = wire::status::FILE_CLOSED;  // why find_open() found nothing

  bool retrying_create_ = false;  // handle_create() runs again after a break (retry_create)
  std::map<std::uint64_t, Pending> pending_;  // by AsyncId
  std::uint64_t next_async_id_ = 1;
  // handle_read() -> process_chain(): the buffer the data of the READ just
  // answered was read into, at read_data_offset(). A lone READ's response
  // is built and sent from it.
  IoBuffer read_buffer_;
  std::deque<OutFrame> outgoing_;  // frames (without the Direct-TCP prefix) to send, in order
  std::size_t outgoing_bytes_ = 0;  // their total size
  static constexpr std::size_t kMaxQueuedBytes = 16u << 20;
  std::optional<boost::asio::steady_timer> writer_wake_;
  std::optional<boost::asio::steady_timer> drained_;

  std::map<std::uint64_t, std::shared_ptr<Session>> sessions_;
  // MS-SMB2 3.3.1.7 Connection.PreauthSessionTable for bindings under way:
  // the binding's authentication and its preauth hash (3.3.5.5.2).
  struct Binding {
    std::shared_ptr<Session> session;
    std::unique_ptr<auth::SpnegoServer> auth;
    crypto::PreauthHash preauth;
  };
  std::map<std::uint64_t, Binding> bindings_;
  // The server's GlobalOpenTable (Server::open_table): an open may be used
  // on any channel of its session.
  std::map<std::uint64_t, std::unique_ptr<Open>>& opens_;
};

}  // namespace smbx::server
