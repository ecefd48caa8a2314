// SMB 3.1.1 pre-authentication integrity hash (MS-SMB2 3.2.5.2, 3.3.5.4):
// H = SHA-512(H || message), starting from 64 zero bytes.
#pragma once

#include <array>
#include <cstdint>

#include "wire/bytes.hpp"

namespace smbx::crypto {

class PreauthHash {
 public:
  static constexpr std::size_t kSize = 64;  // SHA-512 (HashAlgorithm 0x0001, 2.2.3.1.1)
  using Value = std::array<std::uint8_t, kSize>;

  // Connection.PreauthIntegrityHashValue starts as zeros.
  PreauthHash() = default;
  // A session's hash starts from the connection's value after NEGOTIATE
  // (MS-SMB2 3.2.4.2.3); copying a PreauthHash does the same.
  explicit PreauthHash(const Value& start) : value_{start} {}

  // Folds in one whole SMB2 message as sent: header through the last body
  // byte, without the Direct-TCP length prefix, Signature field as sent.
  void update(ByteView message);

  const Value& value() const noexcept { return value_; }

 private:
  Value value_{};
};

}  // namespace smbx::crypto
