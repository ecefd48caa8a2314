// smbx: the command-line client. File commands (ls, stat, get, put, rm, mkdir,
// rmdir, mv, cat) take smb:// URLs; `dissect` checks a captured conversation.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "capture/dissector.hpp"
#include "capture/frames_file.hpp"
#include "file_commands.hpp"

namespace {

// Exit codes of `dissect` (the file commands use smbx::ExitCode).
constexpr int kExitOk = 0;
constexpr int kExitCheckFailed = 1;
constexpr int kExitUsage = 2;

int run_dissect(const std::string& path, const smbx::capture::DissectOptions& options) {
  auto frames = smbx::capture::load_frames_file(path);
  if (!frames) {
    std::cerr << "smbx: " << smbx::describe(frames.error()) << "\n";
    return kExitUsage;
  }
  const auto report = smbx::capture::dissect(*frames, options);
  for (const auto& message : report.messages) std::cout << smbx::capture::format_line(message) << "\n";
  for (const auto& problem : report.problems) std::cout << "!! " << problem << "\n";
  std::cerr << "smbx: " << report.messages.size() << " messages, " << report.verified_signatures
            << " signatures verified, " << report.decrypted_frames << " frames decrypted; "
            << report.decode_failures << " decode failures, " << report.bad_signatures << " bad signatures, "
            << report.unverifiable_signatures << " unverifiable signatures, "
            << report.decrypt_failures << " decryption failures\n";
  return report.ok() ? kExitOk : kExitCheckFailed;
}

struct FileCommand {
  const char* name;
  const char* help;
  const char* args_help;
  std::size_t min_args;
  std::size_t max_args;  // 0: unlimited
};

constexpr FileCommand kFileCommands[] = {
    {"ls", "list directories", "URL...", 1, 0},
    {"stat", "show a file's or directory's metadata", "URL...", 1, 0},
    {"get", "copy a remote file to a local file (- for standard output)", "URL [LOCALFILE|-]", 1, 2},
    {"put", "copy a local file (- for standard input) to the server", "LOCALFILE|- URL", 2, 2},
    {"cat", "write remote files to standard output", "URL...", 1, 0},
    {"rm", "remove files", "URL...", 1, 0},
    {"mkdir", "create directories", "URL...", 1, 0},
    {"rmdir", "remove empty directories", "URL...", 1, 0},
    {"mv", "rename a file or directory within its share", "URL NEWURL|NEWPATH", 2, 2},
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"smbx: SMB 3.1.1 client tools\n\nURLs: smb://[domain;]user@host[:port]/share/path"};
  app.require_subcommand(1);

  smbx::cli::GlobalOptions global;
  std::vector<std::string> file_args;
  std::vector<CLI::App*> file_subcommands;
  for (const auto& c : kFileCommands) {
    auto* sub = app.add_subcommand(c.name, c.help);
    auto* positional = sub->add_option("ARGS", file_args, c.args_help)->required();
    positional->expected(static_cast<int>(c.min_args), c.max_args == 0 ? -1 : static_cast<int>(c.max_args));
    sub->add_option("-A,--credentials", global.credentials_file,
                    "credentials file (mount.cifs format: username=, password=, domain=)");
    sub->add_flag("--seal", global.seal, "encrypt all traffic (SMB 3.x); fail if the server cannot");
    sub->add_option("--vers", global.vers, "SMB dialect: 3.1.1, 3.0.2, 3.0, 2.1 or 2.0.2 (default: the best)");
    sub->add_option("--port", global.port, "TCP port (default 445; a port in the URL wins)")->check(CLI::Range(1, 65535));
    sub->add_option("--timeout", global.timeout_seconds, "seconds to wait for each response (default 60)")
        ->check(CLI::Range(1, 86400));
    sub->add_flag("-q,--quiet", global.quiet, "no progress bar");
    sub->add_flag("-v,--verbose", global.verbose, "print the negotiated dialect, signing and encryption");
    file_subcommands.push_back(sub);
  }

  std::string frames_path;
  smbx::capture::DissectOptions options;
  auto* dissect = app.add_subcommand("dissect", "decode, verify and decrypt a captured SMB2 conversation");
  dissect->add_option("FILE", frames_path, "frames file ('C <hex>' / 'S <hex>' per line)")->required();
  dissect->add_option("--password", options.password,
                      "password of the session's user; derives the keys from the NTLMSSP exchange");
  dissect->add_option("--user", options.user, "user name (default: the one in the AUTHENTICATE message)");
  dissect->add_option("--domain", options.domain, "domain (default: the one in the AUTHENTICATE message)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  if (dissect->parsed()) {
    if (!options.password)
      if (const char* env = std::getenv("SMBX_PASSWORD"); env != nullptr) options.password = env;
    return run_dissect(frames_path, options);
  }
  for (auto* sub : file_subcommands)
    if (sub->parsed()) return smbx::cli::run_file_command(sub->get_name(), file_args, global);
  return kExitUsage;
}
