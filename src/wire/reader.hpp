// A bounds-checked cursor over bytes it does not own. Every read returns an
// Expected: a decoder never reads past its input.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "smbx/expected.hpp"
#include "wire/bytes.hpp"

namespace smbx::wire {

class Reader {
 public:
  Reader() = default;
  explicit Reader(ByteView in, std::size_t pos = 0) : in_{in}, pos_{pos <= in.size() ? pos : in.size()} {}

  std::size_t position() const noexcept { return pos_; }
  std::size_t remaining() const noexcept { return in_.size() - pos_; }
  std::size_t size() const noexcept { return in_.size(); }
  ByteView input() const noexcept { return in_; }
  ByteView rest() const noexcept { return in_.subspan(pos_); }

  Expected<ByteView> take(std::size_t n) {
    if (n > in_.size() - pos_)  // not pos_ + n > size: that sum can wrap
      return fail_truncated(n);
    auto out = in_.subspan(pos_, n);
    pos_ += n;
    return out;
  }
  Expected<void> skip(std::size_t n) {
    if (n > in_.size() - pos_) return Unexpected{fail_truncated(n)};
    pos_ += n;
    return {};
  }
  Expected<std::uint8_t> u8() { return take(1).transform([](ByteView b) { return b[0]; }); }
  Expected<std::uint16_t> u16() { return take(2).transform([](ByteView b) { return load_le16(b.data()); }); }
  Expected<std::uint32_t> u32() { return take(4).transform([](ByteView b) { return load_le32(b.data()); }); }
  Expected<std::uint64_t> u64() { return take(8).transform([](ByteView b) { return load_le64(b.data()); }); }
  template <std::size_t N>
  Expected<std::array<std::uint8_t, N>> array() {
    return take(N).transform([](ByteView b) { return to_array<N>(b); });
  }

  // The bytes [offset, offset + length) of the whole input, independent of the
  // cursor. Offsets in SMB2 bodies count from the header, so decoders build
  // their Reader over the whole message and use this for Offset/Length pairs.
  Expected<ByteView> window(std::uint64_t offset, std::uint64_t length) const {
    if (offset > in_.size() || length > in_.size() - offset)
      return wire_error(WireError::truncated, "offset " + std::to_string(offset) + " + length " +
                                                  std::to_string(length) + " runs past the " +
                                                  std::to_string(in_.size()) + "-byte message");
    return in_.subspan(static_cast<std::size_t>(offset), static_cast<std::size_t>(length));
  }

 private:
  Error fail_truncated(std::size_t n) const {
    return wire_error(WireError::truncated, "need " + std::to_string(n) + " bytes at offset " +
                                                std::to_string(pos_) + ", have " +
                                                std::to_string(in_.size() - pos_));
  }

  ByteView in_{};
  std::size_t pos_ = 0;
};

}  // namespace smbx::wire
