// The byte pipe under an SMB2 connection: whole frames in, whole frames out
// (MS-SMB2 2.1). Direct TCP today (tcp_transport.hpp); SMB Direct later.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "smbx/expected.hpp"
#include "wire/bytes.hpp"

namespace smbx::transport {

// Largest SMB2 message smbx accepts: the Direct-TCP length is 24 bits
// (MS-SMB2 2.1), and no peer sends more than 8 MiB of data plus headers.
inline constexpr std::size_t kMaxFrameSize = 0x00FFFFFF;

// Recycles the storage of large received frames. A READ response is about
// 1 MiB; allocating it fresh per frame costs page faults (glibc maps and
// unmaps blocks that large), and a zero-filled Bytes writes every byte once
// more before the socket does. Buffers come back when the last Frame sharing
// them is gone, from any thread (hence the mutex: it guards only the idle list).
class BufferPool : public std::enable_shared_from_this<BufferPool> {
 public:
  // Frames smaller than this are plain allocations: malloc serves them from
  // its own free lists as fast as a pool would.
  static constexpr std::size_t kPooledMin = 64 * 1024;
  // At most this many idle buffers are kept (enough for the READs a download
  // keeps in flight to be recycled without holding many MiB in idle memory).
  static constexpr std::size_t kMaxIdle = 4;
  // ...and at most this many idle bytes (8 MiB READs would otherwise keep 32 MiB).
  static constexpr std::size_t kMaxIdleBytes = 16 << 20;

  static std::shared_ptr<BufferPool> create() { return std::shared_ptr<BufferPool>{new BufferPool}; }
  // Uninitialised storage for `size` bytes, shared so that responses can keep
  // the frame alive while the connection moves on.
  std::shared_ptr<std::uint8_t[]> take(std::size_t size);

 private:
  BufferPool() = default;
  struct Idle {
    std::unique_ptr<std::uint8_t[]> data;
    std::size_t capacity;
  };
  void give(std::uint8_t* data, std::size_t capacity) noexcept;

  std::mutex mutex_;
  std::vector<Idle> idle_;
  std::size_t idle_bytes_ = 0;
};

// One received frame (without the transport's framing): `size` bytes in
// storage that may be larger. Mutable so that a TRANSFORM message can be
// decrypted in place.
class Frame {
 public:
  Frame() = default;
  Frame(std::shared_ptr<std::uint8_t[]> storage, std::size_t size)
      : storage_{std::move(storage)}, size_{size} {}
  // A frame holding a copy of `bytes` (tests, small messages).
  static Frame copy_of(ByteView bytes);

  std::span<std::uint8_t> bytes() const noexcept { return {storage_.get(), size_}; }
  std::size_t size() const noexcept { return size_; }
  // Keeps the bytes alive (for views into them) after the Frame is gone.
  std::shared_ptr<const void> keep_alive() const noexcept { return storage_; }

 private:
  std::shared_ptr<std::uint8_t[]> storage_;
  std::size_t size_ = 0;
};

// One connection's frames. All calls run on the engine thread. send() may be
// called by several coroutines at once: frames go out whole and in call order.
class Transport {
 public:
  virtual ~Transport() = default;

  // Writes one frame (without the transport's own framing) and returns once
  // it is on the wire or the transport failed.
  virtual boost::asio::awaitable<Expected<void>> send(Bytes frame) = 0;
  // Writes one frame made of `head` then `tail` (a WRITE's header and fixed
  // part, then its data) without joining them: the tail is not copied, and
  // the caller keeps it alive and unchanged until this returns. Same order,
  // serialisation and failure rules as send(Bytes).
  virtual boost::asio::awaitable<Expected<void>> send(Bytes head, ByteView tail) = 0;
  // The next whole frame; an error once the peer closed or the pipe broke.
  virtual boost::asio::awaitable<Expected<Frame>> receive() = 0;
  // Ends the connection; pending send/receive calls complete with an error.
  virtual void close() noexcept = 0;
  virtual bool is_open() const noexcept = 0;
};

}  // namespace smbx::transport
