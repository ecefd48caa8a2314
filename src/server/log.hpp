// smbxd's log: leveled lines on stderr ("smbxd: warn: ..."). The level is set
// once at start-up; everything runs on the io_context thread, so no locking.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace smbx::server {

enum class LogLevel { error = 0, warn = 1, info = 2, debug = 3 };

std::optional<LogLevel> parse_log_level(std::string_view text);
void set_log_level(LogLevel level);
bool log_enabled(LogLevel level);
void log_line(LogLevel level, std::string_view message);

inline void log_error(std::string_view m) { log_line(LogLevel::error, m); }
inline void log_warn(std::string_view m) { log_line(LogLevel::warn, m); }
inline void log_info(std::string_view m) { log_line(LogLevel::info, m); }
inline void log_debug(std::string_view m) { log_line(LogLevel::debug, m); }

}  // namespace smbx::server
