// The slice of ASN.1 DER (X.690) that SPNEGO needs: single-byte tags,
// definite lengths in short form or long form of up to 4 bytes, every length
// bounded by its parent. Indefinite lengths (BER only) are refused.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "smbx/expected.hpp"
#include "wire/bytes.hpp"

namespace smbx::auth::der {

namespace tag {
inline constexpr std::uint8_t bit_string = 0x03;
inline constexpr std::uint8_t octet_string = 0x04;
inline constexpr std::uint8_t object_identifier = 0x06;
inline constexpr std::uint8_t enumerated = 0x0A;
inline constexpr std::uint8_t general_string = 0x1B;
inline constexpr std::uint8_t sequence = 0x30;
inline constexpr std::uint8_t application_0 = 0x60;  // [APPLICATION 0] constructed
// [n] constructed, context-specific (the EXPLICIT tags of RFC 4178).
constexpr std::uint8_t context(unsigned n) { return static_cast<std::uint8_t>(0xA0 | n); }
}  // namespace tag

struct Tlv {
  std::uint8_t tag = 0;
  ByteView value;    // the contents
  ByteView encoded;  // tag, length and contents, as received
};

// Reads consecutive TLVs from `in`, which is the contents of the parent.
class Reader {
 public:
  explicit Reader(ByteView in) : in_{in} {}
  bool at_end() const noexcept { return pos_ == in_.size(); }
  std::optional<std::uint8_t> peek_tag() const noexcept {
    return at_end() ? std::nullopt : std::optional<std::uint8_t>{in_[pos_]};
  }
  Expected<Tlv> read();
  // Reads one TLV and fails unless it has `expected_tag`; `what` names it in errors.
  Expected<Tlv> read(std::uint8_t expected_tag, std::string_view what);
  // Fails unless all contents were consumed.
  Expected<void> expect_end(std::string_view what) const;

 private:
  ByteView in_;
  std::size_t pos_ = 0;
};

// The single TLV that makes up `in` exactly (an EXPLICIT tag's contents).
Expected<Tlv> read_only(ByteView in, std::uint8_t expected_tag, std::string_view what);

void append_length(Bytes& out, std::size_t length);
void append_tlv(Bytes& out, std::uint8_t tag, ByteView value);
Bytes tlv(std::uint8_t tag, ByteView value);

}  // namespace smbx::auth::der
