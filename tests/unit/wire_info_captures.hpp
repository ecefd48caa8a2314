// Test helpers shared by the QUERY_DIRECTORY / CHANGE_NOTIFY / QUERY_INFO /
// SET_INFO / FSCC tests: the plaintext SMB2 messages of the Samba captures.
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "capture/frames_file.hpp"
#include "support/test_data.hpp"
#include "wire/header.hpp"

namespace smbx::test::info {

struct CapturedMessage {
  std::string file;
  std::size_t line = 0;
  wire::Header header;
  Bytes bytes;  // the whole message, header first
};

// Every plaintext message of `command` in captures/<file>, in order.
inline std::vector<CapturedMessage> captured(const std::string& file, wire::Command command) {
  auto frames = capture::load_frames_file(data_path("captures/" + file));
  REQUIRE_MESSAGE(frames.has_value(), "cannot load " << file);
  std::vector<CapturedMessage> out;
  for (const auto& frame : *frames) {
    if (wire::protocol_id(frame.bytes) != wire::kSmb2ProtocolId) continue;
    auto members = wire::split_compound(frame.bytes);
    REQUIRE_MESSAGE(members.has_value(), file << " line " << frame.line << " does not split");
    for (const auto& member : *members)
      if (member.header.command == command)
        out.push_back({file, frame.line, member.header, Bytes(member.bytes.begin(), member.bytes.end())});
  }
  return out;
}

// The single message of `command` on `line` of captures/<file>.
inline CapturedMessage captured_at(const std::string& file, wire::Command command, std::size_t line) {
  for (auto& m : captured(file, command))
    if (m.line == line) return m;
  FAIL("no " << wire::to_string(command) << " on line " << line << " of " << file);
  return {};
}

inline const std::vector<std::string>& plaintext_captures() {
  static const std::vector<std::string> files{"smb311-signed-ops.frames", "smb302-signed.frames"};
  return files;
}

// The body of a message (what encode() writes after the header), copied.
inline Bytes body_of(const Bytes& message) { return Bytes(message.begin() + wire::kHeaderSize, message.end()); }

// A message made of a default header and `body`.
inline Bytes message_with_body(ByteView body) {
  Bytes out;
  wire::Writer w{out};
  wire::encode_header(w, wire::Header{});
  w.bytes(body);
  return out;
}

// Encodes `m` after a fresh 64-byte header, as a sender would.
template <typename T>
Bytes encode_message(const T& m) {
  Bytes out;
  wire::Writer w{out};
  wire::encode_header(w, wire::Header{});
  encode(w, m);
  return out;
}

// The body `m` encodes to, to compare with a captured message's body (the
// headers differ: signatures, ids, credits).
template <typename T>
Bytes reencoded_body(const T& m) {
  return body_of(encode_message(m));
}

template <typename T>
bool failed_with(const Expected<T>& result, WireError why) {
  return !result.has_value() && result.error().kind == ErrorKind::wire && result.error().wire == why;
}

}  // namespace smbx::test::info
