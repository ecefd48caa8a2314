#include <doctest/doctest.h>

#include <algorithm>

#include "support/test_data.hpp"
#include "support/wire_errors.hpp"
#include "wire/fsctl.hpp"

using namespace smbx;
using namespace smbx::wire;

using test::failed_with;

namespace {

// Every proper prefix of `full` must be refused by `decode`.
template <typename Decode>
void check_prefixes_refused(const Bytes& full, Decode decode, std::size_t from = 0) {
  for (std::size_t n = from; n < full.size(); ++n) {
    CAPTURE(n);
    CHECK_FALSE(decode(ByteView{full}.first(n)));
  }
}

ResumeKey key_from(std::uint8_t first) {
  ResumeKey k{};
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::uint8_t>(first + i);
  return k;
}

// smb2-security.md §8: the VALIDATE_NEGOTIATE_INFO payloads of smb302-signed.
Bytes vni_input() { return test::hex("7f000000 352f6cb6a9f9df47aa1b398c211ec44c 0100 0400 0202 1002 0003 0203"); }
Bytes vni_output() { return test::hex("4f000000 63617073727600000000000000000000 0300 0203"); }

}  // namespace

TEST_CASE("the captured VALIDATE_NEGOTIATE_INFO request decodes and re-encodes byte for byte") {
  auto p = decode_validate_negotiate_info_request(vni_input());
  REQUIRE(p);
  CHECK(p->capabilities == 0x7F);
  CHECK(p->guid == to_array<16>(test::hex("352f6cb6a9f9df47aa1b398c211ec44c")));
  CHECK(p->security_mode == 1);
  CHECK(p->dialects == std::vector<Dialect>{Dialect::smb202, Dialect::smb210, Dialect::smb300, Dialect::smb302});
  CHECK(fsctl_payload(*p) == vni_input());
}

TEST_CASE("the captured VALIDATE_NEGOTIATE_INFO response decodes and re-encodes byte for byte") {
  auto p = decode_validate_negotiate_info_response(vni_output());
  REQUIRE(p);
  CHECK(p->capabilities == 0x4F);
  CHECK(std::string(p->guid.begin(), p->guid.begin() + 6) == "capsrv");  // Samba's ServerGuid
  CHECK(p->security_mode == 3);
  CHECK(p->dialect == Dialect::smb302);
  CHECK(fsctl_payload(*p) == vni_output());
}

TEST_CASE("a VALIDATE_NEGOTIATE_INFO whose dialects do not fit, or that is short, is refused") {
  Bytes too_many = vni_input();
  store_le16(&too_many[22], 5);  // DialectCount 5, four dialects present
  CHECK(failed_with(decode_validate_negotiate_info_request(too_many), WireError::truncated));
  store_le16(&too_many[22], 0xFFFF);
  CHECK(failed_with(decode_validate_negotiate_info_request(too_many), WireError::truncated));
  check_prefixes_refused(vni_input(), decode_validate_negotiate_info_request);
  check_prefixes_refused(vni_output(), decode_validate_negotiate_info_response);
}

TEST_CASE("a NETWORK_INTERFACE_INFO entry lays out as MS-SMB2 2.2.32.5 says") {
  NetworkInterfaceInfo v4{.if_index = 3,
                          .capability = interface_capability::rss_capable,
                          .link_speed = 10'000'000'000,
                          .family = address_family::inet,
                          .port = 445,
                          .address = {192, 168, 1, 20}};
  const Bytes bytes = fsctl_payload(std::span<const NetworkInterfaceInfo>{&v4, 1});
  REQUIRE(bytes.size() == kNetworkInterfaceInfoSize);
  CHECK(load_le32(&bytes[0]) == 0);  // Next: last entry
  CHECK(load_le32(&bytes[4]) == 3);
  CHECK(load_le32(&bytes[8]) == 1);
  CHECK(load_le64(&bytes[16]) == 10'000'000'000);
  CHECK(load_le16(&bytes[24]) == 0x0002);                               // Family
  CHECK(Bytes(bytes.begin() + 26, bytes.begin() + 28) == Bytes{0x01, 0xBD});  // port, big-endian
  CHECK(Bytes(bytes.begin() + 28, bytes.begin() + 32) == Bytes{192, 168, 1, 20});
  CHECK(std::all_of(bytes.begin() + 32, bytes.end(), [](std::uint8_t b) { return b == 0; }));
}

TEST_CASE("a list of IPv4 and IPv6 interfaces survives encode and decode") {
  const std::vector<NetworkInterfaceInfo> list = {
      {.if_index = 2, .capability = 0, .link_speed = 1'000'000'000, .family = address_family::inet,
       .address = {10, 0, 0, 1}},
      {.if_index = 2, .capability = interface_capability::rdma_capable | interface_capability::rss_capable,
       .link_speed = 100'000'000'000, .family = address_family::inet6,
       .address = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55}, .scope_id = 2},
  };
  const Bytes bytes = fsctl_payload(list);
  REQUIRE(bytes.size() == 2 * kNetworkInterfaceInfoSize);
  CHECK(load_le32(&bytes[0]) == 152);
  CHECK(load_le16(&bytes[152 + 24]) == 0x0017);
  CHECK(bytes[152 + 32] == 0xfe);  // SOCKADDR_IN6: Port, FlowInfo, then the address
  auto back = decode_network_interface_info(bytes);
  REQUIRE(back);
  CHECK(*back == list);
  auto none = decode_network_interface_info(ByteView{});
  REQUIRE(none);
  CHECK(none->empty());
}

TEST_CASE("a NETWORK_INTERFACE_INFO chain that loops, overruns or names another family is refused") {
  const std::vector<NetworkInterfaceInfo> two = {{.if_index = 1, .address = {127, 0, 0, 1}},
                                                 {.if_index = 2, .address = {127, 0, 0, 2}}};
  const Bytes good = fsctl_payload(two);
  for (std::uint32_t next : {8u, 151u}) {  // back inside the first entry
    CAPTURE(next);
    Bytes bad = good;
    store_le32(&bad[0], next);
    CHECK(failed_with(decode_network_interface_info(bad), WireError::bad_offset));
  }
  for (std::uint32_t next : {160u, 304u, 0xFFFF'FF68u}) {  // past the end, or -152 in 32 bits
    CAPTURE(next);
    Bytes bad = good;
    store_le32(&bad[0], next);
    CHECK(failed_with(decode_network_interface_info(bad), WireError::truncated));
  }
  Bytes other_family = good;
  store_le16(&other_family[24], 0x001E);
  CHECK(failed_with(decode_network_interface_info(other_family), WireError::bad_value));
  // Empty is a valid (empty) list; any other prefix of one entry is not.
  const Bytes one = fsctl_payload(std::span<const NetworkInterfaceInfo>{two.data(), 1});
  REQUIRE(decode_network_interface_info(one));
  check_prefixes_refused(one, decode_network_interface_info, 1);
}

TEST_CASE("a resume key is 32 bytes on the wire with ContextLength 0, and shorter payloads are refused") {
  SrvRequestResumeKey key{key_from(0x10)};
  const Bytes bytes = fsctl_payload(key);
  REQUIRE(bytes.size() == 32);
  CHECK(load_le32(&bytes[24]) == 0);
  auto back = decode_srv_request_resume_key(bytes);
  REQUIRE(back);
  CHECK(*back == key);
  // Clients ignore ContextLength and Context (MS-SMB2 2.2.32.3).
  Bytes odd_context = bytes;
  store_le32(&odd_context[24], 4);
  CHECK(decode_srv_request_resume_key(odd_context));
  check_prefixes_refused(Bytes(bytes.begin(), bytes.begin() + 28), decode_srv_request_resume_key);
}

TEST_CASE("a SRV_COPYCHUNK_COPY with chunks round-trips and a ChunkCount past the payload is refused") {
  SrvCopychunkCopy copy{.source_key = key_from(0x20),
                        .chunks = {{.source_offset = 0, .target_offset = 0, .length = 1 << 20},
                                   {.source_offset = 1 << 20, .target_offset = 1 << 20, .length = 1 << 20},
                                   {.source_offset = 2 << 20, .target_offset = 5 << 20, .length = 4096}}};
  const Bytes bytes = fsctl_payload(copy);
  REQUIRE(bytes.size() == 32 + 3 * 24);
  CHECK(load_le32(&bytes[24]) == 3);
  CHECK(load_le64(&bytes[32 + 24 + 8]) == 1 << 20);  // second chunk's TargetOffset
  auto back = decode_srv_copychunk_copy(bytes);
  REQUIRE(back);
  CHECK(*back == copy);

  for (std::uint32_t count : {4u, 0x0AAA'AAABu, 0xFFFF'FFFFu}) {  // 0x0AAAAAAB * 24 wraps to 8 in 32 bits
    CAPTURE(count);
    Bytes bad = bytes;
    store_le32(&bad[24], count);
    CHECK(failed_with(decode_srv_copychunk_copy(bad), WireError::truncated));
  }
  check_prefixes_refused(Bytes(bytes.begin(), bytes.begin() + 32), decode_srv_copychunk_copy);
  // ChunkCount 0 is a valid probe (offload-copy.md §3.4 item 7).
  auto empty = decode_srv_copychunk_copy(fsctl_payload(SrvCopychunkCopy{.source_key = key_from(1)}));
  REQUIRE(empty);
  CHECK(empty->chunks.empty());
}

TEST_CASE("a SRV_COPYCHUNK_RESPONSE carrying the Windows limits decodes") {
  // MS-SMB2 3.3.5.15.6.2: 256 chunks, 1 MiB per chunk, 16 MiB per request.
  const Bytes limits = test::hex("00010000 00001000 00000001");
  auto p = decode_srv_copychunk_response(limits);
  REQUIRE(p);
  CHECK(p->chunks_written == 256);
  CHECK(p->chunk_bytes_written == 1 << 20);
  CHECK(p->total_bytes_written == 16 << 20);
  CHECK(fsctl_payload(*p) == limits);
  check_prefixes_refused(limits, decode_srv_copychunk_response);
}

TEST_CASE("the zero-data offload token is big-endian FFFF0001 and survives OFFLOAD_WRITE encode and decode") {
  const auto token = zero_data_token();
  const Bytes token_bytes = fsctl_payload(token);
  REQUIRE(token_bytes.size() == 512);
  CHECK(Bytes(token_bytes.begin(), token_bytes.begin() + 8) == test::hex("ffff0001 0000 01f8"));

  OffloadWriteInput input{.flags = 0, .file_offset = 1 << 20, .copy_length = 8 << 20, .transfer_offset = 0, .token = token};
  const Bytes bytes = fsctl_payload(input);
  REQUIRE(bytes.size() == 544);
  CHECK(load_le32(&bytes[0]) == 544);
  CHECK(Bytes(bytes.begin() + 32, bytes.begin() + 36) == test::hex("ffff0001"));
  auto back = decode_offload_write_input(bytes);
  REQUIRE(back);
  CHECK(*back == input);
  CHECK(back->token.token_type == offload_token_type::zero_data);
}

TEST_CASE("an opaque offload token passes from OFFLOAD_READ output to OFFLOAD_WRITE input unchanged") {
  Bytes raw_token(512);
  for (std::size_t i = 0; i < raw_token.size(); ++i) raw_token[i] = static_cast<std::uint8_t>(i * 7 + 1);
  Bytes read_output = test::hex("10020000 01000000 0000100000000000");  // Size 528, Flags 1, 1 MiB
  read_output.insert(read_output.end(), raw_token.begin(), raw_token.end());
  auto out = decode_offload_read_output(read_output);
  REQUIRE(out);
  CHECK(out->flags == offload_read_flags::all_zero_beyond_current_range);
  CHECK(out->transfer_length == 1 << 20);
  CHECK(fsctl_payload(*out) == read_output);

  const Bytes write_input = fsctl_payload(OffloadWriteInput{.copy_length = out->transfer_length, .token = out->token});
  CHECK(Bytes(write_input.begin() + 32, write_input.end()) == raw_token);
}

TEST_CASE("ODX structures have the sizes of ntifs.h and round-trip, refusing a wrong Size or a short payload") {
  const OffloadReadInput read_in{.flags = 0, .token_time_to_live = 5000, .file_offset = 4096, .copy_length = 1 << 24};
  const OffloadWriteOutput write_out{.flags = 0, .length_written = 1 << 23};
  const Bytes read_in_bytes = fsctl_payload(read_in);
  const Bytes write_out_bytes = fsctl_payload(write_out);
  CHECK(read_in_bytes.size() == 32);
  CHECK(write_out_bytes.size() == 16);
  auto a = decode_offload_read_input(read_in_bytes);
  auto b = decode_offload_write_output(write_out_bytes);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(*a == read_in);
  CHECK(*b == write_out);

  Bytes wrong_size = read_in_bytes;
  store_le32(&wrong_size[0], 40);
  CHECK(failed_with(decode_offload_read_input(wrong_size), WireError::bad_structure_size));
  wrong_size = write_out_bytes;
  store_le32(&wrong_size[0], 32);
  CHECK(failed_with(decode_offload_write_output(wrong_size), WireError::bad_structure_size));

  check_prefixes_refused(read_in_bytes, decode_offload_read_input);
  check_prefixes_refused(write_out_bytes, decode_offload_write_output);
  check_prefixes_refused(fsctl_payload(OffloadReadOutput{}), decode_offload_read_output);
  check_prefixes_refused(fsctl_payload(OffloadWriteInput{}), decode_offload_write_input);
}

TEST_CASE("duplicate-extents inputs round-trip and the _EX form checks its StructureSize of 0x30") {
  const DuplicateExtentsData plain{.source_file_id = FileId{7, 8}, .source_file_offset = 0, .target_file_offset = 65536,
                                   .byte_count = 1 << 20};
  const Bytes plain_bytes = fsctl_payload(plain);
  CHECK(plain_bytes.size() == 40);
  auto p = decode_duplicate_extents_data(plain_bytes);
  REQUIRE(p);
  CHECK(*p == plain);
  check_prefixes_refused(plain_bytes, decode_duplicate_extents_data);

  const DuplicateExtentsDataEx ex{.source_file_id = FileId{7, 8}, .source_file_offset = 4096, .target_file_offset = 0,
                                  .byte_count = 4096, .flags = duplicate_extents_flags::source_atomic};
  Bytes ex_bytes = fsctl_payload(ex);
  CHECK(ex_bytes.size() == 56);
  CHECK(load_le64(&ex_bytes[0]) == 0x30);
  auto e = decode_duplicate_extents_data_ex(ex_bytes);
  REQUIRE(e);
  CHECK(*e == ex);
  check_prefixes_refused(ex_bytes, decode_duplicate_extents_data_ex);
  store_le64(&ex_bytes[0], 56);
  CHECK(failed_with(decode_duplicate_extents_data_ex(ex_bytes), WireError::bad_structure_size));
}

TEST_CASE("a NETWORK_RESILIENCY_REQUEST carries its timeout in 8 bytes") {
  const Bytes bytes = fsctl_payload(NetworkResiliencyRequest{120000});
  CHECK(bytes == test::hex("c0d40100 00000000"));
  auto p = decode_network_resiliency_request(bytes);
  REQUIRE(p);
  CHECK(p->timeout == 120000);
  check_prefixes_refused(bytes, decode_network_resiliency_request);
}
