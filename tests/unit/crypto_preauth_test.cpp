#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include "crypto/keys.hpp"
#include "crypto/preauth.hpp"
#include "support/test_data.hpp"

using namespace smbx;
using namespace smbx::crypto;

namespace {

// The Microsoft 3.1.1 preauth vector (blog "SMB 3.1.1 Pre-authentication
// integrity in Windows 10", 2015-08-11): each message as sent, then the
// running hash after it.
constexpr std::string_view kNegotiateRequest = R"(
fe534d4240000100000000000000800000000000000000000100000000000000
fffe000000000000000000000000000000000000000000000000000000000000
24000500000000003f000000ecd86f326276024f9f7752b89bb33f3a70000000
020000000202100200030203110300000100260000000000010020000100fa49
e6578f1f3a9f4cd3e9cc14a67aa884b3d05844e0e5a118225c15887f32ff0000
0200060000000000020002000100)";
constexpr std::string_view kH1 = R"(
dd94efc5321bb618a2e208ba8920d2f422992526947a409b5037de1e0fe8c736
2b8c47122594cde0ce26aa9dfc8bcdbde0621957672623351a7540f1e54a0426)";
constexpr std::string_view kNegotiateResponse = R"(
fe534d4240000100000000000000010001000000000000000100000000000000
fffe000000000000000000000000000000000000000000000000000000000000
410001001103020039cbcaf329714942bdce5d60f09ab3fb2f00000000008000
0000800000008000d8dae5adcbaed00109094ab095aed00180004001c0010000
6082013c06062b0601050502a08201303082012ca01a3018060a2b0601040182
3702021e060a2b06010401823702020aa282010c048201084e45474f45585453
010000000000000060000000700000007c7cc0fd06d6362d02dde1cf343bfe29
2900f49750b4aa97934d9c4296b26e51fd370471b235e15a50dae15bd5489c87
0000000000000000600000000100000000000000000000005c33530deaf90d4d
b2ec4ae3786ec3084e45474f4558545303000000010000004000000098000000
7c7cc0fd06d6362d02dde1cf343bfe295c33530deaf90d4db2ec4ae3786ec308
40000000580000003056a05430523027802530233121301f0603550403131854
6f6b656e205369676e696e67205075626c6963204b6579302780253023312130
1f06035504031318546f6b656e205369676e696e67205075626c6963204b6579
010026000000000001002000010060a3c3b95c3c7ccd51ec536648d9b3ac74c4
83ca5b65385a251117beb30712e50000020004000000000001000200)";
constexpr std::string_view kH2 = R"(
324bfa92a4f3a190e466ebea08d9c110dc88bfed758d9846ecc6f541cc1d02ae
3c94a79f36011e997e13f841b91b50957ad07b19c8e2539c0b23fdae09d2c513)";
constexpr std::string_view kSessionSetupRequest1 = R"(
fe534d4240000100000000000100800000000000000000000200000000000000
fffe000000000000000000000000000000000000000000000000000000000000
19000001010000000000000058004a000000000000000000604806062b060105
0502a03e303ca00e300c060a2b06010401823702020aa22a04284e544c4d5353
500001000000978208e200000000000000000000000000000000060380250000
000f)";
constexpr std::string_view kH3 = R"(
ac0b0f2b9986257700365e416d142a6edc96df03594a19e52a15f6bd0d041cd5
d432f8ed42c55e33197a50c9ec00f1462b50c592211b1471a04b56088fdfd5f9)";
constexpr std::string_view kSessionSetupResponse1 = R"(
fe534d4240000100160000c00100010001000000000000000200000000000000
fffe000000000000190000000010000000000000000000000000000000000000
090000004800b300a181b03081ada0030a0101a10c060a2b0601040182370202
0aa281970481944e544c4d53535000020000000c000c003800000015828ae20d
1d8ba31179d008000000000000000050005000440000000a0092270000000f53
005500540033003100310002000c0053005500540033003100310001000c0053
005500540033003100310004000c0053005500540033003100310003000c0053
005500540033003100310007000800a1a1f5adcbaed00100000000)";
constexpr std::string_view kH4 = R"(
2729e3440dfddd839e37193f6e8f20c20cefb3469e453a70cd980eec06b88357
40a73760085633364c8989895ece81bf102deeb14d4b7d48afa76901a7a38387)";
constexpr std::string_view kSessionSetupRequest2 = R"(
fe534d4240000100000000000100800000000000000000000300000000000000
fffe000000000000190000000010000000000000000000000000000000000000
1900000101000000000000005800cf010000000000000000a18201cb308201c7
a0030a0101a28201aa048201a64e544c4d535350000300000018001800900000
00ee00ee00a80000000c000c00580000001a001a0064000000120012007e0000
001000100096010000158288e2060380250000000fecac77a5f385a8bf9c38c7
06eeeddcd3530055005400330031003100610064006d0069006e006900730074
007200610074006f007200440052004900560045005200330031003100000000
00000000000000000000000000000000000000000063078eb639fe03e20a231c
3ae3bf23080101000000000000a1a1f5adcbaed001bc4ad05f223cc90f000000
0002000c0053005500540033003100310001000c005300550054003300310031
0004000c0053005500540033003100310003000c005300550054003300310031
0007000800a1a1f5adcbaed00106000400020000000800300030000000000000
000000000000300000b61fefcaa857ea57bf1edcebf8974b8e0eba5a6dfd9d07
a31d11b548f8c9d0cc0a00100000000000000000000000000000000000090016
0063006900660073002f00530055005400330031003100000000000000000000
0000003b9bdff38f5ee8f9663f11a0f4c03a78a31204100100000063775a9a5f
d97f0600000000)";
constexpr std::string_view kH5 = R"(
0dd13628cc3ed218ef9df9772d436d0887ab9814bfae63a80aa845f36909db79
28622dddad522d9751640a459762c5a9d6bb084cbb3ce6bdadef5d5bce3c6c01)";

struct Frame {
  char direction;  // 'C' client to server, 'S' server to client
  Bytes bytes;
};

// tests/data/captures/*.frames: one Direct-TCP frame a line, "C <hex>" or "S <hex>".
std::vector<Frame> capture(std::string_view name) {
  const Bytes text = test::read_file(test::data_path("captures/" + std::string{name}));
  std::string_view rest{reinterpret_cast<const char*>(text.data()), text.size()};
  std::vector<Frame> frames;
  while (!rest.empty()) {
    const auto eol = rest.find('\n');
    const auto line = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 1);
    if (line.size() > 2) frames.push_back({line[0], test::hex(line.substr(2))});
  }
  return frames;
}

std::string hash_after(std::string_view capture_name, std::size_t frame_count) {
  const auto frames = capture(capture_name);
  REQUIRE(frames.size() >= frame_count);
  PreauthHash hash;
  for (std::size_t i = 0; i < frame_count; ++i) hash.update(frames[i].bytes);
  return to_hex(hash.value());
}

}  // namespace

TEST_CASE("the preauth hash starts as 64 zero bytes") {
  CHECK(PreauthHash{}.value() == PreauthHash::Value{});
}

TEST_CASE("the Microsoft preauth vector gives H1 to H5 after each message it hashes") {
  const std::string_view messages[] = {kNegotiateRequest, kNegotiateResponse, kSessionSetupRequest1,
                                       kSessionSetupResponse1, kSessionSetupRequest2};
  const std::string_view expected[] = {kH1, kH2, kH3, kH4, kH5};
  PreauthHash hash;
  for (std::size_t i = 0; i < 5; ++i) {
    CAPTURE(i);
    hash.update(test::hex(messages[i]));
    CHECK(to_hex(hash.value()) == to_hex(test::hex(expected[i])));
  }
}

TEST_CASE("a session hash started from the connection hash goes its own way") {
  // MS-SMB2 3.3.1.15: several sessions may authenticate on one connection, each
  // starting from the connection's hash after NEGOTIATE.
  PreauthHash connection;
  connection.update(test::hex(kNegotiateRequest));
  connection.update(test::hex(kNegotiateResponse));
  PreauthHash session{connection.value()};
  session.update(test::hex(kSessionSetupRequest1));
  CHECK(to_hex(connection.value()) == to_hex(test::hex(kH2)));
  CHECK(to_hex(session.value()) == to_hex(test::hex(kH3)));
}

TEST_CASE("the SigningKey of the Microsoft 3.1.1 vector comes from H5") {
  const auto keys = derive_session_keys(wire::Dialect::smb311, test::hex("270e1ba896585eeb7af3472d3b4c75a7"),
                                        Cipher::none, test::hex(kH5));
  CHECK(to_hex(keys.signing) == "73fe7a9a77bef0bde49c650d8ccb5f76");
}

TEST_CASE("the preauth hash of smb311-encrypted after the NEGOTIATE pair matches the digest") {
  CHECK(hash_after("smb311-encrypted.frames", 2) ==
        "ce0c9aa00a7fd96aacecbe039a3972a8f0edda8d467f206abf3960a2cdcc9c5c"
        "22c9fd41fa40550a5b73c1b5740a23a1f231e8346028534a09dd325fe72c97d1");
}

TEST_CASE("the final preauth hash of both 3.1.1 captures covers NEGOTIATE and the two SESSION_SETUP requests") {
  // Frames 0-4: NEG request, NEG response, SS request 1, SS response 1
  // (MORE_PROCESSING_REQUIRED), SS request 2. The final SS response is not hashed.
  CHECK(hash_after("smb311-signed-ops.frames", 5) ==
        "184657c2d0216722e78b95555a827d445a251934d1262b8371184a92f4f082a6"
        "c0a66ca86d7800fa9a2edca2400094268881c131eca6656f9bfd7faef9b71cd7");
  CHECK(hash_after("smb311-encrypted.frames", 5) ==
        "d7ec1c2c8231efd3bb53d71a9657033767166d6351529bc14751b6a29c4b0bd6"
        "e185370b6561ebaea0121e625434494e15e4b4b320c08141cfdf77cb6ab29c6c");
}
