// Shared by the SMB2 message fuzz targets: feed an input to a decoder both as
// a whole message and as a body behind a valid header, and check that what
// decodes re-encodes to bytes that decode and re-encode identically.
#pragma once

#include <cstdint>

#include "../support/messages.hpp"
#include "wire/bytes.hpp"
#include "wire/header.hpp"

namespace smbx::fuzz {

// A fixed 64-byte header followed by `body`.
inline Bytes with_header(ByteView body) { return test::message_with_body(wire::Header{}, body); }

template <typename T>
Bytes encode_whole(const T& m) {
  return test::encode_message(wire::Header{}, m);
}

// decode(encode(decode(message))) must succeed and encode to the same bytes.
// `representable` filters out values the encoder documents it cannot write.
template <typename Decode, typename Representable>
void check_round_trip(ByteView message, Decode decode, Representable representable) {
  auto first = decode(message);
  if (!first.has_value() || !representable(*first)) return;
  const Bytes once = encode_whole(*first);
  auto second = decode(ByteView{once});
  if (!second.has_value()) __builtin_trap();
  if (encode_whole(*second) != once) __builtin_trap();
}

template <typename Decode>
void check_round_trip(ByteView message, Decode decode) {
  check_round_trip(message, decode, [](const auto&) { return true; });
}

// `body` behind a plain `command` header (a response's if `response`): what
// decodes must re-encode to a message that decodes to an equal value.
template <typename Decode>
void check_body_round_trip(wire::Command command, bool response, ByteView body, Decode decode) {
  const Bytes message = test::message_with_body(command, body, response);
  auto first = decode(ByteView{message});
  if (!first) return;
  const Bytes again = test::encode_message(command, *first, response);
  auto second = decode(ByteView{again});
  if (!second || !(*second == *first)) __builtin_trap();
}

// Runs `each` on the input as a whole message and as a body behind a header.
template <typename Each>
void as_message_and_body(const std::uint8_t* data, std::size_t size, Each each) {
  const ByteView input{data, size};
  each(input);
  const Bytes prefixed = with_header(input);
  each(ByteView{prefixed});
}

}  // namespace smbx::fuzz
