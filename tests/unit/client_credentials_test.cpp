#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "smbx/credentials.hpp"

using namespace smbx;

TEST_CASE("a mount.cifs credentials file gives username, password and domain") {
  auto c = parse_credentials("username=alice\npassword=s3cret pass=\ndomain=TESTDOM\n");
  REQUIRE(c);
  CHECK(*c->username == "alice");
  CHECK(*c->password == "s3cret pass=");  // spaces and '=' belong to the value
  CHECK(*c->domain == "TESTDOM");
}

TEST_CASE("the short keys, CRLF line ends, comments and blank lines are accepted") {
  auto c = parse_credentials("# for the backup job\r\n\r\nuser=bob\r\npass=pw\r\ndom=D\r\n");
  REQUIRE(c);
  CHECK(*c->username == "bob");
  CHECK(*c->password == "pw");  // the '\r' is not part of the password
  CHECK(*c->domain == "D");
}

TEST_CASE("DOMAIN/user and DOMAIN\\user in username set the domain") {
  for (const char* text : {"username=CORP/carol\n", "username=CORP\\carol\n"}) {
    CAPTURE(text);
    auto c = parse_credentials(text);
    REQUIRE(c);
    CHECK(*c->username == "carol");
    CHECK(*c->domain == "CORP");
  }
}

TEST_CASE("a file without a final newline and without a password leaves the password unset") {
  auto c = parse_credentials("username=dave");
  REQUIRE(c);
  CHECK(*c->username == "dave");
  CHECK_FALSE(c->password);
  CHECK_FALSE(c->domain);
}

TEST_CASE("an unknown key or a line without '=' is refused with its line number") {
  for (const auto& [text, line] : {std::pair{"username=a\npasswd=x\n", "line 2"},
                                   std::pair{"username=a\n\njust text\n", "line 3"}}) {
    CAPTURE(text);
    auto c = parse_credentials(text);
    REQUIRE_FALSE(c);
    CHECK(c.error().kind == ErrorKind::usage);
    CHECK(describe(c.error()).find(line) != std::string::npos);
  }
}

TEST_CASE("reading a credentials file that does not exist names the file") {
  auto c = read_credentials_file("/nonexistent/smbx-credentials");
  REQUIRE_FALSE(c);
  CHECK(describe(c.error()).find("/nonexistent/smbx-credentials") != std::string::npos);
}

TEST_CASE("a credentials file on disk is read whole") {
  char path[] = "/tmp/smbx-cred-test-XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  {
    std::ofstream out{path};
    out << "username=erin\npassword=pw with spaces \n";
  }
  auto c = read_credentials_file(path);
  std::remove(path);
  REQUIRE(c);
  CHECK(*c->username == "erin");
  CHECK(*c->password == "pw with spaces ");
}
