// smbx: the command-line client. Today it has one subcommand, `dissect`, a
// debugging aid that checks a captured conversation; the file commands (ls,
// get, put, ...) arrive with the client engine.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "capture/dissector.hpp"
#include "capture/frames_file.hpp"

namespace {

// Exit codes shared by the smbx subcommands.
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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"smbx: SMB 3.1.1 client tools"};
  app.require_subcommand(1);

  std::string frames_path;
  smbx::capture::DissectOptions options;
  auto* dissect = app.add_subcommand("dissect", "decode, verify and decrypt a captured SMB2 conversation");
  dissect->add_option("FILE", frames_path, "frames file ('C <hex>' / 'S <hex>' per line)")->required();
  dissect->add_option("--password", options.password,
                      "password of the session's user; derives the keys from the NTLMSSP exchange");
  dissect->add_option("--user", options.user, "user name (default: the one in the AUTHENTICATE message)");
  dissect->add_option("--domain", options.domain, "domain (default: the one in the AUTHENTICATE message)");
  if (const char* env = std::getenv("SMBX_PASSWORD"); env != nullptr) options.password = env;

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  if (dissect->parsed()) return run_dissect(frames_path, options);
  return kExitUsage;
}
