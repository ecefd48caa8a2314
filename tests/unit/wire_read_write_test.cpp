#include <doctest/doctest.h>

#include "wire/read_write.hpp"
#include "wire_message_support.hpp"

using namespace smbx;
using namespace smbx::wire;
using smbx::test::failed_with;

namespace {

Bytes copy(ByteView v) { return Bytes{v.begin(), v.end()}; }

const Bytes& payload() {
  static const Bytes bytes = test::read_file(test::data_path("captures/payload.bin"));
  return bytes;
}

// The two SMB Direct buffer descriptors ([MS-SMBD] 2.2.3.1) of an RDMA request.
const Bytes& descriptors() {
  static const Bytes bytes =
      test::hex("0010000000000000 78563412 00000100 0000010000000000 21436587 00000100");
  return bytes;
}

}  // namespace

TEST_CASE("the captured 200000-byte WRITE carries payload.bin at DataOffset 0x70") {
  const auto writes = test::captured(Command::write, false);
  REQUIRE(writes.size() == 3);
  auto m = decode_write_request(writes[1].bytes);
  REQUIRE(m.has_value());
  CHECK(m->offset == 0);
  CHECK(m->channel == io_channel::none);
  CHECK(m->flags == 0);
  CHECK(m->write_channel_info.empty());
  REQUIRE(m->data.size() == 200000);
  CHECK(m->data.data() == writes[1].bytes.data() + kWriteRequestDataOffset);  // a view, not a copy
  CHECK(copy(m->data) == payload());
}

TEST_CASE("the captured READ response carries payload.bin back at DataOffset 0x50") {
  const auto reads = test::captured(Command::read, true);
  REQUIRE(reads.size() == 1);
  auto m = decode_read_response(reads[0].bytes);
  REQUIRE(m.has_value());
  CHECK(m->data_offset == kReadResponseDataOffset);
  CHECK(m->data_remaining == 0);
  CHECK(copy(m->data) == payload());
}

TEST_CASE("the captured READ request asks for 200000 bytes with the one-byte Buffer") {
  const auto reads = test::captured(Command::read, false);
  REQUIRE(reads.size() == 1);
  CHECK(reads[0].bytes.size() == kHeaderSize + 49);
  auto m = decode_read_request(reads[0].bytes);
  REQUIRE(m.has_value());
  CHECK(m->length == 200000);
  CHECK(m->offset == 0);
  CHECK(m->minimum_count == 0);
  CHECK(m->read_channel_info.empty());
}

TEST_CASE("every captured READ and WRITE re-encodes to Samba's exact bytes") {
  for (Command command : {Command::read, Command::write}) {
    for (bool response : {false, true}) {
      for (const auto& msg : test::captured(command, response)) {
        CAPTURE(to_string(command));
        CAPTURE(msg.capture);
        CAPTURE(msg.line);
        Bytes again;
        if (command == Command::read && response) {
          auto m = decode_read_response(msg.bytes);
          REQUIRE(m.has_value());
          again = test::encode_message(command, *m, true);
        } else if (command == Command::read) {
          auto m = decode_read_request(msg.bytes);
          REQUIRE(m.has_value());
          again = test::encode_message(command, *m);
        } else if (response) {
          auto m = decode_write_response(msg.bytes);
          REQUIRE(m.has_value());
          again = test::encode_message(command, *m, true);
        } else {
          auto m = decode_write_request(msg.bytes);
          REQUIRE(m.has_value());
          again = test::encode_message(command, *m);
        }
        CHECK(test::body_bytes(again) == copy(msg.body()));
      }
    }
  }
}

TEST_CASE("a WRITE response is 16 bytes on the wire and its Count is what was written") {
  const auto responses = test::captured(Command::write, true);
  REQUIRE(responses.size() == 3);
  CHECK(responses[0].bytes.size() == kHeaderSize + 16);  // no 17th byte, though StructureSize is 17
  std::vector<std::uint32_t> counts;
  for (const auto& msg : responses) {
    auto m = decode_write_response(msg.bytes);
    REQUIRE(m.has_value());
    counts.push_back(m->count);
  }
  CHECK(counts == std::vector<std::uint32_t>{11, 200000, 11});  // hello.txt twice, payload.bin once
}

TEST_CASE("a WRITE built from its prefix and appended data equals the one encode() builds") {
  WriteRequest m;
  m.offset = 0x10000;
  m.file_id = {7, 9};
  m.flags = write_flags::write_through;
  m.data = payload();
  const Bytes whole = test::encode_message(Command::write, m);

  Bytes scattered = test::message_with_body(Command::write, {});
  Writer w{scattered};
  w.set_base(0);
  encode_write_request_prefix(w, m, static_cast<std::uint32_t>(payload().size()));
  CHECK(scattered.size() == kWriteRequestDataOffset);
  scattered.insert(scattered.end(), payload().begin(), payload().end());
  CHECK(scattered == whole);
}

TEST_CASE("a READ response built from its prefix and appended data equals the one encode() builds") {
  static const Bytes data = test::hex("68656c6c6f20736d62780a");
  ReadResponse m;
  m.data = data;
  m.data_remaining = 5;
  const Bytes whole = test::encode_message(Command::read, m, true);
  Bytes scattered = test::message_with_body(Command::read, {}, true);
  Writer w{scattered};
  w.set_base(0);
  encode_read_response_prefix(w, m, static_cast<std::uint32_t>(data.size()));
  CHECK(scattered.size() == kReadResponseDataOffset);
  scattered.insert(scattered.end(), data.begin(), data.end());
  CHECK(scattered == whole);
}

TEST_CASE("an RDMA WRITE sends DataOffset 0, Length 0 and the descriptors at 0x70") {
  WriteRequest m;
  m.channel = io_channel::rdma_v1_invalidate;
  m.remaining_bytes = 0x20000;
  m.write_channel_info = descriptors();
  const Bytes message = test::encode_message(Command::write, m);
  CHECK(load_le16(&message[kHeaderSize + 2]) == 0);      // DataOffset
  CHECK(load_le32(&message[kHeaderSize + 4]) == 0);      // Length
  CHECK(load_le16(&message[kHeaderSize + 40]) == 0x70);  // WriteChannelInfoOffset
  CHECK(load_le16(&message[kHeaderSize + 42]) == 32);    // WriteChannelInfoLength
  auto back = decode_write_request(message);
  REQUIRE(back.has_value());
  CHECK(back->data.empty());
  CHECK(back->channel == io_channel::rdma_v1_invalidate);
  CHECK(back->remaining_bytes == 0x20000);
  CHECK(copy(back->write_channel_info) == descriptors());
  CHECK(test::encode_message(Command::write, *back) == message);
}

TEST_CASE("an RDMA READ request carries its descriptors at ReadChannelInfoOffset 0x70") {
  ReadRequest m;
  m.padding = 0x50;
  m.flags = read_flags::read_unbuffered;
  m.length = 0x100000;
  m.channel = io_channel::rdma_v1;
  m.read_channel_info = descriptors();
  const Bytes message = test::encode_message(Command::read, m);
  CHECK(load_le16(&message[kHeaderSize + 44]) == 0x70);
  auto back = decode_read_request(message);
  REQUIRE(back.has_value());
  CHECK(back->padding == 0x50);
  CHECK(back->flags == read_flags::read_unbuffered);
  CHECK(back->length == 0x100000);
  CHECK(copy(back->read_channel_info) == descriptors());
  CHECK(test::encode_message(Command::read, *back) == message);
}

TEST_CASE("a zero-length WRITE keeps DataOffset 0x70 and the one Buffer byte") {
  WriteRequest m;
  const Bytes message = test::encode_message(Command::write, m);
  CHECK(message.size() == kHeaderSize + 49);
  CHECK(load_le16(&message[kHeaderSize + 2]) == 0x70);  // Samba refuses any other DataOffset
  auto back = decode_write_request(message);
  REQUIRE(back.has_value());
  CHECK(back->data.empty());
}

TEST_CASE("a READ response over RDMA has no data and reports the bytes in DataRemaining") {
  ReadResponse m;
  m.data_remaining = 65536;
  m.flags = read_flags::response_rdma_transform;
  const Bytes message = test::encode_message(Command::read, m, true);
  CHECK(message.size() == kHeaderSize + 17);
  auto back = decode_read_response(message);
  REQUIRE(back.has_value());
  CHECK(back->data.empty());
  CHECK(back->data_remaining == 65536);
  CHECK(back->flags == read_flags::response_rdma_transform);
}

TEST_CASE("every prefix of a captured READ or WRITE that cuts into its fixed part or data is refused") {
  const auto write = test::first_captured(Command::write, false, "smb311-signed-ops");
  test::check_prefixes_refused(write.bytes, decode_write_request, write.bytes.size());
  const auto read = test::first_captured(Command::read, true, "smb311-signed-ops");
  test::check_prefixes_refused(read.bytes.first(kReadResponseDataOffset + 100), decode_read_response,
                               kReadResponseDataOffset + 100);
  const auto write_response = test::first_captured(Command::write, true, "smb311-signed-ops");
  test::check_prefixes_refused(write_response.bytes, decode_write_response, write_response.bytes.size());
  // The READ request's fixed part is 48 bytes; the 49th is the filler byte
  // StructureSize counts, which a decoder must not insist on (MS-SMB2 2.2.22
  // shows peers leave it out).
  const auto read_request = test::first_captured(Command::read, false, "smb311-signed-ops");
  test::check_prefixes_refused(read_request.bytes, decode_read_request, kHeaderSize + 48);
  CHECK(decode_read_request(read_request.bytes.first(kHeaderSize + 48)).has_value());
}

TEST_CASE(
    "a WRITE whose DataOffset lies in the fixed part, or whose Length runs past the message, is refused") {
  const auto captured = test::first_captured(Command::write, false, "smb311-signed-ops");
  const Bytes good = copy(captured.bytes);
  for (std::uint16_t offset : std::initializer_list<std::uint16_t>{0x00, 0x40, 0x6F}) {
    CAPTURE(offset);
    Bytes bad = good;
    test::poke16(bad, kHeaderSize + 2, offset);
    CHECK(failed_with(decode_write_request(bad), WireError::bad_offset));
  }
  for (std::uint32_t length :
       {12u, 0xFFFFFFFFu, 0xFFFFFF90u}) {  // one too many; wraps 32 bits; 0x70 + it wraps to 0
    CAPTURE(length);
    Bytes bad = good;
    test::poke32(bad, kHeaderSize + 4, length);
    CHECK(failed_with(decode_write_request(bad), WireError::truncated));
  }
  Bytes bad_info = good;
  test::poke16(bad_info, kHeaderSize + 40, 0x70);
  test::poke16(bad_info, kHeaderSize + 42, 12);
  CHECK(failed_with(decode_write_request(bad_info), WireError::truncated));
}

TEST_CASE("a READ response whose DataOffset lies in the fixed part or whose DataLength overruns is refused") {
  const auto captured = test::first_captured(Command::read, true, "smb311-signed-ops");
  Bytes inside = copy(captured.bytes);
  inside[kHeaderSize + 2] = 0x4F;
  CHECK(failed_with(decode_read_response(inside), WireError::bad_offset));
  Bytes long_data = copy(captured.bytes);
  test::poke32(long_data, kHeaderSize + 4, 200001);
  CHECK(failed_with(decode_read_response(long_data), WireError::truncated));
}

TEST_CASE("READ and WRITE with the wrong StructureSize are refused") {
  const auto captured = test::first_captured(Command::write, false, "smb311-signed-ops");
  Bytes bad = copy(captured.bytes);
  test::poke16(bad, kHeaderSize, 48);
  CHECK(failed_with(decode_write_request(bad), WireError::bad_structure_size));
  CHECK(failed_with(decode_read_request(bad), WireError::bad_structure_size));
  CHECK(failed_with(decode_read_response(bad), WireError::bad_structure_size));
  CHECK(failed_with(decode_write_response(bad), WireError::bad_structure_size));
}
