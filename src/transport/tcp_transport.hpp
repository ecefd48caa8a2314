// SMB2 over Direct TCP (MS-SMB2 2.1): each message is preceded by a 4-byte
// header, a zero byte and a 24-bit big-endian length.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <array>
#include <chrono>
#include <deque>
#include <memory>
#include <string>

#include "transport/transport.hpp"

namespace smbx::transport {

struct TcpOptions {
  std::chrono::milliseconds connect_timeout{10'000};
  // A frame not written within this time (the peer stopped reading) closes
  // the connection: a half-written frame cannot be resumed.
  std::chrono::milliseconds send_timeout{60'000};
  std::size_t max_frame_size = kMaxFrameSize;
};

class TcpTransport final : public Transport {
 public:
  // Resolves `host` and connects to the first address that answers, all
  // within options.connect_timeout. Sets TCP_NODELAY (SMB is request/response:
  // Nagle would hold back small requests) and SO_KEEPALIVE.
  static boost::asio::awaitable<Expected<std::unique_ptr<TcpTransport>>> connect(std::string host, std::uint16_t port,
                                                                                 TcpOptions options = {});

  explicit TcpTransport(boost::asio::ip::tcp::socket socket, TcpOptions options);
  ~TcpTransport() override;

  boost::asio::awaitable<Expected<void>> send(Bytes frame) override;
  boost::asio::awaitable<Expected<void>> send(Bytes head, ByteView tail) override;
  boost::asio::awaitable<Expected<Frame>> receive() override;
  void close() noexcept override;
  bool is_open() const noexcept override { return socket_.is_open(); }

  std::string peer() const { return peer_; }

 private:
  boost::asio::ip::tcp::socket socket_;
  TcpOptions options_;
  std::string peer_;
  // Serialises writers: a send waits until the one before it is written.
  bool writing_ = false;
  std::deque<boost::asio::steady_timer*> write_waiters_;
  // Received frames' storage, recycled (transport.hpp).
  std::shared_ptr<BufferPool> pool_ = BufferPool::create();
  // Bytes read past the end of the last frame: one recv of up to kStageSize
  // bytes takes the next header together with a small response (or the start
  // of a large one, whose rest is then read straight into its own buffer).
  static constexpr std::size_t kStageSize = 8192;
  std::array<std::uint8_t, kStageSize> stage_{};
  std::size_t stage_begin_ = 0;
  std::size_t stage_end_ = 0;
};

// The 4-byte Direct-TCP header for a frame of `size` bytes; size must be at
// most kMaxFrameSize.
std::array<std::uint8_t, 4> direct_tcp_header(std::size_t size) noexcept;
// The frame length a Direct-TCP header announces, or an error when the first
// byte is not zero (MS-SMB2 2.1) or the length exceeds `max_frame_size`.
Expected<std::size_t> parse_direct_tcp_header(std::span<const std::uint8_t, 4> header, std::size_t max_frame_size);

}  // namespace smbx::transport
