// The settings of smbxd's state store: the `ca` share option and --state-dir
// (src/server/config.hpp, man/smbxd.8).
#include <doctest/doctest.h>

#include "server/config.hpp"

using namespace smbx;
using namespace smbx::server;

TEST_CASE("state store config: ',ca' marks a share continuously available") {
  auto plain = parse_share_spec("data=/srv/data");
  REQUIRE(plain);
  CHECK_FALSE(plain->continuously_available);
  auto ca = parse_share_spec("data=/srv/data,ca");
  REQUIRE(ca);
  CHECK(ca->continuously_available);
  CHECK_FALSE(ca->encrypt);
  auto all = parse_share_spec("data=/srv/data,encrypt,ca,readonly");
  REQUIRE(all);
  CHECK(all->continuously_available);
  CHECK(all->encrypt);
  CHECK(all->readonly);
  auto bad = parse_share_spec("data=/srv/data,CA2");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().detail.find("ca") != std::string::npos);
}

TEST_CASE("state store config: 'continuously available = yes' in a share section") {
  auto config = parse_config_text(
      "[global]\nuser = a:b\nstate dir = /var/lib/smbxd\n"
      "[ha]\npath = /srv/ha\ncontinuously available = yes\n"
      "[plain]\npath = /srv/plain\nContinuously_Available = no\n",
      "test.conf");
  REQUIRE(config);
  CHECK(config->state_dir == "/var/lib/smbxd");
  REQUIRE(config->shares.size() == 2);
  CHECK(config->shares[0].continuously_available);
  CHECK_FALSE(config->shares[1].continuously_available);
  CHECK(check_config(*config));

  auto bad = parse_config_text("[ha]\npath = /srv/ha\ncontinuously available = maybe\n", "test.conf");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().detail == "test.conf:3: continuously available = 'maybe': expected yes or no");
}

TEST_CASE("state store config: a ca share without a state dir is refused, naming the share") {
  ServerConfig config;
  config.shares.push_back(*parse_share_spec("plain=/srv/plain"));
  CHECK(check_config(config));
  config.shares.push_back(*parse_share_spec("ha=/srv/ha,ca"));
  auto refused = check_config(config);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().detail.find("share ha") != std::string::npos);
  CHECK(refused.error().detail.find("--state-dir") != std::string::npos);
  config.state_dir = "/var/lib/smbxd";
  CHECK(check_config(config));
}
