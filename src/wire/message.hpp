// Every SMB2 message body as one variant, with the dispatcher that picks the
// decoder from the header (command, direction, status, StructureSize), and
// whole-message encoding (header + body, compound chains).
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "wire/change_notify.hpp"
#include "wire/create.hpp"
#include "wire/error_response.hpp"
#include "wire/header.hpp"
#include "wire/ioctl.hpp"
#include "wire/lock.hpp"
#include "wire/negotiate.hpp"
#include "wire/oplock_break.hpp"
#include "wire/query_directory.hpp"
#include "wire/query_info.hpp"
#include "wire/read_write.hpp"
#include "wire/session_setup.hpp"
#include "wire/set_info.hpp"
#include "wire/simple.hpp"
#include "wire/tree_connect.hpp"

namespace smbx::wire {

// MS-SMB2 2.2.44 (3.1.1 with SMB2_GLOBAL_CAP_NOTIFICATIONS): StructureSize 4,
// Reserved, NotificationType, then the notification (SMB2_NOTIFY_SESSION_CLOSED
// is 4 reserved bytes).
struct ServerToClientNotification {
  std::uint32_t notification_type = 0;  // 0 = SmbNotifySessionClosed
  ByteView notification;
};
Expected<ServerToClientNotification> decode_server_to_client_notification(ByteView message);
void encode(Writer& w, const ServerToClientNotification& m);

using Body = std::variant<
    ErrorResponse,
    NegotiateRequest, NegotiateResponse,
    SessionSetupRequest, SessionSetupResponse,
    LogoffRequest, LogoffResponse,
    TreeConnectRequest, TreeConnectResponse,
    TreeDisconnectRequest, TreeDisconnectResponse,
    CreateRequest, CreateResponse,
    CloseRequest, CloseResponse,
    FlushRequest, FlushResponse,
    ReadRequest, ReadResponse,
    WriteRequest, WriteResponse,
    LockRequest, LockResponse,
    IoctlRequest, IoctlResponse,
    CancelRequest,
    EchoRequest, EchoResponse,
    QueryDirectoryRequest, QueryDirectoryResponse,
    ChangeNotifyRequest, ChangeNotifyResponse,
    QueryInfoRequest, QueryInfoResponse,
    SetInfoRequest, SetInfoResponse,
    OplockBreak, LeaseBreakNotification, LeaseBreakAck,
    ServerToClientNotification>;

// True when a response with this header carries an ERROR body (MS-SMB2 2.2.2)
// rather than the command's own: interim STATUS_PENDING responses and failures,
// except the statuses that keep the normal body (MORE_PROCESSING_REQUIRED on
// SESSION_SETUP, BUFFER_OVERFLOW on READ/IOCTL/QUERY_INFO/QUERY_DIRECTORY/
// CHANGE_NOTIFY, and IOCTL failures that return an IOCTL body).
bool has_error_body(const Header& header, ByteView message);

// Decodes the body of one message of a (split) chain. `dialect`, when known,
// makes the check dialect-aware: SERVER_TO_CLIENT_NOTIFICATION exists only in 3.1.1.
Expected<Body> decode_body(const Header& header, ByteView message,
                           std::optional<Dialect> dialect = std::nullopt);

// The command as a person reads it, with its variant ("OPLOCK_BREAK lease
// break notification", "IOCTL FSCTL_VALIDATE_NEGOTIATE_INFO request") and the
// fields worth a glance.
std::string summarize(const Header& header, const Body& body);

// Appends header + body to `out` (base set to the header's start).
void encode_message(Bytes& out, const Header& header, const Body& body);
Bytes encode_message(const Header& header, const Body& body);

// A compound chain (MS-SMB2 3.2.4.1.4): each member padded to 8 bytes and
// NextCommand filled in; the last member is not padded.
struct ChainMember {
  Header header;
  Body body;
};
Bytes encode_compound(const std::vector<ChainMember>& members);

}  // namespace smbx::wire
