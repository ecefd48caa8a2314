// Whole SMB2 messages (header + body) built for tests and fuzz targets.
// Header-only and free of doctest, so that the libFuzzer targets can use it too.
#pragma once

#include "wire/bytes.hpp"
#include "wire/header.hpp"
#include "wire/writer.hpp"

namespace smbx::test {

// A plain header for `command`, marked server-to-client for a response.
inline wire::Header plain_header(wire::Command command, bool response = false) {
  wire::Header h;
  h.command = command;
  if (response) h.flags = wire::flags::server_to_redir;
  return h;
}

// `header`, then `body`.
inline Bytes message_with_body(const wire::Header& header, ByteView body) {
  Bytes out;
  wire::Writer w{out};
  wire::encode_header(w, header);
  w.bytes(body);
  return out;
}

inline Bytes message_with_body(wire::Command command, ByteView body, bool response = false) {
  return message_with_body(plain_header(command, response), body);
}

// `header`, then encode(m), as a sender writes it.
template <typename T>
Bytes encode_message(const wire::Header& header, const T& m) {
  Bytes out = message_with_body(header, {});
  wire::Writer w{out};
  w.set_base(0);  // the header starts the message: body offsets count from it
  encode(w, m);
  return out;
}

template <typename T>
Bytes encode_message(wire::Command command, const T& m, bool response = false) {
  return encode_message(plain_header(command, response), m);
}

}  // namespace smbx::test
