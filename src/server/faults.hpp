// smbxd's fault injection (DESIGN.md, Reference server cluster): faults an
// operator or a test switches on over the control socket
// (`smbxctl server SOCKET fault ...`) so that every failover path of a
// client can be made to happen on purpose. MS-SMB2 has no say here.
//
//   crash                       the process dies at once, like kill -9
//   freeze SECONDS              no SMB connection reads or answers anything
//                               for SECONDS (TCP stays open), then all resume
//   drop-connections            every SMB connection is closed now
//   drop-responses N [COMMAND [NAME]]
//                               the next N request frames (only those with a
//                               COMMAND request, only those naming NAME) are
//                               executed but never answered; after the N-th
//                               the connection is dropped. COMMAND is an SMB2
//                               command (create, write, set_info, ...), `any`,
//                               or one of the operations a client's lookups
//                               would otherwise hide: create-new (a CREATE
//                               that may make the file: not OPEN/OVERWRITE),
//                               rename, delete, set-eof (SET_INFO classes)
//   delay MS                    every response waits MS before it is sent
//   offload-cap BYTES           ODX partial transfers: FSCTL_OFFLOAD_READ's
//                               TransferLength and FSCTL_OFFLOAD_WRITE's
//                               LengthWritten are at most BYTES (rounded down
//                               to the 512-byte sector, at least one sector);
//                               0 ends the cap
//   clear                       ends freeze, drop-responses, delay and offload-cap
//
// Connections call the hooks below from their read and write loops (and
// execute(), which sees each decoded request of a compound frame). Everything
// runs on the io_context thread (DESIGN.md, Concurrency).
#pragma once

#include <boost/asio.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wire/header.hpp"
#include "wire/message.hpp"

namespace smbx::server {

class Faults {
 public:
  using Clock = std::chrono::steady_clock;
  using Socket = boost::asio::ip::tcp::socket;

  explicit Faults(boost::asio::io_context& io);
  Faults(const Faults&) = delete;
  Faults& operator=(const Faults&) = delete;

  // The control request "fault ARGS": the reply lines ("ok" or "error <msg>").
  std::vector<std::string> control(std::string_view args);

  // A connection's registration for the life of its read loop: lets
  // drop-connections close its socket and drop-responses keep per-frame
  // state. Unregisters when destroyed (also when the loop is cancelled).
  class Watch {
   public:
    Watch(Faults& faults, const void* connection) : faults_{&faults}, connection_{connection} {}
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;
    ~Watch() { faults_->connections_.erase(connection_); }

   private:
    Faults* faults_;
    const void* connection_;
  };
  [[nodiscard]] Watch watch(const void* connection, Socket& socket);

  // Waits while a freeze is in force. False when the connection was dropped
  // meanwhile (drop-connections): the caller ends the connection.
  boost::asio::awaitable<bool> hold(const void* connection);
  // Before a response frame is sent: hold(), then the delay, if any.
  boost::asio::awaitable<bool> before_send(const void* connection);

  // drop-responses: true while requests must be looked at (cheap check for execute()).
  bool watching_requests() const { return drop_remaining_ > 0; }
  // One decoded request of the frame being executed. `open_path` is the path
  // of the open the request uses (null when it uses none or the id is unknown).
  void note_request(const void* connection, wire::Command command, const wire::Body& body,
                    const std::string* open_path);
  // The FileId a request body names, if any (for the caller's open lookup).
  static std::optional<wire::FileId> file_id_of(const wire::Body& body);

  // offload-cap: the largest ODX TransferLength / LengthWritten (0: no cap).
  std::uint64_t offload_cap() const { return offload_cap_; }
  // ignore-cancels: CANCEL requests are read and dropped, so a blocking LOCK
  // waits on (a server that never answers a client's CANCEL).
  bool ignore_cancels() const { return ignore_cancels_; }

  // After a frame was executed: what to do with its response.
  enum class Verdict { answer, drop, drop_and_disconnect };
  Verdict after_frame(const void* connection);

 private:
  struct Watched {
    Socket* socket = nullptr;
    bool frame_matched = false;
    std::string matched;  // what matched, for the log
    bool dropped = false;
  };

  std::string set_freeze(std::chrono::milliseconds length);
  void drop_connections();
  void wake_waiters();

  boost::asio::io_context& io_;
  std::map<const void*, Watched> connections_;

  // freeze
  Clock::time_point frozen_until_{};
  boost::asio::steady_timer thaw_;  // every held coroutine waits on it; cancel() wakes them all

  // drop-responses: which requests count (none: all)
  struct Filter {
    std::string name;  // as the operator gave it
    wire::Command command = wire::Command::create;
    enum class Kind { command, create_new, rename, delete_, set_eof } kind = Kind::command;
    bool matches(wire::Command c, const wire::Body& body) const;
  };
  static std::optional<Filter> parse_filter(std::string_view text);
  std::uint64_t drop_remaining_ = 0;
  std::optional<Filter> drop_command_;
  std::string drop_name_;

  // delay
  std::chrono::milliseconds delay_{0};

  std::uint64_t offload_cap_ = 0;
  bool ignore_cancels_ = false;
};

}  // namespace smbx::server
