#include <doctest/doctest.h>

#include <algorithm>
#include <array>

#include "support/test_data.hpp"
#include "unit/wire_info_captures.hpp"
#include "wire/fscc.hpp"
#include "wire/query_info.hpp"
#include "wire/set_info.hpp"

using namespace smbx;
using namespace smbx::wire;
using namespace smbx::test::info;

TEST_CASE("every captured QUERY_INFO request and response decodes and re-encodes to Samba's bytes") {
  std::size_t requests = 0;
  std::size_t responses = 0;
  for (const auto& file : plaintext_captures()) {
    for (const auto& m : captured(file, Command::query_info)) {
      CAPTURE(m.file);
      CAPTURE(m.line);
      if (m.header.is_response()) {
        auto response = decode_query_info_response(m.bytes);
        REQUIRE(response);
        CHECK(reencoded_body(*response) == body_of(m.bytes));
        ++responses;
      } else {
        auto request = decode_query_info_request(m.bytes);
        REQUIRE(request);
        // Samba sends an empty input buffer as offset 0 plus the one required Buffer byte.
        CHECK(request->input_buffer.empty());
        CHECK(m.bytes.size() == 64 + 41);
        CHECK(reencoded_body(*request) == body_of(m.bytes));
        ++requests;
      }
    }
  }
  CHECK(requests == 4);
  CHECK(responses == 4);
}

TEST_CASE("smbclient's stat of payload.bin asks for FileAllInformation, its df for FileFsSizeInformation") {
  auto stat = decode_query_info_request(captured_at("smb311-signed-ops.frames", Command::query_info, 29).bytes);
  REQUIRE(stat);
  CHECK(stat->info_type == info_type::file);
  CHECK(stat->file_info_class == fscc::file_info_class::file_all_information);
  CHECK(stat->output_buffer_length == 0xFFFF);
  CHECK(stat->additional_information == 0);
  CHECK(stat->flags == 0);
  CHECK(stat->file_id == FileId{0xe7607076, 0x59bf57f0});

  auto df = decode_query_info_request(captured_at("smb311-signed-ops.frames", Command::query_info, 49).bytes);
  REQUIRE(df);
  CHECK(df->info_type == info_type::filesystem);
  CHECK(df->file_info_class == fscc::fs_info_class::file_fs_size_information);

  auto df_answer = decode_query_info_response(captured_at("smb311-signed-ops.frames", Command::query_info, 50).bytes);
  REQUIRE(df_answer);
  CHECK(df_answer->output_buffer.size() == 24);
}

TEST_CASE("the captured rename SET_INFO carries FileRenameInformation for d1\\h.txt and re-encodes exactly") {
  const auto m = captured_at("smb311-signed-ops.frames", Command::set_info, 55);
  auto request = decode_set_info_request(m.bytes);
  REQUIRE(request);
  CHECK(request->info_type == info_type::file);
  CHECK(request->file_info_class == fscc::file_info_class::file_rename_information);
  CHECK(request->additional_information == 0);
  CHECK(request->buffer.size() == 36);
  CHECK(reencoded_body(*request) == body_of(m.bytes));

  auto rename = fscc::decode_file_rename_information(request->buffer);
  REQUIRE(rename);
  CHECK(rename->file_name == u"d1\\h.txt");
  CHECK_FALSE(rename->replace_if_exists);
  CHECK(rename->root_directory == 0);

  const auto answer = captured_at("smb311-signed-ops.frames", Command::set_info, 56);
  CHECK(answer.header.status() == 0);
  REQUIRE(decode_set_info_response(answer.bytes));
  CHECK(reencoded_body(SetInfoResponse{}) == body_of(answer.bytes));
}

TEST_CASE("a QUERY_INFO request with an input buffer survives encode and decode") {
  const std::array<std::uint8_t, 12> ea_list{0, 0, 0, 0, 7, 'u', 's', 'e', 'r', '.', 'a', 0};
  QueryInfoRequest in;
  in.info_type = info_type::file;
  in.file_info_class = fscc::file_info_class::file_full_ea_information;
  in.output_buffer_length = 4096;
  in.input_buffer = ea_list;
  in.additional_information = 3;
  in.flags = query_info_flags::restart_scan | query_info_flags::return_single_entry;
  in.file_id = FileId{1, 2};
  const auto bytes = encode_message(in);
  REQUIRE(bytes.size() == 64 + 40 + ea_list.size());
  CHECK(load_le16(&bytes[64 + 8]) == 0x68);  // InputBufferOffset: right after the 40-byte fixed part
  auto out = decode_query_info_request(bytes);
  REQUIRE(out);
  CHECK(out->info_type == in.info_type);
  CHECK(out->file_info_class == in.file_info_class);
  CHECK(out->output_buffer_length == in.output_buffer_length);
  CHECK(std::ranges::equal(out->input_buffer, ea_list));
  CHECK(out->additional_information == in.additional_information);
  CHECK(out->flags == in.flags);
  CHECK(out->file_id == in.file_id);
  CHECK(encode_message(*out) == bytes);
}

TEST_CASE("a security QUERY_INFO keeps its AdditionalInformation bits") {
  QueryInfoRequest in;
  in.info_type = info_type::security;
  in.additional_information = security_information::owner | security_information::group | security_information::dacl;
  auto out = decode_query_info_request(encode_message(in));
  REQUIRE(out);
  CHECK(out->info_type == info_type::security);
  CHECK(out->file_info_class == 0);
  CHECK(out->additional_information == 0x7);
}

TEST_CASE("SET_INFO requests for truncate and delete survive encode and decode") {
  Bytes end_of_file;
  Writer eof_writer{end_of_file};
  encode(eof_writer, fscc::FileEndOfFileInformation{123456789});
  Bytes disposition;
  Writer disposition_writer{disposition};
  encode(disposition_writer, fscc::FileDispositionInformation{true});

  struct Case {
    std::uint8_t file_info_class;
    ByteView buffer;
  };
  for (auto c : {Case{fscc::file_info_class::file_end_of_file_information, end_of_file},
                 Case{fscc::file_info_class::file_disposition_information, disposition}}) {
    CAPTURE(c.file_info_class);
    SetInfoRequest in;
    in.info_type = info_type::file;
    in.file_info_class = c.file_info_class;
    in.buffer = c.buffer;
    in.file_id = FileId{0xAA, 0xBB};
    const auto bytes = encode_message(in);
    CHECK(load_le16(&bytes[64 + 8]) == 0x60);  // BufferOffset: right after the 32-byte fixed part
    auto out = decode_set_info_request(bytes);
    REQUIRE(out);
    CHECK(out->file_info_class == c.file_info_class);
    CHECK(std::ranges::equal(out->buffer, c.buffer));
    CHECK(out->file_id == in.file_id);
    CHECK(encode_message(*out) == bytes);
  }
  const auto truncate = encode_message(
      SetInfoRequest{info_type::file, fscc::file_info_class::file_end_of_file_information, end_of_file, 0, {}});
  auto out = decode_set_info_request(truncate);  // views into `truncate`, which must outlive it
  REQUIRE(out);
  CHECK(fscc::decode_file_end_of_file_information(out->buffer)->end_of_file == 123456789);
}

TEST_CASE("every prefix of a captured QUERY_INFO and SET_INFO message is refused") {
  const char* file = "smb311-signed-ops.frames";
  const std::array messages{captured_at(file, Command::query_info, 29), captured_at(file, Command::query_info, 30),
                            captured_at(file, Command::set_info, 55), captured_at(file, Command::set_info, 56)};
  for (const auto& m : messages) {
    CAPTURE(m.line);
    for (std::size_t n = 0; n < m.bytes.size(); ++n) {
      CAPTURE(n);
      const ByteView prefix = ByteView{m.bytes}.first(n);
      bool decoded = false;
      if (m.header.command == Command::query_info)
        decoded = m.header.is_response() ? bool(decode_query_info_response(prefix))
                                         : bool(decode_query_info_request(prefix));
      else
        decoded = m.header.is_response() ? bool(decode_set_info_response(prefix))
                                         : bool(decode_set_info_request(prefix));
      CHECK_FALSE(decoded);
    }
  }
}

TEST_CASE("a QUERY_INFO input buffer inside the header or the fixed part, or past the end, is refused") {
  QueryInfoRequest in;
  const std::array<std::uint8_t, 8> input{1, 2, 3, 4, 5, 6, 7, 8};
  in.input_buffer = input;
  const auto good = encode_message(in);
  struct Case {
    std::uint16_t offset;
    std::uint32_t length;
    WireError why;
  };
  for (auto c : {Case{0, 8, WireError::bad_offset},             // the header
                 Case{0x40, 8, WireError::bad_offset},          // the body's first byte
                 Case{0x67, 8, WireError::bad_offset},          // the fixed part's last byte
                 Case{0x68, 9, WireError::truncated},           // one byte more than sent
                 Case{0x68, 0xFFFF'FFFF, WireError::truncated},  // 0x68 + length wraps in 32 bits
                 Case{0xFFFF, 8, WireError::truncated}}) {
    CAPTURE(c.offset);
    CAPTURE(c.length);
    Bytes bad = good;
    store_le16(&bad[64 + 8], c.offset);
    store_le32(&bad[64 + 12], c.length);
    CHECK(failed_with(decode_query_info_request(bad), c.why));
  }
}

TEST_CASE("a SET_INFO buffer inside the fixed part, or running past the end, is refused") {
  const auto good = captured_at("smb311-signed-ops.frames", Command::set_info, 55).bytes;
  struct Case {
    std::uint16_t offset;
    std::uint32_t length;
    WireError why;
  };
  for (auto c : {Case{0x5F, 36, WireError::bad_offset}, Case{0x20, 36, WireError::bad_offset},
                 Case{0x60, 37, WireError::truncated}, Case{0x60, 0xFFFF'FFFF, WireError::truncated},
                 Case{0xFFFF, 0xFFFF'FFFF, WireError::truncated}}) {
    CAPTURE(c.offset);
    CAPTURE(c.length);
    Bytes bad = good;
    store_le32(&bad[64 + 4], c.length);
    store_le16(&bad[64 + 8], c.offset);
    CHECK(failed_with(decode_set_info_request(bad), c.why));
  }
}

TEST_CASE("QUERY_INFO and SET_INFO messages with the wrong StructureSize are refused") {
  const char* file = "smb311-signed-ops.frames";
  auto query = captured_at(file, Command::query_info, 29).bytes;
  store_le16(&query[64], 40);
  CHECK(failed_with(decode_query_info_request(query), WireError::bad_structure_size));
  auto answer = captured_at(file, Command::query_info, 30).bytes;
  store_le16(&answer[64], 41);
  CHECK(failed_with(decode_query_info_response(answer), WireError::bad_structure_size));
  auto set = captured_at(file, Command::set_info, 55).bytes;
  store_le16(&set[64], 32);
  CHECK(failed_with(decode_set_info_request(set), WireError::bad_structure_size));
  auto done = captured_at(file, Command::set_info, 56).bytes;
  store_le16(&done[64], 9);
  CHECK(failed_with(decode_set_info_response(done), WireError::bad_structure_size));
}
