// smbxd's command-line values and the credit window (MS-SMB2 3.3.1.1).
#include <doctest/doctest.h>

#include "server/config.hpp"
#include "server/state.hpp"

using namespace smbx;
using namespace smbx::server;

TEST_CASE("a share spec gives a name, a path and its options") {
  auto plain = parse_share_spec("data=/srv/data");
  REQUIRE(plain);
  CHECK(plain->name == "data");
  CHECK(plain->path == "/srv/data");
  CHECK_FALSE(plain->encrypt);
  CHECK_FALSE(plain->readonly);
  auto both = parse_share_spec("sec=/srv/sec,encrypt,readonly");
  REQUIRE(both);
  CHECK(both->encrypt);
  CHECK(both->readonly);
  CHECK_FALSE(parse_share_spec("noequals"));
  CHECK_FALSE(parse_share_spec("=/srv"));
  CHECK_FALSE(parse_share_spec("x="));
  CHECK_FALSE(parse_share_spec("x=/srv,compress"));
  CHECK_FALSE(parse_share_spec("a/b=/srv"));
}

TEST_CASE("user and listen specs") {
  auto user = parse_user_spec("alice:pa:ss");
  REQUIRE(user);
  CHECK(user->user == "alice");
  CHECK(user->password == "pa:ss");
  CHECK_FALSE(parse_user_spec("alice"));
  ServerConfig config;
  REQUIRE(parse_listen_spec("127.0.0.2:4455", config));
  CHECK(config.listen_address == "127.0.0.2");
  CHECK(config.port == 4455);
  REQUIRE(parse_listen_spec("[::1]:446", config));
  CHECK(config.listen_address == "::1");
  CHECK(config.port == 446);
  CHECK_FALSE(parse_listen_spec("127.0.0.1:0", config));
  CHECK_FALSE(parse_listen_spec("127.0.0.1:70000", config));
  CHECK_FALSE(parse_listen_spec("127.0.0.1:x", config));
}

TEST_CASE("the credit window takes ids out of order, once each, and only those granted") {
  CreditWindow window;
  CHECK(window.outstanding() == 1);
  CHECK(window.consume(0, 1));
  CHECK_FALSE(window.consume(0, 1));  // used twice
  CHECK_FALSE(window.consume(1, 1));  // not granted yet
  window.grant(10);                   // ids 1..10
  CHECK(window.consume(5, 1));        // skipped ids stay usable (smb2.credits.skipped_mid)
  CHECK(window.consume(1, 4));        // multi-credit: 1, 2, 3, 4
  CHECK_FALSE(window.consume(4, 1));
  CHECK_FALSE(window.consume(9, 4));  // 11 and 12 were never granted
  CHECK(window.consume(6, 5));
  CHECK(window.outstanding() == 0);
}
