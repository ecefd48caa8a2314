#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include "support/test_data.hpp"
#include "unit/wire_info_captures.hpp"
#include "wire/change_notify.hpp"

using namespace smbx;
using namespace smbx::wire;
using namespace smbx::test::info;

namespace {

// MS-FSCC 2.7.1, laid out by hand: "new.txt" added (12 + 14 bytes, padded to 28),
// then a rename within the directory, "a" -> "b" (12 + 2, padded to 16; the last not padded).
constexpr const char* kThreeChanges =
    "1c000000 01000000 0e000000 6e00650077002e00740078007400 0000"
    "10000000 04000000 02000000 6100 0000"
    "00000000 05000000 02000000 6200";

const std::vector<FileNotifyInformation> kThreeChangesDecoded{
    {notify_action::added, u"new.txt"},
    {notify_action::renamed_old_name, u"a"},
    {notify_action::renamed_new_name, u"b"},
};

}  // namespace

TEST_CASE("a CHANGE_NOTIFY request is laid out as MS-SMB2 2.2.35 says and survives decode") {
  ChangeNotifyRequest in;
  in.flags = change_notify_flags::watch_tree;
  in.output_buffer_length = 4096;
  in.file_id = FileId{0x11, 0x22};
  in.completion_filter = completion_filter::file_name | completion_filter::dir_name | completion_filter::attributes |
                         completion_filter::last_write;
  const auto bytes = encode_message(in);
  CHECK(to_hex(body_of(bytes)) ==
        to_hex(test::hex("2000 0100 00100000 1100000000000000 2200000000000000 17000000 00000000")));
  auto out = decode_change_notify_request(bytes);
  REQUIRE(out);
  CHECK(out->flags == change_notify_flags::watch_tree);
  CHECK(out->output_buffer_length == 4096);
  CHECK(out->file_id == in.file_id);
  CHECK(out->completion_filter == 0x17);
  CHECK(encode_message(*out) == bytes);
}

TEST_CASE("a CHANGE_NOTIFY response carries its FILE_NOTIFY_INFORMATION chain after the fixed part") {
  const auto chain = test::hex(kThreeChanges);
  const auto bytes = encode_message(ChangeNotifyResponse{chain});
  CHECK(load_le16(&bytes[64 + 2]) == 0x48);
  auto out = decode_change_notify_response(bytes);
  REQUIRE(out);
  CHECK(std::ranges::equal(out->output_buffer, chain));
  CHECK(encode_message(*out) == bytes);
  auto changes = decode_file_notify_information(out->output_buffer);
  REQUIRE(changes);
  CHECK(*changes == kThreeChangesDecoded);
}

TEST_CASE("FILE_NOTIFY_INFORMATION entries are encoded 4-aligned with no padding after the last") {
  Bytes out;
  Writer w{out};
  w.u8(0xEE);  // the chain may start anywhere; alignment counts from its first entry
  encode_file_notify_information(w, kThreeChangesDecoded);
  CHECK(to_hex(ByteView{out}.subspan(1)) == to_hex(test::hex(kThreeChanges)));
}

TEST_CASE("an empty notify buffer is an empty list of changes") {
  auto changes = decode_file_notify_information({});
  REQUIRE(changes);
  CHECK(changes->empty());
  Bytes out;
  Writer w{out};
  encode_file_notify_information(w, {});
  CHECK(out.empty());
}

TEST_CASE("every non-empty prefix of a FILE_NOTIFY_INFORMATION chain is refused") {
  const auto chain = test::hex(kThreeChanges);
  for (std::size_t n = 1; n < chain.size(); ++n) {
    CAPTURE(n);
    CHECK_FALSE(decode_file_notify_information(ByteView{chain}.first(n)));
  }
}

TEST_CASE("a FILE_NOTIFY_INFORMATION FileNameLength that runs past its entry is refused") {
  for (std::uint32_t name_length : {0xFFFF'FFFFu,  // 12 + this wraps to 11 in 32 bits
                                    0xFFFF'FFF4u,  // wraps to exactly 0
                                    18u}) {        // one unit more than the 16 bytes left in the 28-byte entry
    CAPTURE(name_length);
    auto chain = test::hex(kThreeChanges);
    store_le32(&chain[8], name_length);
    CHECK(failed_with(decode_file_notify_information(chain), WireError::truncated));
  }
  auto odd = test::hex(kThreeChanges);
  store_le32(&odd[8], 13);
  CHECK(failed_with(decode_file_notify_information(odd), WireError::bad_length));
}

TEST_CASE("a FILE_NOTIFY_INFORMATION NextEntryOffset past the buffer, or too short for its entry, is refused") {
  for (std::uint32_t next : {0xFFFF'FFFFu, 59u, 8u, 1u}) {  // wraps, one past the 58 bytes, shorter than the fields
    CAPTURE(next);
    auto chain = test::hex(kThreeChanges);
    store_le32(&chain[0], next);
    CHECK_FALSE(decode_file_notify_information(chain));
  }
}

TEST_CASE("a FILE_NOTIFY_INFORMATION NextEntryOffset that is not 4-aligned but fits is still followed") {
  // Entry 1 ends at 26; a sender that did not pad points to 26 and moves entry 2 up.
  auto chain = test::hex(kThreeChanges);
  chain.erase(chain.begin() + 26, chain.begin() + 28);
  store_le32(&chain[0], 26);
  auto changes = decode_file_notify_information(chain);
  REQUIRE(changes);
  CHECK(*changes == kThreeChangesDecoded);
}

TEST_CASE("every prefix of a CHANGE_NOTIFY request and response is refused") {
  ChangeNotifyRequest request;
  const auto request_bytes = encode_message(request);
  for (std::size_t n = 0; n < request_bytes.size(); ++n) {
    CAPTURE(n);
    CHECK_FALSE(decode_change_notify_request(ByteView{request_bytes}.first(n)));
  }
  const auto chain = test::hex(kThreeChanges);
  const auto response_bytes = encode_message(ChangeNotifyResponse{chain});
  for (std::size_t n = 0; n < response_bytes.size(); ++n) {
    CAPTURE(n);
    CHECK_FALSE(decode_change_notify_response(ByteView{response_bytes}.first(n)));
  }
}

TEST_CASE("a CHANGE_NOTIFY with the wrong StructureSize, or a response buffer over the header, is refused") {
  auto request = encode_message(ChangeNotifyRequest{});
  store_le16(&request[64], 33);
  CHECK(failed_with(decode_change_notify_request(request), WireError::bad_structure_size));
  const auto chain = test::hex(kThreeChanges);
  auto response = encode_message(ChangeNotifyResponse{chain});
  store_le16(&response[64 + 2], 0x10);
  CHECK(failed_with(decode_change_notify_response(response), WireError::bad_offset));
}
