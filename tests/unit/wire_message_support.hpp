// Helpers for the SMB2 message codec tests: the plaintext messages of the real
// Samba captures, and whole messages (header + body) built from a body.
#pragma once

#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "capture/frames_file.hpp"
#include "support/test_data.hpp"
#include "wire/header.hpp"

namespace smbx::test {

inline constexpr const char* kCaptures[] = {"smb311-signed-ops", "smb311-encrypted", "smb302-signed"};

struct CapturedMessage {
  std::string capture;
  std::size_t line = 0;
  wire::Header header;
  ByteView bytes;  // the whole message, header first
  ByteView body() const { return bytes.subspan(wire::kHeaderSize); }
};

// The frames of one capture, loaded once and kept for the whole run so that
// views into them stay valid.
inline const std::vector<capture::Frame>& capture_frames(const std::string& name) {
  static std::map<std::string, std::vector<capture::Frame>> cache;
  auto it = cache.find(name);
  if (it == cache.end()) {
    auto frames = capture::load_frames_file(data_path("captures/" + name + ".frames"));
    REQUIRE_MESSAGE(frames.has_value(), "cannot load ", name);
    it = cache.emplace(name, std::move(*frames)).first;
  }
  return it->second;
}

// Every plaintext SMB2 message of every capture with this command and
// direction (TRANSFORM frames are skipped).
inline std::vector<CapturedMessage> captured(wire::Command command, bool responses) {
  std::vector<CapturedMessage> out;
  for (const char* name : kCaptures) {
    for (const auto& frame : capture_frames(name)) {
      if (wire::protocol_id(frame.bytes) != wire::kSmb2ProtocolId) continue;
      auto members = wire::split_compound(frame.bytes);
      REQUIRE(members.has_value());
      for (const auto& m : *members)
        if (m.header.command == command && m.header.is_response() == responses)
          out.push_back({name, frame.line, m.header, m.bytes});
    }
  }
  return out;
}

// The first such message whose NTSTATUS (responses) is `status`.
inline CapturedMessage first_captured(wire::Command command, bool response, const std::string& capture_name,
                                      std::uint32_t status = 0) {
  for (auto& m : captured(command, response))
    if (m.capture == capture_name && (!response || m.header.status() == status)) return m;
  FAIL("no such message in ", capture_name);
  return {};
}

// A whole message: a plain header for `command`, then `body`.
inline Bytes message_with_body(wire::Command command, ByteView body, bool response = false) {
  Bytes out;
  wire::Writer w{out};
  wire::Header h;
  h.command = command;
  if (response) h.flags = wire::flags::server_to_redir;
  wire::encode_header(w, h);
  w.bytes(body);
  return out;
}

// A whole message whose body is encode(m).
template <typename T>
Bytes encode_message(wire::Command command, const T& m, bool response = false) {
  Bytes out = message_with_body(command, {}, response);
  wire::Writer w{out};
  w.set_base(0);  // the header starts the message: body offsets count from it
  encode(w, m);
  return out;
}

inline Bytes body_bytes(ByteView message) {
  return Bytes(message.begin() + static_cast<std::ptrdiff_t>(wire::kHeaderSize), message.end());
}

// Stores a little-endian field into a message, for building bad inputs.
inline void poke16(Bytes& message, std::size_t at, std::uint16_t v) { store_le16(&message[at], v); }
inline void poke32(Bytes& message, std::size_t at, std::uint32_t v) { store_le32(&message[at], v); }

// Every prefix of `message` shorter than `upto` bytes must fail to decode.
template <typename Decode>
void check_prefixes_refused(ByteView message, Decode decode, std::size_t upto) {
  for (std::size_t n = 0; n < upto; ++n) {
    CAPTURE(n);
    CHECK_FALSE(decode(message.first(n)).has_value());
  }
}

inline bool failed_with(const Error& e, WireError why) { return e.kind == ErrorKind::wire && e.wire == why; }

template <typename T>
bool failed_with(const Expected<T>& r, WireError why) {
  return !r.has_value() && failed_with(r.error(), why);
}

}  // namespace smbx::test
