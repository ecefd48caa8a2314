// The pure helpers that Share and Files share (src/client/ops.hpp).
#include <doctest/doctest.h>

#include "client/ops.hpp"

using namespace smbx;

TEST_CASE("smb_path: '/' becomes '\\', doubled and trailing separators go, the root is empty") {
  CHECK(client::smb_path("dir/sub/file.txt") == u"dir\\sub\\file.txt");
  CHECK(client::smb_path("/dir//sub/") == u"dir\\sub");
  CHECK(client::smb_path("a\\b") == u"a\\b");
  CHECK(client::smb_path("") == u"");
  CHECK(client::smb_path("/") == u"");
  CHECK(client::smb_path("caf\xc3\xa9") == u"caf\u00e9");
}

TEST_CASE("base_name: the last component of either separator") {
  CHECK(client::base_name("dir/sub/file.txt") == "file.txt");
  CHECK(client::base_name("dir\\x") == "x");
  CHECK(client::base_name("dir/sub/") == "sub");
  CHECK(client::base_name("plain") == "plain");
  CHECK(client::base_name("") == "");
}

TEST_CASE("FileId <-> 16 wire bytes: Persistent then Volatile, little-endian (MS-SMB2 2.2.14.1)") {
  const wire::FileId id{.persistent = 0x0102030405060708, .volatile_id = 0x1112131415161718};
  const auto bytes = client::file_id_bytes(id);
  const std::array<std::uint8_t, 16> expected{0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
                                              0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11};
  CHECK(bytes == expected);
  CHECK(client::file_id_from_bytes(bytes) == id);
  CHECK(client::file_id_from_bytes(client::file_id_bytes(wire::FileId::related())) == wire::FileId::related());
}

TEST_CASE("info_from_all: links and the index number come from FileAllInformation") {
  wire::fscc::FileAllInformation all;
  all.basic_information.file_attributes = 0x20;
  all.basic_information.last_write_time = 42;
  all.standard_information.end_of_file = 1000;
  all.standard_information.allocation_size = 4096;
  all.standard_information.number_of_links = 2;
  all.internal_information.index_number = 77;
  const auto info = client::info_from_all("f.txt", all);
  CHECK(info.name == "f.txt");
  CHECK(info.size == 1000);
  CHECK(info.allocation_size == 4096);
  CHECK(info.links == 2);
  CHECK(info.file_index == 77);
  CHECK(info.last_write_time == 42);
  CHECK_FALSE(info.is_directory());
}
