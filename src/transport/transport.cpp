#include "transport/transport.hpp"

#include <algorithm>
#include <cstring>

namespace smbx::transport {

std::shared_ptr<std::uint8_t[]> BufferPool::take(std::size_t size) {
  if (size < kPooledMin)
    return std::shared_ptr<std::uint8_t[]>{new std::uint8_t[std::max<std::size_t>(size, 1)]};
  std::unique_ptr<std::uint8_t[]> data;
  std::size_t capacity = 0;
  {
    const std::lock_guard lock{mutex_};
    // The smallest idle buffer that fits; READ responses of one download are
    // all the same size, so this is nearly always the first one.
    auto best = idle_.end();
    for (auto it = idle_.begin(); it != idle_.end(); ++it)
      if (it->capacity >= size && (best == idle_.end() || it->capacity < best->capacity)) best = it;
    if (best != idle_.end()) {
      data = std::move(best->data);
      capacity = best->capacity;
      idle_bytes_ -= capacity;
      idle_.erase(best);
    }
  }
  if (!data) {
    // Rounded up to 64 KiB so that frames of nearly the same size share buffers.
    capacity = (size + kPooledMin - 1) / kPooledMin * kPooledMin;
    data.reset(new std::uint8_t[capacity]);  // not value-initialised: the socket fills it
  }
  // The deleter holds the pool, so the pool outlives every buffer it lent.
  return std::shared_ptr<std::uint8_t[]>{
      data.release(), [pool = shared_from_this(), capacity](std::uint8_t* p) { pool->give(p, capacity); }};
}

void BufferPool::give(std::uint8_t* data, std::size_t capacity) noexcept {
  std::unique_ptr<std::uint8_t[]> owned{data};
  if (capacity > kMaxIdleBytes) return;
  const std::lock_guard lock{mutex_};
  // Full: drop the smallest idle buffers while that makes room, keeping the
  // buffers that fit the most frames; else `owned` frees the returned one.
  while (!idle_.empty() && (idle_.size() >= kMaxIdle || idle_bytes_ + capacity > kMaxIdleBytes)) {
    auto smallest = std::min_element(idle_.begin(), idle_.end(),
                                     [](const Idle& a, const Idle& b) { return a.capacity < b.capacity; });
    if (smallest->capacity >= capacity) return;
    idle_bytes_ -= smallest->capacity;
    idle_.erase(smallest);
  }
  try {
    idle_.push_back(Idle{std::move(owned), capacity});
    idle_bytes_ += capacity;
  } catch (...) {
    // No memory for the list entry: the buffer is simply freed.
  }
}

Frame Frame::copy_of(ByteView bytes) {
  std::shared_ptr<std::uint8_t[]> storage{new std::uint8_t[std::max<std::size_t>(bytes.size(), 1)]};
  if (!bytes.empty()) std::memcpy(storage.get(), bytes.data(), bytes.size());
  return Frame{std::move(storage), bytes.size()};
}

}  // namespace smbx::transport
