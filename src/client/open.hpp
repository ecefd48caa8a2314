// One open handle as the client must remember it to re-create it after the
// connection is lost (DESIGN.md, Failover: the invariants; MS-SMB2 3.2.1.6
// "Per Application Open", 3.2.4.4). Private to libsmbx.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "wire/create.hpp"
#include "wire/create_context.hpp"
#include "wire/types.hpp"

namespace smbx::client {

struct Open {
  // What the CREATE asked for, as sent (MS-SMB2 3.2.4.4: the reconnect repeats it).
  std::string path;  // share-relative, '/' separated (for messages)
  std::u16string name;
  std::uint32_t desired_access = 0;
  std::uint32_t share_access = 0;
  std::uint32_t disposition = 0;
  std::uint32_t create_options = 0;
  std::uint32_t attributes = 0;
  // The lease: key, the state held now (breaks lower it), epoch (v2).
  std::optional<wire::Guid> lease_key;
  wire::Lease::Version lease_version = wire::Lease::Version::v2;
  std::uint32_t lease_state = 0;
  std::uint16_t lease_epoch = 0;
  // MS-SMB2 2.2.13.2.11: made with a CSPRNG before the first send of the CREATE
  // and never changed: a replayed CREATE and the DH2C reconnect both carry it.
  wire::Guid create_guid{};
  bool v2 = false;          // DH2Q/DH2C (3.x), else DHnQ/DHnC (2.1)
  bool durable = false;     // the server granted durability (a DH2Q/DHnQ response context)
  bool persistent = false;  // ... with SMB2_DHANDLE_FLAG_PERSISTENT
  std::uint32_t durable_timeout = 0;  // ms, as granted
  wire::FileId file_id{};   // current; replaced by each reconnect
  bool lost = false;        // the server no longer knows it: calls fail (ESTALE), CLOSE succeeds
  bool closed = false;      // CLOSE answered: no longer reopened
  // Byte-range locks held through this handle (LOCK granted minus UNLOCK
  // answered). A handle that holds some cannot be reopened by path after a
  // reconnect: the locks would be gone while the application thinks it has them.
  std::uint32_t locks_held = 0;
  // Times the handle was opened again by path (not reclaimed): a directory
  // enumeration in progress restarts on the new handle (File::read_directory).
  std::uint32_t reopened_by_path = 0;
  // MS-SMB2 3.2.4.19 / 3.3.5.14: LOCK replay detection on durable handles. One
  // 4-bit sequence number per bucket (index 1..64); a resent LOCK keeps its pair.
  std::array<std::uint8_t, 64> lock_sequence{};
  std::uint32_t next_lock_bucket = 0;

  bool is_directory() const noexcept { return (create_options & wire::create_options::directory_file) != 0; }
};

}  // namespace smbx::client
