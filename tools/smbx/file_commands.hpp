// The file commands of smbx: ls, stat, get, put, rm, mkdir, rmdir, mv, cat.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace smbx::cli {

struct GlobalOptions {
  std::string credentials_file;  // -A FILE
  bool seal = false;
  std::string vers;              // "3.1.1", ... ; empty: any
  std::optional<int> port;
  int timeout_seconds = 60;
  bool quiet = false;            // no progress bar
  bool verbose = false;          // say what was negotiated
};

// Runs `command` on `args` (URLs and local files as the command takes them)
// and returns the process exit code (smbx::ExitCode).
int run_file_command(const std::string& command, const std::vector<std::string>& args, const GlobalOptions& options);

}  // namespace smbx::cli
