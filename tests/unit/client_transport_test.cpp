// TcpTransport's sending side against a plain socket on loopback: frames
// given whole or as a head and a tail (a WRITE's header and its data, sent
// with one gathered write) go out whole, in call order, with the Direct-TCP
// length of both; too large a frame is refused before anything is written;
// a peer that stops reading ends the connection after send_timeout.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <doctest/doctest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "transport/tcp_transport.hpp"

using namespace smbx;
namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

// Distinct bytes per frame and position, so a frame cut, merged or reordered
// shows up as a content mismatch.
Bytes pattern(std::size_t size, std::uint8_t seed) {
  Bytes b(size);
  for (std::size_t i = 0; i < size; ++i) b[i] = static_cast<std::uint8_t>(seed * 31 + i * 7 + (i >> 12));
  return b;
}

struct Sent {
  Bytes head;
  Bytes tail;  // empty: sent with send(Bytes)
  bool as_pieces = false;
  std::optional<Expected<void>> result;
};

struct Fixture {
  asio::io_context io;
  tcp::acceptor acceptor{io, tcp::endpoint{asio::ip::make_address("127.0.0.1"), 0}};
  std::optional<tcp::socket> peer;
  std::unique_ptr<transport::TcpTransport> transport;
  std::vector<Bytes> received;
  bool received_eof = false;
};

asio::awaitable<void> connect(Fixture* f, transport::TcpOptions options) {
  const std::string host = "127.0.0.1";
  const std::uint16_t port = f->acceptor.local_endpoint().port();
  auto t = co_await transport::TcpTransport::connect(host, port, options);
  REQUIRE(t);
  f->transport = std::move(*t);
}

asio::awaitable<void> accept(Fixture* f) { f->peer.emplace(co_await f->acceptor.async_accept(asio::use_awaitable)); }

// Reads `count` frames after `delay` (so that the senders queue up behind a
// full socket buffer first).
asio::awaitable<void> read_frames(Fixture* f, std::size_t count, std::chrono::milliseconds delay) {
  asio::steady_timer pause{f->io, delay};
  co_await pause.async_wait(asio::use_awaitable);
  for (std::size_t k = 0; k < count; ++k) {
    std::array<std::uint8_t, 4> header{};
    auto [ec, n] = co_await asio::async_read(*f->peer, asio::buffer(header), kUseTuple);
    (void)n;
    if (ec) {
      f->received_eof = true;
      co_return;
    }
    const auto size = transport::parse_direct_tcp_header(header, transport::kMaxFrameSize);
    REQUIRE(size);
    Bytes frame(*size);
    co_await asio::async_read(*f->peer, asio::buffer(frame), asio::use_awaitable);
    f->received.push_back(std::move(frame));
  }
}

asio::awaitable<void> send_one(Fixture* f, Sent* s) {
  if (s->as_pieces) {
    const ByteView tail{s->tail};
    s->result = co_await f->transport->send(s->head, tail);
  } else {
    s->result = co_await f->transport->send(s->head);
  }
}

Bytes joined(const Sent& s) {
  Bytes all = s.head;
  all.insert(all.end(), s.tail.begin(), s.tail.end());
  return all;
}

void run_connected(Fixture& f, transport::TcpOptions options) {
  asio::co_spawn(f.io, accept(&f), asio::detached);
  asio::co_spawn(f.io, connect(&f, options), asio::detached);
  f.io.run_for(5s);
  f.io.restart();
  REQUIRE(f.peer);
  REQUIRE(f.transport);
}

}  // namespace

TEST_CASE("transport: concurrent sends, whole or head and tail, arrive whole and in call order") {
  Fixture f;
  run_connected(f, transport::TcpOptions{});
  // Large enough that the first ones fill the socket buffers while the peer
  // waits, so the later sends queue behind them; small and empty tails too.
  std::vector<Sent> sends(8);
  const std::size_t head_sizes[] = {0x70, 3 << 20, 0x70, 64, 0x70, 5, 0x70, 1};
  const std::size_t tail_sizes[] = {4 << 20, 0, (1 << 20) + 3, 0, 0, 0, 1, 0};
  for (std::size_t i = 0; i < sends.size(); ++i) {
    sends[i].head = pattern(head_sizes[i], static_cast<std::uint8_t>(i));
    sends[i].tail = pattern(tail_sizes[i], static_cast<std::uint8_t>(100 + i));
    sends[i].as_pieces = i % 2 == 0;  // pieces: 0, 2 (data), 4 (empty tail), 6 (1-byte tail)
  }
  for (auto& s : sends) asio::co_spawn(f.io, send_one(&f, &s), asio::detached);
  asio::co_spawn(f.io, read_frames(&f, sends.size(), 100ms), asio::detached);
  f.io.run_for(20s);
  REQUIRE(f.received.size() == sends.size());
  for (std::size_t i = 0; i < sends.size(); ++i) {
    CAPTURE(i);
    REQUIRE(sends[i].result.has_value());
    CHECK(sends[i].result->has_value());
    const Bytes expected = joined(sends[i]);
    CHECK(f.received[i].size() == expected.size());
    CHECK(f.received[i] == expected);
  }
  CHECK(f.transport->is_open());
}

TEST_CASE("transport: a head and tail over max_frame_size are refused before anything is written") {
  Fixture f;
  run_connected(f, transport::TcpOptions{.connect_timeout = 5s, .send_timeout = 5s, .max_frame_size = 1000});
  std::vector<Sent> sends(2);
  sends[0].head = pattern(600, 1);
  sends[0].tail = pattern(401, 2);  // 1001 bytes: one too many
  sends[0].as_pieces = true;
  sends[1].head = pattern(600, 3);
  sends[1].tail = pattern(400, 4);  // exactly the limit
  sends[1].as_pieces = true;
  for (auto& s : sends) asio::co_spawn(f.io, send_one(&f, &s), asio::detached);
  asio::co_spawn(f.io, read_frames(&f, 1, 0ms), asio::detached);
  f.io.run_for(10s);
  REQUIRE(sends[0].result.has_value());
  REQUIRE_FALSE(sends[0].result->has_value());
  CHECK(sends[0].result->error().kind == ErrorKind::local);
  CHECK(sends[0].result->error().detail.find("1001-byte frame") != std::string::npos);
  REQUIRE(sends[1].result.has_value());
  CHECK(sends[1].result->has_value());
  // The refused frame left nothing on the wire: the next frame is the good one.
  REQUIRE(f.received.size() == 1);
  CHECK(f.received[0] == joined(sends[1]));
  CHECK(f.transport->is_open());
}

TEST_CASE("transport: a head and tail the peer never reads time out and close the connection") {
  Fixture f;
  run_connected(f, transport::TcpOptions{.connect_timeout = 5s, .send_timeout = 300ms,
                                         .max_frame_size = transport::kMaxFrameSize});
  // 8 MiB frames until the socket buffers are full and one send times out
  // (loopback buffers hold a few MiB); bounded at 16 frames.
  std::vector<Sent> sends(16);
  for (std::size_t i = 0; i < sends.size(); ++i) {
    sends[i].head = pattern(0x70, static_cast<std::uint8_t>(i));
    sends[i].tail = pattern(8 << 20, static_cast<std::uint8_t>(i));
    sends[i].as_pieces = true;
  }
  for (auto& s : sends) asio::co_spawn(f.io, send_one(&f, &s), asio::detached);
  f.io.run_for(15s);
  std::size_t failed = 0;
  for (std::size_t i = 0; i < sends.size(); ++i) {
    REQUIRE(sends[i].result.has_value());
    if (!sends[i].result->has_value()) ++failed;
    // Once one failed, every later one fails too (the transport is closed).
    if (i > 0 && !sends[i - 1].result->has_value()) CHECK_FALSE(sends[i].result->has_value());
  }
  CHECK(failed > 0);
  CHECK_FALSE(f.transport->is_open());
}
