#include "client/credit_window.hpp"

#include <algorithm>

namespace smbx::client {

std::uint16_t credit_charge_for(std::uint64_t payload_size) noexcept {
  if (payload_size == 0) return 1;
  const std::uint64_t charge = (payload_size - 1) / 65536 + 1;
  return static_cast<std::uint16_t>(std::min<std::uint64_t>(charge, 0xFFFF));
}

std::optional<std::uint64_t> CreditWindow::take(std::uint16_t charge) noexcept {
  const std::uint32_t cost = multi_credit_ ? std::max<std::uint16_t>(charge, 1) : 1;
  if (cost > available_) return std::nullopt;
  available_ -= cost;
  const auto first = next_message_id_;
  next_message_id_ += cost;
  return first;
}

void CreditWindow::grant(std::uint16_t credits) noexcept { available_ += credits; }

std::uint16_t CreditWindow::request_for(std::uint16_t charge, std::uint32_t target) const noexcept {
  const std::uint32_t cost = multi_credit_ ? std::max<std::uint16_t>(charge, 1) : 1;
  const std::uint32_t after = available_ >= cost ? available_ - cost : 0;
  const std::uint32_t wanted = after < target ? target - after : 0;
  return static_cast<std::uint16_t>(std::clamp<std::uint32_t>(std::max(wanted, cost), 1, 0xFFFF));
}

}  // namespace smbx::client
