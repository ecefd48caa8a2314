#include "auth/der.hpp"

#include <string>

namespace smbx::auth::der {
namespace {

Error fail(WireError code, std::string detail) {
  auto e = wire_error(code, std::move(detail));
  e.action = "decode DER";
  return e;
}

std::string hex_byte(std::uint8_t b) {
  static constexpr char digits[] = "0123456789abcdef";
  return std::string{"0x"} + digits[b >> 4] + digits[b & 0xF];
}

}  // namespace

Expected<Tlv> Reader::read() {
  const std::size_t start = pos_;
  if (in_.size() - pos_ < 2)
    return fail(WireError::truncated, "TLV at offset " + std::to_string(pos_) + " needs at least 2 bytes, " +
                                          std::to_string(in_.size() - pos_) + " left");
  const std::uint8_t t = in_[pos_];
  // X.690 8.1.2.4: tag numbers above 30 take more bytes; SPNEGO has none.
  if ((t & 0x1F) == 0x1F)
    return fail(WireError::bad_value, "multi-byte tag " + hex_byte(t) + " is not supported");
  const std::uint8_t first = in_[pos_ + 1];
  pos_ += 2;
  std::uint64_t length = first;
  if (first == 0x80) {
    pos_ = start;
    return fail(WireError::bad_length, "indefinite length (0x80) for tag " + hex_byte(t) + " is not DER");
  }
  if (first > 0x80) {
    const std::size_t count = first & 0x7Fu;
    if (count > 4) {
      pos_ = start;
      return fail(WireError::bad_length, std::to_string(count) + "-byte length for tag " + hex_byte(t) +
                                             " exceeds the 4-byte limit");
    }
    if (in_.size() - pos_ < count) {
      pos_ = start;
      return fail(WireError::truncated, "length of tag " + hex_byte(t) + " runs past its parent");
    }
    length = 0;
    for (std::size_t i = 0; i < count; ++i) length = (length << 8) | in_[pos_ + i];
    pos_ += count;
  }
  if (length > in_.size() - pos_) {
    const auto left = in_.size() - pos_;
    pos_ = start;
    return fail(WireError::truncated, "tag " + hex_byte(t) + " length " + std::to_string(length) +
                                          " runs past its parent (" + std::to_string(left) + " bytes left)");
  }
  Tlv tlv;
  tlv.tag = t;
  tlv.value = in_.subspan(pos_, static_cast<std::size_t>(length));
  pos_ += static_cast<std::size_t>(length);
  tlv.encoded = in_.subspan(start, pos_ - start);
  return tlv;
}

Expected<Tlv> Reader::read(std::uint8_t expected_tag, std::string_view what) {
  auto tlv = SMBX_TRY(read());
  if (tlv.tag != expected_tag)
    return fail(WireError::bad_value,
                std::string{what} + ": tag " + hex_byte(tlv.tag) + ", expected " + hex_byte(expected_tag));
  return tlv;
}

Expected<void> Reader::expect_end(std::string_view what) const {
  if (!at_end())
    return Unexpected{fail(WireError::trailing_data,
                           std::to_string(in_.size() - pos_) + " bytes after " + std::string{what})};
  return {};
}

Expected<Tlv> read_only(ByteView in, std::uint8_t expected_tag, std::string_view what) {
  Reader r{in};
  auto tlv = SMBX_TRY(r.read(expected_tag, what));
  SMBX_TRY_VOID(r.expect_end(what));
  return tlv;
}

void append_length(Bytes& out, std::size_t length) {
  if (length < 0x80) {
    out.push_back(static_cast<std::uint8_t>(length));
    return;
  }
  std::uint8_t bytes[sizeof(std::size_t)];
  std::size_t n = 0;
  for (std::size_t v = length; v != 0; v >>= 8) bytes[n++] = static_cast<std::uint8_t>(v);
  out.push_back(static_cast<std::uint8_t>(0x80 | n));
  while (n > 0) out.push_back(bytes[--n]);
}

void append_tlv(Bytes& out, std::uint8_t t, ByteView value) {
  out.push_back(t);
  append_length(out, value.size());
  out.insert(out.end(), value.begin(), value.end());
}

Bytes tlv(std::uint8_t t, ByteView value) {
  Bytes out;
  append_tlv(out, t, value);
  return out;
}

}  // namespace smbx::auth::der
