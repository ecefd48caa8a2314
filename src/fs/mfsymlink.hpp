// Minshall+French symlinks (the format of Linux cifs' `mfsymlinks` option and
// of macOS/Samba clients): a symlink stored as a regular file of exactly 1067
// bytes, so that servers without POSIX extensions can hold symlinks.
//
//   "XSym\n" <4-digit target length> "\n" <32 hex digits: md5 of target> "\n"
//   <target> "\n" <spaces up to 1067 bytes>
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace smbx::fs {

inline constexpr std::size_t kMfSymlinkFileSize = 1067;
inline constexpr std::size_t kMfSymlinkMaxTarget = 1024;

// The file contents for `target`; nullopt when the target is empty or longer
// than kMfSymlinkMaxTarget (the caller answers ENAMETOOLONG).
std::optional<std::vector<std::uint8_t>> encode_mfsymlink(std::string_view target);

// The target if `contents` is a well-formed symlink file (size, magic, decimal
// length, md5 all check), else nullopt: such a file is an ordinary file.
std::optional<std::string> decode_mfsymlink(std::span<const std::uint8_t> contents);

}  // namespace smbx::fs
