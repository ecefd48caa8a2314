// The copy engine's pure parts (src/copy/plan.hpp, method names and
// MethodMemory): range bookkeeping, the ODX split, copychunk requests within
// the server's limits, adopting a limits response, resuming after a partial
// failure, and which failures are refusals. The engine against real servers
// is tests/copy (cp-offload).
#include <doctest/doctest.h>

#include "copy/copy.hpp"
#include "copy/plan.hpp"
#include "wire/fsctl.hpp"
#include "wire/ntstatus.hpp"

using namespace smbx;
using namespace smbx::copy;

namespace {

constexpr std::uint64_t MiB = 1 << 20;

Error status(std::uint32_t code) {
  return Error{
      .kind = ErrorKind::status, .wire = WireError::none, .status = code, .action = {}, .detail = {}};
}

}  // namespace

TEST_CASE("method names: parse_method inverts method_name, anything else is refused") {
  for (auto m : {Method::automatic, Method::odx, Method::copychunk, Method::stream})
    CHECK(parse_method(method_name(m)) == m);
  CHECK(method_name(Method::automatic) == "auto");
  CHECK(method_name(Method::copychunk) == "copychunk");
  CHECK_FALSE(parse_method("ODX"));
  CHECK_FALSE(parse_method("automatic"));
  CHECK_FALSE(parse_method(""));
}

TEST_CASE("MethodMemory: a refusal is remembered per server and per method") {
  MethodMemory memory;
  CHECK_FALSE(memory.refused("srv:445", Method::odx));
  memory.note_refused("srv:445", Method::odx);
  CHECK(memory.refused("srv:445", Method::odx));
  CHECK_FALSE(memory.refused("srv:445", Method::copychunk));
  CHECK_FALSE(memory.refused("srv:4455", Method::odx));
  memory.note_refused("srv:445", Method::copychunk);
  CHECK(memory.refused("srv:445", Method::odx));
  CHECK(memory.refused("srv:445", Method::copychunk));
}

TEST_CASE("ranges: advance, front, split and coalesce keep source and target in step") {
  const Range r{.source = 100, .target = 5000, .length = 10};
  CHECK(advance(r, 4) == Range{.source = 104, .target = 5004, .length = 6});
  CHECK(advance(r, 40) == Range{.source = 110, .target = 5010, .length = 0});
  CHECK(front(r, 3) == Range{.source = 100, .target = 5000, .length = 3});
  CHECK(front(r, 30) == r);

  const std::vector<Range> two{r, Range{.source = 0, .target = 0, .length = 3}};
  const auto pieces = split(two, 4);
  REQUIRE(pieces.size() == 4);
  CHECK(pieces[0] == Range{.source = 100, .target = 5000, .length = 4});
  CHECK(pieces[2] == Range{.source = 108, .target = 5008, .length = 2});
  CHECK(pieces[3] == Range{.source = 0, .target = 0, .length = 3});
  CHECK(total_length(pieces) == 13);

  // Out of order, with an empty one and a gap: sorted by target, neighbours merged.
  std::vector<Range> left{pieces[2], Range{}, pieces[0], pieces[1],
                          Range{.source = 200, .target = 6000, .length = 1}};
  const auto merged = coalesce(left);
  REQUIRE(merged.size() == 2);
  CHECK(merged[0] == r);
  CHECK(merged[1] == Range{.source = 200, .target = 6000, .length = 1});
  // Contiguous in the target but not in the source: not merged.
  CHECK(coalesce({Range{.source = 0, .target = 0, .length = 4}, Range{.source = 8, .target = 4, .length = 4}})
            .size() == 2);
}

TEST_CASE(
    "odx_part: aligned offsets only, the unaligned tail only when it ends at the source's end of file") {
  const auto A = kOdxAlignment;
  // Aligned and ending at EOF: all of it, tail included.
  auto s = odx_part(Range{.source = 0, .target = A, .length = 3 * A + 100}, 3 * A + 100);
  REQUIRE(s.odx);
  CHECK(s.odx->length == 3 * A + 100);
  CHECK_FALSE(s.rest);
  // Not at EOF: the aligned part, the tail for another method.
  s = odx_part(Range{.source = A, .target = 0, .length = 3 * A + 100}, 10 * A);
  REQUIRE(s.odx);
  CHECK(*s.odx == Range{.source = A, .target = 0, .length = 3 * A});
  REQUIRE(s.rest);
  CHECK(*s.rest == Range{.source = 4 * A, .target = 3 * A, .length = 100});
  // Shorter than one unit and not at EOF: nothing for ODX.
  s = odx_part(Range{.source = 0, .target = 0, .length = 100}, 10 * A);
  CHECK_FALSE(s.odx);
  REQUIRE(s.rest);
  CHECK(s.rest->length == 100);
  // An unaligned offset on either side: nothing for ODX.
  for (const auto& r :
       {Range{.source = 512, .target = 0, .length = A}, Range{.source = 0, .target = 1, .length = A}}) {
    s = odx_part(r, 10 * A);
    CHECK_FALSE(s.odx);
    REQUIRE(s.rest);
    CHECK(*s.rest == r);
  }
  CHECK_FALSE(odx_part(Range{}, 0).odx);
  CHECK_FALSE(odx_part(Range{}, 0).rest);
}

TEST_CASE("plan_copychunk: Windows' default limits, 256 x 1 MiB within 16 MiB") {
  const ChunkLimits limits;
  const Range big{.source = 7, .target = 1000, .length = 40 * MiB};
  const auto chunks = plan_copychunk(big, limits);
  REQUIRE(chunks.size() == 16);
  CHECK(total_length(std::span<const wire::SrvCopychunk>{chunks}) == 16 * MiB);
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    CHECK(chunks[i].length == MiB);
    CHECK(chunks[i].source_offset == 7 + i * MiB);
    CHECK(chunks[i].target_offset == 1000 + i * MiB);
  }
  CHECK(within_limits(chunks, limits));

  const auto small = plan_copychunk(Range{.source = 0, .target = 0, .length = MiB + MiB / 2}, limits);
  REQUIRE(small.size() == 2);
  CHECK(small[1].length == MiB / 2);
  CHECK(plan_copychunk(Range{}, limits).empty());
}

TEST_CASE("plan_copychunk: the chunk count, chunk size and total limits each bind") {
  // The count binds: 3 x 100 would do, but only 250 bytes in all.
  auto chunks = plan_copychunk(Range{.source = 0, .target = 0, .length = 1000},
                               ChunkLimits{.max_chunks = 3, .max_chunk_size = 100, .max_total = 250});
  REQUIRE(chunks.size() == 3);
  CHECK(chunks[0].length == 100);
  CHECK(chunks[2].length == 50);
  // Only the count binds.
  chunks = plan_copychunk(Range{.source = 0, .target = 0, .length = 1000},
                          ChunkLimits{.max_chunks = 2, .max_chunk_size = 100, .max_total = 1000});
  CHECK(total_length(std::span<const wire::SrvCopychunk>{chunks}) == 200);
  // A server allowing huge counts still gets requests that fit a 64 KiB transact.
  chunks = plan_copychunk(Range{.source = 0, .target = 0, .length = 1ull << 32},
                          ChunkLimits{.max_chunks = 100000, .max_chunk_size = 1, .max_total = 0xFFFFFFFF});
  CHECK(chunks.size() == kMaxChunksPerRequest);
  CHECK(32 + 24 * chunks.size() <= 65536);
}

TEST_CASE("within_limits: what MS-SMB2 3.3.5.15.6 checks") {
  const ChunkLimits limits{.max_chunks = 2, .max_chunk_size = 10, .max_total = 15};
  std::vector<wire::SrvCopychunk> c{{.source_offset = 0, .target_offset = 0, .length = 10},
                                    {.source_offset = 10, .target_offset = 10, .length = 5}};
  CHECK(within_limits(c, limits));
  c[1].length = 6;  // total 16
  CHECK_FALSE(within_limits(c, limits));
  c[1].length = 0;  // a zero-length chunk is refused too
  CHECK_FALSE(within_limits(c, limits));
  c[1].length = 1;
  c.push_back({.source_offset = 11, .target_offset = 11, .length = 1});  // 3 chunks
  CHECK_FALSE(within_limits(c, limits));
}

TEST_CASE("adopt_limits: a limits response shrinks the limits, one the request met cannot help") {
  const ChunkLimits ours;  // 256 x 1 MiB, 16 MiB
  const auto request = plan_copychunk(Range{.source = 0, .target = 0, .length = 16 * MiB}, ours);
  // The server allows 64 KiB chunks, 16 of them, 1 MiB in all (3.3.5.15.6.2).
  const wire::SrvCopychunkResponse small{
      .chunks_written = 16, .chunk_bytes_written = 64 * 1024, .total_bytes_written = 1 << 20};
  const auto adopted = adopt_limits(ours, small, request);
  REQUIRE(adopted);
  CHECK(*adopted == ChunkLimits{.max_chunks = 16, .max_chunk_size = 64 * 1024, .max_total = 1 << 20});
  const auto next = plan_copychunk(Range{.source = 0, .target = 0, .length = 16 * MiB}, *adopted);
  CHECK(next.size() == 16);
  CHECK(within_limits(next, *adopted));
  // The same response to a request within it: refused for another reason.
  CHECK_FALSE(adopt_limits(*adopted, small, next));
  // Larger limits than ours never grow ours.
  const wire::SrvCopychunkResponse large{
      .chunks_written = 1024, .chunk_bytes_written = 4 << 20, .total_bytes_written = 2u << 30};
  const auto huge =
      plan_copychunk(Range{.source = 0, .target = 0, .length = 16 * MiB},
                     ChunkLimits{.max_chunks = 2048, .max_chunk_size = 8 << 20, .max_total = 64 << 20});
  const auto kept = adopt_limits(ours, large, huge);
  REQUIRE(kept);
  CHECK(*kept == ours);
  // A zero limit is unusable.
  CHECK_FALSE(adopt_limits(
      ours,
      wire::SrvCopychunkResponse{.chunks_written = 0, .chunk_bytes_written = 1, .total_bytes_written = 1},
      request));
}

TEST_CASE("adopt_limits: the limits come from the 12-byte body as the wire carries it") {
  const auto body = wire::fsctl_payload(wire::SrvCopychunkResponse{
      .chunks_written = 256, .chunk_bytes_written = 1 << 20, .total_bytes_written = 16 << 20});
  REQUIRE(body.size() == 12);
  auto decoded = wire::decode_srv_copychunk_response(body);
  REQUIRE(decoded);
  const auto request =
      plan_copychunk(Range{.source = 0, .target = 0, .length = 64 * MiB},
                     ChunkLimits{.max_chunks = 16, .max_chunk_size = 4 << 20, .max_total = 64 << 20});
  const auto adopted = adopt_limits(
      ChunkLimits{.max_chunks = 16, .max_chunk_size = 4 << 20, .max_total = 64 << 20}, *decoded, request);
  REQUIRE(adopted);
  CHECK(*adopted == ChunkLimits{.max_chunks = 16, .max_chunk_size = 1 << 20, .max_total = 16 << 20});
}

TEST_CASE("copychunk_written: whole chunks, then the partial one, a claim past the request is capped") {
  const auto chunks = plan_copychunk(Range{.source = 0, .target = 0, .length = 3 * 100},
                                     ChunkLimits{.max_chunks = 8, .max_chunk_size = 100, .max_total = 1000});
  REQUIRE(chunks.size() == 3);
  using R = wire::SrvCopychunkResponse;
  CHECK(copychunk_written(chunks,
                          R{.chunks_written = 0, .chunk_bytes_written = 0, .total_bytes_written = 0}) == 0);
  CHECK(copychunk_written(
            chunks, R{.chunks_written = 0, .chunk_bytes_written = 40, .total_bytes_written = 40}) == 40);
  CHECK(copychunk_written(
            chunks, R{.chunks_written = 2, .chunk_bytes_written = 30, .total_bytes_written = 230}) == 230);
  CHECK(copychunk_written(
            chunks, R{.chunks_written = 3, .chunk_bytes_written = 0, .total_bytes_written = 300}) == 300);
  // More chunks than sent, or more bytes than the chunk has: not believed.
  CHECK(copychunk_written(chunks,
                          R{.chunks_written = 9, .chunk_bytes_written = 0, .total_bytes_written = 0}) == 300);
  CHECK(copychunk_written(
            chunks, R{.chunks_written = 1, .chunk_bytes_written = 500, .total_bytes_written = 0}) == 200);
  // Resuming: the rest of the range starts right after what was written.
  const Range range{.source = 0, .target = 0, .length = 300};
  const auto rest = advance(
      range, copychunk_written(chunks,
                               R{.chunks_written = 1, .chunk_bytes_written = 7, .total_bytes_written = 107}));
  CHECK(rest == Range{.source = 107, .target = 107, .length = 193});
}

TEST_CASE("classify: not-supported statuses are refusals, other statuses transient, lost connections fatal") {
  namespace s = wire::status;
  for (auto code : {s::INVALID_DEVICE_REQUEST, s::NOT_SUPPORTED, s::OFFLOAD_READ_FLT_NOT_SUPPORTED,
                    s::OFFLOAD_WRITE_FLT_NOT_SUPPORTED, s::OFFLOAD_READ_FILE_NOT_SUPPORTED,
                    s::OFFLOAD_WRITE_FILE_NOT_SUPPORTED, kStatusDeviceFeatureNotSupported}) {
    CHECK(is_refusal(code));
    CHECK(classify(status(code)) == Failure::refused);
  }
  for (auto code :
       {s::INVALID_TOKEN, s::FILE_LOCK_CONFLICT, s::INVALID_PARAMETER, s::ACCESS_DENIED, s::END_OF_FILE}) {
    CHECK_FALSE(is_refusal(code));
    CHECK(classify(status(code)) == Failure::transient);
  }
  CHECK(classify(wire_error(WireError::truncated, "short")) == Failure::transient);
  auto lost = status(0);
  lost.kind = ErrorKind::transport;
  CHECK(classify(lost) == Failure::fatal);
  lost.kind = ErrorKind::crypto;
  CHECK(classify(lost) == Failure::fatal);
}
