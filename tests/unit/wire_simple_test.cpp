#include <doctest/doctest.h>

#include "wire/simple.hpp"
#include "wire_message_support.hpp"

using namespace smbx;
using namespace smbx::wire;
using smbx::test::failed_with;

namespace {

Bytes copy(ByteView v) { return Bytes{v.begin(), v.end()}; }

// Encodes an empty-bodied message, checks its 4 bytes and that its decoder
// takes them and refuses other StructureSizes and shorter bodies.
template <typename T, typename Decode>
void check_four_byte_message(Command command, Decode decode, bool response) {
  const Bytes message = test::encode_message(command, T{}, response);
  CHECK(to_hex(test::body_bytes(message)) == "04000000");
  CHECK(decode(message).has_value());
  test::check_prefixes_refused(message, decode, message.size());
  for (std::uint16_t size : std::initializer_list<std::uint16_t>{0, 2, 3, 5, 24}) {
    CAPTURE(size);
    Bytes bad = message;
    test::poke16(bad, kHeaderSize, size);
    CHECK(failed_with(decode(bad), WireError::bad_structure_size));
  }
}

}  // namespace

TEST_CASE("the StructureSize-4 messages encode to 04 00 00 00 and decode back") {
  check_four_byte_message<LogoffRequest>(Command::logoff, decode_logoff_request, false);
  check_four_byte_message<LogoffResponse>(Command::logoff, decode_logoff_response, true);
  check_four_byte_message<TreeDisconnectRequest>(Command::tree_disconnect, decode_tree_disconnect_request,
                                                 false);
  check_four_byte_message<TreeDisconnectResponse>(Command::tree_disconnect, decode_tree_disconnect_response,
                                                  true);
  check_four_byte_message<EchoRequest>(Command::echo, decode_echo_request, false);
  check_four_byte_message<EchoResponse>(Command::echo, decode_echo_response, true);
  check_four_byte_message<CancelRequest>(Command::cancel, decode_cancel_request, false);
  check_four_byte_message<FlushResponse>(Command::flush, decode_flush_response, true);
}

TEST_CASE("every captured TREE_DISCONNECT decodes and re-encodes to Samba's bytes") {
  for (bool response : {false, true}) {
    const auto messages = test::captured(Command::tree_disconnect, response);
    REQUIRE(messages.size() == 5);
    for (const auto& msg : messages) {
      CAPTURE(msg.line);
      if (response) {
        auto m = decode_tree_disconnect_response(msg.bytes);
        REQUIRE(m.has_value());
        CHECK(test::body_bytes(test::encode_message(Command::tree_disconnect, *m, true)) == copy(msg.body()));
      } else {
        auto m = decode_tree_disconnect_request(msg.bytes);
        REQUIRE(m.has_value());
        CHECK(test::body_bytes(test::encode_message(Command::tree_disconnect, *m)) == copy(msg.body()));
      }
    }
  }
}

TEST_CASE("every captured CLOSE request names the FileId its CREATE returned") {
  // In smb311-signed-ops the first WRITE (frame line 17) and CLOSE (line 19)
  // use the handle of the first CREATE.
  const auto closes = test::captured(Command::close, false);
  REQUIRE(closes.size() == 14);
  for (const auto& msg : closes) {
    CAPTURE(msg.capture);
    CAPTURE(msg.line);
    auto m = decode_close_request(msg.bytes);
    REQUIRE(m.has_value());
    CHECK(m->flags == 0);
    CHECK(m->file_id != FileId{});
    CHECK(test::body_bytes(test::encode_message(Command::close, *m)) == copy(msg.body()));
  }
  auto first = decode_close_request(closes[0].bytes);
  REQUIRE(first.has_value());
  CHECK(first->file_id.persistent == 0x8c5095b6);
  CHECK(first->file_id.volatile_id == 0x0e57aa4d);
}

TEST_CASE("every captured CLOSE response decodes and re-encodes to Samba's bytes") {
  const auto responses = test::captured(Command::close, true);
  REQUIRE(responses.size() == 14);
  for (const auto& msg : responses) {
    CAPTURE(msg.line);
    auto m = decode_close_response(msg.bytes);
    REQUIRE(m.has_value());
    CHECK(m->flags == 0);  // Samba's client never asks for POSTQUERY_ATTRIB
    CHECK(m->end_of_file == 0);
    CHECK(test::body_bytes(test::encode_message(Command::close, *m, true)) == copy(msg.body()));
  }
}

TEST_CASE("a CLOSE response with POSTQUERY_ATTRIB keeps every attribute at its MS-SMB2 2.2.16 offset") {
  CloseResponse m;
  m.flags = close_flags::postquery_attrib;
  m.creation_time = 0x01D0AEC9ADE5DAD8;
  m.last_access_time = 0x0102030405060708;
  m.last_write_time = 0x1112131415161718;
  m.change_time = 0x2122232425262728;
  m.allocation_size = 1 << 20;
  m.end_of_file = 200000;
  m.file_attributes = 0x20;  // ARCHIVE
  const Bytes message = test::encode_message(Command::close, m, true);
  REQUIRE(message.size() == kHeaderSize + 60);
  CHECK(load_le16(&message[kHeaderSize + 2]) == close_flags::postquery_attrib);
  CHECK(load_le64(&message[kHeaderSize + 8]) == m.creation_time);
  CHECK(load_le64(&message[kHeaderSize + 32]) == m.change_time);
  CHECK(load_le64(&message[kHeaderSize + 48]) == 200000);
  CHECK(load_le32(&message[kHeaderSize + 56]) == 0x20);
  auto back = decode_close_response(message);
  REQUIRE(back.has_value());
  CHECK(back->creation_time == m.creation_time);
  CHECK(back->last_access_time == m.last_access_time);
  CHECK(back->last_write_time == m.last_write_time);
  CHECK(back->change_time == m.change_time);
  CHECK(back->allocation_size == m.allocation_size);
  CHECK(back->end_of_file == m.end_of_file);
  CHECK(back->file_attributes == m.file_attributes);
  test::check_prefixes_refused(message, decode_close_response, message.size());
}

TEST_CASE("a FLUSH request carries its FileId and nothing else") {
  FlushRequest m;
  m.file_id = {0x1122334455667788, 0x99AABBCCDDEEFF00};
  const Bytes message = test::encode_message(Command::flush, m);
  CHECK(to_hex(test::body_bytes(message)) ==
        "1800000000000000"
        "8877665544332211"
        "00ffeeddccbbaa99");
  auto back = decode_flush_request(message);
  REQUIRE(back.has_value());
  CHECK(back->file_id == m.file_id);
  test::check_prefixes_refused(message, decode_flush_request, message.size());
}

TEST_CASE("a related-compound CLOSE keeps the all-ones FileId") {
  CloseRequest m;
  m.file_id = FileId::related();
  const Bytes message = test::encode_message(Command::close, m);
  auto back = decode_close_request(message);
  REQUIRE(back.has_value());
  CHECK(back->file_id == FileId::related());
}

TEST_CASE("a CLOSE or FLUSH with the wrong StructureSize is refused") {
  const auto captured = test::first_captured(Command::close, false, "smb311-signed-ops");
  Bytes bad = copy(captured.bytes);
  test::poke16(bad, kHeaderSize, 25);
  CHECK(failed_with(decode_close_request(bad), WireError::bad_structure_size));
  CHECK(failed_with(decode_flush_request(bad), WireError::bad_structure_size));
  CHECK(failed_with(decode_close_response(bad), WireError::bad_structure_size));
  test::check_prefixes_refused(captured.bytes, decode_close_request, captured.bytes.size());
}
