#include "server/log.hpp"

#include <cstdio>

namespace smbx::server {
namespace {
LogLevel g_level = LogLevel::info;
constexpr std::string_view kNames[] = {"error", "warn", "info", "debug"};
}  // namespace

std::optional<LogLevel> parse_log_level(std::string_view text) {
  for (int i = 0; i < 4; ++i)
    if (text == kNames[i]) return static_cast<LogLevel>(i);
  return std::nullopt;
}

void set_log_level(LogLevel level) { g_level = level; }
bool log_enabled(LogLevel level) { return static_cast<int>(level) <= static_cast<int>(g_level); }

void log_line(LogLevel level, std::string_view message) {
  if (!log_enabled(level)) return;
  const auto name = kNames[static_cast<int>(level)];
  std::fprintf(stderr, "smbxd: %.*s: %.*s\n", static_cast<int>(name.size()), name.data(),
               static_cast<int>(message.size()), message.data());
}

}  // namespace smbx::server
