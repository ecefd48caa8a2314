#include <doctest/doctest.h>

#include "wire/negotiate.hpp"
#include "wire/session_setup.hpp"
#include "wire/tree_connect.hpp"
#include "wire_message_support.hpp"

using namespace smbx;
using namespace smbx::wire;
using smbx::test::failed_with;

namespace {

Bytes copy(ByteView v) { return Bytes{v.begin(), v.end()}; }

}  // namespace

TEST_CASE("Samba's SESSION_SETUP requests decode to the NTLMSSP-carrying SPNEGO tokens") {
  const auto messages = test::captured(Command::session_setup, false);
  REQUIRE(messages.size() == 6);
  for (const auto& msg : messages) {
    CAPTURE(msg.capture);
    CAPTURE(msg.line);
    auto m = decode_session_setup_request(msg.bytes);
    REQUIRE(m.has_value());
    CHECK(m->flags == 0);
    CHECK(m->security_mode == negotiate_signing::enabled);
    CHECK(m->capabilities == global_caps::dfs);
    CHECK(m->previous_session_id == 0);
    CHECK(m->security_buffer.data() == msg.bytes.data() + 0x58);
    CHECK(m->security_buffer.size() == msg.bytes.size() - 0x58);
    // SPNEGO: a NegTokenInit (0x60) first, a NegTokenResp (0xa1) after.
    CHECK((m->security_buffer[0] == 0x60 || m->security_buffer[0] == 0xA1));
  }
}

TEST_CASE("Samba's SESSION_SETUP responses decode, the last with its mechListMIC") {
  const auto challenge = test::first_captured(Command::session_setup, true, "smb311-signed-ops", 0xC0000016);
  auto m = decode_session_setup_response(challenge.bytes);
  REQUIRE(m.has_value());
  CHECK(m->session_flags == 0);
  CHECK(m->security_buffer.size() == 0x9F);
  const auto final = test::first_captured(Command::session_setup, true, "smb311-signed-ops", 0);
  m = decode_session_setup_response(final.bytes);
  REQUIRE(m.has_value());
  CHECK(m->security_buffer.size() == 0x1D);
}

TEST_CASE("every captured SESSION_SETUP re-encodes to Samba's exact bytes") {
  for (bool response : {false, true}) {
    for (const auto& msg : test::captured(Command::session_setup, response)) {
      CAPTURE(msg.capture);
      CAPTURE(msg.line);
      Bytes again;
      if (response) {
        auto m = decode_session_setup_response(msg.bytes);
        REQUIRE(m.has_value());
        again = test::encode_message(Command::session_setup, *m, true);
      } else {
        auto m = decode_session_setup_request(msg.bytes);
        REQUIRE(m.has_value());
        again = test::encode_message(Command::session_setup, *m);
      }
      CHECK(to_hex(test::body_bytes(again)) == to_hex(msg.body()));
    }
  }
}

TEST_CASE("a binding SESSION_SETUP with a PreviousSessionId survives encode and decode") {
  static const Bytes token = test::hex("a1073005a0030a0100");
  SessionSetupRequest m;
  m.flags = session_setup_flags::binding;
  m.security_mode = negotiate_signing::enabled | negotiate_signing::required;
  m.capabilities = global_caps::dfs;
  m.previous_session_id = 0x0000100000000025;
  m.security_buffer = token;
  const Bytes message = test::encode_message(Command::session_setup, m);
  auto back = decode_session_setup_request(message);
  REQUIRE(back.has_value());
  CHECK(back->flags == session_setup_flags::binding);
  CHECK(back->security_mode == 3);
  CHECK(back->previous_session_id == 0x0000100000000025);
  CHECK(to_hex(back->security_buffer) == to_hex(token));
  CHECK(test::encode_message(Command::session_setup, *back) == message);
}

TEST_CASE("an empty security buffer is sent as the one Buffer byte and decodes empty") {
  SessionSetupResponse m;
  m.session_flags = session_flags::is_guest | session_flags::encrypt_data;
  const Bytes message = test::encode_message(Command::session_setup, m, true);
  CHECK(message.size() == kHeaderSize + 9);
  auto back = decode_session_setup_response(message);
  REQUIRE(back.has_value());
  CHECK(back->session_flags == 0x0005);
  CHECK(back->security_buffer.empty());
}

TEST_CASE("every prefix of a captured SESSION_SETUP is refused") {
  const auto request = test::first_captured(Command::session_setup, false, "smb302-signed");
  test::check_prefixes_refused(request.bytes, decode_session_setup_request, request.bytes.size());
  const auto response = test::first_captured(Command::session_setup, true, "smb302-signed", 0xC0000016);
  test::check_prefixes_refused(response.bytes, decode_session_setup_response, response.bytes.size());
}

TEST_CASE("a SecurityBufferOffset inside the header or fixed part is refused unless the length is 0") {
  const auto captured = test::first_captured(Command::session_setup, false, "smb311-signed-ops");
  constexpr std::size_t kOffsetField = kHeaderSize + 12;
  for (std::uint16_t offset : std::initializer_list<std::uint16_t>{0, 40, 64, 0x57}) {
    CAPTURE(offset);
    Bytes bad = copy(captured.bytes);
    test::poke16(bad, kOffsetField, offset);
    auto r = decode_session_setup_request(bad);
    REQUIRE(failed_with(r, WireError::bad_offset));
    if (offset == 40)
      CHECK(describe(r.error()).find("SecurityBufferOffset 40 lies inside the header") != std::string::npos);
    test::poke16(bad, kOffsetField + 2, 0);  // SecurityBufferLength 0: nothing to read, offset ignored
    auto empty = decode_session_setup_request(bad);
    REQUIRE(empty.has_value());
    CHECK(empty->security_buffer.empty());
  }
  const auto response = test::first_captured(Command::session_setup, true, "smb311-signed-ops", 0);
  Bytes bad = copy(response.bytes);
  test::poke16(bad, kHeaderSize + 4, 0x47);
  CHECK(failed_with(decode_session_setup_response(bad), WireError::bad_offset));
}

TEST_CASE("a security buffer running past the message is refused, with no 16-bit wrap") {
  const auto captured = test::first_captured(Command::session_setup, false, "smb311-signed-ops");
  struct Case {
    std::uint16_t offset, length;
    const char* note;
  };
  for (const Case c :
       {Case{0x58, static_cast<std::uint16_t>(captured.bytes.size() - 0x58 + 1), "one byte long"},
        Case{0xFFFF, 0xFFFF, "offset + length wraps 16 bits"}, Case{0xFFFF, 1, "offset past the end"}}) {
    CAPTURE(c.note);
    Bytes bad = copy(captured.bytes);
    test::poke16(bad, kHeaderSize + 12, c.offset);
    test::poke16(bad, kHeaderSize + 14, c.length);
    CHECK(failed_with(decode_session_setup_request(bad), WireError::truncated));
  }
}

TEST_CASE("a SESSION_SETUP with the wrong StructureSize is refused") {
  const auto request = test::first_captured(Command::session_setup, false, "smb311-signed-ops");
  Bytes bad = copy(request.bytes);
  test::poke16(bad, kHeaderSize, 24);
  CHECK(failed_with(decode_session_setup_request(bad), WireError::bad_structure_size));
  CHECK(failed_with(decode_session_setup_response(bad), WireError::bad_structure_size));
}

TEST_CASE("Samba's TREE_CONNECT requests name the IPC$, plain and secret shares") {
  std::vector<std::u16string> paths;
  for (const auto& msg : test::captured(Command::tree_connect, false)) {
    auto m = decode_tree_connect_request(msg.bytes);
    REQUIRE(m.has_value());
    CHECK(m->flags == 0);
    CHECK(m->contexts.empty());
    paths.push_back(m->path);
  }
  CHECK(paths == std::vector<std::u16string>{u"\\\\127.0.0.1\\IPC$", u"\\\\127.0.0.1\\plain",
                                             u"\\\\127.0.0.1\\IPC$", u"\\\\127.0.0.1\\secret",
                                             u"\\\\127.0.0.1\\IPC$", u"\\\\127.0.0.1\\plain"});
}

TEST_CASE("the secret share's TREE_CONNECT response demands encryption") {
  const auto messages = test::captured(Command::tree_connect, true);
  REQUIRE(messages.size() == 6);
  auto ipc = decode_tree_connect_response(messages[0].bytes);
  REQUIRE(ipc.has_value());
  CHECK(ipc->share_type == share_type::pipe);
  auto secret = decode_tree_connect_response(messages[3].bytes);
  REQUIRE(secret.has_value());
  CHECK(messages[3].capture == "smb311-encrypted");
  CHECK(secret->share_type == share_type::disk);
  CHECK(secret->share_flags == share_flags::encrypt_data);
  CHECK((secret->share_flags & share_flags::caching_mask) == share_flags::manual_caching);
  CHECK(secret->capabilities == 0);
  CHECK(secret->maximal_access == 0x001F01FF);
}

TEST_CASE("every captured TREE_CONNECT re-encodes to Samba's exact bytes") {
  for (bool response : {false, true}) {
    for (const auto& msg : test::captured(Command::tree_connect, response)) {
      CAPTURE(msg.capture);
      CAPTURE(msg.line);
      Bytes again;
      if (response) {
        auto m = decode_tree_connect_response(msg.bytes);
        REQUIRE(m.has_value());
        again = test::encode_message(Command::tree_connect, *m, true);
      } else {
        auto m = decode_tree_connect_request(msg.bytes);
        REQUIRE(m.has_value());
        again = test::encode_message(Command::tree_connect, *m);
      }
      CHECK(to_hex(test::body_bytes(again)) == to_hex(msg.body()));
    }
  }
}

TEST_CASE("a TREE_CONNECT with the 3.1.1 extension keeps its path and raw contexts") {
  static const Bytes identity = test::hex("0100 2a00 0000 0000 0102030405");
  static const Bytes other = test::hex("abcdef");
  TreeConnectRequest m;
  m.flags = tree_connect_flags::extension_present | tree_connect_flags::redirect_to_owner;
  m.path = u"\\\\fs1\\ca-share";
  m.contexts = {{kRemotedIdentityTreeConnectContext, identity}, {0x7777, other}};
  const Bytes message = test::encode_message(Command::tree_connect, m);
  // MS-SMB2 2.2.9.1: PathOffset points past the 16-byte extension header.
  CHECK(load_le16(&message[kHeaderSize + 4]) == kHeaderSize + 8 + 16);
  CHECK(load_le32(&message[kHeaderSize + 8]) % 8 == 0);
  CHECK(load_le16(&message[kHeaderSize + 12]) == 2);
  auto back = decode_tree_connect_request(message);
  REQUIRE(back.has_value());
  CHECK(back->path == m.path);
  REQUIRE(back->contexts.size() == 2);
  CHECK(back->contexts[0].context_type == kRemotedIdentityTreeConnectContext);
  CHECK(to_hex(back->contexts[0].data) == to_hex(identity));
  CHECK(back->contexts[1].context_type == 0x7777);
  CHECK(to_hex(back->contexts[1].data) == to_hex(other));
  CHECK(test::encode_message(Command::tree_connect, *back) == message);
}

TEST_CASE(
    "an extended TREE_CONNECT whose path overlaps the extension header or whose contexts run out is "
    "refused") {
  TreeConnectRequest m;
  m.flags = tree_connect_flags::extension_present;
  m.path = u"\\\\fs1\\share";
  static const Bytes data = test::hex("01020304");
  m.contexts = {{kRemotedIdentityTreeConnectContext, data}};
  const Bytes good = test::encode_message(Command::tree_connect, m);
  SUBCASE("PathOffset inside the extension header") {
    Bytes bad = good;
    test::poke16(bad, kHeaderSize + 4, kHeaderSize + 8);
    CHECK(failed_with(decode_tree_connect_request(bad), WireError::bad_offset));
  }
  SUBCASE("TreeConnectContextOffset over the path") {
    Bytes bad = good;
    test::poke32(bad, kHeaderSize + 8, kHeaderSize + 24);
    CHECK(failed_with(decode_tree_connect_request(bad), WireError::bad_offset));
  }
  SUBCASE("TreeConnectContextCount beyond the list") {
    Bytes bad = good;
    test::poke16(bad, kHeaderSize + 12, 2);
    CHECK(failed_with(decode_tree_connect_request(bad), WireError::truncated));
  }
  SUBCASE("a context DataLength past the end") {
    Bytes bad = good;
    const auto at = load_le32(&bad[kHeaderSize + 8]);
    test::poke16(bad, at + 2, 5);
    CHECK(failed_with(decode_tree_connect_request(bad), WireError::truncated));
  }
  SUBCASE("the extension header itself cut short") {
    CHECK(failed_with(decode_tree_connect_request(ByteView{good}.first(kHeaderSize + 20)),
                      WireError::truncated));
  }
}

TEST_CASE("a TREE_CONNECT path that is not whole UTF-16 units, or lies in the header, is refused") {
  const auto captured = test::first_captured(Command::tree_connect, false, "smb311-signed-ops");
  Bytes odd = copy(captured.bytes);
  test::poke16(odd, kHeaderSize + 6, 0x1F);
  CHECK(failed_with(decode_tree_connect_request(odd), WireError::bad_length));
  Bytes inside = copy(captured.bytes);
  test::poke16(inside, kHeaderSize + 4, 0x40);
  CHECK(failed_with(decode_tree_connect_request(inside), WireError::bad_offset));
}

TEST_CASE("every prefix of a captured TREE_CONNECT is refused") {
  const auto request = test::first_captured(Command::tree_connect, false, "smb311-signed-ops");
  test::check_prefixes_refused(request.bytes, decode_tree_connect_request, request.bytes.size());
  const auto response = test::first_captured(Command::tree_connect, true, "smb311-signed-ops");
  test::check_prefixes_refused(response.bytes, decode_tree_connect_response, response.bytes.size());
}

TEST_CASE("a TREE_CONNECT with the wrong StructureSize is refused") {
  const auto response = test::first_captured(Command::tree_connect, true, "smb311-signed-ops");
  Bytes bad = copy(response.bytes);
  test::poke16(bad, kHeaderSize, 9);
  CHECK(failed_with(decode_tree_connect_response(bad), WireError::bad_structure_size));
  test::poke16(bad, kHeaderSize, 16);
  CHECK(failed_with(decode_tree_connect_request(bad), WireError::bad_structure_size));
}
