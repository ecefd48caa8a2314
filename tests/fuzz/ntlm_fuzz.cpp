// libFuzzer target for the NTLMSSP codecs and NtlmServer::authenticate.
//
// The first byte picks what the rest feeds:
//   0: every NTLM decoder, AV pairs and the NTLMv2 blob; what decodes must
//      re-encode to bytes that decode and re-encode identically;
//   1: NtlmServer::authenticate on arbitrary bytes after a valid challenge;
//   2: edits (position, value) applied to Samba's captured AUTHENTICATE,
//      answered by a server whose CHALLENGE is the captured one, so that the
//      proof, key exchange and MIC checks are reached.
#include <cstddef>
#include <cstdint>

#include "auth/ntlm.hpp"

using namespace smbx;
using namespace smbx::auth;

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

Bytes unhex(std::string_view text) { return from_hex(text).value_or(Bytes{}); }

const Bytes kNegotiate =
    unhex("4e544c4d53535000010000001582086200000000280000000000000028000000060100000000000f");
const Bytes kChallenge = unhex(
    "4e544c4d53535000020000000c000c003800000015828a62a571b7f9c30e5118"
    "00000000000000003c003c0044000000060100000000000f4300410050005300"
    "5200560002000c0043004100500053005200560001000c004300410050005300"
    "52005600040000000300040076006d000700080098b385b9197cdd0100000000");
const Bytes kAuthenticate = unhex(
    "4e544c4d53535000030000001800180058000000d800d800700000000e000e00"
    "480100000a000a00560100000400040060010000100010006401000015820862"
    "060100000000000fa65db0a1bd15e5335b46f57d1035bc0d0000000000000000"
    "000000000000000000000000000000009a6f291d9afbe19e56e503c761690e5a"
    "010100000000000098b385b9197cdd01fa2dca228050d6860000000002000c00"
    "43004100500053005200560001000c0043004100500053005200560004000000"
    "0300040076006d000700080098b385b9197cdd01060004000200000008003000"
    "3000000000000000000000000000000070b85cb770e23dcaa87b8429e63e1ad9"
    "cffd749610ec7d51826f137cd9e4ee080a001000000000000000000000000000"
    "0000000009001c0063006900660073002f003100320037002e0030002e003000"
    "2e00310000000000540045005300540044004f004d0061006c00690063006500"
    "56004d00847051c3a62bc1d0c2b13b04207f88bf");

template <typename Decode, typename Encode>
void round_trip(ByteView data, Decode decode, Encode encode) {
  auto first = decode(data);
  if (!first) return;
  const Bytes once = encode(*first);
  auto second = decode(once);
  check(second.has_value());
  check(encode(*second) == once);
}

NtlmServer capture_server() {
  NtlmServerConfig config;
  config.lookup = [hash = nt_hash_from_password("Passw0rd!")](
                      std::u16string_view, std::u16string_view) -> std::optional<NtHash> { return hash; };
  config.nb_computer_name = "CAPSRV";
  config.nb_domain_name = "CAPSRV";
  config.dns_computer_name = "vm";
  NtlmServer::TestHooks hooks;
  hooks.server_challenge = to_array<8>(unhex("a571b7f9c30e5118"));
  hooks.time = 0x01dd7c19b985b398ull;
  return NtlmServer{config, hooks};
}

void decoders(ByteView data) {
  round_trip(data, decode_negotiate, encode_negotiate);
  round_trip(data, decode_challenge, encode_challenge);
  round_trip(data, decode_authenticate, encode_authenticate);
  round_trip(data, decode_av_pairs, [](const AvPairList& p) { return encode_av_pairs(p); });
  if (auto blob = decode_ntlmv2_client_challenge(data)) {
    const auto again =
        ntlmv2_temp(blob->time_stamp, blob->challenge_from_client, encode_av_pairs(blob->av_pairs));
    auto reparsed = decode_ntlmv2_client_challenge(again);
    check(reparsed.has_value());
    check(reparsed->av_pairs == blob->av_pairs);
    check(reparsed->time_stamp == blob->time_stamp);
  }
  (void)ntlm_message_type(data);
}

void authenticate(ByteView data) {
  auto server = capture_server();
  auto challenge = server.challenge(kNegotiate);
  check(challenge.has_value() && *challenge == kChallenge);
  auto result = server.authenticate(data);
  if (result) {
    // Only the right password can get here; the key must be usable.
    check(server.is_complete());
    check(server.make_mic(kNegotiate).has_value());
  }
}

void edited_capture(ByteView data) {
  Bytes auth = kAuthenticate;
  if (!data.empty()) {
    // The first byte may shorten or lengthen the message.
    const auto resize = data[0];
    if (resize < 64)
      auth.resize(auth.size() - resize);
    else if (resize > 192)
      auth.resize(auth.size() + (resize - 192), 0);
    data = data.subspan(1);
  }
  for (std::size_t i = 0; i + 2 < data.size(); i += 3) {
    const std::size_t pos = (std::size_t{data[i]} | (std::size_t{data[i + 1]} << 8)) % auth.size();
    auth[pos] = data[i + 2];
  }
  authenticate(auth);
  (void)recover_exported_session_key("Passw0rd!", kChallenge, auth);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  if (size == 0) return 0;
  const ByteView data{bytes + 1, size - 1};
  switch (bytes[0] % 3) {
    case 0:
      decoders(data);
      break;
    case 1:
      authenticate(data);
      break;
    case 2:
      edited_capture(data);
      break;
  }
  return 0;
}
