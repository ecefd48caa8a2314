// A password typed at the terminal (smbx, mount.smbx), when no -A FILE, option or environment variable gave one.
#pragma once

#include <optional>
#include <string>

namespace smbx::client {

// Reads a line from the controlling terminal with echo off; nullopt when
// there is no terminal.
std::optional<std::string> prompt_password(const std::string& prompt);

}  // namespace smbx::client
