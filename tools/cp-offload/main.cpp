// cp-offload: copies files within and between SMB servers without moving the
// data through this machine when the server can copy it itself (ODX, then
// server-side copy chunks, then a read/write stream). See man/cp-offload.1.
#include <CLI/CLI.hpp>

#include <map>
#include <string>
#include <vector>

#include "copier.hpp"
#include "smbx/exit_status.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "cp-offload: server-side copy of files on SMB servers\n\n"
      "SRC and DST: smb://[domain;]user@host[:port]/share/path URLs or paths on a mount.smbx mount"};
  smbx::cpo::Options options;
  std::vector<std::string> paths;
  std::string method = "auto";
  app.add_option("SRC... DST", paths, "what to copy, and where")->required()->expected(2, -1);
  app.add_flag("-r,-R,--recursive", options.recursive, "copy directories recursively");
  app.add_flag("-f,--force", options.force, "overwrite existing target files (without -f they are an error)");
  app.add_flag("-p,--preserve", options.preserve, "preserve timestamps and attributes");
  app.add_option("--method", method, "auto (ODX, then copy chunks, then stream), odx, copychunk or stream")
      ->check(CLI::IsMember({"auto", "odx", "copychunk", "stream"}));
  app.add_flag("--progress", options.progress, "show progress on standard error");
  app.add_flag("--stats", options.stats,
               "print per file (and in total) the method, bytes copied, bytes that crossed the client and the rate");
  app.add_option("-U,--user", options.user, "[DOMAIN\\]USER to log on as (default: the URL's, -A's, the mount's, $USER)");
  app.add_option("-A,--credentials", options.credentials_file,
                 "credentials file (mount.cifs format: username=, password=, domain=)");
  app.add_flag("--seal", options.seal, "encrypt all traffic (SMB 3.x); fail if the server cannot");
  app.add_option("--vers", options.vers, "SMB dialect: 3.1.1, 3.0.2, 3.0, 2.1 or 2.0.2 (default: the best)");
  app.add_option("--port", options.port, "TCP port (default 445; a port in the URL wins)")->check(CLI::Range(1, 65535));
  app.add_option("--timeout", options.timeout_seconds, "seconds to wait for each response (default 60)")
      ->check(CLI::Range(1, 86400));
  app.add_option("--run-dir", options.run_dir, "where mounts keep their control sockets (default /run/smbx)")
      ->group("");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : static_cast<int>(smbx::ExitCode::usage);
  }
  options.method = *smbx::copy::parse_method(method);
  const std::string target = paths.back();
  paths.pop_back();
  return smbx::cpo::run(paths, target, options);
}
