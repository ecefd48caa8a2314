// NTSTATUS codes by name ([MS-ERREF] 2.3.1) and their printable names.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace smbx::wire {

using NtStatus = std::uint32_t;

namespace status {
#define X(name, value) inline constexpr NtStatus name = value;
#include "wire/ntstatus_list.inc"
#undef X
}  // namespace status

// "STATUS_ACCESS_DENIED"; for a code not in the table, "0xC00000FF".
std::string status_name(NtStatus code);
// "STATUS_ACCESS_DENIED (0xC0000022)"
std::string describe_status(NtStatus code);

// MS-ERREF 2.3: severity is the top two bits; 3 = error, 2 = warning.
inline bool is_error(NtStatus code) noexcept { return (code >> 30) == 3; }
inline bool is_warning(NtStatus code) noexcept { return (code >> 30) == 2; }

}  // namespace smbx::wire
