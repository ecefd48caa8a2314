// Connection's framing and dispatch against a scripted peer on loopback TCP:
// NEGOTIATE, responses out of order and several per TCP write, compounds,
// STATUS_PENDING interim responses, unsolicited breaks, encrypted responses
// (decrypted in place, large ones arriving in pieces), and frames that must
// end the connection. The peer is a test double for the dispatch logic only;
// interop with a real server is tests/interop.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <doctest/doctest.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>

#include "client/connection.hpp"
#include "crypto/signing.hpp"
#include "crypto/transform.hpp"
#include "transport/tcp_transport.hpp"
#include "wire/message.hpp"
#include "wire/ntstatus.hpp"
#include "wire/transform.hpp"

using namespace smbx;
using namespace smbx::client;
namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::uint64_t kSessionId = 0x0000'4000'0000'0021;

// The server's side of one connection, driven step by step by a test.
class Peer {
 public:
  explicit Peer(asio::io_context& io)
      : acceptor_{io, tcp::endpoint{asio::ip::make_address("127.0.0.1"), 0}} {}

  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

  asio::awaitable<void> accept() {
    socket_.emplace(co_await acceptor_.async_accept(asio::use_awaitable));
    socket_->set_option(tcp::no_delay{true});
  }

  // The next request frame (without the Direct-TCP header); empty on EOF.
  asio::awaitable<Bytes> read_frame() {
    std::array<std::uint8_t, 4> header{};
    auto [ec, n] = co_await asio::async_read(*socket_, asio::buffer(header), kUseTuple);
    (void)n;
    if (ec) co_return Bytes{};
    const auto size = transport::parse_direct_tcp_header(header, transport::kMaxFrameSize);
    REQUIRE(size);
    Bytes frame(*size);
    co_await asio::async_read(*socket_, asio::buffer(frame), asio::use_awaitable);
    co_return frame;
  }

  // The plaintext messages of the next request (decrypting with `key` when
  // the client encrypted it).
  asio::awaitable<std::vector<wire::Header>> read_requests(ByteView key = {}) {
    Bytes frame = co_await read_frame();
    REQUIRE_FALSE(frame.empty());
    if (wire::protocol_id(frame) == wire::kTransformProtocolId) {
      REQUIRE_FALSE(key.empty());
      auto plain = crypto::decrypt_message(crypto::Cipher::aes128_gcm, key, frame);
      REQUIRE(plain);
      frame = std::move(*plain);
    }
    last_request_ = frame;
    auto members = wire::split_compound(frame);
    REQUIRE(members);
    std::vector<wire::Header> headers;
    for (const auto& m : *members) headers.push_back(m.header);
    co_return headers;
  }

  // Writes bytes exactly as given (several frames, or a part of one).
  asio::awaitable<void> write_raw(ByteView bytes) {
    co_await asio::async_write(*socket_, asio::buffer(bytes.data(), bytes.size()), asio::use_awaitable);
  }

  static Bytes framed(ByteView message) {
    Bytes out;
    const auto header = transport::direct_tcp_header(message.size());
    out.insert(out.end(), header.begin(), header.end());
    out.insert(out.end(), message.begin(), message.end());
    return out;
  }

  asio::awaitable<void> send(ByteView message) { co_await write_raw(framed(message)); }

  // Answers the client's NEGOTIATE with SMB 3.1.1, AES-128-GCM and AES-GMAC,
  // granting `credits`.
  asio::awaitable<void> negotiate(std::uint16_t credits = 256) {
    auto requests = co_await read_requests();
    REQUIRE(requests.size() == 1);
    REQUIRE(requests[0].command == wire::Command::negotiate);
    co_await send(negotiate_response(requests[0], credits));
  }

  // Not in the coroutine: g++ 12 rejects braced lists inside one.
  static Bytes negotiate_response(const wire::Header& request, std::uint16_t credits) {
    static const std::array<std::uint8_t, 32> salt{};
    wire::NegotiateResponse rsp;
    rsp.security_mode = wire::negotiate_signing::enabled;
    rsp.dialect_revision = static_cast<std::uint16_t>(wire::Dialect::smb311);
    rsp.capabilities = wire::global_caps::large_mtu | wire::global_caps::encryption;
    rsp.max_transact_size = rsp.max_read_size = rsp.max_write_size = 8 << 20;
    rsp.negotiate_contexts.emplace_back(
        wire::PreauthIntegrityCapabilities{{wire::preauth_hash::sha512}, salt});
    rsp.negotiate_contexts.emplace_back(wire::EncryptionCapabilities{{wire::encryption_cipher::aes128_gcm}});
    rsp.negotiate_contexts.emplace_back(wire::SigningCapabilities{{wire::signing_algorithm::aes_gmac}});
    return wire::encode_message(response_to(request, credits), rsp);
  }

  // A response header for `request`: same command, MessageId and ids.
  static wire::Header response_to(const wire::Header& request, std::uint16_t credits = 1,
                                  std::uint32_t status = wire::status::SUCCESS) {
    wire::Header h;
    h.command = request.command;
    h.flags = wire::flags::server_to_redir;
    h.message_id = request.message_id;
    h.session_id = request.session_id;
    h.tree_id = request.tree_id;
    h.credits = credits;
    h.status_or_channel_sequence = status;
    return h;
  }

  void close() {
    boost::system::error_code ec;
    if (socket_) socket_->close(ec);
    acceptor_.close(ec);
  }

  const Bytes& last_request() const { return last_request_; }

 private:
  tcp::acceptor acceptor_;
  std::optional<tcp::socket> socket_;
  Bytes last_request_;
};

Request echo(std::uint64_t session_id = 0) {
  Request r{.header = {}, .body = wire::EchoRequest{}, .payload_size = 0, .write_data = {}};
  r.header.command = wire::Command::echo;
  r.header.session_id = session_id;
  return r;
}

// A chain of one (g++ 12 rejects braced lists inside coroutines).
std::vector<Request> one(Request r) {
  std::vector<Request> chain;
  chain.push_back(std::move(r));
  return chain;
}

Request read_request(std::size_t size) {
  Request r{.header = {}, .body = wire::ReadRequest{}, .payload_size = size, .write_data = {}};
  r.header.command = wire::Command::read;
  r.header.session_id = kSessionId;
  std::get<wire::ReadRequest>(r.body).length = static_cast<std::uint32_t>(size);
  return r;
}

std::shared_ptr<SessionSecurity> encrypting_session(const Bytes& c2s, const Bytes& s2c) {
  auto security = std::make_shared<SessionSecurity>();
  security->keys.encryption = c2s;
  security->keys.decryption = s2c;
  security->keys.signing = Bytes(16, 0x55);
  security->encrypt = true;
  return security;
}

Bytes encrypted(ByteView key, ByteView plaintext, std::uint8_t nonce_seed) {
  std::array<std::uint8_t, 16> nonce{};
  nonce[0] = nonce_seed;
  return crypto::encrypt_message(crypto::Cipher::aes128_gcm, key, ByteView{nonce}.first(12), kSessionId,
                                 plaintext);
}

// Runs the peer's script and the client's side on one io_context, as the
// engine does; fails the test if either throws or they do not both finish.
void run(const std::function<asio::awaitable<void>(Peer&)>& server,
         const std::function<asio::awaitable<void>(std::shared_ptr<Connection>)>& client) {
  asio::io_context io;
  Peer peer{io};
  bool server_done = false;
  bool client_done = false;
  std::exception_ptr failure;
  auto finish = [&](bool& flag) {
    return [&failure, &flag](std::exception_ptr e) {
      flag = true;
      if (e && !failure) failure = e;
    };
  };
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await peer.accept();
        co_await server(peer);
      },
      finish(server_done));
  // Built outside the coroutine: g++ 12 rejects braced lists inside one.
  const ConnectionOptions options{.host = "127.0.0.1",
                                  .port = peer.port(),
                                  .dialects = {wire::Dialect::smb311},
                                  .connect_timeout = 5'000ms,
                                  .request_timeout = 5'000ms,
                                  .pending_timeout = 5'000ms,
                                  .client_guid = std::nullopt,
                                  .traffic = nullptr};
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto connection = co_await Connection::connect(options);
        REQUIRE(connection);
        co_await client(*connection);
        (*connection)->close();
      },
      finish(client_done));
  io.run_for(20s);
  peer.close();
  if (failure) std::rethrow_exception(failure);
  CHECK(server_done);
  CHECK(client_done);
}

}  // namespace

TEST_CASE("connection: NEGOTIATE settles the dialect, cipher and signing algorithm") {
  run([](Peer& peer) -> asio::awaitable<void> { co_await peer.negotiate(); },
      [](std::shared_ptr<Connection> c) -> asio::awaitable<void> {
        CHECK(c->negotiated().dialect == wire::Dialect::smb311);
        CHECK(c->negotiated().cipher == crypto::Cipher::aes128_gcm);
        CHECK(c->negotiated().signing == crypto::SigningAlgorithm::aes_gmac);
        CHECK(c->negotiated().max_read_size == 8u << 20);
        CHECK(c->is_open());
        co_return;
      });
}

TEST_CASE("connection: responses are matched by MessageId, out of order and several per TCP write") {
  run(
      [](Peer& peer) -> asio::awaitable<void> {
        co_await peer.negotiate();
        std::vector<wire::Header> requests;
        for (int i = 0; i < 3; ++i) requests.push_back((co_await peer.read_requests()).at(0));
        // Third, first, second; all three in one write, so one recv holds them.
        Bytes all;
        for (std::size_t k = 0; k < 3; ++k) {
          const std::size_t i = (k + 2) % 3;  // 2, 0, 1
          auto h = Peer::response_to(requests[i]);
          h.tree_id = static_cast<std::uint32_t>(100 + i);  // tells the responses apart
          const Bytes framed = Peer::framed(wire::encode_message(h, wire::EchoResponse{}));
          all.insert(all.end(), framed.begin(), framed.end());
        }
        co_await peer.write_raw(all);
      },
      [](std::shared_ptr<Connection> c) -> asio::awaitable<void> {
        std::vector<Ticket> tickets;
        for (int i = 0; i < 3; ++i) {
          auto t = co_await c->submit(one(echo()));
          REQUIRE(t);
          tickets.push_back(t->at(0));
        }
        for (std::size_t i = 0; i < tickets.size(); ++i) {
          auto r = co_await c->wait(tickets[i]);
          REQUIRE(r);
          CHECK(r->header.message_id == i + 1);  // NEGOTIATE had MessageId 0
          CHECK(r->header.tree_id == 100 + i);
          CHECK(r->header.command == wire::Command::echo);
        }
      });
}

namespace {

// Both members answered in one compound, in reverse order (a server may).
Bytes reversed_compound_response(const std::vector<wire::Header>& requests) {
  std::vector<wire::ChainMember> members;
  members.push_back({Peer::response_to(requests[1], 1, wire::status::ACCESS_DENIED), wire::ErrorResponse{}});
  members.push_back({Peer::response_to(requests[0]), wire::EchoResponse{}});
  return wire::encode_compound(members);
}

}  // namespace

TEST_CASE("connection: a compound request gets one ticket per member, answered by a compound response") {
  run(
      [](Peer& peer) -> asio::awaitable<void> {
        co_await peer.negotiate();
        const auto requests = co_await peer.read_requests();
        REQUIRE(requests.size() == 2);
        CHECK(requests[1].next_command == 0);
        CHECK(requests[0].next_command != 0);
        co_await peer.send(reversed_compound_response(requests));
      },
      [](std::shared_ptr<Connection> c) -> asio::awaitable<void> {
        std::vector<Request> chain;
        chain.push_back(echo());
        chain.push_back(echo());
        auto tickets = co_await c->submit(std::move(chain));
        REQUIRE(tickets);
        REQUIRE(tickets->size() == 2);
        auto first = co_await c->wait(tickets->at(0));
        auto second = co_await c->wait(tickets->at(1));
        REQUIRE(first);
        REQUIRE(second);
        CHECK(first->status() == wire::status::SUCCESS);
        CHECK(second->status() == wire::status::ACCESS_DENIED);
        CHECK(first->header.message_id + 1 == second->header.message_id);
      });
}

TEST_CASE("connection: a STATUS_PENDING interim response keeps the waiter waiting for the final one") {
  run(
      [](Peer& peer) -> asio::awaitable<void> {
        co_await peer.negotiate();
        const auto request = (co_await peer.read_requests()).at(0);
        auto interim = Peer::response_to(request, 1, wire::status::PENDING);
        interim.flags |= wire::flags::async_command;
        interim.async_id = 0x77;
        co_await peer.send(wire::encode_message(interim, wire::ErrorResponse{}));
        asio::steady_timer pause{co_await asio::this_coro::executor, 100ms};
        co_await pause.async_wait(asio::use_awaitable);
        auto final_response = Peer::response_to(request, 1, wire::status::SUCCESS);
        final_response.flags |= wire::flags::async_command;
        final_response.async_id = 0x77;
        co_await peer.send(wire::encode_message(final_response, wire::EchoResponse{}));
      },
      [](std::shared_ptr<Connection> c) -> asio::awaitable<void> {
        const auto start = Clock::now();
        auto r = co_await c->call(echo());
        REQUIRE(r);
        CHECK(r->status() == wire::status::SUCCESS);
        CHECK(r->header.async_id == 0x77);
        CHECK(Clock::now() - start >= 100ms);
      });
}

TEST_CASE("connection: an unsolicited break goes to the handler, not to a waiter") {
  const wire::FileId file_id{.persistent = 0x1111, .volatile_id = 0x2222};
  int breaks = 0;
  run(
      [&](Peer& peer) -> asio::awaitable<void> {
        co_await peer.negotiate();
        const auto request = (co_await peer.read_requests()).at(0);
        wire::Header h;
        h.command = wire::Command::oplock_break;
        h.flags = wire::flags::server_to_redir;
        h.message_id = wire::kUnsolicitedMessageId;
        co_await peer.send(wire::encode_message(h, wire::OplockBreak{.oplock_level = 0, .file_id = file_id}));
        co_await peer.send(wire::encode_message(Peer::response_to(request), wire::EchoResponse{}));
      },
      [&](std::shared_ptr<Connection> c) -> asio::awaitable<void> {
        c->set_unsolicited_handler([&](const Response& r) {
          ++breaks;
          CHECK(r.header.command == wire::Command::oplock_break);
          CHECK(r.frame != nullptr);
          auto body = wire::decode_oplock_break(r.bytes);
          REQUIRE(body);
          CHECK(body->file_id.persistent == file_id.persistent);
          CHECK(body->file_id.volatile_id == file_id.volatile_id);
        });
        auto r = co_await c->call(echo());
        REQUIRE(r);
        CHECK(r->header.command == wire::Command::echo);
      });
  CHECK(breaks == 1);
}

TEST_CASE("connection: encrypted responses are decrypted in place, large ones arriving in pieces") {
  const Bytes c2s(16, 0x11);
  const Bytes s2c(16, 0x22);
  const std::vector<std::size_t> sizes{1 << 20, 100, (1 << 20) + 4096, 0, 1 << 20, 3 << 20};
  run(
      [&](Peer& peer) -> asio::awaitable<void> {
        co_await peer.negotiate(1024);
        std::uint8_t seed = 1;
        for (const auto size : sizes) {
          const auto request = (co_await peer.read_requests(c2s)).at(0);
          CHECK(request.session_id == kSessionId);
          CHECK(request.command == wire::Command::read);
          Bytes data(size);
          for (std::size_t i = 0; i < size; ++i) data[i] = static_cast<std::uint8_t>(i * 7 + size);
          const Bytes message = wire::encode_message(
              Peer::response_to(request, 16),
              wire::ReadResponse{.data_offset = 0, .data = data, .data_remaining = 0, .flags = 0});
          const Bytes frame = Peer::framed(encrypted(s2c, message, seed++));
          // In three writes: part of the Direct-TCP header, part of the
          // message, the rest (the receiver must reassemble).
          const std::size_t cut1 = 2;
          const std::size_t cut2 = std::min<std::size_t>(frame.size(), 9000);
          co_await peer.write_raw(ByteView{frame}.subspan(0, cut1));
          asio::steady_timer pause{co_await asio::this_coro::executor, 5ms};
          co_await pause.async_wait(asio::use_awaitable);
          co_await peer.write_raw(ByteView{frame}.subspan(cut1, cut2 - cut1));
          pause.expires_after(5ms);
          co_await pause.async_wait(asio::use_awaitable);
          co_await peer.write_raw(ByteView{frame}.subspan(cut2));
        }
        // An unencrypted response on a session that requires encryption fails
        // that request alone.
        const auto request = (co_await peer.read_requests(c2s)).at(0);
        co_await peer.send(wire::encode_message(Peer::response_to(request), wire::EchoResponse{}));
      },
      [&](std::shared_ptr<Connection> c) -> asio::awaitable<void> {
        c->add_session(kSessionId, encrypting_session(c2s, s2c));
        std::vector<Response> kept;  // held across later frames: their buffers must not be reused under them
        for (const auto size : sizes) {
          auto response = co_await c->call(read_request(size));
          REQUIRE(response);
          CHECK(response->was_encrypted);
          CHECK(response->status() == wire::status::SUCCESS);
          kept.push_back(*response);
        }
        for (std::size_t k = 0; k < sizes.size(); ++k) {
          auto body = wire::decode_read_response(kept[k].bytes);
          REQUIRE(body);
          REQUIRE(body->data.size() == sizes[k]);
          bool same = true;
          for (std::size_t i = 0; i < sizes[k]; ++i)
            same = same && body->data[i] == static_cast<std::uint8_t>(i * 7 + sizes[k]);
          CHECK(same);
        }
        auto plain = co_await c->call(echo(kSessionId));
        REQUIRE_FALSE(plain);
        CHECK(plain.error().kind == ErrorKind::crypto);
        CHECK(c->is_open());
      });
}

namespace {

// The peer answers NEGOTIATE, reads one request and sends `bad` raw (then
// hangs up when `hang_up`); the waiters must get an error and the connection
// must be closed.
void expect_abort(const Bytes& bad, bool with_session, bool hang_up = false) {
  const Bytes c2s(16, 0x11);
  const Bytes s2c(16, 0x22);
  run(
      [&](Peer& peer) -> asio::awaitable<void> {
        co_await peer.negotiate();
        (void)co_await peer.read_requests(c2s);
        co_await peer.write_raw(bad);
        if (hang_up) {
          peer.close();
          co_return;
        }
        // The client hangs up: reads see its second request, then EOF.
        int frames = 0;
        while (!(co_await peer.read_frame()).empty()) ++frames;
        CHECK(frames <= 1);
      },
      [&](std::shared_ptr<Connection> c) -> asio::awaitable<void> {
        if (with_session) c->add_session(kSessionId, encrypting_session(c2s, s2c));
        auto tickets = co_await c->submit(one(echo(with_session ? kSessionId : 0)));
        REQUIRE(tickets);
        auto second = co_await c->submit(one(echo(with_session ? kSessionId : 0)));
        REQUIRE(second);
        auto r = co_await c->wait(tickets->at(0));
        CHECK_FALSE(r);
        auto r2 = co_await c->wait(second->at(0));
        CHECK_FALSE(r2);
        CHECK_FALSE(c->is_open());
        auto after = co_await c->call(echo());
        CHECK_FALSE(after);
      });
}

}  // namespace

TEST_CASE("connection: a frame that cannot be trusted or parsed ends the connection, waiters get an error") {
  SUBCASE("Direct-TCP header whose first byte is not zero") { expect_abort(Bytes{0x85, 0, 0, 0}, false); }
  SUBCASE("a frame too short for an SMB2 header") {
    expect_abort(Peer::framed(Bytes{0xFE, 'S', 'M', 'B', 1, 2, 3}), false);
  }
  SUBCASE("NextCommand pointing past the frame") {
    wire::Header h;
    h.command = wire::Command::echo;
    h.flags = wire::flags::server_to_redir;
    h.message_id = 1;
    Bytes message = wire::encode_message(h, wire::EchoResponse{});
    store_le32(message.data() + wire::kNextCommandOffset, 0x1000);
    expect_abort(Peer::framed(message), false);
  }
  SUBCASE("a TRANSFORM message for an unknown session") {
    wire::Header h;
    h.command = wire::Command::echo;
    h.flags = wire::flags::server_to_redir;
    h.message_id = 1;
    expect_abort(Peer::framed(encrypted(Bytes(16, 0x22), wire::encode_message(h, wire::EchoResponse{}), 9)),
                 false);
  }
  SUBCASE("a TRANSFORM message whose tag does not verify") {
    wire::Header h;
    h.command = wire::Command::echo;
    h.flags = wire::flags::server_to_redir;
    h.message_id = 1;
    h.session_id = kSessionId;
    Bytes frame = encrypted(Bytes(16, 0x22), wire::encode_message(h, wire::EchoResponse{}), 9);
    frame.back() ^= 1;
    expect_abort(Peer::framed(frame), true);
  }
  SUBCASE("the peer closes in the middle of a frame") {
    Bytes partial = Peer::framed(Bytes(200, 0xFE));
    partial.resize(50);
    expect_abort(partial, false, true);
  }
}

TEST_CASE("connection: TRANSFORM messages decrypt in place the same as into a new buffer, every cipher") {
  for (const auto cipher : {crypto::Cipher::aes128_ccm, crypto::Cipher::aes128_gcm,
                            crypto::Cipher::aes256_ccm, crypto::Cipher::aes256_gcm}) {
    CAPTURE(static_cast<int>(cipher));
    const Bytes key(crypto::key_size(cipher), 0x42);
    Bytes plaintext(70000);
    for (std::size_t i = 0; i < plaintext.size(); ++i) plaintext[i] = static_cast<std::uint8_t>(i * 13);
    const std::array<std::uint8_t, 16> nonce{7};
    Bytes frame = crypto::encrypt_message(cipher, key, ByteView{nonce}.first(crypto::nonce_size(cipher)),
                                          kSessionId, plaintext);
    auto message = wire::decode_transform(frame);
    REQUIRE(message);
    const auto copied = crypto::decrypt_message(cipher, key, *message);
    REQUIRE(copied);
    CHECK(*copied == plaintext);
    auto in_place = crypto::decrypt_message_in_place(cipher, key, *message, frame);
    REQUIRE(in_place);
    CHECK(in_place->data() == frame.data() + wire::kTransformHeaderSize);
    CHECK(Bytes(in_place->begin(), in_place->end()) == plaintext);

    // A flipped ciphertext bit: an error, and no unauthenticated plaintext left.
    Bytes bad = crypto::encrypt_message(cipher, key, ByteView{nonce}.first(crypto::nonce_size(cipher)),
                                        kSessionId, plaintext);
    bad[wire::kTransformHeaderSize + 100] ^= 0x01;
    auto bad_message = wire::decode_transform(bad);
    REQUIRE(bad_message);
    CHECK_FALSE(crypto::decrypt_message_in_place(cipher, key, *bad_message, bad));
    CHECK(std::all_of(bad.begin() + wire::kTransformHeaderSize, bad.end(),
                      [](std::uint8_t b) { return b == 0; }));
  }
}

TEST_CASE("connection: received frames' buffers are recycled, within the idle limits") {
  auto pool = transport::BufferPool::create();
  const std::size_t mib = 1 << 20;
  const std::uint8_t* first = nullptr;
  {
    auto a = pool->take(mib + 132);
    first = a.get();
  }
  {
    auto again = pool->take(mib + 80);  // same 64 KiB-rounded capacity: the same buffer
    CHECK(again.get() == first);
    auto other = pool->take(mib);  // the first is still in use: a new one
    CHECK(other.get() != first);
  }
  // Small frames are not pooled; every buffer is writable over its size.
  auto small = pool->take(100);
  std::fill_n(small.get(), 100, std::uint8_t{1});
  // More buffers than the pool keeps idle: all are returned without leaks
  // (the sanitizer build checks), and oversized ones are freed at once.
  std::vector<std::shared_ptr<std::uint8_t[]>> many;
  for (int i = 0; i < 10; ++i) many.push_back(pool->take(mib * static_cast<std::size_t>(i + 1)));
  many.push_back(pool->take(transport::BufferPool::kMaxIdleBytes + 1));
  many.clear();
  auto reused = pool->take(10 * mib);  // an idle one if it fits, else a new one
  std::fill_n(reused.get(), 10 * mib, std::uint8_t{2});
}

namespace {

constexpr std::uint8_t kSigningKeyByte = 0x5c;

std::shared_ptr<SessionSecurity> signing_session() {
  auto security = std::make_shared<SessionSecurity>();
  security->keys.signing = Bytes(16, kSigningKeyByte);
  security->sign = true;
  return security;
}

Request write_request(std::uint64_t session_id, std::uint64_t offset, ByteView data) {
  wire::WriteRequest body{.offset = offset, .file_id = {}, .channel = wire::io_channel::none, .remaining_bytes = 0,
                          .write_channel_info = {}, .flags = 0, .data = {}};
  Request r{.header = {}, .body = body, .payload_size = data.size(), .write_data = data};
  r.header.command = wire::Command::write;
  r.header.session_id = session_id;
  return r;
}

Bytes write_data_for(std::size_t size, std::uint8_t seed) {
  Bytes b(size);
  for (std::size_t i = 0; i < size; ++i) b[i] = static_cast<std::uint8_t>(seed + i * 13 + (i >> 10));
  return b;
}

Bytes signed_write_response(const wire::Header& request, std::uint32_t count, bool sign) {
  auto h = Peer::response_to(request, 64);
  Bytes rsp = wire::encode_message(h, wire::WriteResponse{.count = count, .remaining = 0,
                                                          .write_channel_info_offset = 0,
                                                          .write_channel_info_length = 0});
  if (sign) crypto::sign_message(crypto::SigningAlgorithm::aes_gmac, Bytes(16, kSigningKeyByte), rsp);
  return rsp;
}

// Not in the coroutine: g++ 12 rejects braced lists inside one.
SubmitOptions sent_into(Bytes* sent) { return SubmitOptions{.encrypt = false, .sent = sent, .timeout = {}}; }

struct WriteSeen {
  bool is_signed = false;
  bool verifies = false;
  std::uint64_t offset = 0;
  Bytes data;
  std::size_t frame_size = 0;
  Bytes frame;
};

}  // namespace

TEST_CASE("connection: a WRITE goes out as its header and the caller's data, signed over both") {
  // Signed (AES-GMAC, negotiated by the peer) and unsigned WRITEs whose data
  // is sent from the caller's buffer behind the encoded header (writev): the
  // peer sees one frame per WRITE with the data intact, the signature over
  // the whole message verifies, SubmitOptions::sent gets the whole message,
  // and the traffic counter counts the data.
  const std::vector<std::size_t> sizes{1 << 20, 1, (1 << 20) + 4099, 70000, 3 << 20};
  std::vector<Bytes> datas;
  for (std::size_t k = 0; k < sizes.size(); ++k)
    datas.push_back(write_data_for(sizes[k], static_cast<std::uint8_t>(k)));
  std::vector<WriteSeen> seen;
  run(
      [&](Peer& peer) -> asio::awaitable<void> {
        co_await peer.negotiate(1024);
        for (std::size_t k = 0; k < sizes.size() + 1; ++k) {
          const auto request = (co_await peer.read_requests()).at(0);
          const Bytes frame = peer.last_request();
          WriteSeen s;
          s.is_signed = request.is_signed();
          s.verifies = crypto::verify_signature(crypto::SigningAlgorithm::aes_gmac, Bytes(16, kSigningKeyByte), frame);
          auto body = wire::decode_write_request(frame);
          REQUIRE(body);
          s.offset = body->offset;
          s.data.assign(body->data.begin(), body->data.end());
          s.frame_size = frame.size();
          s.frame = frame;
          const bool sign = request.session_id == kSessionId;
          const auto count = static_cast<std::uint32_t>(body->data.size());
          seen.push_back(std::move(s));
          co_await peer.send(signed_write_response(request, count, sign));
        }
      },
      [&](std::shared_ptr<Connection> c) -> asio::awaitable<void> {
        c->add_session(kSessionId, signing_session());
        const auto before = c->traffic().bytes_sent;
        for (std::size_t k = 0; k < sizes.size(); ++k) {
          Bytes sent;
          const SubmitOptions options = sent_into(k == 1 ? &sent : nullptr);
          auto r = co_await c->call(write_request(kSessionId, 4096 * k, datas[k]), options);
          REQUIRE(r);
          CHECK(r->status() == wire::status::SUCCESS);
          auto rsp = wire::decode_write_response(r->bytes);
          REQUIRE(rsp);
          CHECK(rsp->count == sizes[k]);
          if (k == 1) CHECK(sent == seen.at(1).frame);
        }
        // No session: unsigned, the data still behind the header.
        auto r = co_await c->call(write_request(0, 7, datas[0]));
        REQUIRE(r);
        std::uint64_t frames = 0;
        for (const auto& s : seen) frames += s.frame_size;
        CHECK(c->traffic().bytes_sent - before == frames);
      });
  REQUIRE(seen.size() == sizes.size() + 1);
  for (std::size_t k = 0; k < sizes.size(); ++k) {
    CAPTURE(k);
    CHECK(seen[k].is_signed);
    CHECK(seen[k].verifies);
    CHECK(seen[k].offset == 4096 * k);
    CHECK(seen[k].data.size() == sizes[k]);
    CHECK(seen[k].data == datas[k]);
    CHECK(seen[k].frame_size == wire::kHeaderSize + 48 + sizes[k]);
  }
  CHECK_FALSE(seen.back().is_signed);
  CHECK(seen.back().offset == 7);
  CHECK(seen.back().data == datas[0]);
}

TEST_CASE("connection: an encrypted WRITE is sealed from the caller's data") {
  const Bytes c2s(16, 0x11);
  const Bytes s2c(16, 0x22);
  const Bytes data = write_data_for((1 << 20) + 17, 9);
  Bytes seen_data;
  run(
      [&](Peer& peer) -> asio::awaitable<void> {
        co_await peer.negotiate(1024);
        const auto request = (co_await peer.read_requests(c2s)).at(0);
        auto body = wire::decode_write_request(peer.last_request());
        REQUIRE(body);
        seen_data.assign(body->data.begin(), body->data.end());
        const Bytes rsp = signed_write_response(request, static_cast<std::uint32_t>(body->data.size()), false);
        co_await peer.send(encrypted(s2c, rsp, 1));
      },
      [&](std::shared_ptr<Connection> c) -> asio::awaitable<void> {
        c->add_session(kSessionId, encrypting_session(c2s, s2c));
        auto r = co_await c->call(write_request(kSessionId, 0, data));
        REQUIRE(r);
        CHECK(r->was_encrypted);
        CHECK(r->status() == wire::status::SUCCESS);
      });
  CHECK(seen_data == data);
}
