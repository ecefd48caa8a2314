#include "wire/message.hpp"

#include <cstdio>

#include "wire/ntstatus.hpp"
#include "wire/overloaded.hpp"

namespace smbx::wire {

namespace {

// MS-SMB2 2.2.x: the StructureSize of each command's (successful) response.
// 0 where the command has none (CANCEL) or several (OPLOCK_BREAK).
constexpr std::uint16_t response_structure_size(Command c) {
  switch (c) {
    case Command::negotiate: return 65;
    case Command::session_setup: return 9;
    case Command::logoff: return 4;
    case Command::tree_connect: return 16;
    case Command::tree_disconnect: return 4;
    case Command::create: return 89;
    case Command::close: return 60;
    case Command::flush: return 4;
    case Command::read: return 17;
    case Command::write: return 17;
    case Command::lock: return 4;
    case Command::ioctl: return 49;
    case Command::echo: return 4;
    case Command::query_directory: return 9;
    case Command::change_notify: return 9;
    case Command::query_info: return 9;
    case Command::set_info: return 2;
    case Command::server_to_client_notification: return 4;
    case Command::cancel:
    case Command::oplock_break: return 0;
  }
  return 0;
}

std::string fixed(const char* format, unsigned long long a, unsigned long long b = 0) {
  char buf[96];
  std::snprintf(buf, sizeof buf, format, a, b);
  return buf;
}

std::string quoted(std::u16string_view name) { return " \"" + utf8_from_utf16(name) + "\""; }

std::string fsctl_name(std::uint32_t code) {
  switch (code) {
    case fsctl::dfs_get_referrals: return "FSCTL_DFS_GET_REFERRALS";
    case fsctl::dfs_get_referrals_ex: return "FSCTL_DFS_GET_REFERRALS_EX";
    case fsctl::pipe_peek: return "FSCTL_PIPE_PEEK";
    case fsctl::pipe_wait: return "FSCTL_PIPE_WAIT";
    case fsctl::pipe_transceive: return "FSCTL_PIPE_TRANSCEIVE";
    case fsctl::srv_request_resume_key: return "FSCTL_SRV_REQUEST_RESUME_KEY";
    case fsctl::srv_copychunk: return "FSCTL_SRV_COPYCHUNK";
    case fsctl::srv_copychunk_write: return "FSCTL_SRV_COPYCHUNK_WRITE";
    case fsctl::srv_enumerate_snapshots: return "FSCTL_SRV_ENUMERATE_SNAPSHOTS";
    case fsctl::srv_read_hash: return "FSCTL_SRV_READ_HASH";
    case fsctl::lmr_request_resiliency: return "FSCTL_LMR_REQUEST_RESILIENCY";
    case fsctl::query_network_interface_info: return "FSCTL_QUERY_NETWORK_INTERFACE_INFO";
    case fsctl::validate_negotiate_info: return "FSCTL_VALIDATE_NEGOTIATE_INFO";
    case fsctl::offload_read: return "FSCTL_OFFLOAD_READ";
    case fsctl::offload_write: return "FSCTL_OFFLOAD_WRITE";
    case fsctl::duplicate_extents_to_file: return "FSCTL_DUPLICATE_EXTENTS_TO_FILE";
    case fsctl::duplicate_extents_to_file_ex: return "FSCTL_DUPLICATE_EXTENTS_TO_FILE_EX";
    case fsctl::set_reparse_point: return "FSCTL_SET_REPARSE_POINT";
    case fsctl::get_reparse_point: return "FSCTL_GET_REPARSE_POINT";
    case fsctl::set_sparse: return "FSCTL_SET_SPARSE";
    case fsctl::set_zero_data: return "FSCTL_SET_ZERO_DATA";
    case fsctl::query_allocated_ranges: return "FSCTL_QUERY_ALLOCATED_RANGES";
    default: return fixed("ctl=0x%08llX", code);
  }
}

const char* info_type_name(std::uint8_t type) {
  switch (type) {
    case 1: return "file";
    case 2: return "filesystem";
    case 3: return "security";
    case 4: return "quota";
    default: return "info";
  }
}

template <typename T, typename Decode>
Expected<Body> as_body(Decode&& decode, ByteView message) {
  auto decoded = decode(message);
  if (!decoded) return Unexpected{std::move(decoded).error()};
  return Body{std::move(*decoded)};
}

#define SMBX_BODY(Type, fn) as_body<Type>([](ByteView m) { return fn(m); }, message)

Expected<Body> decode_oplock_break_body(const Header& header, ByteView message) {
  const auto size = SMBX_TRY(oplock_break_structure_size(message));
  // MS-SMB2 2.2.23-2.2.25: the StructureSize tells the form apart.
  if (size == 24) return SMBX_BODY(OplockBreak, decode_oplock_break);
  if (size == 44) {
    if (!header.is_response())
      return wire_error(WireError::bad_structure_size, "a lease break notification sent by the client");
    return SMBX_BODY(LeaseBreakNotification, decode_lease_break_notification);
  }
  return SMBX_BODY(LeaseBreakAck, decode_lease_break_ack);
}

Expected<Body> decode_request(const Header& header, ByteView message) {
  switch (header.command) {
    case Command::negotiate: return SMBX_BODY(NegotiateRequest, decode_negotiate_request);
    case Command::session_setup: return SMBX_BODY(SessionSetupRequest, decode_session_setup_request);
    case Command::logoff: return SMBX_BODY(LogoffRequest, decode_logoff_request);
    case Command::tree_connect: return SMBX_BODY(TreeConnectRequest, decode_tree_connect_request);
    case Command::tree_disconnect: return SMBX_BODY(TreeDisconnectRequest, decode_tree_disconnect_request);
    case Command::create: return SMBX_BODY(CreateRequest, decode_create_request);
    case Command::close: return SMBX_BODY(CloseRequest, decode_close_request);
    case Command::flush: return SMBX_BODY(FlushRequest, decode_flush_request);
    case Command::read: return SMBX_BODY(ReadRequest, decode_read_request);
    case Command::write: return SMBX_BODY(WriteRequest, decode_write_request);
    case Command::lock: return SMBX_BODY(LockRequest, decode_lock_request);
    case Command::ioctl: return SMBX_BODY(IoctlRequest, decode_ioctl_request);
    case Command::cancel: return SMBX_BODY(CancelRequest, decode_cancel_request);
    case Command::echo: return SMBX_BODY(EchoRequest, decode_echo_request);
    case Command::query_directory: return SMBX_BODY(QueryDirectoryRequest, decode_query_directory_request);
    case Command::change_notify: return SMBX_BODY(ChangeNotifyRequest, decode_change_notify_request);
    case Command::query_info: return SMBX_BODY(QueryInfoRequest, decode_query_info_request);
    case Command::set_info: return SMBX_BODY(SetInfoRequest, decode_set_info_request);
    case Command::oplock_break: return decode_oplock_break_body(header, message);
    case Command::server_to_client_notification:
      return wire_error(WireError::unknown_command, "SERVER_TO_CLIENT_NOTIFICATION is sent only by servers");
  }
  return wire_error(WireError::unknown_command, "command " + std::to_string(static_cast<int>(header.command)));
}

Expected<Body> decode_response(const Header& header, ByteView message) {
  switch (header.command) {
    case Command::negotiate: return SMBX_BODY(NegotiateResponse, decode_negotiate_response);
    case Command::session_setup: return SMBX_BODY(SessionSetupResponse, decode_session_setup_response);
    case Command::logoff: return SMBX_BODY(LogoffResponse, decode_logoff_response);
    case Command::tree_connect: return SMBX_BODY(TreeConnectResponse, decode_tree_connect_response);
    case Command::tree_disconnect: return SMBX_BODY(TreeDisconnectResponse, decode_tree_disconnect_response);
    case Command::create: return SMBX_BODY(CreateResponse, decode_create_response);
    case Command::close: return SMBX_BODY(CloseResponse, decode_close_response);
    case Command::flush: return SMBX_BODY(FlushResponse, decode_flush_response);
    case Command::read: return SMBX_BODY(ReadResponse, decode_read_response);
    case Command::write: return SMBX_BODY(WriteResponse, decode_write_response);
    case Command::lock: return SMBX_BODY(LockResponse, decode_lock_response);
    case Command::ioctl: return SMBX_BODY(IoctlResponse, decode_ioctl_response);
    case Command::echo: return SMBX_BODY(EchoResponse, decode_echo_response);
    case Command::query_directory: return SMBX_BODY(QueryDirectoryResponse, decode_query_directory_response);
    case Command::change_notify: return SMBX_BODY(ChangeNotifyResponse, decode_change_notify_response);
    case Command::query_info: return SMBX_BODY(QueryInfoResponse, decode_query_info_response);
    case Command::set_info: return SMBX_BODY(SetInfoResponse, decode_set_info_response);
    case Command::oplock_break: return decode_oplock_break_body(header, message);
    case Command::server_to_client_notification:
      return SMBX_BODY(ServerToClientNotification, decode_server_to_client_notification);
    case Command::cancel:
      return wire_error(WireError::unknown_command, "CANCEL has no response (MS-SMB2 3.3.5.16)");
  }
  return wire_error(WireError::unknown_command, "command " + std::to_string(static_cast<int>(header.command)));
}

#undef SMBX_BODY

}  // namespace

Expected<ServerToClientNotification> decode_server_to_client_notification(ByteView message) {
  Reader r{message, kHeaderSize};
  SMBX_TRY_VOID(expect_structure_size(SMBX_TRY(r.u16()), 4, "SERVER_TO_CLIENT_NOTIFICATION"));
  SMBX_TRY(r.u16());  // Reserved
  ServerToClientNotification m;
  m.notification_type = SMBX_TRY(r.u32());
  m.notification = r.rest();
  return m;
}

void encode(Writer& w, const ServerToClientNotification& m) {
  w.u16(4);
  w.u16(0);
  w.u32(m.notification_type);
  w.bytes(m.notification);
}

bool has_error_body(const Header& header, ByteView message) {
  if (!header.is_response()) return false;
  const auto status = header.status();
  if (status == status::PENDING) return true;  // interim response (MS-SMB2 3.3.4.2)
  if (!is_error(status) && !is_warning(status)) return false;
  if (header.command == Command::session_setup && status == status::MORE_PROCESSING_REQUIRED) return false;
  if (status == status::BUFFER_OVERFLOW) {
    switch (header.command) {
      case Command::read:
      case Command::ioctl:
      case Command::query_info:
      case Command::query_directory:
      case Command::change_notify: return false;
      default: break;
    }
  }
  // Some failures keep the command's own body, e.g. FSCTL_SRV_COPYCHUNK's
  // STATUS_INVALID_PARAMETER carries the server's limits (MS-SMB2 3.3.5.15.6).
  const auto normal_size = response_structure_size(header.command);
  if (normal_size != 9 && message.size() >= kHeaderSize + 2 && load_le16(&message[kHeaderSize]) == normal_size)
    return false;
  return true;
}

Expected<Body> decode_body(const Header& header, ByteView message, std::optional<Dialect> dialect) {
  if (header.command == Command::server_to_client_notification && dialect && *dialect != Dialect::smb311)
    return wire_error(WireError::unknown_command,
                      "SERVER_TO_CLIENT_NOTIFICATION on a " + std::string{to_string(*dialect)} + " connection");
  if (has_error_body(header, message)) {
    auto error = decode_error_response(message);
    if (!error) return Unexpected{std::move(error).error()};
    return Body{std::move(*error)};
  }
  return header.is_response() ? decode_response(header, message) : decode_request(header, message);
}

std::string summarize(const Header& header, const Body& body) {
  const std::string command{to_string(header.command)};
  const std::string direction = header.is_response() ? " response" : " request";
  const std::string detail = std::visit(
      Overloaded{
          [&](const ErrorResponse&) -> std::string { return header.status() == status::PENDING ? " (interim)" : ""; },
          [](const NegotiateRequest& m) -> std::string {
            std::string s = " dialects";
            for (auto d : m.dialects) s += fixed(" %04llx", d);
            return s;
          },
          [](const NegotiateResponse& m) -> std::string {
            return " dialect " + std::string{to_string(static_cast<Dialect>(m.dialect_revision))};
          },
          [](const TreeConnectRequest& m) { return quoted(m.path); },
          [](const CreateRequest& m) { return quoted(m.name); },
          [](const CreateResponse& m) { return fixed(" fid=%llx:%llx", m.file_id.persistent, m.file_id.volatile_id); },
          [](const ReadRequest& m) { return fixed(" %llu bytes at %llu", m.length, m.offset); },
          [](const ReadResponse& m) { return fixed(" %llu bytes", m.data.size()); },
          [](const WriteRequest& m) { return fixed(" %llu bytes at %llu", m.data.size(), m.offset); },
          [](const WriteResponse& m) { return fixed(" %llu bytes", m.count); },
          [](const IoctlRequest& m) { return " " + fsctl_name(m.ctl_code); },
          [](const IoctlResponse& m) { return " " + fsctl_name(m.ctl_code); },
          [](const QueryDirectoryRequest& m) {
            return fixed(" class 0x%02llx", m.file_information_class) + quoted(m.file_name);
          },
          [](const QueryInfoRequest& m) {
            return " " + std::string{info_type_name(m.info_type)} + fixed(" class 0x%02llx", m.file_info_class);
          },
          [](const SetInfoRequest& m) {
            return " " + std::string{info_type_name(m.info_type)} + fixed(" class 0x%02llx", m.file_info_class);
          },
          [](const OplockBreak& m) { return fixed(" oplock level 0x%02llx", m.oplock_level); },
          [](const LeaseBreakNotification& m) {
            return fixed(" lease break notification %llx->%llx", m.current_lease_state, m.new_lease_state);
          },
          [](const LeaseBreakAck& m) { return fixed(" lease break ack state %llx", m.lease_state); },
          [](const auto&) -> std::string { return ""; },
      },
      body);
  if (header.command == Command::oplock_break) return command + detail + direction;
  if (std::holds_alternative<IoctlRequest>(body) || std::holds_alternative<IoctlResponse>(body)) {
    return command + detail + direction;
  }
  return command + direction + detail;
}

void encode_message(Bytes& out, const Header& header, const Body& body) {
  Writer w{out};
  w.set_base(out.size());
  encode_header(w, header);
  std::visit([&](const auto& m) { encode(w, m); }, body);
}

Bytes encode_message(const Header& header, const Body& body) {
  Bytes out;
  encode_message(out, header, body);
  return out;
}

Bytes encode_compound(const std::vector<ChainMember>& members) {
  Bytes out;
  for (std::size_t i = 0; i < members.size(); ++i) {
    const auto start = out.size();
    encode_message(out, members[i].header, members[i].body);
    if (i + 1 == members.size()) break;
    // MS-SMB2 3.2.4.1.4: the next header starts on an 8-byte boundary.
    out.resize(start + (out.size() - start + 7) / 8 * 8, 0);
    store_le32(&out[start + kNextCommandOffset], static_cast<std::uint32_t>(out.size() - start));
  }
  return out;
}

}  // namespace smbx::wire
