#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "support/captures.hpp"
#include "support/messages.hpp"
#include "support/test_data.hpp"
#include "support/wire_errors.hpp"
#include "wire/header.hpp"
#include "wire/ntstatus.hpp"
#include "wire/ioctl.hpp"

using namespace smbx;
using namespace smbx::wire;

using test::failed_with;

namespace {

std::vector<test::CapturedMessage> captured_ioctls() {
  std::vector<test::CapturedMessage> out;
  for (const char* name : {"smb302-signed", "smb311-signed-ops", "smb311-encrypted"})
    for (auto& m : test::captured_messages(name, Command::ioctl)) out.push_back(std::move(m));
  return out;
}

template <typename Message>
Bytes message_bytes(const Message& m, bool response) {
  return test::encode_message(Command::ioctl, m, response);
}

bool same_body(ByteView a, ByteView b) {
  return std::equal(a.begin() + kHeaderSize, a.end(), b.begin() + kHeaderSize, b.end());
}

// smb2-security.md §8: the VALIDATE_NEGOTIATE_INFO payloads of smb302-signed.
Bytes vni_input() { return test::hex("7f000000 352f6cb6a9f9df47aa1b398c211ec44c 0100 0400 0202 1002 0003 0203"); }
Bytes vni_output() { return test::hex("4f000000 63617073727600000000000000000000 0300 0203"); }

}  // namespace

TEST_CASE("every IOCTL request in the captures decodes and re-encodes to the captured bytes") {
  std::size_t requests = 0;
  for (const auto& c : captured_ioctls()) {
    if (c.header.is_response()) continue;
    CAPTURE(c.where());
    ++requests;
    auto m = decode_ioctl_request(c.bytes);
    REQUIRE(m);
    CHECK(m->flags == ioctl_flags::is_fsctl);
    CHECK(m->file_id == FileId::related());  // VNI and DFS referrals need no open
    CHECK(same_body(message_bytes(*m, false), c.bytes));
  }
  CHECK(requests == 5);
}

TEST_CASE("the VALIDATE_NEGOTIATE_INFO IOCTLs of smb302-signed carry the payloads of smb2-security.md") {
  std::size_t requests = 0, responses = 0;
  for (const auto& c : captured_ioctls()) {
    if (c.where().rfind("smb302-signed", 0) != 0) continue;
    CAPTURE(c.where());
    if (!c.header.is_response()) {
      auto m = decode_ioctl_request(c.bytes);
      REQUIRE(m);
      if (m->ctl_code != fsctl::validate_negotiate_info) continue;
      ++requests;
      CHECK(Bytes(m->input.begin(), m->input.end()) == vni_input());
      CHECK(m->output.empty());
      CHECK(m->max_output_response == 24);
      CHECK(m->max_input_response == 0);
    } else if (c.header.status() == status::SUCCESS) {
      auto m = decode_ioctl_response(c.bytes);
      REQUIRE(m);
      REQUIRE(m->ctl_code == fsctl::validate_negotiate_info);
      ++responses;
      CHECK(m->input.empty());
      CHECK(Bytes(m->output.begin(), m->output.end()) == vni_output());
      CHECK(m->file_id == FileId::related());
      CHECK(same_body(message_bytes(*m, true), c.bytes));
    }
  }
  CHECK(requests == 2);
  CHECK(responses == 2);
}

TEST_CASE("the DFS referral IOCTL in the captures has its request as input and 64 KiB of room for output") {
  std::size_t seen = 0;
  for (const auto& c : captured_ioctls()) {
    if (c.header.is_response()) continue;
    auto m = decode_ioctl_request(c.bytes);
    REQUIRE(m);
    if (m->ctl_code != fsctl::dfs_get_referrals) continue;
    CAPTURE(c.where());
    ++seen;
    CHECK(m->max_output_response == 0xFFFF);
    // REQ_GET_DFS_REFERRAL: MaxReferralLevel 3, then "\127.0.0.1\<share>" NUL-terminated.
    REQUIRE(m->input.size() >= 4);
    CHECK(load_le16(m->input.data()) == 3);
  }
  CHECK(seen == 3);
}

TEST_CASE("an IOCTL request with input and output places the output 8-aligned after the input") {
  const Bytes input = test::hex("0102030405");
  const Bytes output = test::hex("aabbccdd");
  IoctlRequest m{.ctl_code = fsctl::pipe_transceive,
                 .file_id = FileId{5, 6},
                 .input = input,
                 .max_input_response = 0,
                 .output = output,
                 .max_output_response = 4280,
                 .flags = ioctl_flags::is_fsctl};
  const Bytes bytes = message_bytes(m, false);
  CHECK(load_le32(&bytes[kHeaderSize + 24]) == 0x78);  // InputOffset
  CHECK(load_le32(&bytes[kHeaderSize + 36]) == 0x80);  // OutputOffset: 0x78 + 5, rounded up
  auto back = decode_ioctl_request(bytes);
  REQUIRE(back);
  CHECK(*back == m);
  CHECK(message_bytes(*back, false) == bytes);
}

TEST_CASE("an IOCTL response with input and output round-trips with OutputOffset after the input") {
  const Bytes input = test::hex("0102030405060708090a");
  const Bytes output = test::hex("0c000000 00000000 00001000");
  IoctlResponse m{.ctl_code = fsctl::srv_copychunk_write, .file_id = FileId{1, 2}, .input = input, .output = output};
  const Bytes bytes = message_bytes(m, true);
  CHECK(load_le32(&bytes[kHeaderSize + 24]) == 0x70);
  CHECK(load_le32(&bytes[kHeaderSize + 32]) == 0x80);  // MS-SMB2 3.3.5.15.6.2: 0x70 + 10, rounded up to 8
  auto back = decode_ioctl_response(bytes);
  REQUIRE(back);
  CHECK(*back == m);
  CHECK(message_bytes(*back, true) == bytes);
}

TEST_CASE("an IOCTL request with no input and no output still carries one Buffer byte") {
  IoctlRequest m{.ctl_code = fsctl::srv_request_resume_key, .file_id = FileId{9, 10}, .max_output_response = 32};
  const Bytes bytes = message_bytes(m, false);
  CHECK(bytes.size() == kHeaderSize + 57);
  auto back = decode_ioctl_request(bytes);
  REQUIRE(back);
  CHECK(*back == m);
}

TEST_CASE("every prefix of an IOCTL request or response is refused") {
  const Bytes input = test::hex("00112233");
  const Bytes request = message_bytes(IoctlRequest{.ctl_code = fsctl::set_sparse, .input = input}, false);
  const Bytes response = message_bytes(IoctlResponse{.ctl_code = fsctl::set_sparse, .output = input}, true);
  for (std::size_t n = 0; n < request.size(); ++n) {
    CAPTURE(n);
    CHECK_FALSE(decode_ioctl_request(ByteView{request}.first(n)));
  }
  for (std::size_t n = 0; n < response.size(); ++n) {
    CAPTURE(n);
    CHECK_FALSE(decode_ioctl_response(ByteView{response}.first(n)));
  }
}

TEST_CASE("IOCTL offsets inside the header or fixed part, or counts that run past the message, are refused") {
  const Bytes payload = test::hex("0011223344556677");
  const Bytes request = message_bytes(IoctlRequest{.ctl_code = fsctl::offload_read, .input = payload}, false);
  struct Case {
    std::size_t field;  // body offset of an Offset field; its Count follows
    std::uint32_t offset;
    std::uint32_t count;
    WireError why;
  };
  for (const Case c : {
           Case{24, 0, 8, WireError::bad_offset},                  // InputOffset 0: the header
           Case{24, 0x77, 8, WireError::bad_offset},               // one byte into the fixed part
           Case{24, 0x78, 9, WireError::truncated},                // one byte too many
           Case{24, 0x78, 0xFFFF'FFFFu, WireError::truncated},     // wraps in 32 bits
           Case{24, 0xFFFF'FFFFu, 2, WireError::truncated},        // offset + count wraps in 32 bits
           Case{36, 0x40, 4, WireError::bad_offset},               // OutputOffset inside the header
           Case{36, 0x80, 1, WireError::truncated},                // output past the end
       }) {
    CAPTURE(c.field);
    CAPTURE(c.offset);
    CAPTURE(c.count);
    Bytes bad = request;
    store_le32(&bad[kHeaderSize + c.field], c.offset);
    store_le32(&bad[kHeaderSize + c.field + 4], c.count);
    CHECK(failed_with(decode_ioctl_request(bad), c.why));
  }

  Bytes response = message_bytes(IoctlResponse{.ctl_code = fsctl::offload_read, .output = payload}, true);
  store_le32(&response[kHeaderSize + 32], 0x6F);  // OutputOffset one byte into the fixed part
  CHECK(failed_with(decode_ioctl_response(response), WireError::bad_offset));
}

TEST_CASE("an IOCTL with the wrong StructureSize is refused and says what it was decoding") {
  Bytes request = message_bytes(IoctlRequest{}, false);
  store_le16(&request[kHeaderSize], 49);
  auto r = decode_ioctl_request(request);
  REQUIRE(failed_with(r, WireError::bad_structure_size));
  CHECK(r.error().action == "decode IOCTL request");
  Bytes response = message_bytes(IoctlResponse{}, true);
  store_le16(&response[kHeaderSize], 57);
  CHECK(failed_with(decode_ioctl_response(response), WireError::bad_structure_size));
}
