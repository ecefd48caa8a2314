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

TEST_CASE("a share's users= option limits who may use it") {
  auto open = parse_share_spec("data=/srv/data");
  REQUIRE(open);
  CHECK(open->users.empty());
  CHECK(open->allows("anyone"));
  auto limited = parse_share_spec("data=/srv/data,users=alice:Bob,readonly");
  REQUIRE(limited);
  CHECK(limited->readonly);
  CHECK(limited->users == std::vector<std::string>{"alice", "Bob"});
  CHECK(limited->allows("ALICE"));
  CHECK(limited->allows("bob"));
  CHECK_FALSE(limited->allows("carol"));
  CHECK_FALSE(parse_share_spec("data=/srv/data,users="));
  auto config = parse_config_text("[s]\npath = /srv\nusers = alice, bob carol\n", "smbxd.conf");
  REQUIRE(config);
  CHECK(config->shares[0].users == std::vector<std::string>{"alice", "bob", "carol"});
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

TEST_CASE("a config file gives the same settings as the flags") {
  auto config = parse_config_text(R"(# smbxd test configuration
[global]
   listen = 127.0.0.2:4455
   user = alice:se:cret
   User = bob:pw
   log level = debug
   state dir = /var/lib/smbxd
   control = /run/smbxd.sock
   break timeout = 2000

; a share
[Data]
   path = /srv/data
   encrypt = yes
   read only = no
[pub]
path=/srv/pub
Read Only = Yes
)",
                                  "test.conf");
  REQUIRE(config);
  CHECK(config->listen_address == "127.0.0.2");
  CHECK(config->port == 4455);
  REQUIRE(config->users.size() == 2);
  CHECK(config->users[0].user == "alice");
  CHECK(config->users[0].password == "se:cret");
  CHECK(config->log_level == "debug");
  CHECK(config->state_dir == "/var/lib/smbxd");
  CHECK(config->control_socket == "/run/smbxd.sock");
  CHECK(config->break_timeout_ms == 2000);
  REQUIRE(config->shares.size() == 2);
  CHECK(config->shares[0].name == "Data");
  CHECK(config->shares[0].path == "/srv/data");
  CHECK(config->shares[0].encrypt);
  CHECK_FALSE(config->shares[0].readonly);
  CHECK(config->shares[1].readonly);
  CHECK_FALSE(config->shares[1].encrypt);
}

TEST_CASE("config file errors name the file and the line") {
  auto error_of = [](std::string_view text) {
    auto config = parse_config_text(text, "smbxd.conf");
    REQUIRE_FALSE(config);
    return config.error().detail;
  };
  CHECK(error_of("[global]\nlisten = 127.0.0.1:99999\n").rfind("smbxd.conf:2: ", 0) == 0);
  CHECK(error_of("[global]\n\nbogus = 1\n") ==
        "smbxd.conf:3: unknown [global] parameter 'bogus' (listen, user, log level, state dir, control, break timeout)");
  CHECK(error_of("path = /x\n") == "smbxd.conf:1: 'path' is outside any section");
  CHECK(error_of("[s]\npath = /x\nencrypt = maybe\n") == "smbxd.conf:3: encrypt = 'maybe': expected yes or no");
  CHECK(error_of("[s\n") == "smbxd.conf:1: section header '[s' has no closing ']'");
  CHECK(error_of("[global]\njust words\n") == "smbxd.conf:2: expected 'key = value', got 'just words'");
  CHECK(error_of("[a]\npath = /a\n[b]\nencrypt = no\n") == "smbxd.conf:3: share [b] has no path");
  CHECK(error_of("[a]\npath = /a\n[A]\npath = /b\n") == "smbxd.conf:3: share [A] is defined twice");
  CHECK(error_of("[a b]\npath = /a\n").find("has a character clients cannot use") != std::string::npos);
  CHECK(error_of("[global]\nlog level = loud\n") == "smbxd.conf:2: log level 'loud': expected error, warn, info or debug");
  CHECK(error_of("[global]\nuser = nocolon\n") == "smbxd.conf:2: user: expected USER:PASSWORD");
  CHECK(error_of("[s]\nfoo = 1\n") == "smbxd.conf:2: unknown share parameter 'foo' (path, encrypt, read only, continuously available, users)");
}

TEST_CASE("flags override the config file") {
  auto config = parse_config_text("[global]\nuser = alice:old\n[data]\npath = /old\n", "f");
  REQUIRE(config);
  merge_share(*config, ShareConfig{"DATA", "/new", true, false, false, {}});
  merge_share(*config, ShareConfig{"other", "/o", false, true, false, {}});
  merge_user(*config, UserConfig{"Alice", "new"});
  REQUIRE(config->shares.size() == 2);
  CHECK(config->shares[0].path == "/new");
  CHECK(config->shares[0].encrypt);
  REQUIRE(config->users.size() == 1);
  CHECK(config->users[0].password == "new");
  auto missing = load_config_file("/nonexistent/smbxd.conf");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().detail.rfind("/nonexistent/smbxd.conf: cannot open: ", 0) == 0);
}
