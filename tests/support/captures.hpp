// Test fixtures from the Samba captures in tests/data/captures/*.frames (one
// Direct-TCP frame a line, read with capture::load_frames_file).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "capture/frames_file.hpp"
#include "wire/bytes.hpp"
#include "wire/header.hpp"

namespace smbx::test {

// The frames of captures/<name>.frames (name: "smb302-signed"), read once
// and kept for the whole run so that views into them stay valid. Fails the
// current test if the file does not load.
const std::vector<capture::Frame>& capture_frames(std::string_view name);

// A copy of frame `index` (0-based) of a capture.
Bytes capture_frame(std::string_view name, std::size_t index);

// One plaintext SMB2 message of a capture, a view into capture_frames().
struct CapturedMessage {
  std::string capture;  // "smb302-signed"
  std::size_t line = 0;
  wire::Header header;
  ByteView bytes;  // the whole message, header first (+ compound padding)
  ByteView body() const { return bytes.subspan(wire::kHeaderSize); }
  std::string where() const { return capture + ".frames:" + std::to_string(line); }
};

// Every plaintext SMB2 message of `command` in a capture, both directions, in
// order, compounds split (TRANSFORM frames are skipped).
std::vector<CapturedMessage> captured_messages(std::string_view name, wire::Command command);

// The security buffers of a capture's authentication, as the wire layer
// decodes them: the NEGOTIATE response's SPNEGO hint (MS-SMB2 2.2.4) and the
// first four SESSION_SETUP requests and responses (2.2.5, 2.2.6) in order.
struct SessionSetupExchange {
  Bytes negotiate_hint;
  std::vector<Bytes> session_setup;  // request 1, response 1, request 2, response 2
};
SessionSetupExchange session_setup_exchange(std::string_view name);

}  // namespace smbx::test
