#include <doctest/doctest.h>

#include "wire/error_response.hpp"
#include "wire/ntstatus.hpp"
#include "wire_message_support.hpp"

using namespace smbx;
using namespace smbx::wire;
using smbx::test::failed_with;

namespace {

Bytes copy(ByteView v) { return Bytes{v.begin(), v.end()}; }

// Every captured response whose status is a failure or a warning (and so
// carries an ERROR body): IOCTL NOT_FOUND and QUERY_DIRECTORY NO_MORE_FILES.
std::vector<test::CapturedMessage> captured_errors() {
  std::vector<test::CapturedMessage> out;
  for (Command command : {Command::ioctl, Command::query_directory})
    for (auto& m : test::captured(command, true))
      if (m.header.status() >= 0x80000000) out.push_back(m);
  return out;
}

// A Symbolic Link Error Response laid out by hand from MS-SMB2 2.2.2.2.1:
// print name "C:\t" at PathBuffer offset 0, substitute name "\??\C:" at 8,
// relative flag clear, 4 bytes of the path left unparsed.
constexpr const char* kSymlinkErrorData =
    "2c000000"                   // SymLinkLength: 44 = 24 + 20-byte PathBuffer
    "53594d4c"                   // SymLinkErrorTag "SYML"
    "0c0000a0"                   // ReparseTag IO_REPARSE_TAG_SYMLINK
    "2000 0400"                  // ReparseDataLength 32, UnparsedPathLength 4
    "0800 0c00"                  // SubstituteNameOffset 8, SubstituteNameLength 12
    "0000 0800"                  // PrintNameOffset 0, PrintNameLength 8
    "00000000"                   // Flags
    "43003a005c007400"           // PathBuffer 0: "C:\t"
    "5c003f003f005c0043003a00";  // PathBuffer 8: "\??\C:"

}  // namespace

TEST_CASE("Samba's error responses have ByteCount 0 and the single ErrorData byte") {
  const auto errors = captured_errors();
  REQUIRE(errors.size() == 7);
  for (const auto& msg : errors) {
    CAPTURE(msg.capture);
    CAPTURE(msg.line);
    CAPTURE(status_name(msg.header.status()));
    CHECK(to_hex(msg.body()) == "090000000000000000");
    auto m = decode_error_response(msg.bytes);
    REQUIRE(m.has_value());
    CHECK(m->error_context_count == 0);
    CHECK(m->error_data.empty());
    CHECK(m->contexts.empty());
    CHECK(test::body_bytes(test::encode_message(msg.header.command, *m, true)) == copy(msg.body()));
  }
}

TEST_CASE("an error response without its filler byte is still accepted but a shorter one is not") {
  const Bytes message = test::message_with_body(Command::create, test::hex("0900000000000000"), true);
  CHECK(decode_error_response(message).has_value());
  test::check_prefixes_refused(message, decode_error_response, message.size());
}

TEST_CASE("STATUS_BUFFER_TOO_SMALL's ErrorData gives the length the request needed") {
  ErrorResponse m;
  static const Bytes needed = test::hex("00010000");
  m.error_data = needed;
  const Bytes message = test::encode_message(Command::query_info, m, true);
  CHECK(to_hex(test::body_bytes(message)) == "090000000400000000010000");
  auto back = decode_error_response(message);
  REQUIRE(back.has_value());
  auto length = buffer_too_small_required_length(*back);
  REQUIRE(length.has_value());
  CHECK(*length == 256);
}

TEST_CASE("a 3.1.1 required length inside a default error context is found too") {
  ErrorResponse m;
  static const Bytes needed = test::hex("00100000");
  static const Bytes redirect = test::hex("3000000003000000");
  m.contexts = {{kErrorIdShareRedirect, redirect}, {kErrorIdDefault, needed}};
  const Bytes message = test::encode_message(Command::query_info, m, true);
  auto back = decode_error_response(message);
  REQUIRE(back.has_value());
  CHECK(*buffer_too_small_required_length(*back) == 4096);
}

TEST_CASE("a required length that is not 4 bytes is refused") {
  ErrorResponse m;
  static const Bytes three = test::hex("000100");
  m.error_data = three;
  CHECK(failed_with(buffer_too_small_required_length(m), WireError::bad_length));
  CHECK(failed_with(buffer_too_small_required_length(ErrorResponse{}), WireError::bad_length));
}

TEST_CASE("error contexts start 8-aligned and survive encode and decode") {
  static const Bytes odd = test::hex("010203");
  static const Bytes dialect = test::hex("0203");
  ErrorResponse m;
  m.contexts = {{kErrorIdDefault, odd}, {kErrorIdDefault, dialect}};
  const Bytes message = test::encode_message(Command::tree_connect, m, true);
  // ErrorData at hdr 72: context 1 header at 72, data 80..83, padding to 88, context 2 at 88.
  CHECK(message[kHeaderSize + 2] == 2);                              // ErrorContextCount
  CHECK(load_le32(&message[kHeaderSize + 4]) == 8 + 3 + 5 + 8 + 2);  // ByteCount
  CHECK(load_le32(&message[88]) == 2);                               // the second ErrorDataLength
  auto back = decode_error_response(message);
  REQUIRE(back.has_value());
  CHECK(back->error_context_count == 2);
  REQUIRE(back->contexts.size() == 2);
  CHECK(copy(back->contexts[0].data) == odd);
  CHECK(copy(back->contexts[1].data) == dialect);
  CHECK(test::encode_message(Command::tree_connect, *back, true) == message);
}

TEST_CASE("a ByteCount or an error context that runs past the message is refused") {
  SUBCASE("ByteCount one past the end") {
    const Bytes message = test::message_with_body(Command::create, test::hex("0900000002000000aa"), true);
    CHECK(failed_with(decode_error_response(message), WireError::truncated));
  }
  SUBCASE("ByteCount 0xFFFFFFFF") {
    const Bytes message = test::message_with_body(Command::create, test::hex("09000000ffffffff00"), true);
    CHECK(failed_with(decode_error_response(message), WireError::truncated));
  }
  SUBCASE("ErrorContextCount 2 with one context") {
    const Bytes message =
        test::message_with_body(Command::create, test::hex("0900020008000000 00000000 00000000"), true);
    CHECK(failed_with(decode_error_response(message), WireError::truncated));
  }
  SUBCASE("ErrorDataLength past ByteCount") {
    const Bytes message = test::message_with_body(
        Command::create, test::hex("090001000a000000 03000000 00000000 0102 ffff"), true);
    CHECK(failed_with(decode_error_response(message), WireError::truncated));
  }
  SUBCASE("ErrorDataLength 0xFFFFFFF8, which wraps a 32-bit sum") {
    const Bytes message =
        test::message_with_body(Command::create, test::hex("0900010008000000 f8ffffff 00000000"), true);
    CHECK(failed_with(decode_error_response(message), WireError::truncated));
  }
}

TEST_CASE("an ERROR response with the wrong StructureSize is refused") {
  const Bytes message = test::message_with_body(Command::create, test::hex("080000000000000000"), true);
  CHECK(failed_with(decode_error_response(message), WireError::bad_structure_size));
}

TEST_CASE("a Symbolic Link Error Response laid out per MS-SMB2 2.2.2.2.1 decodes its names") {
  const Bytes data = test::hex(kSymlinkErrorData);
  auto m = decode_symlink_error(data);
  REQUIRE(m.has_value());
  CHECK(m->print_name == u"C:\\t");
  CHECK(m->substitute_name == u"\\??\\C:");
  CHECK(m->unparsed_path_length == 4);
  CHECK(m->reparse_data_length == 32);
  CHECK(m->flags == 0);
}

TEST_CASE("a symlink error response survives encode and decode inside an ERROR response") {
  SymlinkErrorResponse link;
  link.substitute_name = u"..\\target dir\\file";
  link.print_name = u"..\\target dir\\file";
  link.unparsed_path_length = 10;
  link.flags = kSymlinkFlagRelative;
  Bytes data;
  Writer dw{data};
  encode(dw, link);
  CHECK(load_le32(data.data()) == data.size() - 4);  // SymLinkLength excludes itself
  CHECK(load_le16(&data[12]) == data.size() - 16);   // ReparseDataLength counts from SubstituteNameOffset
  ErrorResponse m;
  m.error_data = data;
  const Bytes message = test::encode_message(Command::create, m, true);
  auto back = decode_error_response(message);
  REQUIRE(back.has_value());
  auto decoded = decode_symlink_error(default_error_data(*back));
  REQUIRE(decoded.has_value());
  CHECK(decoded->substitute_name == link.substitute_name);
  CHECK(decoded->print_name == link.print_name);
  CHECK(decoded->unparsed_path_length == 10);
  CHECK(decoded->flags == kSymlinkFlagRelative);
}

TEST_CASE("a symlink error response with a wrong tag, short SymLinkLength or stray names is refused") {
  const Bytes good = test::hex(kSymlinkErrorData);
  struct Case {
    std::size_t at;
    std::uint32_t value;
    bool wide;
    WireError why;
    const char* note;
  };
  for (const Case c : {Case{4, 0x4C4D5954, true, WireError::bad_value, "SymLinkErrorTag"},
                       Case{8, 0xA0000003, true, WireError::bad_value, "ReparseTag of a mount point"},
                       Case{0, 23, true, WireError::bad_length, "SymLinkLength below the fixed part"},
                       Case{0, 45, true, WireError::truncated, "SymLinkLength one past the data"},
                       Case{0, 0xFFFFFFFF, true, WireError::truncated, "SymLinkLength 2^32-1"},
                       Case{16, 10, false, WireError::truncated, "SubstituteName runs past PathBuffer"},
                       Case{22, 21, false, WireError::truncated, "PrintNameLength past PathBuffer"},
                       Case{18, 11, false, WireError::bad_length, "odd SubstituteNameLength"}}) {
    CAPTURE(c.note);
    Bytes bad = good;
    if (c.wide)
      test::poke32(bad, c.at, c.value);
    else
      test::poke16(bad, c.at, static_cast<std::uint16_t>(c.value));
    CHECK(failed_with(decode_symlink_error(bad), c.why));
  }
  for (std::size_t n = 0; n < good.size(); ++n) {
    CAPTURE(n);
    CHECK_FALSE(decode_symlink_error(ByteView{good}.first(n)).has_value());
  }
}
