#include <doctest/doctest.h>

#include "support/test_data.hpp"
#include "unit/wire_info_captures.hpp"
#include "wire/fscc.hpp"
#include "wire/ntstatus.hpp"
#include "wire/query_directory.hpp"

using namespace smbx;
using namespace smbx::wire;
using namespace smbx::test::info;

TEST_CASE("every captured QUERY_DIRECTORY request decodes and re-encodes to Samba's bytes") {
  std::size_t seen = 0;
  for (const auto& file : plaintext_captures()) {
    for (const auto& m : captured(file, Command::query_directory)) {
      if (m.header.is_response()) continue;
      CAPTURE(m.file);
      CAPTURE(m.line);
      auto request = decode_query_directory_request(m.bytes);
      REQUIRE(request);
      // smbclient lists with FileIdBothDirectoryInformation and an 8 MiB buffer.
      CHECK(request->file_information_class == fscc::file_info_class::file_id_both_directory_information);
      CHECK(request->flags == 0);
      CHECK(request->file_index == 0);
      CHECK(request->output_buffer_length == 8 * 1024 * 1024);
      CHECK((request->file_name == u"*" || request->file_name == u"payload.bin"));
      CHECK(reencoded_body(*request) == body_of(m.bytes));
      ++seen;
    }
  }
  CHECK(seen == 8);
}

TEST_CASE("every captured successful QUERY_DIRECTORY response decodes and re-encodes to Samba's bytes") {
  std::size_t seen = 0;
  for (const auto& file : plaintext_captures()) {
    for (const auto& m : captured(file, Command::query_directory)) {
      if (!m.header.is_response() || m.header.status() != status::SUCCESS) continue;
      CAPTURE(m.file);
      CAPTURE(m.line);
      auto response = decode_query_directory_response(m.bytes);
      REQUIRE(response);
      CHECK(response->output_buffer.size() == m.bytes.size() - 72);  // the buffer follows the 8 fixed bytes
      CHECK(reencoded_body(*response) == body_of(m.bytes));
      ++seen;
    }
  }
  CHECK(seen == 4);
}

TEST_CASE("the search for payload.bin in smb311-signed-ops asks for that name on the listed directory's handle") {
  const auto listing = captured_at("smb311-signed-ops.frames", Command::query_directory, 61);
  auto request = decode_query_directory_request(listing.bytes);
  REQUIRE(request);
  CHECK(request->file_name == u"payload.bin");
  CHECK(request->file_id == FileId{0x744d6e9d, 0x16ecf4b4});
}

TEST_CASE("a QUERY_DIRECTORY request with every field set survives encode and decode") {
  QueryDirectoryRequest in;
  in.file_information_class = fscc::file_info_class::file_full_directory_information;
  in.flags = query_directory_flags::restart_scans | query_directory_flags::index_specified;
  in.file_index = 0x01020304;
  in.file_id = FileId{0x1111222233334444, 0x5555666677778888};
  in.file_name = u"*.t\u00e9xt";
  in.output_buffer_length = 65536;
  const auto bytes = encode_message(in);
  REQUIRE(bytes.size() == 64 + 32 + 12);
  CHECK(load_le16(&bytes[64 + 24]) == 0x60);  // FileNameOffset: right after the fixed part
  CHECK(load_le16(&bytes[64 + 26]) == 12);
  auto out = decode_query_directory_request(bytes);
  REQUIRE(out);
  CHECK(out->file_information_class == in.file_information_class);
  CHECK(out->flags == in.flags);
  CHECK(out->file_index == in.file_index);
  CHECK(out->file_id == in.file_id);
  CHECK(out->file_name == in.file_name);
  CHECK(out->output_buffer_length == in.output_buffer_length);
  CHECK(encode_message(*out) == bytes);
}

TEST_CASE("an empty QUERY_DIRECTORY pattern is sent with the one Buffer byte the spec requires") {
  QueryDirectoryRequest in;
  in.file_information_class = fscc::file_info_class::file_names_information;
  const auto bytes = encode_message(in);
  CHECK(bytes.size() == 64 + 33);
  auto out = decode_query_directory_request(bytes);
  REQUIRE(out);
  CHECK(out->file_name.empty());
  CHECK(encode_message(*out) == bytes);
}

TEST_CASE("a QUERY_DIRECTORY response with an empty buffer keeps its padding byte and decodes empty") {
  const auto bytes = encode_message(QueryDirectoryResponse{});
  CHECK(bytes.size() == 64 + 9);
  auto out = decode_query_directory_response(bytes);
  REQUIRE(out);
  CHECK(out->output_buffer.empty());
}

TEST_CASE("every prefix of a captured QUERY_DIRECTORY request and response is refused") {
  const auto request = captured_at("smb311-signed-ops.frames", Command::query_directory, 61);
  const auto response = captured_at("smb311-signed-ops.frames", Command::query_directory, 62);
  for (std::size_t n = 0; n < request.bytes.size(); ++n) {
    CAPTURE(n);
    CHECK_FALSE(decode_query_directory_request(ByteView{request.bytes}.first(n)));
  }
  for (std::size_t n = 0; n < response.bytes.size(); ++n) {
    CAPTURE(n);
    CHECK_FALSE(decode_query_directory_response(ByteView{response.bytes}.first(n)));
  }
}

TEST_CASE("a QUERY_DIRECTORY FileNameOffset inside the header or the fixed part is refused") {
  const auto request = captured_at("smb311-signed-ops.frames", Command::query_directory, 61);
  for (int offset : {0, 40, 63, 64, 0x5F}) {  // header start, header, its last byte, body, fixed part
    CAPTURE(offset);
    Bytes bad = request.bytes;
    store_le16(&bad[64 + 24], static_cast<std::uint16_t>(offset));
    CHECK(failed_with(decode_query_directory_request(bad), WireError::bad_offset));
  }
}

TEST_CASE("a QUERY_DIRECTORY FileName running past the message is refused, whatever the sum wraps to") {
  const auto request = captured_at("smb311-signed-ops.frames", Command::query_directory, 61);
  struct Case {
    std::uint16_t offset, length;
  };
  for (auto c : {Case{0x60, 24},       // one UTF-16 unit more than the 22 bytes there
                 Case{0xFFFF, 2},      // offset far past the end
                 Case{0x60, 0xFFFE},   // 16-bit length: 0x60 + 0xFFFE wraps a 16-bit sum
                 Case{0xFFFE, 0xFFFE}}) {
    CAPTURE(c.offset);
    CAPTURE(c.length);
    Bytes bad = request.bytes;
    store_le16(&bad[64 + 24], c.offset);
    store_le16(&bad[64 + 26], c.length);
    CHECK(failed_with(decode_query_directory_request(bad), WireError::truncated));
  }
}

TEST_CASE("a QUERY_DIRECTORY pattern of odd length is refused: it cannot be UTF-16") {
  auto bad = captured_at("smb311-signed-ops.frames", Command::query_directory, 61).bytes;
  store_le16(&bad[64 + 26], 21);
  CHECK(failed_with(decode_query_directory_request(bad), WireError::bad_length));
}

TEST_CASE("a QUERY_DIRECTORY response whose buffer wraps or overlaps the fixed part is refused") {
  const auto response = captured_at("smb311-signed-ops.frames", Command::query_directory, 62);
  struct Case {
    std::uint16_t offset;
    std::uint32_t length;
    WireError why;
  };
  for (auto c : {Case{0x48, 0xFFFF'FFFF, WireError::truncated},  // 0x48 + length wraps in 32 bits
                 Case{0x48, 127, WireError::truncated},          // one byte more than the message holds
                 Case{0xFFFF, 1, WireError::truncated},
                 Case{0x40, 126, WireError::bad_offset},         // starts at the body, over the fixed part
                 Case{0, 126, WireError::bad_offset}}) {
    CAPTURE(c.offset);
    CAPTURE(c.length);
    Bytes bad = response.bytes;
    store_le16(&bad[64 + 2], c.offset);
    store_le32(&bad[64 + 4], c.length);
    CHECK(failed_with(decode_query_directory_response(bad), c.why));
  }
}

TEST_CASE("a QUERY_DIRECTORY with the wrong StructureSize is refused") {
  auto request = captured_at("smb311-signed-ops.frames", Command::query_directory, 61).bytes;
  store_le16(&request[64], 32);
  CHECK(failed_with(decode_query_directory_request(request), WireError::bad_structure_size));
  auto response = captured_at("smb311-signed-ops.frames", Command::query_directory, 62).bytes;
  store_le16(&response[64], 8);
  CHECK(failed_with(decode_query_directory_response(response), WireError::bad_structure_size));
}
