// The pure parts of client failover (src/client/session.hpp, open.hpp): the
// recovery backoff, FileId patching of parked requests, the lost-handle error,
// and the durable contexts a reconnect sends.
#include <doctest/doctest.h>

#include <set>

#include "client/session.hpp"
#include "crypto/random.hpp"
#include "wire/create_context.hpp"
#include "wire/ntstatus.hpp"

using namespace smbx;
using std::chrono::milliseconds;

TEST_CASE("failover: first attempt at once, then 50 ms doubling to a 500 ms cap") {
  CHECK(client::recovery_backoff(0) == milliseconds{0});
  CHECK(client::recovery_backoff(1) == milliseconds{50});
  CHECK(client::recovery_backoff(2) == milliseconds{100});
  CHECK(client::recovery_backoff(3) == milliseconds{200});
  CHECK(client::recovery_backoff(4) == milliseconds{400});
  CHECK(client::recovery_backoff(5) == milliseconds{500});
  CHECK(client::recovery_backoff(1000) == milliseconds{500});
}

TEST_CASE("failover: a parked request gets the reclaimed FileId, a related member keeps 0xFF..") {
  const wire::FileId old_id{.persistent = 1, .volatile_id = 2};
  const wire::FileId new_id{.persistent = 1, .volatile_id = 99};
  wire::Body read = wire::ReadRequest{.padding = 0, .flags = 0, .length = 4096, .offset = 8192, .file_id = old_id,
                                      .minimum_count = 0, .channel = 0, .remaining_bytes = 0,
                                      .read_channel_info = {}};
  client::patch_file_id(read, new_id);
  CHECK(std::get<wire::ReadRequest>(read).file_id == new_id);
  CHECK(std::get<wire::ReadRequest>(read).offset == 8192);

  wire::Body write = wire::WriteRequest{.offset = 0, .file_id = old_id, .channel = 0, .remaining_bytes = 0,
                                        .write_channel_info = {}, .flags = 0, .data = {}};
  client::patch_file_id(write, new_id);
  CHECK(std::get<wire::WriteRequest>(write).file_id == new_id);

  wire::Body lock = wire::LockRequest{.lock_sequence_number = 3, .lock_sequence_index = 7, .file_id = old_id,
                                      .locks = {wire::LockElement{.offset = 0, .length = 1, .flags = 0}}};
  client::patch_file_id(lock, new_id);
  CHECK(std::get<wire::LockRequest>(lock).file_id == new_id);
  // Patching the FileId leaves the rest alone: a resent LOCK keeps its
  // LockSequence (MS-SMB2 3.3.5.14).
  CHECK(std::get<wire::LockRequest>(lock).lock_sequence_number == 3);
  CHECK(std::get<wire::LockRequest>(lock).lock_sequence_index == 7);

  wire::Body close = wire::CloseRequest{.flags = 0, .file_id = old_id};
  client::patch_file_id(close, new_id);
  CHECK(std::get<wire::CloseRequest>(close).file_id == new_id);

  wire::Body related = wire::CloseRequest{.flags = 0, .file_id = wire::FileId::related()};
  client::patch_file_id(related, new_id);
  CHECK(std::get<wire::CloseRequest>(related).file_id == wire::FileId::related());

  // Bodies without a FileId are left alone.
  wire::Body echo = wire::EchoRequest{};
  client::patch_file_id(echo, new_id);
  CHECK(std::holds_alternative<wire::EchoRequest>(echo));
}

TEST_CASE("failover: a lost handle's error is recognisable and is not any NETWORK_NAME_DELETED") {
  client::Open open;
  open.path = "dir/file";
  const auto e = client::lost_handle_error(open);
  CHECK(e.kind == ErrorKind::status);
  CHECK(e.status == wire::status::NETWORK_NAME_DELETED);  // ESTALE through mount.smbx
  CHECK(client::is_lost_handle_error(e));
  CHECK_FALSE(client::is_lost_handle_error(client::status_error(wire::status::NETWORK_NAME_DELETED, "x")));
}

TEST_CASE("failover: CreateGuids from the CSPRNG do not repeat") {
  std::set<wire::Guid> seen;
  for (int i = 0; i < 10000; ++i) CHECK(seen.insert(crypto::random_array<16>()).second);
}

TEST_CASE("failover: the CREATE response decides durability, persistence and the lease held") {
  client::Open open;
  open.lease_state = 0x7;
  wire::CreateResponse rsp;
  rsp.file_id = {.persistent = 5, .volatile_id = 6};
  rsp.oplock_level = wire::oplock::lease;
  rsp.contexts.emplace_back(wire::DurableHandleResponseV2{.timeout = 60000, .flags = wire::durable_flags::persistent});
  rsp.contexts.emplace_back(wire::Lease{.version = wire::Lease::Version::v2, .lease_key = {1}, .lease_state = 0x3,
                                        .flags = 0, .lease_duration = 0, .parent_lease_key = {}, .epoch = 4});
  client::record_create_response(open, rsp, true);
  CHECK(open.file_id == rsp.file_id);
  CHECK(open.durable);
  CHECK(open.persistent);
  CHECK(open.durable_timeout == 60000);
  CHECK(open.lease_state == 0x3);
  CHECK(open.lease_epoch == 4);

  // No durable context: the server ignored DH2Q (no H lease, not CA).
  client::Open plain;
  wire::CreateResponse bare;
  bare.file_id = {.persistent = 7, .volatile_id = 8};
  client::record_create_response(plain, bare, false);
  CHECK_FALSE(plain.durable);
  CHECK_FALSE(plain.persistent);
  CHECK(plain.lease_state == 0);

  client::Open v1;
  wire::CreateResponse dhnq;
  dhnq.contexts.emplace_back(wire::DurableHandleResponse{});
  client::record_create_response(v1, dhnq, false);
  CHECK(v1.durable);
  CHECK_FALSE(v1.persistent);
}

TEST_CASE("failover: DH2C carries the FileId, the same CreateGuid and the persistent flag (MS-SMB2 2.2.13.2.12)") {
  const auto guid = crypto::random_array<16>();
  const std::vector<wire::CreateContext> contexts{
      wire::DurableHandleReconnectV2{.file_id = {.persistent = 0x11, .volatile_id = 0x22}, .create_guid = guid,
                                     .flags = wire::durable_flags::persistent}};
  Bytes chain;
  wire::Writer w{chain};
  wire::encode_create_contexts(w, contexts);
  auto back = wire::decode_create_contexts(chain, wire::ContextDirection::request);
  REQUIRE(back);
  REQUIRE(back->size() == 1);
  const auto* c = std::get_if<wire::DurableHandleReconnectV2>(&back->front());
  REQUIRE(c != nullptr);
  CHECK(c->create_guid == guid);
  CHECK(c->file_id.persistent == 0x11);
  CHECK(c->flags == wire::durable_flags::persistent);
  // 16-byte header + 4-byte name, padded to 24, then the 36-byte data.
  CHECK(chain.size() == 24 + 36);
}
