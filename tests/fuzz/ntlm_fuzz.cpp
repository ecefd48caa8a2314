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

#include "../support/ntlm_capture.hpp"
#include "auth/ntlm.hpp"

using namespace smbx;
using namespace smbx::auth;

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

using test::ntlm_capture::unhex;

const Bytes kNegotiate = unhex(test::ntlm_capture::kNegotiate);
const Bytes kChallenge = unhex(test::ntlm_capture::kChallenge);
const Bytes kAuthenticate = unhex(test::ntlm_capture::kAuthenticate);

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
  return test::ntlm_capture::capture_server(
      [hash = nt_hash_from_password("Passw0rd!")](std::u16string_view, std::u16string_view)
          -> std::optional<NtHash> { return hash; });
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
