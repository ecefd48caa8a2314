#include "copy/plan.hpp"

#include <algorithm>

#include "wire/ntstatus.hpp"

namespace smbx::copy {

Range advance(const Range& range, std::uint64_t n) noexcept {
  n = std::min(n, range.length);
  return Range{.source = range.source + n, .target = range.target + n, .length = range.length - n};
}

Range front(const Range& range, std::uint64_t n) noexcept {
  return Range{.source = range.source, .target = range.target, .length = std::min(n, range.length)};
}

std::vector<Range> split(std::span<const Range> ranges, std::uint64_t piece) {
  std::vector<Range> out;
  piece = std::max<std::uint64_t>(piece, 1);
  for (auto r : ranges) {
    while (r.length > 0) {
      out.push_back(front(r, piece));
      r = advance(r, piece);
    }
  }
  return out;
}

std::vector<Range> coalesce(std::vector<Range> ranges) {
  std::erase_if(ranges, [](const Range& r) { return r.length == 0; });
  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) { return a.target < b.target; });
  std::vector<Range> out;
  for (const auto& r : ranges) {
    if (!out.empty() && out.back().target + out.back().length == r.target &&
        out.back().source + out.back().length == r.source) {
      out.back().length += r.length;
    } else {
      out.push_back(r);
    }
  }
  return out;
}

std::uint64_t total_length(std::span<const Range> ranges) noexcept {
  std::uint64_t n = 0;
  for (const auto& r : ranges) n += r.length;
  return n;
}

OdxSplit odx_part(const Range& range, std::uint64_t source_size) noexcept {
  if (range.length == 0) return {};
  if (range.source % kOdxAlignment != 0 || range.target % kOdxAlignment != 0)
    return OdxSplit{std::nullopt, range};
  const bool ends_at_eof = range.source + range.length == source_size;
  const auto aligned = ends_at_eof ? range.length : range.length - range.length % kOdxAlignment;
  OdxSplit out;
  if (aligned > 0) out.odx = front(range, aligned);
  if (aligned < range.length) out.rest = advance(range, aligned);
  return out;
}

std::vector<wire::SrvCopychunk> plan_copychunk(const Range& range, const ChunkLimits& limits) {
  std::vector<wire::SrvCopychunk> chunks;
  const std::uint64_t chunk_size = std::max<std::uint32_t>(limits.max_chunk_size, 1);
  const auto max_chunks = std::clamp<std::uint32_t>(limits.max_chunks, 1, kMaxChunksPerRequest);
  std::uint64_t budget = std::min<std::uint64_t>(range.length, std::max<std::uint32_t>(limits.max_total, 1));
  Range rest = range;
  while (budget > 0 && chunks.size() < max_chunks) {
    const auto n = std::min(budget, chunk_size);
    chunks.push_back(wire::SrvCopychunk{
        .source_offset = rest.source, .target_offset = rest.target, .length = static_cast<std::uint32_t>(n)});
    rest = advance(rest, n);
    budget -= n;
  }
  return chunks;
}

std::uint64_t total_length(std::span<const wire::SrvCopychunk> chunks) noexcept {
  std::uint64_t n = 0;
  for (const auto& c : chunks) n += c.length;
  return n;
}

bool within_limits(std::span<const wire::SrvCopychunk> chunks, const ChunkLimits& limits) noexcept {
  if (chunks.size() > limits.max_chunks) return false;
  for (const auto& c : chunks)
    if (c.length == 0 || c.length > limits.max_chunk_size) return false;
  return total_length(chunks) <= limits.max_total;
}

std::optional<ChunkLimits> adopt_limits(const ChunkLimits& current, const wire::SrvCopychunkResponse& server,
                                        std::span<const wire::SrvCopychunk> request) noexcept {
  // MS-SMB2 3.3.5.15.6.2: ChunksWritten, ChunkBytesWritten and
  // TotalBytesWritten carry the three maxima in this response.
  const ChunkLimits theirs{.max_chunks = server.chunks_written,
                           .max_chunk_size = server.chunk_bytes_written,
                           .max_total = server.total_bytes_written};
  if (theirs.max_chunks == 0 || theirs.max_chunk_size == 0 || theirs.max_total == 0) return std::nullopt;
  if (within_limits(request, theirs)) return std::nullopt;
  return ChunkLimits{.max_chunks = std::min(current.max_chunks, theirs.max_chunks),
                     .max_chunk_size = std::min(current.max_chunk_size, theirs.max_chunk_size),
                     .max_total = std::min(current.max_total, theirs.max_total)};
}

std::uint64_t copychunk_written(std::span<const wire::SrvCopychunk> chunks,
                                const wire::SrvCopychunkResponse& response) noexcept {
  const auto whole = std::min<std::size_t>(response.chunks_written, chunks.size());
  std::uint64_t n = total_length(chunks.first(whole));
  if (whole < chunks.size()) n += std::min(response.chunk_bytes_written, chunks[whole].length);
  return n;
}

bool is_refusal(std::uint32_t status) noexcept {
  namespace s = wire::status;
  return status == s::INVALID_DEVICE_REQUEST || status == s::NOT_SUPPORTED ||
         status == s::OFFLOAD_READ_FLT_NOT_SUPPORTED || status == s::OFFLOAD_WRITE_FLT_NOT_SUPPORTED ||
         status == s::OFFLOAD_READ_FILE_NOT_SUPPORTED || status == s::OFFLOAD_WRITE_FILE_NOT_SUPPORTED ||
         status == kStatusDeviceFeatureNotSupported;
}

Failure classify(const Error& error) noexcept {
  if (error.kind == ErrorKind::status)
    return is_refusal(error.status) ? Failure::refused : Failure::transient;
  if (error.kind == ErrorKind::wire) return Failure::transient;
  return Failure::fatal;
}

}  // namespace smbx::copy
