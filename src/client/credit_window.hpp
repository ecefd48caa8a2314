// The client's view of the credit and MessageId window (MS-SMB2 3.2.4.1.5,
// 3.1.5.2). Pure bookkeeping, no I/O: Connection asks it whether a request can
// go now and which MessageIds it takes.
#pragma once

#include <cstdint>
#include <optional>

namespace smbx::client {

// MS-SMB2 3.1.5.2: CreditCharge = (max(send, expected response payload) - 1) / 64 KiB + 1.
// A request without payload still costs one credit.
std::uint16_t credit_charge_for(std::uint64_t payload_size) noexcept;

class CreditWindow {
 public:
  // A new connection may send exactly one request, the NEGOTIATE, with MessageId 0.
  CreditWindow() = default;

  // Multi-credit requests need SMB2_GLOBAL_CAP_LARGE_MTU on dialect 2.1 or
  // later (Connection.SupportsMultiCredit); without it each request costs one
  // credit and one MessageId, and CreditCharge is sent as 0.
  void set_multi_credit(bool supported) noexcept { multi_credit_ = supported; }
  bool multi_credit() const noexcept { return multi_credit_; }

  // Takes `charge` consecutive MessageIds and credits, returning the first;
  // nullopt (and nothing taken) when fewer credits are available.
  std::optional<std::uint64_t> take(std::uint16_t charge) noexcept;
  // Adds the CreditResponse of a response (or interim response).
  void grant(std::uint16_t credits) noexcept;

  std::uint32_t available() const noexcept { return available_; }
  std::uint64_t next_message_id() const noexcept { return next_message_id_; }
  // What to put in CreditRequest so that the balance, after this request
  // consumed `charge`, climbs back towards `target` (at least `charge`, so
  // the window never shrinks under a steady load).
  std::uint16_t request_for(std::uint16_t charge, std::uint32_t target) const noexcept;

 private:
  std::uint64_t next_message_id_ = 0;
  std::uint32_t available_ = 1;
  bool multi_credit_ = false;
};

}  // namespace smbx::client
