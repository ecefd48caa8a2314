#include <doctest/doctest.h>

#include <array>

#include "client/credit_window.hpp"
#include "transport/tcp_transport.hpp"

using namespace smbx;
using namespace smbx::client;

TEST_CASE("the credit charge follows MS-SMB2 3.1.5.2") {
  struct Row {
    std::uint64_t payload;
    std::uint16_t charge;
  };
  for (const Row& r : {Row{0, 1},          // no payload still costs one credit
                       Row{1, 1}, Row{65536, 1},  // up to 64 KiB: one
                       Row{65537, 2},      // one byte more: two
                       Row{200000, 4},     // the 200000-byte WRITE of the smb311-signed-ops capture
                       Row{1 << 20, 16},   // 1 MiB
                       Row{0x800000, 128}}) {  // the 8 MiB QUERY_DIRECTORY of the smb302-signed capture
    CAPTURE(r.payload);
    CHECK(credit_charge_for(r.payload) == r.charge);
  }
}

TEST_CASE("a new connection has one credit, for MessageId 0") {
  CreditWindow w;
  CHECK(w.available() == 1);
  auto first = w.take(1);
  REQUIRE(first);
  CHECK(*first == 0);
  CHECK_FALSE(w.take(1));  // nothing left until the server grants
  CHECK(w.next_message_id() == 1);
}

TEST_CASE("a multi-credit request takes consecutive MessageIds") {
  CreditWindow w;
  w.set_multi_credit(true);
  REQUIRE(w.take(1));
  w.grant(100);
  auto write = w.take(4);  // as MessageId 11 with charge 4 in the capture, the next is 15
  REQUIRE(write);
  CHECK(*write == 1);
  auto next = w.take(1);
  REQUIRE(next);
  CHECK(*next == 5);
  CHECK(w.available() == 95);
}

TEST_CASE("a request that needs more credits than granted takes nothing") {
  CreditWindow w;
  w.set_multi_credit(true);
  w.grant(15);  // 16 in all
  CHECK_FALSE(w.take(17));
  CHECK(w.available() == 16);
  CHECK(w.next_message_id() == 0);
  CHECK(w.take(16));
  CHECK(w.available() == 0);
}

TEST_CASE("without multi-credit every request costs one credit whatever its payload") {
  CreditWindow w;  // 2.0.2, or no LARGE_MTU
  w.grant(2);
  auto a = w.take(16);
  auto b = w.take(16);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(*b == *a + 1);
  CHECK(w.available() == 1);
}

TEST_CASE("the credit request climbs back to the target and never asks for less than the charge") {
  CreditWindow w;
  w.set_multi_credit(true);
  CHECK(w.request_for(1, 512) == 512);  // 1 available, 0 after: ask for 512
  w.grant(1000);
  CHECK(w.request_for(16, 512) == 16);  // far above the target: just replace what is spent
  CHECK(w.request_for(1, 0) == 1);
}

TEST_CASE("the Direct-TCP header carries a 24-bit length after a zero byte (MS-SMB2 2.1)") {
  CHECK(transport::direct_tcp_header(0x123456) == std::array<std::uint8_t, 4>{0, 0x12, 0x34, 0x56});
  const std::array<std::uint8_t, 4> ok{0, 0x00, 0x01, 0x00};
  auto size = transport::parse_direct_tcp_header(ok, 1 << 20);
  REQUIRE(size);
  CHECK(*size == 256);
}

TEST_CASE("a Direct-TCP header with a non-zero first byte or an oversized length is refused") {
  const std::array<std::uint8_t, 4> netbios_keepalive{0x85, 0, 0, 0};
  CHECK_FALSE(transport::parse_direct_tcp_header(netbios_keepalive, 1 << 20));
  const std::array<std::uint8_t, 4> too_big{0, 0x10, 0x00, 0x01};  // 1 MiB + 1
  auto size = transport::parse_direct_tcp_header(too_big, 1 << 20);
  REQUIRE_FALSE(size);
  CHECK(size.error().kind == ErrorKind::transport);
}
