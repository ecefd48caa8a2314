// What a failed operation means to a person and to a shell script: a one-line
// message naming the cause and the NTSTATUS, and a distinct exit code.
#pragma once

#include <string>

#include "smbx/error.hpp"

namespace smbx {

// The exit codes of smbx (documented in man/smbx.1 and the README).
enum class ExitCode : int {
  ok = 0,
  other = 1,           // any other failure (protocol, security check, local I/O)
  usage = 2,           // bad arguments, URL or credentials file
  authentication = 3,  // logon failure, bad password, disabled or locked account
  not_found = 4,       // no such file, directory or share
  access_denied = 5,
  network = 6,         // cannot connect, connection lost, timed out
};

ExitCode exit_code_for(const Error& error) noexcept;

// "logon failure for TESTDOM\alice (STATUS_LOGON_FAILURE)" when `principal`
// is given and the status is an authentication failure; otherwise
// "<action>: <reason> (STATUS_NAME)" or describe(error).
std::string user_message(const Error& error, const std::string& principal = {});

}  // namespace smbx
