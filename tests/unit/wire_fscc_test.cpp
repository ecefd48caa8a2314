#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "support/test_data.hpp"
#include "unit/wire_info_captures.hpp"
#include "wire/create.hpp"
#include "wire/fscc.hpp"
#include "wire/query_directory.hpp"
#include "wire/query_info.hpp"

using namespace smbx;
using namespace smbx::wire;
using namespace smbx::wire::fscc;
using namespace smbx::test::info;

namespace {

constexpr const char* kOps = "smb311-signed-ops.frames";
constexpr std::uint8_t kIdBoth = file_info_class::file_id_both_directory_information;

// The output buffer of a captured QUERY_DIRECTORY or QUERY_INFO response, copied.
Bytes response_buffer(const std::string& file, Command command, std::size_t line) {
  const auto m = captured_at(file, command, line);
  auto buffer = command == Command::query_directory ? decode_query_directory_response(m.bytes).transform(
                                                          [](const QueryDirectoryResponse& r) { return r.output_buffer; })
                                                    : decode_query_info_response(m.bytes).transform(
                                                          [](const QueryInfoResponse& r) { return r.output_buffer; });
  REQUIRE(buffer);
  return Bytes(buffer->begin(), buffer->end());
}

template <typename T>
Bytes encoded(const T& m) {
  Bytes out;
  Writer w{out};
  encode(w, m);
  return out;
}

std::vector<std::u16string> names_of(const std::vector<DirectoryEntry>& entries) {
  std::vector<std::u16string> names;
  for (const auto& e : entries) names.push_back(e.file_name);
  return names;
}

constexpr std::uint8_t kDirectoryClasses[] = {
    file_info_class::file_directory_information,         file_info_class::file_full_directory_information,
    file_info_class::file_both_directory_information,    file_info_class::file_names_information,
    file_info_class::file_id_both_directory_information, file_info_class::file_id_full_directory_information,
};

// What a class carries of a full entry: the rest decodes as zero.
DirectoryEntry as_carried_by(std::uint8_t cls, DirectoryEntry e) {
  using namespace file_info_class;
  DirectoryEntry kept;
  kept.file_index = e.file_index;
  kept.file_name = e.file_name;
  if (cls == file_names_information) return kept;
  kept = e;
  if (cls == file_directory_information) kept.ea_size = 0;
  if (cls != file_both_directory_information && cls != file_id_both_directory_information) kept.short_name.clear();
  if (cls != file_id_both_directory_information && cls != file_id_full_directory_information) kept.file_id = 0;
  return kept;
}

std::vector<DirectoryEntry> sample_entries() {
  DirectoryEntry a;
  a.file_index = 7;
  a.creation_time = 1;
  a.last_access_time = 2;
  a.last_write_time = 3;
  a.change_time = 4;
  a.end_of_file = 5;
  a.allocation_size = 4096;
  a.file_attributes = file_attributes::archive;
  a.ea_size = 9;
  a.short_name = u"LONGNA~1.TXT";
  a.file_id = 0x0102030405060708;
  a.file_name = u"long name.txt";
  DirectoryEntry b = a;
  b.file_attributes = file_attributes::directory;
  b.short_name.clear();
  b.file_name = u"\u00e9t\u00e9";  // non-ASCII survives as UTF-16
  return {a, b};
}

}  // namespace

// ---- directory classes against Samba's listings ----

TEST_CASE("the captured root listing names ., .., d1, hello.txt and payload.bin with their sizes and ids") {
  const auto buffer = response_buffer(kOps, Command::query_directory, 42);
  auto entries = decode_file_id_both_directory_information(buffer);
  REQUIRE(entries);
  REQUIRE(names_of(*entries) == std::vector<std::u16string>{u".", u"..", u"d1", u"hello.txt", u"payload.bin"});
  const auto& d1 = (*entries)[2];
  const auto& hello = (*entries)[3];
  const auto& payload = (*entries)[4];
  CHECK((d1.file_attributes & file_attributes::directory) != 0);
  CHECK(hello.end_of_file == 11);  // tests/data/captures/hello.txt
  CHECK(hello.allocation_size == 4096);
  CHECK(hello.file_attributes == file_attributes::archive);
  CHECK(payload.end_of_file == 200000);
  CHECK(payload.allocation_size == 200704);
  CHECK(payload.file_id == 0xa7215e);
  CHECK(payload.short_name.empty());  // Samba does not make 8.3 names
  CHECK(unix_time_from_filetime((*entries)[0].creation_time) == 1795527778);  // 2026-11-24 13:42:58 UTC
}

TEST_CASE("the captured listing of d1 after the rename holds h.txt with hello.txt's id and size") {
  const auto root = decode_file_id_both_directory_information(response_buffer(kOps, Command::query_directory, 42));
  const auto d1 = decode_file_id_both_directory_information(response_buffer(kOps, Command::query_directory, 74));
  REQUIRE(root);
  REQUIRE(d1);
  REQUIRE(names_of(*d1) == std::vector<std::u16string>{u".", u"..", u"h.txt"});
  CHECK((*d1)[2].file_id == (*root)[3].file_id);  // a rename keeps the inode
  CHECK((*d1)[2].end_of_file == 11);
  CHECK((*d1)[0].file_id == (*root)[2].file_id);  // d1's "." is the d1 of the root
}

TEST_CASE("every captured directory listing re-encodes to Samba's bytes, 8-aligned entries and all") {
  struct Listing {
    const char* file;
    std::size_t line;
  };
  for (auto listing : {Listing{kOps, 42}, Listing{kOps, 62}, Listing{kOps, 74}, Listing{"smb302-signed.frames", 28}}) {
    CAPTURE(listing.file);
    CAPTURE(listing.line);
    const auto buffer = response_buffer(listing.file, Command::query_directory, listing.line);
    auto entries = decode_directory_entries(kIdBoth, buffer);
    REQUIRE(entries);
    Bytes out;
    Writer w{out};
    CHECK(encode_directory_entries(w, kIdBoth, *entries, buffer.size()) == entries->size());
    CHECK(out == buffer);
  }
}

TEST_CASE("the directory encoder stops before the entry that would not fit the output buffer") {
  const auto buffer = response_buffer(kOps, Command::query_directory, 42);
  const auto entries = decode_file_id_both_directory_information(buffer);
  REQUIRE(entries);
  // Entries start at 0, 112, 224, 336 and 464; the fourth (hello.txt) ends at 336 + 104 + 18 = 458.
  struct Case {
    std::size_t max_length, written, bytes;
  };
  for (auto c : {Case{590, 5, 590}, Case{589, 4, 458}, Case{458, 4, 458}, Case{457, 3, 332}, Case{106, 1, 106},
                 Case{105, 0, 0}, Case{0, 0, 0}}) {
    CAPTURE(c.max_length);
    Bytes out{0xAB};  // the encoder appends after whatever is there
    Writer w{out};
    CHECK(encode_directory_entries(w, kIdBoth, *entries, c.max_length) == c.written);
    REQUIRE(out.size() == 1 + c.bytes);
    if (c.written == 0) continue;
    auto back = decode_file_id_both_directory_information(ByteView{out}.subspan(1));
    REQUIRE(back);
    CHECK(back->size() == c.written);
    CHECK(std::equal(back->begin(), back->end(), entries->begin()));
  }
}

TEST_CASE("every directory class keeps its own fields through encode and decode") {
  const auto entries = sample_entries();
  for (std::uint8_t cls : kDirectoryClasses) {
    CAPTURE(int{cls});
    Bytes out;
    Writer w{out};
    REQUIRE(encode_directory_entries(w, cls, entries, std::numeric_limits<std::size_t>::max()) == 2);
    const std::size_t first_size = directory_entry_fixed_size(cls) + 26;
    CHECK(load_le32(out.data()) == (first_size + 7) / 8 * 8);  // NextEntryOffset padded to 8
    CHECK(out.size() == (first_size + 7) / 8 * 8 + directory_entry_fixed_size(cls) + 6);
    auto back = decode_directory_entries(cls, out);
    REQUIRE(back);
    REQUIRE(back->size() == 2);
    CHECK((*back)[0] == as_carried_by(cls, entries[0]));
    CHECK((*back)[1] == as_carried_by(cls, entries[1]));
  }
}

TEST_CASE("directory entry layouts put FileName where MS-FSCC says") {
  struct Case {
    std::uint8_t cls;
    std::size_t file_name_at;
  };
  for (auto c : {Case{file_info_class::file_directory_information, 64},
                 Case{file_info_class::file_full_directory_information, 68},
                 Case{file_info_class::file_both_directory_information, 94},
                 Case{file_info_class::file_names_information, 12},
                 Case{file_info_class::file_id_both_directory_information, 104},
                 Case{file_info_class::file_id_full_directory_information, 80}}) {
    CAPTURE(int{c.cls});
    const std::vector<DirectoryEntry> one{sample_entries()[0]};
    Bytes out;
    Writer w{out};
    REQUIRE(encode_directory_entries(w, c.cls, one, 4096) == 1);
    REQUIRE(out.size() == c.file_name_at + 26);
    CHECK(utf16_from_le_bytes(ByteView{out}.subspan(c.file_name_at)) == u"long name.txt");
    if (c.cls == file_info_class::file_id_both_directory_information)
      CHECK(load_le64(&out[96]) == 0x0102030405060708);
    if (c.cls == file_info_class::file_id_full_directory_information)
      CHECK(load_le64(&out[72]) == 0x0102030405060708);
  }
}

// ---- directory bounds ----

TEST_CASE("a directory entry whose FileNameLength runs past the buffer is refused") {
  const std::vector<DirectoryEntry> one{sample_entries()[0]};  // a 26-byte name
  for (std::uint8_t cls : kDirectoryClasses) {
    const std::size_t fixed = directory_entry_fixed_size(cls);
    const std::size_t length_at = cls == file_info_class::file_names_information ? 8 : 60;
    for (std::uint32_t name_length : {0xFFFF'FFFFu,                                       // fixed + this wraps
                                      static_cast<std::uint32_t>(0x1'0000'0000 - fixed),  // wraps to exactly 0
                                      28u}) {  // one UTF-16 unit more than the 26 bytes there
      CAPTURE(int{cls});
      CAPTURE(name_length);
      Bytes out;
      Writer w{out};
      REQUIRE(encode_directory_entries(w, cls, one, 4096) == 1);
      store_le32(&out[length_at], name_length);
      CHECK(failed_with(decode_directory_entries(cls, out), WireError::truncated));
    }
  }
}

TEST_CASE("a directory entry whose name reaches into the next entry is refused") {
  auto buffer = response_buffer(kOps, Command::query_directory, 42);
  store_le32(&buffer[60], 10);  // ".": 104 + 10 = 114 bytes, but the next entry starts at 112
  CHECK(failed_with(decode_file_id_both_directory_information(buffer), WireError::truncated));
}

TEST_CASE("a NextEntryOffset past the buffer, at its end or too short for the entry is refused") {
  const auto good = response_buffer(kOps, Command::query_directory, 42);  // 590 bytes
  struct Case {
    std::uint32_t next;
    WireError why;
  };
  for (auto c : {Case{0xFFFF'FFFF, WireError::bad_offset},  // would wrap a 32-bit position
                 Case{591, WireError::bad_offset},          // one byte past the end
                 Case{590, WireError::truncated},           // the next entry would be empty
                 Case{587, WireError::truncated},           // 3 bytes left: not even a NextEntryOffset
                 Case{104, WireError::truncated},           // leaves no room for the name "."
                 Case{8, WireError::truncated},             // shorter than the fixed part
                 Case{1, WireError::truncated}}) {
    CAPTURE(c.next);
    Bytes bad = good;
    store_le32(&bad[0], c.next);
    CHECK(failed_with(decode_file_id_both_directory_information(bad), c.why));
  }
}

TEST_CASE("a NextEntryOffset that is not 8-aligned but leaves room for the entry is followed") {
  auto buffer = response_buffer(kOps, Command::query_directory, 42);
  const auto expected = decode_file_id_both_directory_information(buffer);
  REQUIRE(expected);
  buffer.erase(buffer.begin() + 106, buffer.begin() + 112);  // drop "."'s padding
  store_le32(&buffer[0], 106);
  auto entries = decode_file_id_both_directory_information(buffer);
  REQUIRE(entries);
  CHECK(*entries == *expected);
}

TEST_CASE("every prefix of a captured listing, the empty one included, is refused") {
  const auto buffer = response_buffer(kOps, Command::query_directory, 42);
  for (std::size_t n = 0; n < buffer.size(); ++n) {
    CAPTURE(n);
    CHECK_FALSE(decode_file_id_both_directory_information(ByteView{buffer}.first(n)));
  }
}

TEST_CASE("a ShortNameLength that does not fit the 24-byte ShortName as UTF-16 is refused") {
  for (int short_length : {26, 255, 3}) {
    CAPTURE(short_length);
    auto buffer = response_buffer(kOps, Command::query_directory, 62);
    buffer[68] = static_cast<std::uint8_t>(short_length);
    CHECK(failed_with(decode_file_id_both_directory_information(buffer), WireError::bad_length));
  }
}

TEST_CASE("a listing of a class that is not a directory class is refused, and not encoded") {
  const auto buffer = response_buffer(kOps, Command::query_directory, 62);
  CHECK(failed_with(decode_directory_entries(file_info_class::file_basic_information, buffer), WireError::bad_value));
  CHECK_FALSE(is_directory_class(file_info_class::file_all_information));
  Bytes out;
  Writer w{out};
  CHECK(encode_directory_entries(w, file_info_class::file_basic_information, sample_entries(), 4096) == 0);
  CHECK(out.empty());
}

// ---- file classes ----

TEST_CASE("the captured FileAllInformation of payload.bin decodes and re-encodes to Samba's bytes") {
  const auto buffer = response_buffer(kOps, Command::query_info, 30);
  auto all = decode_file_all_information(buffer);
  REQUIRE(all);
  CHECK(all->basic_information.file_attributes == file_attributes::archive);
  CHECK(all->basic_information.creation_time == 0x01dd7c19b7ae7efb);
  CHECK(all->standard_information.end_of_file == 200000);
  CHECK(all->standard_information.allocation_size == 200704);
  CHECK(all->standard_information.number_of_links == 1);
  CHECK_FALSE(all->standard_information.delete_pending);
  CHECK_FALSE(all->standard_information.directory);
  CHECK(all->internal_information.index_number == 0xa7215e);  // the FileId the listing shows
  CHECK(all->access_information.access_flags == 0x00120089);  // READ_DATA|READ_EA|READ_ATTRIBUTES|READ_CONTROL|SYNCHRONIZE
  CHECK(all->mode_information.mode == 0x20);                  // FILE_SYNCHRONOUS_IO_NONALERT
  CHECK(all->name_information.file_name == u"\\payload.bin");
  CHECK(encoded(*all) == buffer);
}

TEST_CASE("the captured FileFsSizeInformation decodes and re-encodes to Samba's bytes") {
  for (std::size_t line : {50u, 82u}) {
    CAPTURE(line);
    const auto buffer = response_buffer(kOps, Command::query_info, line);
    auto size = decode_file_fs_size_information(buffer);
    REQUIRE(size);
    CHECK(size->total_allocation_units == 0x0fbf8e74);
    CHECK(size->sectors_per_allocation_unit == 2);
    CHECK(size->bytes_per_sector == 512);
    CHECK(size->available_allocation_units < size->total_allocation_units);
    CHECK(encoded(*size) == buffer);
  }
}

TEST_CASE("the captured rename buffer re-encodes to Samba's 36 bytes, and a short name is padded to 24") {
  const auto set = captured_at(kOps, Command::set_info, 55);
  const ByteView buffer = ByteView{set.bytes}.subspan(96);
  auto rename = decode_file_rename_information(buffer);
  REQUIRE(rename);
  CHECK(encoded(*rename) == Bytes(buffer.begin(), buffer.end()));

  const auto short_name = encoded(FileRenameInformation{true, 0, u"x"});
  CHECK(to_hex(short_name) == to_hex(test::hex("01 00000000000000 0000000000000000 02000000 7800 0000")));
  auto back = decode_file_rename_information(short_name);
  REQUIRE(back);
  CHECK(*back == FileRenameInformation{true, 0, u"x"});
}

TEST_CASE("FileLinkInformation uses the rename layout") {
  const FileLinkInformation link{false, 0, u"d1\\hard.txt"};
  const auto bytes = encoded(link);
  CHECK(bytes == encoded(FileRenameInformation{false, 0, u"d1\\hard.txt"}));
  CHECK(load_le32(&bytes[16]) == 22);
  auto back = decode_file_link_information(bytes);
  REQUIRE(back);
  CHECK(*back == link);
}

TEST_CASE("a rename whose FileNameLength runs past the buffer, wraps or is odd is refused") {
  const auto good = encoded(FileRenameInformation{false, 0, u"d1\\h.txt"});  // 36 bytes
  struct Case {
    std::uint32_t length;
    WireError why;
  };
  for (auto c : {Case{0xFFFF'FFFF, WireError::truncated}, Case{0xFFFF'FFEC, WireError::truncated},  // 20 + this wraps to 0
                 Case{18, WireError::truncated}, Case{15, WireError::bad_length}}) {
    CAPTURE(c.length);
    Bytes bad = good;
    store_le32(&bad[16], c.length);
    CHECK(failed_with(decode_file_rename_information(bad), c.why));
  }
}

TEST_CASE("fixed-size file classes are laid out as MS-FSCC says") {
  CHECK(to_hex(encoded(FileBasicInformation{1, 2, 3, 4, file_attributes::archive})) ==
        to_hex(test::hex("0100000000000000 0200000000000000 0300000000000000 0400000000000000 20000000 00000000")));
  CHECK(to_hex(encoded(FileStandardInformation{4096, 11, 1, false, true})) ==
        to_hex(test::hex("0010000000000000 0b00000000000000 01000000 00 01 0000")));
  CHECK(to_hex(encoded(FileNetworkOpenInformation{1, 2, 3, 4, 4096, 11, file_attributes::readonly})) ==
        to_hex(test::hex("0100000000000000 0200000000000000 0300000000000000 0400000000000000"
                         "0010000000000000 0b00000000000000 01000000 00000000")));
  CHECK(to_hex(encoded(FileAttributeTagInformation{file_attributes::reparse_point, 0xA000000C})) ==
        to_hex(test::hex("00040000 0c0000a0")));
  CHECK(to_hex(encoded(FileCompressionInformation{300, 2, 16, 12, 9})) ==
        to_hex(test::hex("2c01000000000000 0200 10 0c 09 000000")));
  CHECK(to_hex(encoded(FileDispositionInformation{true})) == "01");
  CHECK(to_hex(encoded(FileDispositionInformationEx{disposition_flags::delete_file |
                                                    disposition_flags::posix_semantics})) == "03000000");
  CHECK(to_hex(encoded(FileEndOfFileInformation{200000})) == "400d030000000000");
  CHECK(to_hex(encoded(FileAllocationInformation{4096})) == "0010000000000000");
  CHECK(to_hex(encoded(FileNameInformation{u"\\a"})) == "040000005c006100");
}

TEST_CASE("every file class survives encode and decode") {
  CHECK(*decode_file_basic_information(encoded(FileBasicInformation{5, 6, 7, 8, 0x10})) ==
        FileBasicInformation{5, 6, 7, 8, 0x10});
  CHECK(*decode_file_standard_information(encoded(FileStandardInformation{1, 2, 3, true, false})) ==
        FileStandardInformation{1, 2, 3, true, false});
  CHECK(decode_file_internal_information(encoded(FileInternalInformation{42}))->index_number == 42);
  CHECK(decode_file_ea_information(encoded(FileEaInformation{8}))->ea_size == 8);
  CHECK(decode_file_access_information(encoded(FileAccessInformation{0x1F01FF}))->access_flags == 0x1F01FF);
  CHECK(decode_file_position_information(encoded(FilePositionInformation{77}))->current_byte_offset == 77);
  CHECK(decode_file_mode_information(encoded(FileModeInformation{0x20}))->mode == 0x20);
  CHECK(decode_file_alignment_information(encoded(FileAlignmentInformation{1}))->alignment_requirement == 1);
  CHECK(decode_file_name_information(encoded(FileNameInformation{u"\\dir\\f"}))->file_name == u"\\dir\\f");
  CHECK(*decode_file_network_open_information(encoded(FileNetworkOpenInformation{1, 2, 3, 4, 5, 6, 7})) ==
        FileNetworkOpenInformation{1, 2, 3, 4, 5, 6, 7});
  CHECK(*decode_file_attribute_tag_information(encoded(FileAttributeTagInformation{1, 2})) ==
        FileAttributeTagInformation{1, 2});
  CHECK(*decode_file_compression_information(encoded(FileCompressionInformation{1, 2, 3, 4, 5})) ==
        FileCompressionInformation{1, 2, 3, 4, 5});
  CHECK(decode_file_disposition_information(encoded(FileDispositionInformation{true}))->delete_pending);
  CHECK(decode_file_disposition_information_ex(encoded(FileDispositionInformationEx{0x11}))->flags == 0x11);
  CHECK(decode_file_end_of_file_information(encoded(FileEndOfFileInformation{9}))->end_of_file == 9);
  CHECK(decode_file_allocation_information(encoded(FileAllocationInformation{10}))->allocation_size == 10);
  FileAllInformation all;
  all.standard_information.directory = true;
  all.name_information.file_name = u"\\d1";
  CHECK(*decode_file_all_information(encoded(all)) == all);
}

TEST_CASE("every fixed-size class refuses a buffer one byte short of it") {
  struct Case {
    const char* name;
    std::size_t size;
    std::function<bool(ByteView)> decodes;
  };
  const Case cases[] = {
      {"FileBasicInformation", 40, [](ByteView b) { return bool(decode_file_basic_information(b)); }},
      {"FileStandardInformation", 24, [](ByteView b) { return bool(decode_file_standard_information(b)); }},
      {"FileInternalInformation", 8, [](ByteView b) { return bool(decode_file_internal_information(b)); }},
      {"FileEaInformation", 4, [](ByteView b) { return bool(decode_file_ea_information(b)); }},
      {"FileAccessInformation", 4, [](ByteView b) { return bool(decode_file_access_information(b)); }},
      {"FilePositionInformation", 8, [](ByteView b) { return bool(decode_file_position_information(b)); }},
      {"FileModeInformation", 4, [](ByteView b) { return bool(decode_file_mode_information(b)); }},
      {"FileAlignmentInformation", 4, [](ByteView b) { return bool(decode_file_alignment_information(b)); }},
      {"FileNameInformation", 4, [](ByteView b) { return bool(decode_file_name_information(b)); }},
      {"FileAllInformation", 100, [](ByteView b) { return bool(decode_file_all_information(b)); }},
      {"FileNetworkOpenInformation", 56, [](ByteView b) { return bool(decode_file_network_open_information(b)); }},
      {"FileAttributeTagInformation", 8, [](ByteView b) { return bool(decode_file_attribute_tag_information(b)); }},
      {"FileCompressionInformation", 16, [](ByteView b) { return bool(decode_file_compression_information(b)); }},
      {"FileRenameInformation", 20, [](ByteView b) { return bool(decode_file_rename_information(b)); }},
      {"FileLinkInformation", 20, [](ByteView b) { return bool(decode_file_link_information(b)); }},
      {"FileDispositionInformation", 1, [](ByteView b) { return bool(decode_file_disposition_information(b)); }},
      {"FileDispositionInformationEx", 4,
       [](ByteView b) { return bool(decode_file_disposition_information_ex(b)); }},
      {"FileEndOfFileInformation", 8, [](ByteView b) { return bool(decode_file_end_of_file_information(b)); }},
      {"FileAllocationInformation", 8, [](ByteView b) { return bool(decode_file_allocation_information(b)); }},
      {"FileFsVolumeInformation", 18, [](ByteView b) { return bool(decode_file_fs_volume_information(b)); }},
      {"FileFsSizeInformation", 24, [](ByteView b) { return bool(decode_file_fs_size_information(b)); }},
      {"FileFsDeviceInformation", 8, [](ByteView b) { return bool(decode_file_fs_device_information(b)); }},
      {"FileFsAttributeInformation", 12, [](ByteView b) { return bool(decode_file_fs_attribute_information(b)); }},
      {"FileFsFullSizeInformation", 32, [](ByteView b) { return bool(decode_file_fs_full_size_information(b)); }},
      {"FileFsSectorSizeInformation", 28,
       [](ByteView b) { return bool(decode_file_fs_sector_size_information(b)); }},
  };
  const Bytes zeros(128, 0);
  for (const auto& c : cases) {
    CAPTURE(c.name);
    CHECK(c.decodes(ByteView{zeros}.first(c.size)));  // all zero: empty names, so exactly the fixed part
    CHECK_FALSE(c.decodes(ByteView{zeros}.first(c.size - 1)));
  }
}

// ---- streams and EAs ----

namespace {
// "::$DATA" (11 bytes, 4096 allocated; 24 + 14 padded to 40), then ":meta:$DATA" (5, 8).
constexpr const char* kTwoStreams =
    "28000000 0e000000 0b00000000000000 0010000000000000 3a003a00240044004100540041000000"
    "00000000 16000000 0500000000000000 0800000000000000 3a006d006500740061003a0024004400410054004100";
// "user.a" = "xyz" (8 + 6 + NUL + 3 = 18, padded to 20), then "b" flagged FILE_NEED_EA with no value.
constexpr const char* kTwoEas =
    "14000000 00 06 0300 757365722e61 00 78797a 0000"
    "00000000 80 01 0000 62 00";
}  // namespace

TEST_CASE("a FileStreamInformation chain decodes and re-encodes 8-aligned") {
  const auto bytes = test::hex(kTwoStreams);
  auto streams = decode_file_stream_information(bytes);
  REQUIRE(streams);
  REQUIRE(streams->entries.size() == 2);
  CHECK(streams->entries[0] == StreamEntry{11, 4096, u"::$DATA"});
  CHECK(streams->entries[1] == StreamEntry{5, 8, u":meta:$DATA"});
  CHECK(to_hex(encoded(*streams)) == to_hex(bytes));
  auto none = decode_file_stream_information({});
  REQUIRE(none);
  CHECK(none->entries.empty());
  for (std::size_t n = 1; n < bytes.size(); ++n) {
    CAPTURE(n);
    CHECK_FALSE(decode_file_stream_information(ByteView{bytes}.first(n)));
  }
}

TEST_CASE("a FileStreamInformation StreamNameLength that runs past its entry is refused") {
  for (std::uint32_t length : {0xFFFF'FFFFu, 0xFFFF'FFE8u, 18u}) {  // wraps, wraps to 0, past the 40-byte entry
    CAPTURE(length);
    auto bytes = test::hex(kTwoStreams);
    store_le32(&bytes[4], length);
    CHECK(failed_with(decode_file_stream_information(bytes), WireError::truncated));
  }
}

TEST_CASE("a FileFullEaInformation chain decodes and re-encodes 4-aligned") {
  const auto bytes = test::hex(kTwoEas);
  auto eas = decode_file_full_ea_information(bytes);
  REQUIRE(eas);
  REQUIRE(eas->entries.size() == 2);
  CHECK(eas->entries[0].ea_name == "user.a");
  CHECK(std::string(eas->entries[0].ea_value.begin(), eas->entries[0].ea_value.end()) == "xyz");
  CHECK(eas->entries[1].flags == 0x80);
  CHECK(eas->entries[1].ea_name == "b");
  CHECK(eas->entries[1].ea_value.empty());
  CHECK(to_hex(encoded(*eas)) == to_hex(bytes));
  for (std::size_t n = 1; n < bytes.size(); ++n) {
    CAPTURE(n);
    CHECK_FALSE(decode_file_full_ea_information(ByteView{bytes}.first(n)));
  }
}

TEST_CASE("an EA whose name and value overrun the entry, or whose name lacks its NUL, is refused") {
  auto long_value = test::hex(kTwoEas);
  store_le16(&long_value[6], 6);  // 8 + 6 + 1 + 6 = 21 > the 20-byte entry
  CHECK(failed_with(decode_file_full_ea_information(long_value), WireError::truncated));
  auto long_name = test::hex(kTwoEas);
  long_name[5] = 255;
  CHECK(failed_with(decode_file_full_ea_information(long_name), WireError::truncated));
  auto no_nul = test::hex(kTwoEas);
  no_nul[14] = 'x';
  CHECK(failed_with(decode_file_full_ea_information(no_nul), WireError::bad_value));
}

// ---- file system classes ----

TEST_CASE("every file system class survives encode and decode") {
  const FileFsVolumeInformation volume{0x01dd000000000000, 0xCAFE, true, u"DATA"};
  const auto volume_bytes = encoded(volume);
  CHECK(volume_bytes.size() == 18 + 8);
  CHECK(*decode_file_fs_volume_information(volume_bytes) == volume);

  const FileFsAttributeInformation attributes{fs_attribute::case_sensitive_search | fs_attribute::case_preserved_names |
                                                  fs_attribute::unicode_on_disk | fs_attribute::named_streams,
                                              255, u"NTFS"};
  const auto attribute_bytes = encoded(attributes);
  CHECK(to_hex(attribute_bytes) == to_hex(test::hex("07000400 ff000000 08000000 4e00540046005300")));
  CHECK(*decode_file_fs_attribute_information(attribute_bytes) == attributes);

  const FileFsSizeInformation size{100, 50, 8, 512};
  CHECK(*decode_file_fs_size_information(encoded(size)) == size);
  const FileFsFullSizeInformation full{100, 40, 50, 8, 512};
  CHECK(encoded(full).size() == 32);
  CHECK(*decode_file_fs_full_size_information(encoded(full)) == full);
  const FileFsDeviceInformation device{0x07, 0x20};
  CHECK(*decode_file_fs_device_information(encoded(device)) == device);
  const FileFsSectorSizeInformation sectors{512, 4096, 4096, 4096, 3, 0, 0xFFFFFFFF};
  CHECK(encoded(sectors).size() == 28);
  CHECK(*decode_file_fs_sector_size_information(encoded(sectors)) == sectors);
}

TEST_CASE("a file system name or volume label that runs past the buffer is refused") {
  auto attributes = encoded(FileFsAttributeInformation{0, 255, u"NTFS"});
  store_le32(&attributes[8], 0xFFFF'FFFF);
  CHECK(failed_with(decode_file_fs_attribute_information(attributes), WireError::truncated));
  auto volume = encoded(FileFsVolumeInformation{0, 1, false, u"DATA"});
  store_le32(&volume[12], 10);
  CHECK(failed_with(decode_file_fs_volume_information(volume), WireError::truncated));
}

// ---- FILETIME ----

TEST_CASE("FILETIME converts to and from Unix time at the 1970 epoch and around it") {
  CHECK(filetime_from_unix_time(0) == 116'444'736'000'000'000);
  CHECK(unix_time_from_filetime(116'444'736'000'000'000) == 0);
  CHECK(unix_time_from_filetime(0) == -11'644'473'600);       // 1601-01-01
  CHECK(unix_time_from_filetime(116'444'735'999'999'999) == -1);  // rounds down, not toward zero

  const auto after = timespec_from_filetime(116'444'736'000'000'000 + 12'345'678);
  CHECK(after.tv_sec == 1);
  CHECK(after.tv_nsec == 234'567'800);
  const auto before = timespec_from_filetime(116'444'736'000'000'000 - 1);
  CHECK(before.tv_sec == -1);
  CHECK(before.tv_nsec == 999'999'900);
  CHECK(filetime_from_timespec(before) == 116'444'736'000'000'000 - 1);
  CHECK(filetime_from_timespec(timespec{1, 234'567'899}) == 116'444'736'000'000'000 + 12'345'678);  // to 100 ns
}

TEST_CASE("FILETIME conversion is exact for captured times and clamps what cannot be represented") {
  const auto listing = decode_file_id_both_directory_information(response_buffer(kOps, Command::query_directory, 42));
  REQUIRE(listing);
  for (const auto& e : *listing) {
    CAPTURE(utf8_from_utf16(e.file_name));
    CHECK(filetime_from_timespec(timespec_from_filetime(e.creation_time)) == e.creation_time);
    CHECK(filetime_from_timespec(timespec_from_filetime(e.last_write_time)) == e.last_write_time);
  }
  CHECK(filetime_from_timespec(timespec{-11'644'473'601, 0}) == 0);  // before 1601
  CHECK(filetime_from_timespec(timespec{std::numeric_limits<time_t>::max(), 0}) ==
        static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()));
  CHECK(filetime_from_unix_time(std::numeric_limits<std::int64_t>::min()) == 0);
  const auto last = timespec_from_filetime(std::numeric_limits<std::uint64_t>::max());
  CHECK(last.tv_sec == 1'844'674'407'370 - 11'644'473'600);
  CHECK(last.tv_nsec == 955'161'500);
}
