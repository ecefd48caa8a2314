// Layout as in Linux fs/smb/client/link.c (format_mf_symlink/parse_mf_symlink).
#include "fs/mfsymlink.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstring>

namespace smbx::fs {

namespace {

constexpr std::string_view kMagic = "XSym\n";
constexpr std::size_t kLengthOffset = 5;                // after "XSym\n"
constexpr std::size_t kMd5Offset = kLengthOffset + 5;   // after "NNNN\n"
constexpr std::size_t kTargetOffset = kMd5Offset + 33;  // after 32 hex + "\n"
static_assert(kTargetOffset + kMfSymlinkMaxTarget == kMfSymlinkFileSize);

std::string md5_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_md5(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xF];
  }
  return out;
}

}  // namespace

std::optional<std::vector<std::uint8_t>> encode_mfsymlink(std::string_view target) {
  if (target.empty() || target.size() > kMfSymlinkMaxTarget) return std::nullopt;
  std::string text{kMagic};
  const auto n = target.size();
  text += static_cast<char>('0' + n / 1000 % 10);
  text += static_cast<char>('0' + n / 100 % 10);
  text += static_cast<char>('0' + n / 10 % 10);
  text += static_cast<char>('0' + n % 10);
  text += '\n';
  text += md5_hex(target);
  text += '\n';
  text += target;
  if (text.size() < kMfSymlinkFileSize) text += '\n';
  text.resize(kMfSymlinkFileSize, ' ');
  return std::vector<std::uint8_t>(text.begin(), text.end());
}

std::optional<std::string> decode_mfsymlink(std::span<const std::uint8_t> contents) {
  if (contents.size() != kMfSymlinkFileSize) return std::nullopt;
  const std::string_view text{reinterpret_cast<const char*>(contents.data()), contents.size()};
  if (text.substr(0, kMagic.size()) != kMagic) return std::nullopt;
  std::size_t length = 0;
  for (std::size_t i = kLengthOffset; i < kLengthOffset + 4; ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') return std::nullopt;
    length = length * 10 + static_cast<std::size_t>(c - '0');
  }
  if (text[kLengthOffset + 4] != '\n' || text[kTargetOffset - 1] != '\n') return std::nullopt;
  if (length == 0 || length > kMfSymlinkMaxTarget) return std::nullopt;
  const auto target = text.substr(kTargetOffset, length);
  // The hex digits may be written in either case by other clients.
  const auto stored = text.substr(kMd5Offset, 32);
  const auto computed = md5_hex(target);
  for (std::size_t i = 0; i < 32; ++i) {
    char c = stored[i];
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    if (c != computed[i]) return std::nullopt;
  }
  return std::string{target};
}

}  // namespace smbx::fs
