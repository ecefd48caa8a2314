// Little-endian loads and stores, byte buffers, hex. Pure helpers.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace smbx {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

inline std::uint16_t load_le16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}
inline std::uint32_t load_le32(const std::uint8_t* p) noexcept {
  return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) |
         (std::uint32_t{p[3]} << 24);
}
inline std::uint64_t load_le64(const std::uint8_t* p) noexcept {
  return std::uint64_t{load_le32(p)} | (std::uint64_t{load_le32(p + 4)} << 32);
}
inline void store_le16(std::uint8_t* p, std::uint16_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v);
  p[1] = static_cast<std::uint8_t>(v >> 8);
}
inline void store_le32(std::uint8_t* p, std::uint32_t v) noexcept {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
inline void store_le64(std::uint8_t* p, std::uint64_t v) noexcept {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

// "0a1B" -> {0x0a, 0x1b}; whitespace is skipped. nullopt on odd length or a non-hex digit.
std::optional<Bytes> from_hex(std::string_view text);
std::string to_hex(ByteView bytes);
// A SessionId (or other 64-bit id) as logs print it: "0x00000400000000a1".
std::string hex_id(std::uint64_t id);

template <std::size_t N>
std::array<std::uint8_t, N> to_array(ByteView bytes) {
  std::array<std::uint8_t, N> out{};
  std::memcpy(out.data(), bytes.data(), bytes.size() < N ? bytes.size() : N);
  return out;
}

// Constant-time comparison for MACs and proofs.
bool equal_constant_time(ByteView a, ByteView b) noexcept;

// Equal ignoring ASCII case (locale-independent): how SMB compares EA names
// (8-bit, MS-FSCC 2.4.15) and how smbxd compares share and user names.
bool equal_ascii_ci(std::string_view a, std::string_view b) noexcept;

}  // namespace smbx
