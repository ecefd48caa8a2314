// Server-side copy for smbxd: ODX offload tokens (MS-FSCC 2.1.11, 2.3.41-2.3.44;
// MS-FSA 2.1.5.10.20/.21) and the host copy primitive that both ODX and
// FSCTL_SRV_COPYCHUNK use (copy_file_range(2), pread/pwrite where the kernel
// cannot).
//
// Tokens are self-describing and unforgeable, so that every smbxd sharing a
// state directory accepts a token any of them made, without a shared table:
//
//   TokenType      kTokenType (private; not in the well-known 0xFFFF0001.. range)
//   TokenIdLength  the bytes of TokenId used (body + 32-byte MAC); the rest is zero
//   TokenId        body: "SXO1", nonce[8], offset, length, device, inode,
//                  ctime (ns), size, expiry (Unix ms) as u64 LE, then the share
//                  name (u8 length + bytes) and the share-relative path (u16
//                  length + bytes); then HMAC-SHA256(key, TokenType ||
//                  Reserved || TokenIdLength || body).
//
// The generation (source ctime in nanoseconds and size at OFFLOAD_READ) is
// re-checked at OFFLOAD_WRITE: any write, truncation or attribute change of
// the source changes its ctime, and the token is then refused with
// STATUS_INVALID_TOKEN, so changed data is never copied (offload-copy.md §2.6).
// The key is 32 bytes in STATE_DIR/smbxd-offload.key (mode 0600, made once
// with O_EXCL and rename); without a state dir it is random per process.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "smbx/expected.hpp"
#include "wire/fsctl.hpp"
#include "wire/ntstatus.hpp"

namespace smbx::server::offload {

// smbxd's logical sector size: ODX offsets and lengths are multiples of it
// (MS-FSCC 2.3.41); FileFsSectorSizeInformation says the same (handlers_info.cpp).
inline constexpr std::uint64_t kSectorSize = 512;
// Private TokenType ("SXD\x01"), big-endian on the wire like every TokenType.
inline constexpr std::uint32_t kTokenType = 0x53584401;
// TokenTimeToLive 0 means this; a longer request is cut to kMaxTtlMs.
inline constexpr std::uint32_t kDefaultTtlMs = 30'000;
inline constexpr std::uint32_t kMaxTtlMs = 300'000;
// What one token may stand for, and what one OFFLOAD_WRITE copies (the rest
// is a partial write the client continues; the io_context thread copies
// synchronously, so this bounds how long other clients wait).
inline constexpr std::uint64_t kMaxTransferLength = 1ull << 30;
inline constexpr std::uint64_t kMaxWriteLength = 64ull << 20;
inline constexpr std::size_t kMacSize = 32;

using Key = std::array<std::uint8_t, 32>;

// What a token stands for.
struct TokenData {
  std::array<std::uint8_t, 8> nonce{};
  std::uint64_t offset = 0;  // of the range in the source file
  std::uint64_t length = 0;  // TransferLength
  std::uint64_t device = 0;  // st_dev and st_ino of the source
  std::uint64_t inode = 0;
  std::uint64_t ctime_ns = 0;  // the generation: st_ctim and st_size at OFFLOAD_READ
  std::uint64_t size = 0;
  std::uint64_t expiry_ms = 0;  // CLOCK_REALTIME (nodes share the wall clock, not a monotonic one)
  std::string share;            // the share's configured name
  std::string path;             // share-relative, '/'-separated
  bool operator==(const TokenData&) const = default;
};

// The longest share name + path a token can carry (the body's fixed part and
// the MAC take the rest of the 504-byte TokenId).
inline constexpr std::size_t kMaxNameBytes = 504 - kMacSize - (4 + 8 + 7 * 8) - 1 - 2;

// Builds the signed token; nullopt when share + path do not fit (the caller
// refuses the OFFLOAD_READ with STATUS_OFFLOAD_READ_FILE_NOT_SUPPORTED).
std::optional<wire::StorageOffloadToken> make_token(const Key& key, const TokenData& data);
// Checks TokenType, TokenIdLength, the layout, the MAC (constant time) and
// that the unused bytes are zero. Expiry is the caller's business (it knows
// the time). nullopt: not a token of this key.
std::optional<TokenData> verify_token(const Key& key, const wire::StorageOffloadToken& token);

// The key shared by every smbxd on `state_dir`: read, or made (32 random
// bytes written to a temporary file, then linked into place without
// replacing one another process made first).
Expected<Key> load_or_create_key(const std::string& state_dir);
Key random_key();

// Wall clock in ms since the Unix epoch.
std::uint64_t now_ms();

// Copies [src_offset, +length) of src_fd to dst_offset of dst_fd on the host:
// copy_file_range(2), falling back to pread/pwrite on EXDEV, EINVAL, ENOSYS,
// EOPNOTSUPP (also how overlapping ranges of one file are copied: a whole
// piece is read before it is written, pieces in the safe order). Stops at the
// source's end of file. `copied` says how far it got, also on failure.
wire::NtStatus copy_data(int src_fd, std::uint64_t src_offset, int dst_fd, std::uint64_t dst_offset,
                         std::uint64_t length, std::uint64_t& copied);
// Writes zeros over [offset, +length) (fallocate ZERO_RANGE, else pwrite).
wire::NtStatus write_zeros(int fd, std::uint64_t offset, std::uint64_t length);

}  // namespace smbx::server::offload
