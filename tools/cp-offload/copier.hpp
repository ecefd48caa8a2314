// cp-offload's copying: SRC... DST as cp(1) takes them, each an smb:// URL or
// a path on a mount.smbx mount, copied with the offload engine (src/copy).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "copy/copy.hpp"

namespace smbx::cpo {

struct Options {
  bool recursive = false;   // -r
  bool force = false;       // -f: overwrite existing targets
  bool preserve = false;    // -p: times and attributes
  bool progress = false;
  bool stats = false;
  copy::Method method = copy::Method::automatic;
  std::string credentials_file;  // -A FILE
  std::string user;              // -U [DOMAIN\]USER
  bool seal = false;
  std::string vers;
  std::optional<int> port;
  int timeout_seconds = 60;
  std::string run_dir = "/run/smbx";               // where mounts keep their control sockets
  std::string mountinfo = "/proc/self/mountinfo";
};

// Copies `sources` to `target`; returns the exit code (smbx::ExitCode).
int run(const std::vector<std::string>& sources, const std::string& target, const Options& options);

}  // namespace smbx::cpo
