// Follows a captured SMB2 conversation the way a peer would: decodes every
// message, keeps the preauth integrity hash, recovers the NTLMv2 session key
// from the NTLMSSP exchange when given the password, derives the dialect's
// keys, verifies every signature and decrypts every transform message.
// `smbx dissect` prints its report; the capture tests assert on it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "capture/frames_file.hpp"
#include "wire/header.hpp"

namespace smbx::capture {

struct DissectOptions {
  std::optional<std::string> password;
  std::optional<std::string> user;    // default: the AUTHENTICATE message's
  std::optional<std::string> domain;  // default: the AUTHENTICATE message's
};

// no_key: signed, but no password was given (or no session key could be found).
enum class SignatureCheck { unsigned_message, ok, bad, no_key };
enum class Decryption { plaintext, decrypted, failed, no_key };

struct DissectedMessage {
  Direction direction;
  std::size_t frame = 0;  // 1-based line of the frames file
  wire::Header header;
  Bytes bytes;            // the plaintext SMB2 message (after decryption)
  SignatureCheck signature = SignatureCheck::unsigned_message;
  Decryption decryption = Decryption::plaintext;
  bool decoded = false;
  std::string summary;    // command, variant and the fields worth a glance
  std::string problem;    // why decoding, verification or decryption failed
};

struct DissectReport {
  std::vector<DissectedMessage> messages;
  std::vector<std::string> problems;  // frame-level failures (not a single message)
  std::size_t decode_failures = 0;
  std::size_t bad_signatures = 0;
  std::size_t decrypt_failures = 0;
  std::size_t verified_signatures = 0;
  // Signed messages of a session whose keys are unknown although a password
  // was given (e.g. a capture that starts after the session setup).
  std::size_t unverifiable_signatures = 0;
  std::size_t decrypted_frames = 0;
  bool ok() const {
    return decode_failures == 0 && bad_signatures == 0 && unverifiable_signatures == 0 && decrypt_failures == 0 &&
           problems.empty();
  }
};

DissectReport dissect(const std::vector<Frame>& frames, const DissectOptions& options);

// One line per message: "S  5 SESSION_SETUP response mid=2 sid=0x... STATUS_SUCCESS sig=ok"
std::string format_line(const DissectedMessage& message);

}  // namespace smbx::capture
