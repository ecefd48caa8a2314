#include "transport/tcp_transport.hpp"

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

// g++ 12 at -O2 reports -Wmismatched-new-delete for asio::awaitable frames, which
// pair awaitable_frame_base's own operator new and delete: a false positive, so
// it is off in the files that define coroutines.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace smbx::transport {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

Error transport_error(std::string action, const boost::system::error_code& ec) {
  return Error{.kind = ErrorKind::transport, .wire = WireError::none, .status = 0, .action = std::move(action),
               .detail = ec.message()};
}

}  // namespace

std::array<std::uint8_t, 4> direct_tcp_header(std::size_t size) noexcept {
  return {0, static_cast<std::uint8_t>(size >> 16), static_cast<std::uint8_t>(size >> 8),
          static_cast<std::uint8_t>(size)};
}

Expected<std::size_t> parse_direct_tcp_header(std::span<const std::uint8_t, 4> header, std::size_t max_frame_size) {
  // MS-SMB2 2.1: the first byte is zero; the other three are the length.
  if (header[0] != 0)
    return Error{.kind = ErrorKind::transport, .wire = WireError::none, .status = 0, .action = "receive",
                 .detail = "the Direct-TCP header's first byte is " + std::to_string(header[0]) + ", not 0"};
  const std::size_t size = (std::size_t{header[1]} << 16) | (std::size_t{header[2]} << 8) | header[3];
  if (size > max_frame_size)
    return Error{.kind = ErrorKind::transport, .wire = WireError::none, .status = 0, .action = "receive",
                 .detail = "a " + std::to_string(size) + "-byte frame exceeds the " + std::to_string(max_frame_size) +
                           "-byte limit"};
  return size;
}

asio::awaitable<Expected<std::unique_ptr<TcpTransport>>> TcpTransport::connect(std::string host, std::uint16_t port,
                                                                               TcpOptions options) {
  using namespace asio::experimental::awaitable_operators;
  auto executor = co_await asio::this_coro::executor;
  const std::string where = host + ":" + std::to_string(port);
  tcp::resolver resolver{executor};
  tcp::socket socket{executor};
  asio::steady_timer deadline{executor, options.connect_timeout};

  auto attempt = [&]() -> asio::awaitable<boost::system::error_code> {
    auto [rec, endpoints] = co_await resolver.async_resolve(host, std::to_string(port), kUseTuple);
    if (rec) co_return rec;
    auto [cec, endpoint] = co_await asio::async_connect(socket, endpoints, kUseTuple);
    (void)endpoint;
    co_return cec;
  };
  auto outcome = co_await (attempt() || deadline.async_wait(kUseTuple));
  if (outcome.index() == 1)
    co_return Unexpected{Error{.kind = ErrorKind::transport, .wire = WireError::none, .status = 0,
                               .action = "connect to " + where,
                               .detail = "timed out after " + std::to_string(options.connect_timeout.count()) + " ms"}};
  if (const auto ec = std::get<0>(outcome); ec) co_return Unexpected{transport_error("connect to " + where, ec)};

  boost::system::error_code ec;
  socket.set_option(tcp::no_delay{true}, ec);
  socket.set_option(asio::socket_base::keep_alive{true}, ec);
  auto transport = std::make_unique<TcpTransport>(std::move(socket), options);
  transport->peer_ = where;
  co_return transport;
}

TcpTransport::TcpTransport(tcp::socket socket, TcpOptions options)
    : socket_{std::move(socket)}, options_{options} {}

TcpTransport::~TcpTransport() { close(); }

asio::awaitable<Expected<void>> TcpTransport::send(Bytes frame) {
  const ByteView no_tail{};
  co_return co_await send(std::move(frame), no_tail);
}

asio::awaitable<Expected<void>> TcpTransport::send(Bytes head, ByteView tail) {
  const std::size_t size = head.size() + tail.size();
  if (size > options_.max_frame_size)
    co_return Unexpected{Error{.kind = ErrorKind::local, .wire = WireError::none, .status = 0, .action = "send",
                               .detail = "a " + std::to_string(size) + "-byte frame is too large"}};
  if (writing_) {
    // Wait for our turn; the writer before us cancels this timer to hand over.
    asio::steady_timer turn{socket_.get_executor(), asio::steady_timer::time_point::max()};
    write_waiters_.push_back(&turn);
    co_await turn.async_wait(kUseTuple);
  }
  writing_ = true;
  // One gathered write (writev) of the Direct-TCP header, head and tail.
  const auto header = direct_tcp_header(size);
  const std::array<asio::const_buffer, 3> buffers{asio::buffer(header), asio::buffer(head), asio::buffer(tail)};
  using namespace asio::experimental::awaitable_operators;
  asio::steady_timer deadline{socket_.get_executor(), options_.send_timeout};
  auto outcome = co_await (asio::async_write(socket_, buffers, kUseTuple) || deadline.async_wait(kUseTuple));
  const auto ec = outcome.index() == 0 ? std::get<0>(std::get<0>(outcome))
                                       : make_error_code(asio::error::timed_out);
  if (write_waiters_.empty()) {
    writing_ = false;
  } else {
    write_waiters_.front()->cancel();
    write_waiters_.pop_front();
  }
  if (ec) {
    close();
    co_return Unexpected{transport_error("send to " + peer_, ec)};
  }
  co_return Expected<void>{};
}

asio::awaitable<Expected<Frame>> TcpTransport::receive() {
  // The 4-byte header, from what the last recv left over or a new one.
  while (stage_end_ - stage_begin_ < 4) {
    if (stage_begin_ != 0) {
      std::copy(stage_.begin() + static_cast<std::ptrdiff_t>(stage_begin_),
                stage_.begin() + static_cast<std::ptrdiff_t>(stage_end_), stage_.begin());
      stage_end_ -= stage_begin_;
      stage_begin_ = 0;
    }
    auto [ec, n] = co_await socket_.async_read_some(asio::buffer(stage_.data() + stage_end_, kStageSize - stage_end_),
                                                    kUseTuple);
    if (ec) co_return Unexpected{transport_error("receive from " + peer_, ec)};
    stage_end_ += n;
  }
  auto size = parse_direct_tcp_header(std::span<const std::uint8_t, 4>{stage_.data() + stage_begin_, 4},
                                      options_.max_frame_size);
  if (!size) {
    close();
    co_return Unexpected{size.error()};
  }
  stage_begin_ += 4;
  Frame frame{pool_->take(*size), *size};
  const std::size_t staged = std::min(*size, stage_end_ - stage_begin_);
  std::copy_n(stage_.data() + stage_begin_, staged, frame.bytes().data());
  stage_begin_ += staged;
  if (stage_begin_ == stage_end_) stage_begin_ = stage_end_ = 0;
  if (staged < *size) {
    // The rest goes straight from the socket into the frame: no second copy.
    auto [ec, n] =
        co_await asio::async_read(socket_, asio::buffer(frame.bytes().data() + staged, *size - staged), kUseTuple);
    (void)n;
    if (ec) co_return Unexpected{transport_error("receive from " + peer_, ec)};
  }
  co_return frame;
}

void TcpTransport::close() noexcept {
  if (!socket_.is_open()) return;
  boost::system::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_both, ec);
  socket_.close(ec);
}

}  // namespace smbx::transport
