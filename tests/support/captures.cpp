#include "support/captures.hpp"

#include <doctest/doctest.h>

#include <map>
#include <string>
#include <variant>

#include "support/test_data.hpp"
#include "wire/header.hpp"
#include "wire/message.hpp"

namespace smbx::test {

const std::vector<capture::Frame>& capture_frames(std::string_view name) {
  static std::map<std::string, std::vector<capture::Frame>, std::less<>> cache;
  auto it = cache.find(name);
  if (it == cache.end()) {
    auto frames = capture::load_frames_file(data_path("captures/" + std::string{name} + ".frames"));
    // The message is built even on success when doctest reports successes (-s).
    REQUIRE_MESSAGE(frames.has_value(),
                    "cannot load " << name << ": " << (frames ? "" : describe(frames.error())));
    it = cache.emplace(std::string{name}, std::move(*frames)).first;
  }
  return it->second;
}

Bytes capture_frame(std::string_view name, std::size_t index) {
  const auto& frames = capture_frames(name);
  REQUIRE(index < frames.size());
  return frames[index].bytes;
}

std::vector<CapturedMessage> captured_messages(std::string_view name, wire::Command command) {
  std::vector<CapturedMessage> out;
  for (const auto& frame : capture_frames(name)) {
    if (wire::protocol_id(frame.bytes) != wire::kSmb2ProtocolId) continue;
    auto members = wire::split_compound(frame.bytes);
    REQUIRE_MESSAGE(members.has_value(), name << " line " << frame.line << " does not split");
    for (const auto& m : *members)
      if (m.header.command == command) out.push_back({std::string{name}, frame.line, m.header, m.bytes});
  }
  return out;
}

SessionSetupExchange session_setup_exchange(std::string_view name) {
  SessionSetupExchange x;
  bool has_hint = false;
  for (const auto& frame : capture_frames(name)) {
    if (x.session_setup.size() == 4) break;
    if (wire::protocol_id(frame.bytes) != wire::kSmb2ProtocolId) continue;  // TRANSFORM frames come later
    auto header = wire::decode_header(frame.bytes);
    REQUIRE_MESSAGE(header.has_value(), name << " line " << frame.line << ": no SMB2 header");
    auto body = wire::decode_body(*header, frame.bytes);
    REQUIRE_MESSAGE(body.has_value(),
                    name << " line " << frame.line << ": " << (body ? "" : describe(body.error())));
    const auto keep = [](ByteView b) { return Bytes(b.begin(), b.end()); };
    if (const auto* negotiate = std::get_if<wire::NegotiateResponse>(&*body); negotiate && !has_hint) {
      x.negotiate_hint = keep(negotiate->security_buffer);
      has_hint = true;
    } else if (const auto* request = std::get_if<wire::SessionSetupRequest>(&*body)) {
      x.session_setup.push_back(keep(request->security_buffer));
    } else if (const auto* response = std::get_if<wire::SessionSetupResponse>(&*body)) {
      x.session_setup.push_back(keep(response->security_buffer));
    }
  }
  REQUIRE_MESSAGE(has_hint, "no NEGOTIATE response in " << name);
  REQUIRE_MESSAGE(x.session_setup.size() == 4, "fewer than four SESSION_SETUP messages in " << name);
  return x;
}

}  // namespace smbx::test
