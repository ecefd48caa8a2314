#include <doctest/doctest.h>

#include "support/test_data.hpp"
#include "wire/header.hpp"
#include "wire/ntstatus.hpp"
#include "wire/transform.hpp"

using namespace smbx;
using namespace smbx::wire;

TEST_CASE("a header survives encode and decode in sync and async form") {
  for (bool async : {false, true}) {
    CAPTURE(async);
    Header h;
    h.credit_charge = 4;
    h.status_or_channel_sequence = status::PENDING;
    h.command = Command::write;
    h.credits = 33;
    h.flags = flags::server_to_redir | flags::is_signed | (async ? flags::async_command : 0);
    h.message_id = 0x1122334455667788;
    if (async) h.async_id = 0xAABBCCDD00112233; else { h.process_id = 0xFEFF; h.tree_id = 7; }
    h.session_id = 0x0000100000000025;
    h.signature[0] = 0x5A;
    Bytes out;
    Writer w{out};
    encode_header(w, h);
    REQUIRE(out.size() == kHeaderSize);
    auto back = decode_header(out);
    REQUIRE(back);
    CHECK(back->credit_charge == 4);
    CHECK(back->status() == status::PENDING);
    CHECK(back->command == Command::write);
    CHECK(back->credits == 33);
    CHECK(back->flags == h.flags);
    CHECK(back->message_id == h.message_id);
    CHECK(back->async_id == h.async_id);
    CHECK(back->tree_id == h.tree_id);
    CHECK(back->process_id == h.process_id);
    CHECK(back->session_id == h.session_id);
    CHECK(back->signature == h.signature);
  }
}

TEST_CASE("a header shorter than 64 bytes, or with a wrong id, size or command, is refused") {
  Bytes good;
  Writer w{good};
  encode_header(w, Header{});
  for (std::size_t n = 0; n < kHeaderSize; ++n) {
    auto r = decode_header(ByteView{good}.first(n));
    REQUIRE_FALSE(r);
    const auto why = r.error().wire;
    CHECK((why == WireError::truncated || why == WireError::bad_protocol_id));
  }
  Bytes bad_id = good;
  bad_id[0] = 0xFF;
  CHECK(decode_header(bad_id).error().wire == WireError::bad_protocol_id);
  Bytes bad_size = good;
  bad_size[4] = 65;
  CHECK(decode_header(bad_size).error().wire == WireError::bad_structure_size);
  Bytes bad_command = good;
  bad_command[12] = 0x14;
  CHECK(decode_header(bad_command).error().wire == WireError::unknown_command);
}

TEST_CASE("a compound chain splits at 8-aligned NextCommand offsets and refuses bad ones") {
  Bytes chain;
  Writer w{chain};
  Header first;
  first.command = Command::create;
  first.next_command = 72;  // header + 8 bytes of body
  encode_header(w, first);
  w.zeros(8);
  Header second;
  second.command = Command::close;
  second.flags = flags::related_operations;
  encode_header(w, second);
  w.zeros(4);
  auto members = split_compound(chain);
  REQUIRE(members);
  REQUIRE(members->size() == 2);
  CHECK((*members)[0].bytes.size() == 72);
  CHECK((*members)[1].header.command == Command::close);
  CHECK((*members)[1].header.is_related());
  CHECK((*members)[1].bytes.size() == 68);

  for (std::uint32_t next : {1u, 63u, 68u, 0xFFFFFFF8u, 200u}) {  // too small, unaligned, past the end
    CAPTURE(next);
    Bytes bad = chain;
    store_le32(&bad[kNextCommandOffset], next);
    CHECK_FALSE(split_compound(bad));
  }
}

TEST_CASE("NTSTATUS values print their names, unknown ones their hex value") {
  CHECK(status_name(status::ACCESS_DENIED) == "STATUS_ACCESS_DENIED");
  CHECK(describe_status(status::LOGON_FAILURE) == "STATUS_LOGON_FAILURE (0xC000006D)");
  CHECK(status_name(0xC0FFEE00) == "0xC0FFEE00");
  CHECK(is_error(status::OBJECT_NAME_NOT_FOUND));
  CHECK(is_warning(status::BUFFER_OVERFLOW));
  CHECK_FALSE(is_error(status::PENDING));
}

TEST_CASE("a transform header whose OriginalMessageSize disagrees with the payload is refused") {
  Bytes frame;
  Writer w{frame};
  TransformHeader h;
  h.original_message_size = 10;
  h.session_id = 0x25;
  encode_transform_header(w, h);
  w.zeros(10);
  auto ok = decode_transform(frame);
  REQUIRE(ok);
  CHECK(ok->ciphertext.size() == 10);
  CHECK(ok->aad.size() == 32);
  CHECK(ok->header.session_id == 0x25);
  frame.push_back(0);
  CHECK(decode_transform(frame).error().wire == WireError::bad_length);
  frame.resize(51);
  CHECK(decode_transform(frame).error().wire == WireError::truncated);
}
