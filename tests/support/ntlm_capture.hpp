// The NTLM exchange of captures/smb311-encrypted.frames (ntlm.md §8): Samba's
// client (alice, TESTDOM, password "Passw0rd!") against Samba's server CAPSRV.
// Header-only and free of doctest, so that the libFuzzer targets can use it too.
#pragma once

#include <cstdint>
#include <string_view>

#include "auth/ntlm.hpp"
#include "wire/bytes.hpp"

namespace smbx::test::ntlm_capture {

inline constexpr std::string_view kNegotiate =
    "4e544c4d53535000010000001582086200000000280000000000000028000000060100000000000f";
inline constexpr std::string_view kChallenge =
    "4e544c4d53535000020000000c000c003800000015828a62a571b7f9c30e5118"
    "00000000000000003c003c0044000000060100000000000f4300410050005300"
    "5200560002000c0043004100500053005200560001000c004300410050005300"
    "52005600040000000300040076006d000700080098b385b9197cdd0100000000";
inline constexpr std::string_view kAuthenticate =
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
    "56004d00847051c3a62bc1d0c2b13b04207f88bf";
// The SPNEGO mechTypes the mechListMICs cover (NTLMSSP only).
inline constexpr std::string_view kMechTypeList = "300c060a2b06010401823702020a";
// The CHALLENGE's ServerChallenge and MsvAvTimestamp.
inline constexpr std::string_view kServerChallenge = "a571b7f9c30e5118";
inline constexpr std::uint64_t kTimestamp = 0x01dd7c19b985b398ull;

// For namespace-scope constants: hex text to bytes without a doctest
// assertion (those must not run before main), empty on bad hex.
inline Bytes unhex(std::string_view text) { return from_hex(text).value_or(Bytes{}); }

// An NtlmServer named like the capture's, made deterministic so that its
// CHALLENGE is Samba's byte for byte.
inline auth::NtlmServer capture_server(auth::NtHashLookup lookup) {
  auth::NtlmServerConfig config;
  config.lookup = std::move(lookup);
  config.nb_computer_name = "CAPSRV";
  config.nb_domain_name = "CAPSRV";
  config.dns_computer_name = "vm";
  auth::NtlmServer::TestHooks hooks;
  hooks.server_challenge = to_array<8>(unhex(kServerChallenge));
  hooks.time = kTimestamp;
  return auth::NtlmServer{config, hooks};
}

}  // namespace smbx::test::ntlm_capture
