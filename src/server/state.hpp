// The server's protocol state (MS-SMB2 3.3.1): shares, sessions, tree
// connects, opens and the credit window. All of it belongs to the io_context
// thread.
#pragma once

#include <array>
#include <chrono>
#include <compare>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "auth/spnego.hpp"
#include "crypto/keys.hpp"
#include "crypto/preauth.hpp"
#include "crypto/transform.hpp"
#include "server/config.hpp"
#include "wire/fscc.hpp"

namespace smbx::server {

class Connection;
struct Open;

struct Share {
  ShareConfig config;
  std::u16string name16;
  int root_fd = -1;  // O_PATH | O_DIRECTORY of the share root; every open starts here
};

// One file as every open of it sees it (MS-SMB2 3.3.1.10 Open.File, MS-FSA
// File.PendingDelete). Keyed by device and inode, so renames keep it.
struct FileKey {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  auto operator<=>(const FileKey&) const = default;
};
// MS-FSA 2.1.1.10 ByteRangeLock.
struct ByteRangeLock {
  const Open* owner = nullptr;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  bool exclusive = false;
};

struct FileState {
  FileKey key;
  const Share* share = nullptr;
  std::string path;  // under the share root, POSIX separators; "" is the root
  bool delete_pending = false;
  bool is_directory = false;
  std::vector<Open*> opens;  // every live open, for share modes (MS-FSA 2.1.5.1.2)
  std::vector<ByteRangeLock> locks;
  // Blocked LOCK requests to retry when a lock goes away: connection and AsyncId.
  std::vector<std::pair<std::weak_ptr<Connection>, std::uint64_t>> lock_waiters;
  // CREATEs waiting for an oplock or lease break to be acknowledged (MS-SMB2 3.3.4.6, 3.3.4.7).
  std::vector<std::pair<std::weak_ptr<Connection>, std::uint64_t>> create_waiters;
};

// MS-SMB2 3.3.1.13 Lease: shared by every open of one client (ClientGuid)
// that names the same LeaseKey; it lives as long as one of them does.
struct Lease {
  wire::Guid client_guid{};
  wire::Guid key{};
  FileKey file;
  std::string path;  // for logs and the control socket
  bool v2 = false;
  wire::Guid parent_key{};
  bool has_parent_key = false;
  std::uint32_t state = 0;   // wire::lease_state bits
  std::uint16_t epoch = 0;   // v2 only
  bool breaking = false;
  std::uint32_t breaking_to_requested = 0;  // NewLeaseState of the notification sent
  std::uint32_t breaking_to_required = 0;   // what the waiting opens need (may narrow while breaking)
  std::uint64_t break_serial = 0;           // which break a timeout belongs to
  std::weak_ptr<Connection> connection;     // where break notifications go (the latest open's)
  std::uint64_t session_id = 0;             // ... and whose session/tree decide on encryption
  std::uint32_t tree_id = 0;
};

struct DirectoryCursor {
  bool loaded = false;
  std::u16string pattern;
  std::vector<wire::fscc::DirectoryEntry> entries;
  std::size_t next = 0;
};

// MS-SMB2 3.3.1.10
struct Open {
  std::uint64_t id = 0;  // FileId.Persistent == FileId.Volatile
  std::uint64_t session_id = 0;
  std::uint32_t tree_id = 0;
  int fd = -1;
  std::uint32_t granted_access = 0;
  std::uint32_t share_access = 0;
  std::uint8_t oplock_level = 0;  // wire::oplock: none, level II, exclusive or batch
  bool oplock_breaking = false;   // a break notification was sent, no acknowledgment yet
  std::uint8_t oplock_break_to = 0;
  std::uint64_t oplock_break_serial = 0;
  std::shared_ptr<Lease> lease;   // set when the open was granted through RqLs
  std::weak_ptr<Connection> connection;
  bool delete_on_close = false;  // CreateOptions FILE_DELETE_ON_CLOSE
  std::shared_ptr<FileState> file;
  DirectoryCursor directory;
  std::uint64_t position = 0;  // FilePositionInformation
  std::uint32_t mode = 0;      // FileModeInformation
  std::size_t ea_index = 0;    // the next EA a FileFullEaInformation scan returns (MS-SMB2 3.3.5.20.1)
  bool is_directory() const { return file->is_directory; }

  // Durability (MS-SMB2 3.3.1.10): a durable open outlives its connection,
  // detached (no connection, session or tree) in the server's table until a
  // DHnC/DH2C reattaches it or its scavenger deadline passes (3.3.6.2).
  bool is_durable = false;
  bool is_persistent = false;      // granted on a CA share (DH2Q with PERSISTENT)
  bool durable_v2 = false;         // granted through DH2Q
  bool replay_eligible = false;    // Open.IsReplayEligible (3.3.5.9.10)
  bool has_create_guid = false;    // in the server's (ClientGuid, CreateGuid) table
  wire::Guid create_guid{};        // Open.CreateGuid; zero for DHnQ opens
  wire::Guid client_guid{};        // Open.ClientGuid
  std::string durable_owner;       // Open.DurableOwner: the user name
  std::uint32_t durable_timeout_ms = 0;  // Open.DurableOpenTimeout
  std::uint32_t desired_access = 0;      // as requested (STATUS_CONTEXT_MISMATCH checks, the store)
  std::uint32_t create_options = 0;
  std::uint32_t create_action = 0;       // what the create did, for a replayed create's response
  bool detached = false;                 // Open.Connection == NULL
  std::uint64_t scavenge_serial = 0;     // which scavenger timer is current
  std::chrono::steady_clock::time_point scavenge_at{};
  // MS-SMB2 3.3.5.2.10 / 3.3.4.1: Open.ChannelSequence and the request counts.
  std::uint16_t channel_sequence = 0;
  std::uint64_t outstanding_requests = 0;
  std::uint64_t outstanding_pre_requests = 0;
  // MS-SMB2 3.3.1.10 Open.LockSequenceArray (3.3.5.14): entry i is for
  // LockSequenceIndex i + 1; 0 when unused, else 0x100 | LockSequenceNumber
  // (the encoding of PersistentOpen::lock_sequences).
  std::array<std::uint16_t, 64> lock_sequences{};
  // MS-SMB2 3.3.1.10 Open.ResumeKey (3.3.5.15.5): made on the first
  // FSCTL_SRV_REQUEST_RESUME_KEY; the open's id, then 16 random bytes.
  std::optional<std::array<std::uint8_t, 24>> resume_key;

  Open() = default;
  Open(const Open&) = delete;
  Open& operator=(const Open&) = delete;
  ~Open();
};

// MS-SMB2 3.3.1.4
struct TreeConnect {
  std::uint32_t id = 0;
  const Share* share = nullptr;
  std::uint32_t maximal_access = 0;
  bool encrypt_data = false;
};

// MS-SMB2 3.3.1.8 Session.ChannelList entry: one connection a session is bound to. The first
// channel is the connection that authenticated the session; the others come
// from SESSION_SETUP with SMB2_SESSION_FLAG_BINDING (3.3.5.5.2).
struct Channel {
  const Connection* connection = nullptr;  // identity; `weak` tells whether it lives
  std::weak_ptr<Connection> weak;
  Bytes signing_key;  // Channel.SigningKey; empty while the binding authenticates
  crypto::SigningAlgorithm signing_algorithm = crypto::SigningAlgorithm::hmac_sha256;  // its connection's
};

// Windows Server's limit, which smbtorture's smb2.multichannel.generic.num_channels expects.
inline constexpr std::size_t kMaxChannels = 32;

// MS-SMB2 3.3.1.8
struct Session {
  enum class State { in_progress, valid };
  std::uint64_t id = 0;
  State state = State::in_progress;
  std::unique_ptr<auth::SpnegoServer> auth;
  crypto::PreauthHash preauth;  // Session.PreauthIntegrityHashValue (3.1.1)
  crypto::SessionKeys keys;
  bool has_keys = false;
  bool signing_required = false;  // Session.SigningRequired
  bool encrypt_data = false;      // Session.EncryptData
  bool logged_encryption = false;  // the first encrypted request is logged
  std::string user;
  bool is_anonymous = false;  // Session.IsAnonymous (smbxd has no guest sessions)
  std::map<std::uint32_t, TreeConnect> trees;
  std::uint32_t next_tree_id = 1;
  std::optional<crypto::NonceGenerator> nonces;
  // Session.Connection as the binding checks of MS-SMB2 3.3.5.5.2 need it
  // (that connection may be gone by then): its dialect, ClientGuid, cipher
  // and the signing algorithm of Session.SigningKey.
  wire::Dialect dialect = wire::Dialect::smb202;
  wire::Guid client_guid{};
  crypto::Cipher cipher = crypto::Cipher::none;
  crypto::SigningAlgorithm signing_algorithm = crypto::SigningAlgorithm::hmac_sha256;
  // Session.ChannelList, in the order the channels were bound.
  std::vector<Channel> channels;
  Channel* find_channel(const Connection* c) {
    for (auto& ch : channels)
      if (ch.connection == c) return &ch;
    return nullptr;
  }
};

// MS-SMB2 3.3.1.1: the MessageIds the client may use. Out-of-order use
// within the window is fine; every id is used once.
class CreditWindow {
 public:
  // Marks [message_id, message_id + charge) used; false if any is outside the
  // window or already used.
  bool consume(std::uint64_t message_id, std::uint16_t charge);
  // Adds `credits` ids at the top of the window.
  void grant(std::uint32_t credits) { high_ += credits; }
  // Ids granted and not yet used.
  std::uint64_t outstanding() const { return high_ - low_ - used_above_low_.size(); }

 private:
  std::uint64_t low_ = 0;   // lowest id not yet used
  std::uint64_t high_ = 1;  // one past the highest granted id: a connection starts with {0}
  std::set<std::uint64_t> used_above_low_;
};

}  // namespace smbx::server
