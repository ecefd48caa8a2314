#include "wire/header.hpp"

#include <string>

namespace smbx::wire {

std::string_view to_string(Command c) noexcept {
  switch (c) {
    case Command::negotiate: return "NEGOTIATE";
    case Command::session_setup: return "SESSION_SETUP";
    case Command::logoff: return "LOGOFF";
    case Command::tree_connect: return "TREE_CONNECT";
    case Command::tree_disconnect: return "TREE_DISCONNECT";
    case Command::create: return "CREATE";
    case Command::close: return "CLOSE";
    case Command::flush: return "FLUSH";
    case Command::read: return "READ";
    case Command::write: return "WRITE";
    case Command::lock: return "LOCK";
    case Command::ioctl: return "IOCTL";
    case Command::cancel: return "CANCEL";
    case Command::echo: return "ECHO";
    case Command::query_directory: return "QUERY_DIRECTORY";
    case Command::change_notify: return "CHANGE_NOTIFY";
    case Command::query_info: return "QUERY_INFO";
    case Command::set_info: return "SET_INFO";
    case Command::oplock_break: return "OPLOCK_BREAK";
    case Command::server_to_client_notification: return "SERVER_TO_CLIENT_NOTIFICATION";
  }
  return "UNKNOWN";
}

Expected<Header> decode_header(ByteView message) {
  Reader r{message};
  if (SMBX_TRY(r.u32()) != kSmb2ProtocolId)
    return wire_error(WireError::bad_protocol_id, "not an SMB2 header");
  SMBX_TRY_VOID(expect_structure_size(SMBX_TRY(r.u16()), 64, "SMB2 header"));
  Header h;
  h.credit_charge = SMBX_TRY(r.u16());
  h.status_or_channel_sequence = SMBX_TRY(r.u32());
  const auto command = SMBX_TRY(r.u16());
  if (command >= kCommandCount)
    return wire_error(WireError::unknown_command, "command 0x" + to_hex(ByteView{&message[12], 2}));
  h.command = static_cast<Command>(command);
  h.credits = SMBX_TRY(r.u16());
  h.flags = SMBX_TRY(r.u32());
  h.next_command = SMBX_TRY(r.u32());
  h.message_id = SMBX_TRY(r.u64());
  if (h.is_async()) {
    h.async_id = SMBX_TRY(r.u64());
  } else {
    h.process_id = SMBX_TRY(r.u32());
    h.tree_id = SMBX_TRY(r.u32());
  }
  h.session_id = SMBX_TRY(r.u64());
  h.signature = SMBX_TRY(r.array<16>());
  return h;
}

void encode_header(Writer& w, const Header& h) {
  w.u32(kSmb2ProtocolId);
  w.u16(64);
  w.u16(h.credit_charge);
  w.u32(h.status_or_channel_sequence);
  w.u16(static_cast<std::uint16_t>(h.command));
  w.u16(h.credits);
  w.u32(h.flags);
  w.u32(h.next_command);
  w.u64(h.message_id);
  if (h.is_async()) {
    w.u64(h.async_id);
  } else {
    w.u32(h.process_id);
    w.u32(h.tree_id);
  }
  w.u64(h.session_id);
  w.bytes(h.signature);
}

Expected<std::vector<MessageView>> split_compound(ByteView frame) {
  std::vector<MessageView> members;
  std::size_t start = 0;
  for (;;) {
    const ByteView rest = frame.subspan(start);
    auto header = SMBX_TRY(decode_header(rest));
    std::size_t length = rest.size();
    if (header.next_command != 0) {
      // MS-SMB2 3.2.4.1.4: the next header starts 8-aligned and after this one.
      if (header.next_command < kHeaderSize || header.next_command % 8 != 0 ||
          header.next_command >= rest.size())
        return wire_error(WireError::bad_offset,
                          "NextCommand " + std::to_string(header.next_command) + " in a " +
                              std::to_string(rest.size()) + "-byte chain");
      length = header.next_command;
    }
    const bool last = header.next_command == 0;
    members.push_back({std::move(header), rest.first(length)});
    if (last) return members;
    start += length;
  }
}

}  // namespace smbx::wire
