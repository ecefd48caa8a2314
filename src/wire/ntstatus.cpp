#include "wire/ntstatus.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <utility>

namespace smbx::wire {

namespace {

struct Entry {
  NtStatus code;
  std::string_view name;
};

constexpr auto kTable = [] {
  std::array entries{
#define X(name, value) Entry{value, "STATUS_" #name},
#include "wire/ntstatus_list.inc"
#undef X
  };
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.code < b.code; });
  return entries;
}();

static_assert(std::adjacent_find(kTable.begin(), kTable.end(),
                                 [](const Entry& a, const Entry& b) { return a.code == b.code; }) == kTable.end(),
              "an NTSTATUS value is listed twice");

std::string hex_code(NtStatus code) {
  char buf[11];
  std::snprintf(buf, sizeof buf, "0x%08X", code);
  return buf;
}

}  // namespace

std::string status_name(NtStatus code) {
  const auto it = std::lower_bound(kTable.begin(), kTable.end(), code,
                                   [](const Entry& e, NtStatus c) { return e.code < c; });
  if (it != kTable.end() && it->code == code) return std::string{it->name};
  return hex_code(code);
}

std::string describe_status(NtStatus code) {
  auto name = status_name(code);
  if (name.starts_with("0x")) return name;
  return name + " (" + hex_code(code) + ")";
}

}  // namespace smbx::wire
