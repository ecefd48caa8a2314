// Where smbx gets a password: -A FILE, SMBX_PASSWORD, or a prompt.
#pragma once

#include <optional>
#include <string>

namespace smbx::cli {

// Reads a line from the controlling terminal with echo off; nullopt when
// there is no terminal.
std::optional<std::string> prompt_password(const std::string& prompt);

}  // namespace smbx::cli
