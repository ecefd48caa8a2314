#include <doctest/doctest.h>

#include <string>

#include "smbx/url.hpp"

using namespace smbx;

TEST_CASE("a full smb URL yields domain, user, host, port, share and path") {
  auto url = parse_smb_url("smb://TESTDOM;alice@fs1.example.com:4455/projects/2026/report.docx");
  REQUIRE(url);
  CHECK(url->domain == "TESTDOM");
  CHECK(url->user == "alice");
  CHECK(url->host == "fs1.example.com");
  REQUIRE(url->port);
  CHECK(*url->port == 4455);
  CHECK(url->share == "projects");
  CHECK(url->path == "2026/report.docx");
  CHECK_FALSE(url->trailing_slash);
}

TEST_CASE("the user, domain, port and path are optional") {
  auto url = parse_smb_url("smb://127.0.0.1/plain");
  REQUIRE(url);
  CHECK(url->user.empty());
  CHECK(url->domain.empty());
  CHECK_FALSE(url->port);
  CHECK(url->share == "plain");
  CHECK(url->path.empty());
}

TEST_CASE("a trailing slash marks a directory and repeated slashes collapse") {
  auto url = parse_smb_url("smb://bob@h/s//a///b/");
  REQUIRE(url);
  CHECK(url->path == "a/b");
  CHECK(url->trailing_slash);
}

TEST_CASE("percent escapes are decoded in user, domain and path") {
  auto url = parse_smb_url("smb://MY%20DOM;a%40b@h/share/with%20space.txt");
  REQUIRE(url);
  CHECK(url->domain == "MY DOM");
  CHECK(url->user == "a@b");
  CHECK(url->path == "with space.txt");
}

TEST_CASE("an IPv6 host goes in brackets and may carry a port") {
  auto url = parse_smb_url("smb://u@[::1]:445/s/f");
  REQUIRE(url);
  CHECK(url->host == "::1");
  CHECK(*url->port == 445);
  CHECK(url->to_string() == "smb://u@[::1]:445/s/f");
}

TEST_CASE("bad URLs are refused with a usage error that says why") {
  struct Bad {
    const char* text;
    const char* why;  // a word the message must contain
  };
  for (const Bad& bad : {
           Bad{"http://h/s", "smb://"},            // another scheme
           Bad{"SMB://h/s", "smb://"},             // the scheme is lower case
           Bad{"smb:/h/s", "smb://"},              // one slash
           Bad{"smb://u:pw@h/s", "password"},      // passwords never go in URLs
           Bad{"smb:///s", "host"},                // no host
           Bad{"smb://u@/s", "host"},              // no host after the user
           Bad{"smb://h:/s", "port"},              // empty port
           Bad{"smb://h:0/s", "port"},             // port 0
           Bad{"smb://h:65536/s", "port"},         // one past the largest port
           Bad{"smb://h:44x/s", "port"},           // not a number
           Bad{"smb://;u@h/s", "domain"},          // empty domain
           Bad{"smb://d;@h/s", "user"},            // empty user
           Bad{"smb://h/s/../etc", "'..'"},        // no climbing out of the share
           Bad{"smb://h/s/./f", "'.'"},            // nor '.'
           Bad{"smb://h/s/f?x=1", "query"},        // queries mean nothing here
           Bad{"smb://h/s/f#frag", "fragment"},    // nor fragments
           Bad{"smb://h/s/%zz", "escape"},         // broken escape
           Bad{"smb://h/s/%0a", "control"},        // an escaped newline
           Bad{"smb://h/s/%4", "escape"},          // truncated escape
           Bad{"smb://ho st/s", "host name"},      // a space in the host
           Bad{"smb://[::1/s", "']'"},             // unclosed IPv6 bracket
           Bad{"smb://[zz]/s", "IPv6"},            // not an IPv6 address
           Bad{"smb://h//f", "share"},             // empty share name with a path
           Bad{"smb://h/sh:are/f", "share name"},  // ':' cannot be in a share name
           Bad{"smb://a@b@h/s", "'@'"},            // a raw '@' in the user name
       }) {
    CAPTURE(bad.text);
    auto url = parse_smb_url(bad.text);
    REQUIRE_FALSE(url);
    CHECK(url.error().kind == ErrorKind::usage);
    const auto message = describe(url.error());
    CAPTURE(message);
    CHECK(message.find(bad.why) != std::string::npos);
    CHECK(message.find(bad.text) != std::string::npos);
  }
}
