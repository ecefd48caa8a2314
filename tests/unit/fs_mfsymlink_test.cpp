#include <doctest/doctest.h>

#include <string>

#include "fs/mfsymlink.hpp"

using smbx::fs::decode_mfsymlink;
using smbx::fs::encode_mfsymlink;
using smbx::fs::kMfSymlinkFileSize;

namespace {
std::vector<std::uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }
std::string text(const std::vector<std::uint8_t>& b) { return {b.begin(), b.end()}; }
}  // namespace

TEST_CASE("mfsymlink: the layout Linux cifs writes") {
  auto file = encode_mfsymlink("target");
  REQUIRE(file);
  REQUIRE(file->size() == kMfSymlinkFileSize);
  const auto s = text(*file);
  CHECK(s.substr(0, 10) == "XSym\n0006\n");
  CHECK(s.substr(42, 1) == "\n");
  CHECK(s.substr(43, 7) == "target\n");
  CHECK(s.find_first_not_of(' ', 50) == std::string::npos);
  // md5 of "target" (python3 hashlib), lowercase hex as cifs prints it (%*phN).
  CHECK(s.substr(10, 32) == "42aefbae01d2dfd981f7da7d823d689e");
}

TEST_CASE("mfsymlink: round trip") {
  for (std::string target :
       {std::string{"a"}, std::string{"../dir/file name"}, std::string(1024, 'x'), std::string(1023, 'y')}) {
    auto file = encode_mfsymlink(target);
    REQUIRE(file);
    CHECK(file->size() == kMfSymlinkFileSize);
    auto back = decode_mfsymlink(*file);
    REQUIRE(back);
    CHECK(*back == target);
  }
}

TEST_CASE("mfsymlink: targets that cannot be stored") {
  CHECK_FALSE(encode_mfsymlink(""));
  CHECK_FALSE(encode_mfsymlink(std::string(1025, 'x')));
}

TEST_CASE("mfsymlink: malformed files are ordinary files") {
  auto good = *encode_mfsymlink("some/where");
  REQUIRE(decode_mfsymlink(good));

  SUBCASE("wrong size") {
    auto shorter = good;
    shorter.pop_back();
    CHECK_FALSE(decode_mfsymlink(shorter));
    auto longer = good;
    longer.push_back(' ');
    CHECK_FALSE(decode_mfsymlink(longer));
    CHECK_FALSE(decode_mfsymlink({}));
  }
  SUBCASE("bad magic") {
    auto f = good;
    f[0] = 'x';
    CHECK_FALSE(decode_mfsymlink(f));
  }
  SUBCASE("bad md5") {
    auto f = good;
    f[10] = f[10] == 'a' ? 'b' : 'a';
    CHECK_FALSE(decode_mfsymlink(f));
  }
  SUBCASE("target changed under the md5") {
    auto f = good;
    f[43] = 'S';
    CHECK_FALSE(decode_mfsymlink(f));
  }
  SUBCASE("bad length") {
    auto f = good;
    f[8] = '9';  // 0019: md5 no longer matches the longer target
    CHECK_FALSE(decode_mfsymlink(f));
    auto zero = good;
    for (int i = 5; i < 9; ++i) zero[static_cast<std::size_t>(i)] = '0';
    CHECK_FALSE(decode_mfsymlink(zero));
    auto huge = good;
    huge[5] = '9';  // 9010 > 1024
    CHECK_FALSE(decode_mfsymlink(huge));
  }
  SUBCASE("non-digit length") {
    auto f = good;
    f[6] = 'a';
    CHECK_FALSE(decode_mfsymlink(f));
    auto sign = good;
    sign[5] = '-';
    CHECK_FALSE(decode_mfsymlink(sign));
  }
  SUBCASE("missing separators") {
    auto f = good;
    f[9] = ' ';
    CHECK_FALSE(decode_mfsymlink(f));
    auto g = good;
    g[42] = ' ';
    CHECK_FALSE(decode_mfsymlink(g));
  }
  SUBCASE("uppercase hex from other clients is accepted") {
    auto f = good;
    for (std::size_t i = 10; i < 42; ++i)
      if (f[i] >= 'a' && f[i] <= 'f') f[i] = static_cast<std::uint8_t>(f[i] - 'a' + 'A');
    auto back = decode_mfsymlink(f);
    REQUIRE(back);
    CHECK(*back == "some/where");
  }
  SUBCASE("plain text of the right size") {
    CHECK_FALSE(decode_mfsymlink(bytes(std::string(kMfSymlinkFileSize, 'A'))));
  }
}
