// The 64-byte SMB2 packet header, sync and async forms (MS-SMB2 2.2.1).
#pragma once

#include <cstdint>
#include <string_view>

#include "wire/types.hpp"

namespace smbx::wire {

inline constexpr std::size_t kHeaderSize = 64;
inline constexpr std::uint32_t kSmb2ProtocolId = 0x424D53FE;       // FE 'S' 'M' 'B'
inline constexpr std::uint32_t kTransformProtocolId = 0x424D53FD;  // FD 'S' 'M' 'B'
inline constexpr std::uint32_t kCompressionProtocolId = 0x424D53FC;
inline constexpr std::uint32_t kSmb1ProtocolId = 0x424D53FF;
inline constexpr std::uint64_t kUnsolicitedMessageId = ~std::uint64_t{0};  // oplock/lease breaks

// MS-SMB2 2.2.1.2
enum class Command : std::uint16_t {
  negotiate = 0x0000,
  session_setup = 0x0001,
  logoff = 0x0002,
  tree_connect = 0x0003,
  tree_disconnect = 0x0004,
  create = 0x0005,
  close = 0x0006,
  flush = 0x0007,
  read = 0x0008,
  write = 0x0009,
  lock = 0x000A,
  ioctl = 0x000B,
  cancel = 0x000C,
  echo = 0x000D,
  query_directory = 0x000E,
  change_notify = 0x000F,
  query_info = 0x0010,
  set_info = 0x0011,
  oplock_break = 0x0012,
  server_to_client_notification = 0x0013,
};
inline constexpr std::uint16_t kCommandCount = 0x0014;
std::string_view to_string(Command c) noexcept;  // "CREATE"

// MS-SMB2 2.2.1.2 Flags
namespace flags {
inline constexpr std::uint32_t server_to_redir = 0x00000001;
inline constexpr std::uint32_t async_command = 0x00000002;
inline constexpr std::uint32_t related_operations = 0x00000004;
inline constexpr std::uint32_t is_signed = 0x00000008;
inline constexpr std::uint32_t priority_mask = 0x00000070;
inline constexpr std::uint32_t dfs_operations = 0x10000000;
inline constexpr std::uint32_t replay_operation = 0x20000000;
}  // namespace flags

struct Header {
  std::uint16_t credit_charge = 0;
  // Requests (3.x): ChannelSequence in the low 16 bits, Reserved above.
  // Responses: the NTSTATUS. One field because the wire has one.
  std::uint32_t status_or_channel_sequence = 0;
  Command command = Command::negotiate;
  std::uint16_t credits = 0;  // CreditRequest in requests, CreditResponse in responses
  std::uint32_t flags = 0;
  std::uint32_t next_command = 0;
  std::uint64_t message_id = 0;
  std::uint64_t async_id = 0;     // async form only
  std::uint32_t process_id = 0;   // sync form: "Reserved" (Samba: PID)
  std::uint32_t tree_id = 0;      // sync form only
  std::uint64_t session_id = 0;
  std::array<std::uint8_t, 16> signature{};

  bool is_response() const noexcept { return (flags & flags::server_to_redir) != 0; }
  bool is_async() const noexcept { return (flags & flags::async_command) != 0; }
  bool is_signed() const noexcept { return (flags & flags::is_signed) != 0; }
  bool is_related() const noexcept { return (flags & flags::related_operations) != 0; }
  bool is_replay() const noexcept { return (flags & flags::replay_operation) != 0; }
  std::uint32_t status() const noexcept { return status_or_channel_sequence; }
  std::uint16_t channel_sequence() const noexcept { return static_cast<std::uint16_t>(status_or_channel_sequence); }
};

// Offsets of fields inside the header that signing and framing touch directly.
inline constexpr std::size_t kFlagsOffset = 16;
inline constexpr std::size_t kNextCommandOffset = 20;
inline constexpr std::size_t kSessionIdOffset = 40;
inline constexpr std::size_t kSignatureOffset = 48;

Expected<Header> decode_header(ByteView message);
void encode_header(Writer& w, const Header& h);

// One SMB2 message of a (possibly compound) chain: its header and all its
// bytes, from the header to the next member (padding included) or the end.
struct MessageView {
  Header header;
  ByteView bytes;  // header + body (+ compound padding); what a signature covers
};

// Splits a plaintext SMB2 frame into its compound members (MS-SMB2 3.2.4.1.4:
// each NextCommand is 8-aligned and points past the current header).
Expected<std::vector<MessageView>> split_compound(ByteView frame);

// Reads the ProtocolId of a frame; 0 if shorter than 4 bytes.
inline std::uint32_t protocol_id(ByteView frame) noexcept { return frame.size() >= 4 ? load_le32(frame.data()) : 0; }

}  // namespace smbx::wire
