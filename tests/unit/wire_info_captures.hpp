// Test helpers shared by the QUERY_DIRECTORY / CHANGE_NOTIFY / QUERY_INFO /
// SET_INFO / FSCC tests: the plaintext SMB2 messages of the Samba captures.
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include "support/captures.hpp"
#include "support/messages.hpp"
#include "support/test_data.hpp"
#include "support/wire_errors.hpp"
#include "wire/header.hpp"

namespace smbx::test::info {

struct CapturedMessage {
  std::string file;
  std::size_t line = 0;
  wire::Header header;
  Bytes bytes;  // the whole message, header first
};

// Every plaintext message of `command` in captures/<file>, in order, copied.
inline std::vector<CapturedMessage> captured(const std::string& file, wire::Command command) {
  const auto name = std::string_view{file}.substr(0, file.rfind(".frames"));
  std::vector<CapturedMessage> out;
  for (const auto& m : captured_messages(name, command))
    out.push_back({file, m.line, m.header, Bytes(m.bytes.begin(), m.bytes.end())});
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
inline Bytes message_with_body(ByteView body) { return test::message_with_body(wire::Header{}, body); }

// Encodes `m` after a fresh 64-byte header, as a sender would.
template <typename T>
Bytes encode_message(const T& m) {
  return test::encode_message(wire::Header{}, m);
}

// The body `m` encodes to, to compare with a captured message's body (the
// headers differ: signatures, ids, credits).
template <typename T>
Bytes reencoded_body(const T& m) {
  return body_of(encode_message(m));
}

using test::failed_with;

}  // namespace smbx::test::info
