// The arithmetic of the copy engine (copy.cpp), kept free of I/O so that it
// can be tested on its own: which ranges remain, how a SRV_COPYCHUNK_COPY
// request is cut within the server's limits, where a copy resumes after a
// partial answer, and which failures make the engine fall back.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "smbx/error.hpp"
#include "wire/fsctl.hpp"

namespace smbx::copy {

// `length` bytes from `source` (an offset in the source file) to `target`.
struct Range {
  std::uint64_t source = 0;
  std::uint64_t target = 0;
  std::uint64_t length = 0;
  bool operator==(const Range&) const = default;
};

// The range without its first `n` bytes (n is capped at the length).
Range advance(const Range& range, std::uint64_t n) noexcept;
// The first `n` bytes of the range (n capped at the length).
Range front(const Range& range, std::uint64_t n) noexcept;
// Each range cut into pieces of at most `piece` bytes (> 0), in order.
std::vector<Range> split(std::span<const Range> ranges, std::uint64_t piece);
// Sorted by target offset, touching ranges that are contiguous in both files
// merged (what is left after pieces failed out of order).
std::vector<Range> coalesce(std::vector<Range> ranges);
std::uint64_t total_length(std::span<const Range> ranges) noexcept;

// ---- ODX (offload-copy.md §2) ----

// ODX offsets and lengths must be multiples of the volume's logical sector
// (MS-FSCC 2.3.41/2.3.43), which the client does not know: 4096 covers both
// 512-byte and 4K sectors.
inline constexpr std::uint64_t kOdxAlignment = 4096;

// What of `range` ODX is asked to copy when the engine may fall back: nothing
// when either offset is unaligned; else the aligned part, and the unaligned
// tail too when the range ends at the source's end of file (a length that
// "matches end-of-file" need not be aligned: ntifs FSCTL_OFFLOAD_*_INPUT).
// The rest is `rest`.
struct OdxSplit {
  std::optional<Range> odx;
  std::optional<Range> rest;
};
OdxSplit odx_part(const Range& range, std::uint64_t source_size) noexcept;

// ---- Server-side copy (offload-copy.md §3) ----

// ServerSideCopyMaxNumberofChunks / MaxChunkSize / MaxDataSize (MS-SMB2
// 3.3.1.5): Windows' values to start with (§3.4 step 6).
struct ChunkLimits {
  std::uint32_t max_chunks = 256;
  std::uint32_t max_chunk_size = 1u << 20;
  std::uint32_t max_total = 16u << 20;
  bool operator==(const ChunkLimits&) const = default;
};

// Never more chunks in one request than fit the smallest MaxTransactSize a
// server may announce (64 KiB: 32 + 24 x 2048 bytes of input).
inline constexpr std::uint32_t kMaxChunksPerRequest = 2048;

// The chunks of one SRV_COPYCHUNK_COPY taking the front of `range` within
// `limits` (MS-SMB2 3.2.4.20.2.2): consecutive chunks of max_chunk_size, at
// most max_chunks of them and max_total bytes in all. Empty for an empty range.
std::vector<wire::SrvCopychunk> plan_copychunk(const Range& range, const ChunkLimits& limits);
std::uint64_t total_length(std::span<const wire::SrvCopychunk> chunks) noexcept;
// Whether a request keeps within `limits` (what 3.3.5.15.6 checks).
bool within_limits(std::span<const wire::SrvCopychunk> chunks, const ChunkLimits& limits) noexcept;

// The limits to use after a STATUS_INVALID_PARAMETER response to `request`
// carrying the server's limits (3.3.5.15.6.2): each the smaller of `current`
// and the server's. nullopt when retrying cannot help: the request was within
// the server's limits already (it was refused for another reason), or a limit
// is 0.
std::optional<ChunkLimits> adopt_limits(const ChunkLimits& current, const wire::SrvCopychunkResponse& server,
                                        std::span<const wire::SrvCopychunk> request) noexcept;

// Bytes of `chunks` (in order, contiguous) that a failed request wrote
// (3.3.5.15.6.1): ChunksWritten whole chunks, then ChunkBytesWritten of the
// next. A count past the request is not believed: capped at its total.
std::uint64_t copychunk_written(std::span<const wire::SrvCopychunk> chunks,
                                const wire::SrvCopychunkResponse& response) noexcept;

// ---- Falling back (offload-copy.md §2.7) ----

enum class Failure : std::uint8_t {
  refused,    // the server does not do this method: remember it, use the next one
  transient,  // this attempt failed (INVALID_TOKEN, a lock, a bad answer): use the next method now
  fatal,      // the connection or the session failed: no method will do better
};

// MS-ERREF 2.3 DEVICE_FEATURE_NOT_SUPPORTED (MS-FSCC 2.3.42 / 2.3.44 tables).
inline constexpr std::uint32_t kStatusDeviceFeatureNotSupported = 0xC0000463;

// INVALID_DEVICE_REQUEST, NOT_SUPPORTED, OFFLOAD_{READ,WRITE}_{FLT,FILE}_NOT_SUPPORTED
// and DEVICE_FEATURE_NOT_SUPPORTED.
bool is_refusal(std::uint32_t status) noexcept;
// Status refusals are `refused`; other statuses and undecodable answers
// (ErrorKind::wire) `transient`; everything else (transport, crypto, usage,
// ...) `fatal`.
Failure classify(const Error& error) noexcept;

}  // namespace smbx::copy
