// The dissector against the real Samba captures: every frame decodes, every
// signature verifies, every transform message decrypts, and the data inside
// is exactly the files smbclient uploaded.
#include <doctest/doctest.h>

#include <algorithm>

#include "capture/dissector.hpp"
#include "support/test_data.hpp"
#include "wire/message.hpp"

using namespace smbx;
using namespace smbx::capture;

namespace {

std::vector<Frame> frames_of(const char* name) {
  auto frames = load_frames_file(test::data_path(std::string{"captures/"} + name));
  // describe() only on failure: doctest may build the message of a passing REQUIRE.
  if (!frames) FAIL(describe(frames.error()));
  return std::move(*frames);
}

DissectOptions with_password() {
  DissectOptions o;
  o.password = "Passw0rd!";
  return o;
}

// The bodies of every message of `command` in the report, decoded again.
template <typename T>
std::vector<T> bodies(const DissectReport& report, wire::Command command, std::vector<Bytes>& keep_alive) {
  std::vector<T> out;
  for (const auto& m : report.messages) {
    if (m.header.command != command || !m.decoded) continue;
    keep_alive.push_back(m.bytes);
    auto body = wire::decode_body(m.header, keep_alive.back());
    REQUIRE(body);
    if (auto* t = std::get_if<T>(&*body)) out.push_back(*t);
  }
  return out;
}

bool same_bytes(ByteView a, ByteView b) { return std::equal(a.begin(), a.end(), b.begin(), b.end()); }

// The FileIds the server gave to opens of `name` (CREATE request -> response by MessageId).
std::vector<wire::FileId> file_ids_of(const DissectReport& report, std::u16string_view name) {
  std::vector<std::uint64_t> message_ids;
  std::vector<wire::FileId> ids;
  for (const auto& m : report.messages) {
    if (m.header.command != wire::Command::create || !m.decoded) continue;
    auto body = wire::decode_body(m.header, m.bytes);
    REQUIRE(body);
    if (const auto* req = std::get_if<wire::CreateRequest>(&*body); req && req->name == name)
      message_ids.push_back(m.header.message_id);
    if (const auto* rsp = std::get_if<wire::CreateResponse>(&*body);
        rsp && std::find(message_ids.begin(), message_ids.end(), m.header.message_id) != message_ids.end())
      ids.push_back(rsp->file_id);
  }
  return ids;
}

}  // namespace

TEST_CASE("every message of the three captures decodes, even without the password") {
  for (const char* name : {"smb311-signed-ops.frames", "smb302-signed.frames"}) {
    CAPTURE(name);
    const auto report = dissect(frames_of(name), {});
    CHECK(report.decode_failures == 0);
    CHECK(report.bad_signatures == 0);
    CHECK(report.ok());
    CHECK(report.messages.size() >= 20);
  }
  // Encrypted traffic without keys is a failure to decrypt, not to decode.
  const auto report = dissect(frames_of("smb311-encrypted.frames"), {});
  CHECK(report.decode_failures == 0);
  CHECK(report.decrypt_failures == 30);
  CHECK_FALSE(report.ok());
}

TEST_CASE("with the password every transform message of smb311-encrypted decrypts and the WRITE carries hello.txt") {
  const auto report = dissect(frames_of("smb311-encrypted.frames"), with_password());
  CHECK(report.ok());
  CHECK(report.decrypted_frames == 30);
  CHECK(report.verified_signatures == 9);  // from the final SESSION_SETUP response until encryption starts
  std::vector<Bytes> keep;
  const auto writes = bodies<wire::WriteRequest>(report, wire::Command::write, keep);
  REQUIRE(writes.size() == 1);
  CHECK(same_bytes(writes[0].data, test::read_file(test::data_path("captures/hello.txt"))));
  const auto reads = bodies<wire::ReadResponse>(report, wire::Command::read, keep);
  REQUIRE(reads.size() == 1);
  CHECK(same_bytes(reads[0].data, test::read_file(test::data_path("captures/hello.txt"))));
}

TEST_CASE("with the password every signature of smb311-signed-ops verifies with AES-GMAC and payload.bin round-trips") {
  const auto report = dissect(frames_of("smb311-signed-ops.frames"), with_password());
  CHECK(report.ok());
  CHECK(report.verified_signatures >= 81);
  const auto signed_messages = std::count_if(report.messages.begin(), report.messages.end(),
                                             [](const DissectedMessage& m) { return m.header.is_signed(); });
  CHECK(report.verified_signatures == static_cast<std::size_t>(signed_messages));

  const auto payload = test::read_file(test::data_path("captures/payload.bin"));
  std::vector<Bytes> keep;
  Bytes written(payload.size());
  std::size_t written_bytes = 0;
  const auto payload_ids = file_ids_of(report, u"payload.bin");
  REQUIRE(payload_ids.size() == 3);  // put, get, then delete
  for (const auto& w : bodies<wire::WriteRequest>(report, wire::Command::write, keep)) {
    if (w.file_id != payload_ids[0]) continue;  // hello.txt was written too
    REQUIRE(w.offset + w.data.size() <= written.size());
    std::copy(w.data.begin(), w.data.end(), written.begin() + static_cast<std::ptrdiff_t>(w.offset));
    written_bytes += w.data.size();
  }
  CHECK(written_bytes == payload.size());
  CHECK(written == payload);

  Bytes read_back;
  for (const auto& r : bodies<wire::ReadResponse>(report, wire::Command::read, keep))
    read_back.insert(read_back.end(), r.data.begin(), r.data.end());
  CHECK(read_back == payload);
}

TEST_CASE("with the password every signature of smb302-signed verifies with AES-CMAC") {
  const auto report = dissect(frames_of("smb302-signed.frames"), with_password());
  CHECK(report.ok());
  CHECK(report.verified_signatures > 10);
}

TEST_CASE("one flipped byte in a signed message is reported as a bad signature") {
  auto frames = frames_of("smb302-signed.frames");
  REQUIRE(frames.size() > 6);
  frames[6].bytes.back() ^= 0x01;  // the signed TREE_CONNECT request
  const auto report = dissect(frames, with_password());
  CHECK(report.bad_signatures == 1);
  CHECK_FALSE(report.ok());
}

TEST_CASE("a wrong password is reported and leaves signatures unchecked, not verified") {
  DissectOptions o;
  o.password = "Passw0rd?";
  const auto report = dissect(frames_of("smb302-signed.frames"), o);
  CHECK_FALSE(report.ok());
  REQUIRE_FALSE(report.problems.empty());
  CHECK(report.problems.front().find("STATUS_LOGON_FAILURE") != std::string::npos);
  CHECK(report.verified_signatures == 0);
}
