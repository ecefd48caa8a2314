// smbxd's pooled response buffers (src/server/server.hpp IoBufferPool) and
// where a READ's data goes in one (connection.hpp read_data_offset).
#include <doctest/doctest.h>

#include <vector>

#include "server/connection.hpp"

namespace {

using smbx::server::IoBuffer;
using smbx::server::IoBufferPool;
using smbx::server::kReadBufferSlack;
using smbx::server::kReadFrontRoom;
using smbx::server::read_data_offset;

constexpr std::size_t kGrain = 64u << 10;

}  // namespace

TEST_CASE("IoBufferPool: a buffer given back is taken again, the smallest that fits") {
  IoBufferPool pool;
  IoBuffer small = pool.take(1000);
  IoBuffer large = pool.take(3 * kGrain);
  REQUIRE(small);
  REQUIRE(large);
  CHECK(small.capacity >= 1000);
  CHECK(large.capacity >= 3 * kGrain);
  const auto* small_data = small.data.get();
  const auto* large_data = large.data.get();
  pool.give_back(std::move(large));
  pool.give_back(std::move(small));
  IoBuffer again = pool.take(10);  // both fit: the smaller comes back
  CHECK(again.data.get() == small_data);
  IoBuffer big = pool.take(2 * kGrain);  // only the large one fits
  CHECK(big.data.get() == large_data);
  IoBuffer fresh = pool.take(2 * kGrain);  // none idle any more
  CHECK(fresh.data.get() != large_data);
  CHECK(fresh.capacity >= 2 * kGrain);
}

TEST_CASE("IoBufferPool: at most four wait idle, the smallest are freed") {
  IoBufferPool pool;
  std::vector<IoBuffer> buffers;
  std::vector<const std::uint8_t*> data;
  for (std::size_t i = 1; i <= 6; ++i) {
    buffers.push_back(pool.take(i * kGrain));
    data.push_back(buffers.back().data.get());
  }
  for (auto& b : buffers) pool.give_back(std::move(b));
  // Sizes 1 and 2 (x 64 KiB) went; 3, 4, 5, 6 wait, handed out smallest first.
  for (std::size_t i = 3; i <= 6; ++i) {
    IoBuffer b = pool.take(1);
    CHECK(b.data.get() == data[i - 1]);
    buffers[i - 1] = std::move(b);
  }
  pool.give_back(IoBuffer{});  // an empty one is not kept
  IoBuffer b = pool.take(1);
  for (std::size_t i = 3; i <= 6; ++i) CHECK(b.data.get() != data[i - 1]);
}

TEST_CASE("read_data_offset: room for TRANSFORM_HEADER, SMB2 header and READ fixed part, 64-byte aligned") {
  IoBufferPool pool;
  for (std::size_t length : {std::size_t{1}, std::size_t{4096}, std::size_t{1} << 20}) {
    IoBuffer b = pool.take(length + kReadBufferSlack);
    const std::size_t at = read_data_offset(b);
    CHECK(at >= kReadFrontRoom);
    CHECK(at < kReadFrontRoom + 64);
    CHECK(reinterpret_cast<std::uintptr_t>(b.data.get() + at) % 64 == 0);
    CHECK(at + length <= b.capacity);
    pool.give_back(std::move(b));
  }
  CHECK(kReadFrontRoom == 52 + 64 + 16);  // MS-SMB2 2.2.41, 2.2.1, 2.2.20 (DataOffset 0x50)
}
