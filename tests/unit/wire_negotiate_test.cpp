#include <doctest/doctest.h>

#include "wire/negotiate.hpp"
#include "wire_message_support.hpp"

using namespace smbx;
using namespace smbx::wire;
using smbx::test::failed_with;

namespace {

// The Microsoft "SMB 3.1.1 Pre-authentication integrity in Windows 10" blog
// vector (2015-08-11): a Windows client's NEGOTIATE request and a Windows
// server's response, whole messages.
constexpr const char* kWindowsNegotiateRequest =
    "fe534d4240000100000000000000800000000000000000000100000000000000"
    "fffe000000000000000000000000000000000000000000000000000000000000"
    "24000500000000003f000000ecd86f326276024f9f7752b89bb33f3a70000000"
    "020000000202100200030203110300000100260000000000010020000100fa49"
    "e6578f1f3a9f4cd3e9cc14a67aa884b3d05844e0e5a118225c15887f32ff0000"
    "0200060000000000020002000100";

constexpr const char* kWindowsNegotiateResponse =
    "fe534d4240000100000000000000010001000000000000000100000000000000"
    "fffe000000000000000000000000000000000000000000000000000000000000"
    "410001001103020039cbcaf329714942bdce5d60f09ab3fb2f00000000008000"
    "0000800000008000d8dae5adcbaed00109094ab095aed00180004001c0010000"
    "6082013c06062b0601050502a08201303082012ca01a3018060a2b0601040182"
    "3702021e060a2b06010401823702020aa282010c048201084e45474f45585453"
    "010000000000000060000000700000007c7cc0fd06d6362d02dde1cf343bfe29"
    "2900f49750b4aa97934d9c4296b26e51fd370471b235e15a50dae15bd5489c87"
    "0000000000000000600000000100000000000000000000005c33530deaf90d4d"
    "b2ec4ae3786ec3084e45474f4558545303000000010000004000000098000000"
    "7c7cc0fd06d6362d02dde1cf343bfe295c33530deaf90d4db2ec4ae3786ec308"
    "40000000580000003056a05430523027802530233121301f0603550403131854"
    "6f6b656e205369676e696e67205075626c6963204b6579302780253023312130"
    "1f06035504031318546f6b656e205369676e696e67205075626c6963204b6579"
    "010026000000000001002000010060a3c3b95c3c7ccd51ec536648d9b3ac74c4"
    "83ca5b65385a251117beb30712e50000020004000000000001000200";

template <typename T>
Bytes reencode_body(const T& m) {
  return test::body_bytes(test::encode_message(Command::negotiate, m));
}

NegotiateRequest every_context_request() {
  static const Bytes salt(32, 0xA5);
  static const Bytes posix = test::hex("93AD25509CB411E7B42383DE968BCD7C");
  NegotiateRequest m;
  m.security_mode = negotiate_signing::enabled;
  m.capabilities = global_caps::dfs | global_caps::leasing | global_caps::large_mtu | global_caps::encryption;
  m.client_guid = to_array<16>(test::hex("00112233445566778899aabbccddeeff"));
  m.dialects = {0x0202, 0x0210, 0x0300, 0x0302, 0x0311};
  m.negotiate_contexts = {
      PreauthIntegrityCapabilities{{preauth_hash::sha512}, salt},
      EncryptionCapabilities{{encryption_cipher::aes256_gcm, encryption_cipher::aes128_gcm}},
      CompressionCapabilities{kCompressionCapabilitiesFlagChained,
                              {compression_algorithm::lz77, compression_algorithm::pattern_v1}},
      NetnameContext{u"fs1.example.com"},
      TransportCapabilities{kAcceptTransportLevelSecurity},
      RdmaTransformCapabilities{{rdma_transform_id::encryption, rdma_transform_id::signing}},
      SigningCapabilities{{signing_algorithm::aes_gmac, signing_algorithm::aes_cmac}},
      RawNegotiateContext{negotiate_context_type::posix_extensions, posix},
  };
  return m;
}

}  // namespace

TEST_CASE("Samba's 3.1.1 NEGOTIATE request decodes to its dialects and four contexts") {
  const auto msg = test::first_captured(Command::negotiate, false, "smb311-signed-ops");
  auto m = decode_negotiate_request(msg.bytes);
  REQUIRE(m.has_value());
  CHECK(m->security_mode == negotiate_signing::enabled);
  CHECK(m->capabilities == 0x7F);
  CHECK(m->dialects == std::vector<std::uint16_t>{0x0202, 0x0210, 0x0300, 0x0302, 0x0311});
  CHECK(m->client_start_time == 0);
  REQUIRE(m->negotiate_contexts.size() == 4);
  const auto* preauth = std::get_if<PreauthIntegrityCapabilities>(&m->negotiate_contexts[0]);
  REQUIRE(preauth != nullptr);
  CHECK(preauth->hash_algorithms == std::vector<std::uint16_t>{preauth_hash::sha512});
  CHECK(preauth->salt.size() == 32);
  const auto* ciphers = find_context<EncryptionCapabilities>(m->negotiate_contexts);
  REQUIRE(ciphers != nullptr);
  CHECK(ciphers->ciphers ==
        std::vector<std::uint16_t>{encryption_cipher::aes128_gcm, encryption_cipher::aes128_ccm,
                                   encryption_cipher::aes256_gcm, encryption_cipher::aes256_ccm});
  const auto* signing = find_context<SigningCapabilities>(m->negotiate_contexts);
  REQUIRE(signing != nullptr);
  CHECK(signing->signing_algorithms == std::vector<std::uint16_t>{signing_algorithm::aes_gmac,
                                                                  signing_algorithm::aes_cmac,
                                                                  signing_algorithm::hmac_sha256});
  const auto* netname = find_context<NetnameContext>(m->negotiate_contexts);
  REQUIRE(netname != nullptr);
  CHECK(netname->net_name == u"127.0.0.1");
}

TEST_CASE("Samba's 3.1.1 NEGOTIATE response decodes to GCM, GMAC and its SPNEGO token") {
  const auto msg = test::first_captured(Command::negotiate, true, "smb311-encrypted");
  auto m = decode_negotiate_response(msg.bytes);
  REQUIRE(m.has_value());
  CHECK(m->security_mode == (negotiate_signing::enabled | negotiate_signing::required));
  CHECK(m->dialect_revision == 0x0311);
  CHECK(m->capabilities == 0x0F);
  CHECK(m->max_transact_size == 8 * 1024 * 1024);
  CHECK(m->max_read_size == 8 * 1024 * 1024);
  CHECK(m->max_write_size == 8 * 1024 * 1024);
  CHECK(m->server_start_time == 0);
  REQUIRE(m->security_buffer.size() == 74);
  CHECK(m->security_buffer[0] == 0x60);  // the DER tag of SPNEGO's GSS-API framing
  CHECK(m->security_buffer.data() == msg.bytes.data() + 0x80);
  REQUIRE(m->negotiate_contexts.size() == 3);
  CHECK(find_context<EncryptionCapabilities>(m->negotiate_contexts)->ciphers ==
        std::vector<std::uint16_t>{encryption_cipher::aes128_gcm});
  CHECK(find_context<SigningCapabilities>(m->negotiate_contexts)->signing_algorithms ==
        std::vector<std::uint16_t>{signing_algorithm::aes_gmac});
  CHECK(find_context<PreauthIntegrityCapabilities>(m->negotiate_contexts)->salt.size() == 32);
}

TEST_CASE("a 3.0.2 NEGOTIATE carries ClientStartTime and no contexts, both ways") {
  const auto request = test::first_captured(Command::negotiate, false, "smb302-signed");
  auto req = decode_negotiate_request(request.bytes);
  REQUIRE(req.has_value());
  CHECK(req->dialects == std::vector<std::uint16_t>{0x0202, 0x0210, 0x0300, 0x0302});
  CHECK_FALSE(req->offers(Dialect::smb311));
  CHECK(req->negotiate_contexts.empty());
  CHECK(to_hex(req->client_guid) ==
        "352f6cb6a9f9df47aa1b398c211ec44c");  // as VALIDATE_NEGOTIATE_INFO repeats it

  const auto response = test::first_captured(Command::negotiate, true, "smb302-signed");
  auto rsp = decode_negotiate_response(response.bytes);
  REQUIRE(rsp.has_value());
  CHECK(rsp->dialect_revision == 0x0302);
  CHECK(rsp->capabilities == 0x4F);  // 3.0.x sets ENCRYPTION in the capabilities
  CHECK(rsp->negotiate_contexts.empty());
}

TEST_CASE("every captured NEGOTIATE re-encodes to Samba's exact bytes") {
  for (bool response : {false, true}) {
    const auto messages = test::captured(Command::negotiate, response);
    REQUIRE(messages.size() == 3);
    for (const auto& msg : messages) {
      CAPTURE(msg.capture);
      CAPTURE(response);
      if (response) {
        auto m = decode_negotiate_response(msg.bytes);
        REQUIRE(m.has_value());
        CHECK(to_hex(reencode_body(*m)) == to_hex(msg.body()));
      } else {
        auto m = decode_negotiate_request(msg.bytes);
        REQUIRE(m.has_value());
        CHECK(to_hex(reencode_body(*m)) == to_hex(msg.body()));
      }
    }
  }
}

TEST_CASE("Windows' NEGOTIATE pair from the Microsoft preauth vector decodes and re-encodes exactly") {
  const Bytes request = test::hex(kWindowsNegotiateRequest);
  auto req = decode_negotiate_request(request);
  REQUIRE(req.has_value());
  CHECK(req->capabilities == 0x3F);
  REQUIRE(req->negotiate_contexts.size() == 2);
  CHECK(find_context<EncryptionCapabilities>(req->negotiate_contexts)->ciphers ==
        std::vector<std::uint16_t>{encryption_cipher::aes128_gcm, encryption_cipher::aes128_ccm});
  CHECK(to_hex(reencode_body(*req)) == to_hex(ByteView{request}.subspan(kHeaderSize)));

  const Bytes response = test::hex(kWindowsNegotiateResponse);
  auto rsp = decode_negotiate_response(response);
  REQUIRE(rsp.has_value());
  CHECK(rsp->dialect_revision == 0x0311);
  CHECK(rsp->security_buffer.size() == 320);
  REQUIRE(rsp->negotiate_contexts.size() == 2);
  CHECK(find_context<EncryptionCapabilities>(rsp->negotiate_contexts)->ciphers ==
        std::vector<std::uint16_t>{encryption_cipher::aes128_gcm});
  CHECK(to_hex(reencode_body(*rsp)) == to_hex(ByteView{response}.subspan(kHeaderSize)));
}

TEST_CASE("a request with every context type survives encode, decode and encode again") {
  const NegotiateRequest m = every_context_request();
  const Bytes first = test::encode_message(Command::negotiate, m);
  auto back = decode_negotiate_request(first);
  REQUIRE(back.has_value());
  CHECK(back->dialects == m.dialects);
  CHECK(back->client_guid == m.client_guid);
  REQUIRE(back->negotiate_contexts.size() == m.negotiate_contexts.size());
  for (std::size_t i = 0; i < m.negotiate_contexts.size(); ++i) {
    CAPTURE(i);
    CHECK(context_type(back->negotiate_contexts[i]) == context_type(m.negotiate_contexts[i]));
  }
  const auto* compression = find_context<CompressionCapabilities>(back->negotiate_contexts);
  REQUIRE(compression != nullptr);
  CHECK(compression->flags == kCompressionCapabilitiesFlagChained);
  CHECK(compression->compression_algorithms ==
        std::vector<std::uint16_t>{compression_algorithm::lz77, compression_algorithm::pattern_v1});
  CHECK(find_context<NetnameContext>(back->negotiate_contexts)->net_name == u"fs1.example.com");
  CHECK(find_context<TransportCapabilities>(back->negotiate_contexts)->flags ==
        kAcceptTransportLevelSecurity);
  CHECK(find_context<RdmaTransformCapabilities>(back->negotiate_contexts)->rdma_transform_ids ==
        std::vector<std::uint16_t>{rdma_transform_id::encryption, rdma_transform_id::signing});
  const auto* raw = find_context<RawNegotiateContext>(back->negotiate_contexts);
  REQUIRE(raw != nullptr);
  CHECK(raw->context_type == negotiate_context_type::posix_extensions);
  CHECK(to_hex(raw->data) == "93ad25509cb411e7b42383de968bcd7c");
  CHECK(test::encode_message(Command::negotiate, *back) == first);
}

TEST_CASE("every negotiate context starts 8-aligned from the header, padded with zeros") {
  const Bytes message = test::encode_message(Command::negotiate, every_context_request());
  std::size_t pos = load_le32(&message[kHeaderSize + 28]);
  CHECK(pos % 8 == 0);
  const auto count = load_le16(&message[kHeaderSize + 32]);
  CHECK(count == 8);
  for (int i = 0; i < count; ++i) {
    CAPTURE(i);
    const std::size_t start = (pos + 7) / 8 * 8;
    for (std::size_t k = pos; k < start; ++k) CHECK(message[k] == 0);
    REQUIRE(start + 8 <= message.size());
    pos = start + 8 + load_le16(&message[start + 2]);
  }
  CHECK(pos == message.size());  // the last context is not padded
}

TEST_CASE("a response without security token or contexts still sends the one Buffer byte") {
  NegotiateResponse m;
  m.dialect_revision = 0x0302;
  const Bytes message = test::encode_message(Command::negotiate, m, true);
  CHECK(message.size() == kHeaderSize + 65);
  auto back = decode_negotiate_response(message);
  REQUIRE(back.has_value());
  CHECK(back->security_buffer.empty());
}

TEST_CASE("a response offering 3.1.1 keeps its contexts after the security token") {
  static const Bytes token = test::hex("6006060403020100ff");
  NegotiateResponse m;
  m.dialect_revision = 0x0311;
  m.security_buffer = token;
  m.negotiate_contexts = {EncryptionCapabilities{{encryption_cipher::none}}};
  const Bytes message = test::encode_message(Command::negotiate, m, true);
  CHECK(load_le32(&message[kHeaderSize + 60]) == 0x90);  // 0x80 + 9, aligned up
  auto back = decode_negotiate_response(message);
  REQUIRE(back.has_value());
  CHECK(to_hex(back->security_buffer) == to_hex(token));
  CHECK(find_context<EncryptionCapabilities>(back->negotiate_contexts)->ciphers ==
        std::vector<std::uint16_t>{encryption_cipher::none});
}

TEST_CASE("every prefix of a captured NEGOTIATE is refused") {
  const auto request = test::first_captured(Command::negotiate, false, "smb311-signed-ops");
  test::check_prefixes_refused(request.bytes, decode_negotiate_request, request.bytes.size());
  const auto response = test::first_captured(Command::negotiate, true, "smb311-signed-ops");
  test::check_prefixes_refused(response.bytes, decode_negotiate_response, response.bytes.size());
}

TEST_CASE("a NEGOTIATE with the wrong StructureSize is refused") {
  const auto request = test::first_captured(Command::negotiate, false, "smb311-signed-ops");
  Bytes bad{request.bytes.begin(), request.bytes.end()};
  test::poke16(bad, kHeaderSize, 37);
  CHECK(failed_with(decode_negotiate_request(bad), WireError::bad_structure_size));
  CHECK(failed_with(decode_negotiate_response(bad), WireError::bad_structure_size));
}

TEST_CASE("a NegotiateContextOffset that is misaligned, inside the dialects or past the end is refused") {
  const auto captured = test::first_captured(Command::negotiate, false, "smb311-signed-ops");
  const Bytes good{captured.bytes.begin(), captured.bytes.end()};
  constexpr std::size_t kOffsetField = kHeaderSize + 28;
  struct Case {
    std::uint32_t offset;
    WireError why;
    const char* note;
  };
  for (const Case c : {Case{0x71, WireError::bad_offset, "not 8-aligned"},
                       Case{0x68, WireError::bad_offset, "8-aligned but over the dialect list"},
                       Case{0x00, WireError::bad_offset, "inside the header"},
                       Case{0xE8, WireError::truncated, "the first context's header runs off the end"},
                       Case{0xFFFFFFF8, WireError::truncated, "offset + 8 wraps in 32 bits"}}) {
    CAPTURE(c.note);
    Bytes bad = good;
    test::poke32(bad, kOffsetField, c.offset);
    CHECK(failed_with(decode_negotiate_request(bad), c.why));
  }
}

TEST_CASE("a NegotiateContextCount larger than the list is refused") {
  const auto captured = test::first_captured(Command::negotiate, false, "smb311-signed-ops");
  Bytes bad{captured.bytes.begin(), captured.bytes.end()};
  test::poke16(bad, kHeaderSize + 32, 5);
  CHECK(failed_with(decode_negotiate_request(bad), WireError::truncated));
}

TEST_CASE("a context whose DataLength runs past the message is refused") {
  const auto captured = test::first_captured(Command::negotiate, false, "smb311-signed-ops");
  Bytes bad{captured.bytes.begin(), captured.bytes.end()};
  // The last context (NETNAME, at hdr offset 200) claims one byte more than the message holds.
  REQUIRE(load_le16(&bad[200]) == negotiate_context_type::netname);
  test::poke16(bad, 202, static_cast<std::uint16_t>(bad.size() - 208 + 1));
  CHECK(failed_with(decode_negotiate_request(bad), WireError::truncated));
}

TEST_CASE("a context whose counts need more than its DataLength is refused") {
  const auto captured = test::first_captured(Command::negotiate, false, "smb311-signed-ops");
  const Bytes good{captured.bytes.begin(), captured.bytes.end()};
  SUBCASE("CipherCount 6 in a 10-byte ENCRYPTION context") {
    Bytes bad = good;
    REQUIRE(load_le16(&bad[160]) == negotiate_context_type::encryption);
    test::poke16(bad, 168, 6);
    CHECK(failed_with(decode_negotiate_request(bad), WireError::truncated));
  }
  SUBCASE("SaltLength 33 in a PREAUTH context holding 32") {
    Bytes bad = good;
    REQUIRE(load_le16(&bad[112]) == negotiate_context_type::preauth_integrity);
    test::poke16(bad, 122, 33);
    CHECK(failed_with(decode_negotiate_request(bad), WireError::truncated));
  }
  SUBCASE("an odd-length NETNAME") {
    Bytes bad = good;
    test::poke16(bad, 202, 17);
    CHECK(failed_with(decode_negotiate_request(bad), WireError::bad_length));
  }
}

TEST_CASE("bytes a context's DataLength covers beyond its counts are ignored") {
  // Linux's client pads its COMPRESSION context inside DataLength (three
  // algorithms, then 6 bytes of padding counted in DataLength).
  NegotiateRequest m;
  m.dialects = {0x0311};
  const Bytes data = test::hex("0300 0000 00000000 0100 0200 0300 000000000000");
  m.negotiate_contexts = {RawNegotiateContext{negotiate_context_type::compression, data}};
  const Bytes message = test::encode_message(Command::negotiate, m);
  auto back = decode_negotiate_request(message);
  REQUIRE(back.has_value());
  const auto* compression = find_context<CompressionCapabilities>(back->negotiate_contexts);
  REQUIRE(compression != nullptr);
  CHECK(compression->compression_algorithms == std::vector<std::uint16_t>{1, 2, 3});
}

TEST_CASE("a response's contexts may not overlap its security buffer") {
  const auto captured = test::first_captured(Command::negotiate, true, "smb311-signed-ops");
  Bytes bad{captured.bytes.begin(), captured.bytes.end()};
  test::poke32(bad, kHeaderSize + 60, 0xC8);  // 8-aligned, but the token runs to 0xCA
  CHECK(failed_with(decode_negotiate_response(bad), WireError::bad_offset));
}

TEST_CASE("a response's SecurityBufferOffset inside the fixed part is refused") {
  const auto captured = test::first_captured(Command::negotiate, true, "smb311-signed-ops");
  for (std::uint16_t offset : std::initializer_list<std::uint16_t>{0x00, 0x40, 0x7F}) {
    CAPTURE(offset);
    Bytes bad{captured.bytes.begin(), captured.bytes.end()};
    test::poke16(bad, kHeaderSize + 56, offset);
    CHECK(failed_with(decode_negotiate_response(bad), WireError::bad_offset));
  }
}

TEST_CASE("the context fields of a pre-3.1.1 response are reserved and not followed") {
  const auto captured = test::first_captured(Command::negotiate, true, "smb302-signed");
  Bytes odd{captured.bytes.begin(), captured.bytes.end()};
  test::poke16(odd, kHeaderSize + 6, 3);            // NegotiateContextCount/Reserved
  test::poke32(odd, kHeaderSize + 60, 0xFFFFFFF0);  // NegotiateContextOffset/Reserved2
  auto m = decode_negotiate_response(odd);
  REQUIRE(m.has_value());
  CHECK(m->negotiate_contexts.empty());
}
