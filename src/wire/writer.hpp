// Appends little-endian fields to a byte vector. Encoders never fail: they are
// given well-formed structs; sizes that cannot fit a field are clamped by the
// caller's contract (asserted in debug builds).
#pragma once

#include <array>
#include <cassert>
#include <cstdint>
#include <span>

#include "wire/bytes.hpp"

namespace smbx::wire {

class Writer {
 public:
  explicit Writer(Bytes& out) : out_{out}, base_{out.size()} {}

  // Offsets in SMB2 bodies count from the start of the message's header; the
  // base is where that header starts in `out`.
  void set_base(std::size_t base) noexcept { base_ = base; }
  std::size_t base() const noexcept { return base_; }
  // Offset of the next byte from the base.
  std::size_t offset() const noexcept { return out_.size() - base_; }
  std::size_t size() const noexcept { return out_.size(); }
  Bytes& bytes() noexcept { return out_; }

  void u8(std::uint8_t v) { out_.push_back(v); }
  void u16(std::uint16_t v) { grow(2, [&](std::uint8_t* p) { store_le16(p, v); }); }
  void u32(std::uint32_t v) { grow(4, [&](std::uint8_t* p) { store_le32(p, v); }); }
  void u64(std::uint64_t v) { grow(8, [&](std::uint8_t* p) { store_le64(p, v); }); }
  void bytes(ByteView b) { out_.insert(out_.end(), b.begin(), b.end()); }
  template <std::size_t N>
  void bytes(const std::array<std::uint8_t, N>& a) { bytes(ByteView{a}); }
  void zeros(std::size_t n) { out_.insert(out_.end(), n, 0); }
  // Pads with zeros until offset() is a multiple of `alignment`.
  void align(std::size_t alignment) {
    const auto rem = offset() % alignment;
    if (rem != 0) zeros(alignment - rem);
  }

  // Reserves a field to be filled in later (for Offset/Length fields that
  // precede the data they describe). Returns its absolute position in out.
  std::size_t reserve(std::size_t n) {
    const auto at = out_.size();
    zeros(n);
    return at;
  }
  void patch_u16(std::size_t at, std::uint16_t v) { assert(at + 2 <= out_.size()); store_le16(&out_[at], v); }
  void patch_u32(std::size_t at, std::uint32_t v) { assert(at + 4 <= out_.size()); store_le32(&out_[at], v); }
  void patch_u64(std::size_t at, std::uint64_t v) { assert(at + 8 <= out_.size()); store_le64(&out_[at], v); }

 private:
  template <typename F>
  void grow(std::size_t n, F&& store) {
    out_.resize(out_.size() + n);
    store(&out_[out_.size() - n]);
  }

  Bytes& out_;
  std::size_t base_;
};

}  // namespace smbx::wire
