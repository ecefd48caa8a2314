// MS-FSCC extended attribute lists (wire/fscc_ea.cpp): FILE_GET_EA_INFORMATION
// chains, the EaSize of FILE_FULL_EA_INFORMATION chains, and EaName rules.
#include <doctest/doctest.h>

#include <string>

#include "support/test_data.hpp"
#include "support/wire_errors.hpp"
#include "wire/bytes.hpp"
#include "wire/fscc.hpp"

using namespace smbx;
using namespace smbx::wire;
using namespace smbx::wire::fscc;
using smbx::test::failed_with;

namespace {

// Two names, "EAONE" and "B": NextEntryOffset 12 (5 + 5 + NUL = 11, padded
// to 12), EaNameLength, name, NUL; the last entry unpadded.
constexpr const char* kTwoNames = "0c000000 05 45414f4e4500 00  00000000 01 4200";

Bytes encoded(const FileGetEaInformation& m) {
  Bytes out;
  Writer w{out};
  encode(w, m);
  return out;
}

}  // namespace

TEST_CASE("a FILE_GET_EA_INFORMATION list decodes and re-encodes 4-aligned") {
  const auto bytes = test::hex(kTwoNames);
  auto list = decode_file_get_ea_information(bytes);
  REQUIRE(list);
  REQUIRE(list->names.size() == 2);
  CHECK(list->names[0] == "EAONE");
  CHECK(list->names[1] == "B");
  CHECK(to_hex(encoded(*list)) == to_hex(bytes));
  CHECK(decode_file_get_ea_information({})->names.empty());
}

TEST_CASE("a FILE_GET_EA_INFORMATION list that overruns or lacks a NUL is refused") {
  const auto bytes = test::hex(kTwoNames);
  // Cut anywhere inside a header or a name: refused; cut right after the
  // last name (its NUL gone) still names it.
  for (std::size_t n = 1; n < bytes.size(); ++n) {
    CAPTURE(n);
    auto r = decode_file_get_ea_information(ByteView{bytes}.first(n));
    if (n == bytes.size() - 1) {
      REQUIRE(r);
      CHECK(r->names.back() == "B");
    } else {
      CHECK_FALSE(r);
    }
  }
  auto long_name = bytes;
  long_name[4] = 200;  // EaNameLength past the 12-byte entry
  CHECK(failed_with(decode_file_get_ea_information(long_name), WireError::truncated));
  auto no_nul = bytes;
  no_nul[10] = 'x';
  CHECK(failed_with(decode_file_get_ea_information(no_nul), WireError::bad_value));
  auto backwards = bytes;
  backwards[0] = 0x40;  // NextEntryOffset past the end
  CHECK(failed_with(decode_file_get_ea_information(backwards), WireError::bad_offset));
}

TEST_CASE("EaSize is the size of the FILE_FULL_EA_INFORMATION chain, as encode() writes it") {
  const Bytes v1{'V', 'A', 'L', 'U', 'E', '1'};
  const Bytes v2{'V', 'a', 'l', 'u', 'e', 'T', 'w', 'o'};
  FileFullEaInformation eas;
  CHECK(full_ea_chain_size(eas) == 0);
  eas.entries.push_back(FullEaEntry{0, "EAONE", v1});
  // 8 + 5 + 1 + 6 = 20: no padding after the last entry.
  CHECK(full_ea_entry_size(5, 6) == 20);
  CHECK(full_ea_chain_size(eas) == 20);
  eas.entries.push_back(FullEaEntry{0, "SECONDEA", v2});
  // 20, then 8 + 8 + 1 + 8 = 25 at offset 20.
  CHECK(full_ea_chain_size(eas) == 45);
  Bytes out;
  Writer w{out};
  encode(w, eas);
  CHECK(out.size() == 45);
  eas.entries.insert(eas.entries.begin(), FullEaEntry{0, "A", v1});  // 8 + 1 + 1 + 6 = 16: aligned already
  Bytes out3;
  Writer w3{out3};
  encode(w3, eas);
  CHECK(full_ea_chain_size(eas) == out3.size());
  CHECK(full_ea_chain_size(eas) == 16 + 20 + 25);
}

TEST_CASE("EA names: 1-255 bytes without control characters or the characters Windows refuses") {
  CHECK(valid_ea_name("EAONE"));
  CHECK(valid_ea_name("user.with.dots"));
  CHECK(valid_ea_name(std::string(255, 'a')));
  CHECK_FALSE(valid_ea_name(""));
  CHECK_FALSE(valid_ea_name(std::string(256, 'a')));
  for (const char c : std::string{"\"*+,/:;<=>?[\\]|"}) {
    CAPTURE(c);
    CHECK_FALSE(valid_ea_name(std::string{"a"} + c + "b"));
  }
  CHECK_FALSE(valid_ea_name(std::string{"a\tb"}));
  CHECK_FALSE(valid_ea_name(std::string{"a\0b", 3}));
}

TEST_CASE("EA names compare ignoring ASCII case, and only ASCII case") {
  CHECK(equal_ascii_ci("user.Comment", "USER.comment"));
  CHECK(equal_ascii_ci("", ""));
  CHECK_FALSE(equal_ascii_ci("user.a", "user.b"));
  CHECK_FALSE(equal_ascii_ci("user.a", "user.ab"));
  // '@' and '`' differ by 0x20 too, as do Latin-1's \xC4 and \xE4: not letters of ASCII.
  CHECK_FALSE(equal_ascii_ci("@", "`"));
  CHECK_FALSE(equal_ascii_ci("\xC4", "\xE4"));
}
