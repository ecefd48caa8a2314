#include <doctest/doctest.h>

#include "support/test_data.hpp"
#include "support/wire_errors.hpp"
#include "wire/create_context.hpp"

using namespace smbx;
using namespace smbx::wire;

using test::failed_with;

namespace {

Bytes encode_chain(const std::vector<CreateContext>& contexts) {
  Bytes out;
  Writer w{out};
  encode_create_contexts(w, contexts);
  return out;
}

Guid guid_from(std::uint8_t first) {
  Guid g{};
  for (std::size_t i = 0; i < g.size(); ++i) g[i] = static_cast<std::uint8_t>(first + i);
  return g;
}

// One element with a 4-byte tag and `data_length` bytes of data at offset 24,
// built by hand from MS-SMB2 2.2.13.2 so the tests do not trust the encoder.
Bytes element(std::string_view tag, std::uint32_t next, std::uint16_t name_offset, std::uint16_t data_offset,
              std::uint32_t data_length, std::size_t total) {
  Bytes b(total, 0);
  store_le32(&b[0], next);
  store_le16(&b[4], name_offset);
  store_le16(&b[6], static_cast<std::uint16_t>(tag.size()));
  store_le16(&b[10], data_offset);
  store_le32(&b[12], data_length);
  for (std::size_t i = 0; i < tag.size() && 16 + i < total; ++i) b[16 + i] = static_cast<std::uint8_t>(tag[i]);
  return b;
}

}  // namespace

TEST_CASE("DH2Q round-trips its CreateGuid exactly and lays out as MS-SMB2 2.2.13.2.11 says") {
  const Guid create_guid = guid_from(0xA0);
  DurableHandleRequestV2 dh2q{.timeout = 60000, .flags = durable_flags::persistent, .create_guid = create_guid};
  const Bytes chain = encode_chain({dh2q});

  // Header(16) + "DH2Q"(4) + pad(4) + data(32) = 56 bytes; data at 24.
  REQUIRE(chain.size() == 56);
  CHECK(load_le32(&chain[0]) == 0);   // Next: last element
  CHECK(load_le16(&chain[4]) == 16);  // NameOffset
  CHECK(load_le16(&chain[6]) == 4);   // NameLength
  CHECK(load_le16(&chain[10]) == 24);  // DataOffset
  CHECK(load_le32(&chain[12]) == 32);  // DataLength
  CHECK(std::string(chain.begin() + 16, chain.begin() + 20) == "DH2Q");
  CHECK(load_le32(&chain[24]) == 60000);
  CHECK(load_le32(&chain[28]) == durable_flags::persistent);
  CHECK(load_le64(&chain[32]) == 0);  // Reserved
  CHECK(Guid{to_array<16>(ByteView{chain}.subspan(40, 16))} == create_guid);

  auto back = decode_create_contexts(chain, ContextDirection::request);
  REQUIRE(back);
  REQUIRE(back->size() == 1);
  const auto* decoded = std::get_if<DurableHandleRequestV2>(&(*back)[0]);
  REQUIRE(decoded != nullptr);
  CHECK(decoded->create_guid == create_guid);
  CHECK(decoded->timeout == 60000);
  CHECK(decoded->flags == durable_flags::persistent);
  CHECK(encode_chain(*back) == chain);
}

TEST_CASE("a chain of every request context survives encode, decode and encode again") {
  Lease lease{.version = Lease::Version::v2,
              .lease_key = guid_from(0x10),
              .lease_state = lease_state::read_caching | lease_state::handle_caching,
              .flags = lease_flags::parent_lease_key_set,
              .lease_duration = 0,
              .parent_lease_key = guid_from(0x30),
              .epoch = 7};
  const Bytes ea = test::hex("00000000 00 04 0500 41555448 00 6162636465");
  const std::vector<CreateContext> contexts = {
      DurableHandleRequest{},
      DurableHandleReconnect{FileId{0x1122, 0x3344}},
      DurableHandleRequestV2{.timeout = 0, .flags = 0, .create_guid = guid_from(0x50)},
      DurableHandleReconnectV2{.file_id = FileId{1, 2}, .create_guid = guid_from(0x60), .flags = durable_flags::persistent},
      lease,
      Lease{.version = Lease::Version::v1, .lease_key = guid_from(0x70), .lease_state = lease_state::read_caching},
      QueryMaximalAccessRequest{},
      QueryMaximalAccessRequest{0x01D97C19BB5E98A6},
      QueryOnDiskIdRequest{},
      AppInstanceId{guid_from(0x80)},
      AppInstanceVersion{.app_instance_version_high = 5, .app_instance_version_low = 9},
      AllocationSize{1 << 20},
      TimewarpToken{0x01D97C19BB5E98A6},
      RawCreateContext{Bytes{'E', 'x', 't', 'A'}, ea},
  };
  const Bytes chain = encode_chain(contexts);
  auto back = decode_create_contexts(chain, ContextDirection::request);
  REQUIRE(back);
  CHECK(*back == contexts);
  CHECK(encode_chain(*back) == chain);

  // MS-SMB2 2.2.13.2: every element starts 8-aligned from the first.
  auto elements = split_create_contexts(chain);
  REQUIRE(elements);
  REQUIRE(elements->size() == contexts.size());
  for (const auto& e : *elements) {
    CAPTURE(describe_create_context_name(e.name));
    CHECK((e.name.data() - chain.data() - 16) % 8 == 0);
  }
}

TEST_CASE("a chain of every response context survives encode, decode and encode again") {
  QueryOnDiskIdResponse qfid{.disk_file_id = 0x0000000000ABCDEF, .volume_id = 0x803, .reserved = {}};
  qfid.reserved[3] = 0x42;  // kept byte for byte
  const std::vector<CreateContext> contexts = {
      QueryMaximalAccessResponse{.query_status = 0, .maximal_access = 0x001F01FF},
      qfid,
      DurableHandleResponse{},
      DurableHandleResponseV2{.timeout = 180000, .flags = durable_flags::persistent},
      Lease{.version = Lease::Version::v2, .lease_key = guid_from(1), .lease_state = 7, .flags = 0, .epoch = 2},
  };
  const Bytes chain = encode_chain(contexts);
  auto back = decode_create_contexts(chain, ContextDirection::response);
  REQUIRE(back);
  CHECK(*back == contexts);
  CHECK(encode_chain(*back) == chain);
}

TEST_CASE("an MxAc and QFid request chain encodes to the bytes MS-SMB2 2.2.13.2 prescribes") {
  // MxAc: no data, so DataOffset 0 (2.2.13.2 SHOULD) and the element is padded
  // to 24 before QFid; the last element is not padded.
  const Bytes expected = test::hex(
      "18000000 1000 0400 0000 0000 00000000 4d784163 00000000"
      "00000000 1000 0400 0000 0000 00000000 51466964");
  CHECK(encode_chain({QueryMaximalAccessRequest{}, QueryOnDiskIdRequest{}}) == expected);
  auto back = decode_create_contexts(expected, ContextDirection::request);
  REQUIRE(back);
  REQUIRE(back->size() == 2);
  CHECK(std::holds_alternative<QueryMaximalAccessRequest>((*back)[0]));
  CHECK(std::holds_alternative<QueryOnDiskIdRequest>((*back)[1]));
}

TEST_CASE("the same tag decodes by direction: MxAc, QFid, DHnQ and DH2Q mean different things each way") {
  const Bytes mxac = encode_chain({QueryMaximalAccessResponse{.query_status = 0, .maximal_access = 0x12019F}});
  auto as_response = decode_create_contexts(mxac, ContextDirection::response);
  REQUIRE(as_response);
  REQUIRE(std::holds_alternative<QueryMaximalAccessResponse>((*as_response)[0]));
  CHECK(std::get<QueryMaximalAccessResponse>((*as_response)[0]).maximal_access == 0x12019F);
  // In a request, 8 bytes of MxAc data is the optional Timestamp.
  auto as_request = decode_create_contexts(mxac, ContextDirection::request);
  REQUIRE(as_request);
  REQUIRE(std::holds_alternative<QueryMaximalAccessRequest>((*as_request)[0]));
  CHECK(std::get<QueryMaximalAccessRequest>((*as_request)[0]).timestamp == std::uint64_t{0x12019F} << 32);

  // DHnQ: 16 bytes in a request, 8 in a response; each is refused the other way.
  const Bytes dhnq_request = encode_chain({DurableHandleRequest{}});
  const Bytes dhnq_response = encode_chain({DurableHandleResponse{}});
  CHECK(failed_with(decode_create_contexts(dhnq_request, ContextDirection::response), WireError::bad_length));
  CHECK(failed_with(decode_create_contexts(dhnq_response, ContextDirection::request), WireError::bad_length));

  // DH2Q: 32 bytes in a request, 8 in a response.
  const Bytes dh2q_response = encode_chain({DurableHandleResponseV2{.timeout = 1, .flags = 2}});
  auto v2 = decode_create_contexts(dh2q_response, ContextDirection::response);
  REQUIRE(v2);
  CHECK(std::get<DurableHandleResponseV2>((*v2)[0]) == DurableHandleResponseV2{.timeout = 1, .flags = 2});
  CHECK(failed_with(decode_create_contexts(dh2q_response, ContextDirection::request), WireError::bad_length));

  // A request-only tag in a response is kept raw rather than guessed at.
  const Bytes alsi = encode_chain({AllocationSize{4096}});
  auto raw = decode_create_contexts(alsi, ContextDirection::response);
  REQUIRE(raw);
  REQUIRE(std::holds_alternative<RawCreateContext>((*raw)[0]));
  CHECK(std::get<RawCreateContext>((*raw)[0]).data.size() == 8);
}

TEST_CASE("RqLs is v1 at 32 bytes, v2 at 52, and refused at any other length") {
  for (auto version : {Lease::Version::v1, Lease::Version::v2}) {
    CAPTURE(static_cast<int>(version));
    Lease lease{.version = version, .lease_key = guid_from(9), .lease_state = lease_state::read_caching};
    const Bytes chain = encode_chain({lease});
    CHECK(load_le32(&chain[12]) == (version == Lease::Version::v1 ? 32u : 52u));
    auto back = decode_create_contexts(chain, ContextDirection::response);
    REQUIRE(back);
    CHECK(std::get<Lease>((*back)[0]) == lease);
  }
  for (std::uint32_t length : {0u, 31u, 33u, 40u, 51u, 53u}) {
    CAPTURE(length);
    Bytes chain = element("RqLs", 0, 16, 24, length, 24 + length);
    CHECK(failed_with(decode_create_contexts(chain, ContextDirection::request), WireError::bad_length));
  }
}

TEST_CASE("unknown and GUID-named contexts come back raw with their exact bytes") {
  const Bytes svhdx_data = test::hex("0100000002000000");
  const std::vector<CreateContext> contexts = {
      RawCreateContext{Bytes{'A', 'A', 'P', 'L'}, svhdx_data},
      RawCreateContext{Bytes(context_name::svhdx_open_device_context.begin(), context_name::svhdx_open_device_context.end()),
                       svhdx_data},
      RawCreateContext{Bytes{'S', 'e', 'c', 'D'}, {}},
  };
  const Bytes chain = encode_chain(contexts);
  for (auto dir : {ContextDirection::request, ContextDirection::response}) {
    auto back = decode_create_contexts(chain, dir);
    REQUIRE(back);
    CHECK(*back == contexts);
  }
  auto back = decode_create_contexts(chain, ContextDirection::request);
  REQUIRE(back);
  const auto* aapl = find_raw_context(*back, "AAPL");
  REQUIRE(aapl != nullptr);
  CHECK(Bytes(aapl->data.begin(), aapl->data.end()) == svhdx_data);
  CHECK(find_raw_context(*back, "ExtA") == nullptr);
  CHECK(find_context<Lease>(*back) == nullptr);
}

TEST_CASE("find_context finds each typed context in a decoded chain") {
  const std::vector<CreateContext> contexts = {QueryMaximalAccessRequest{}, Lease{.lease_key = guid_from(4)},
                                               DurableHandleRequestV2{.create_guid = guid_from(5)}};
  auto back = decode_create_contexts(encode_chain(contexts), ContextDirection::request);
  REQUIRE(back);
  REQUIRE(find_context<DurableHandleRequestV2>(*back) != nullptr);
  CHECK(find_context<DurableHandleRequestV2>(*back)->create_guid == guid_from(5));
  REQUIRE(find_context<Lease>(*back) != nullptr);
  CHECK(find_context<Lease>(*back)->lease_key == guid_from(4));
  CHECK(find_context<DurableHandleReconnectV2>(*back) == nullptr);
  CHECK(create_context_name((*back)[2]) == Bytes{'D', 'H', '2', 'Q'});
}

TEST_CASE("a context chain whose Next points into itself, backwards or past the end is refused") {
  // Two valid 24-byte elements ("MxAc" with an 8-byte timestamp, then "QFid").
  Bytes chain = element("MxAc", 32, 16, 24, 8, 32);
  const Bytes second = element("QFid", 0, 16, 0, 0, 20);
  chain.insert(chain.end(), second.begin(), second.end());
  REQUIRE(decode_create_contexts(chain, ContextDirection::request));

  // Next counts from the element's own start (at 0 or 32 here) and is unsigned:
  // "backwards" is a huge value that only wraps for a parser adding in 32 bits.
  struct Case {
    std::size_t element_at;
    std::uint32_t next;
    WireError why;
    const char* note;
  };
  for (const Case c : {
           Case{0, 8, WireError::bad_offset, "into its own header"},
           Case{0, 15, WireError::bad_offset, "one byte short of its own header's end"},
           Case{0, 36, WireError::bad_offset, "not 8-aligned"},
           Case{0, 24, WireError::truncated, "into its own data, which then runs past the element"},
           Case{0, 40, WireError::truncated, "12 bytes before the end: no room for a header"},
           Case{0, 48, WireError::truncated, "4 bytes before the end"},
           Case{0, 1u << 31, WireError::truncated, "far past the end"},
           Case{32, 0xFFFF'FFE0u, WireError::truncated, "back to the first element in 32-bit arithmetic"},
           Case{32, 0xFFFF'FFF8u, WireError::truncated, "8 bytes back in 32-bit arithmetic"},
           Case{32, 8, WireError::bad_offset, "the last element into itself"},
       }) {
    CAPTURE(c.note);
    CAPTURE(c.next);
    Bytes bad = chain;
    store_le32(&bad[c.element_at], c.next);
    auto r = split_create_contexts(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().wire == c.why);
  }
}

TEST_CASE("a context whose name or data lies outside its own element is refused") {
  // A first element of 32 bytes followed by a second of 20: offsets in the first
  // must stay inside its 32 bytes even though the chain is longer.
  auto chain_with = [](std::uint16_t name_offset, std::uint16_t name_length, std::uint16_t data_offset,
                       std::uint32_t data_length) {
    Bytes chain = element("MxAc", 32, name_offset, data_offset, data_length, 32);
    store_le16(&chain[6], name_length);
    const Bytes second = element("QFid", 0, 16, 0, 0, 20);
    chain.insert(chain.end(), second.begin(), second.end());
    return chain;
  };
  REQUIRE(split_create_contexts(chain_with(16, 4, 24, 8)));
  CHECK(failed_with(split_create_contexts(chain_with(8, 4, 24, 8)), WireError::bad_offset));    // name in header
  CHECK(failed_with(split_create_contexts(chain_with(16, 0, 24, 8)), WireError::bad_length));   // no name
  CHECK(failed_with(split_create_contexts(chain_with(16, 17, 0, 0)), WireError::truncated));    // name into next
  CHECK(failed_with(split_create_contexts(chain_with(16, 4, 16, 8)), WireError::bad_offset));   // data over name
  CHECK(failed_with(split_create_contexts(chain_with(16, 4, 28, 4)), WireError::bad_offset));   // misaligned data
  CHECK(failed_with(split_create_contexts(chain_with(16, 4, 24, 9)), WireError::truncated));    // data into next
  CHECK(failed_with(split_create_contexts(chain_with(16, 4, 24, 0xFFFF'FFFFu)), WireError::truncated));
  // With DataLength 0 the DataOffset is ignored (MS-SMB2 2.2.13.2).
  CHECK(split_create_contexts(chain_with(16, 4, 0xFFF8, 0)));
}

TEST_CASE("every prefix of a valid context chain is refused") {
  const Bytes chain = encode_chain({DurableHandleRequestV2{.create_guid = guid_from(1)}, QueryMaximalAccessRequest{},
                                    AppInstanceId{guid_from(2)}});
  REQUIRE(decode_create_contexts(chain, ContextDirection::request));
  for (std::size_t n = 1; n < chain.size(); ++n) {
    CAPTURE(n);
    CHECK_FALSE(decode_create_contexts(ByteView{chain}.first(n), ContextDirection::request));
  }
  // The empty chain is simply no contexts.
  auto none = decode_create_contexts(ByteView{}, ContextDirection::request);
  REQUIRE(none);
  CHECK(none->empty());
}

TEST_CASE("AppInstanceId and AppInstanceVersion are checked against their StructureSize") {
  Bytes id = encode_chain({AppInstanceId{guid_from(3)}});
  // GUID name: NameLength 16, data at 32.
  CHECK(load_le16(&id[6]) == 16);
  CHECK(load_le16(&id[10]) == 32);
  CHECK(ByteView{id}.subspan(16, 16)[0] == 0x45);
  store_le16(&id[32], 24);
  CHECK(failed_with(decode_create_contexts(id, ContextDirection::request), WireError::bad_structure_size));

  Bytes version = encode_chain({AppInstanceVersion{.app_instance_version_high = 1, .app_instance_version_low = 2}});
  CHECK(load_le32(&version[12]) == 24);
  store_le16(&version[32], 20);
  CHECK(failed_with(decode_create_contexts(version, ContextDirection::request), WireError::bad_structure_size));
}

TEST_CASE("known request contexts with the wrong DataLength are refused, naming the context") {
  struct Case {
    std::string_view tag;
    std::uint32_t length;
  };
  for (const Case c : {Case{"DHnQ", 8}, Case{"DHnC", 8}, Case{"DH2Q", 36}, Case{"DH2C", 32}, Case{"MxAc", 4},
                       Case{"QFid", 8}, Case{"AlSi", 4}, Case{"TWrp", 16}}) {
    CAPTURE(c.tag);
    Bytes chain = element(c.tag, 0, 16, 24, c.length, 24 + c.length);
    auto r = decode_create_contexts(chain, ContextDirection::request);
    REQUIRE_FALSE(r);
    CHECK(r.error().wire == WireError::bad_length);
    CHECK(r.error().detail.find(std::string{c.tag}) != std::string::npos);
  }
}

TEST_CASE("a long chain of minimal contexts decodes in one pass") {
  std::vector<CreateContext> many(2000, CreateContext{QueryOnDiskIdRequest{}});
  const Bytes chain = encode_chain(many);
  CHECK(chain.size() == 1999 * 24 + 20);
  auto back = decode_create_contexts(chain, ContextDirection::request);
  REQUIRE(back);
  CHECK(back->size() == 2000);
}
