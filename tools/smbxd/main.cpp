// smbxd: the smbx reference SMB2/3 server (man/smbxd.8).
#include <CLI/CLI.hpp>
#include <boost/asio.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "server/config.hpp"
#include "server/log.hpp"
#include "server/server.hpp"

namespace asio = boost::asio;
using namespace smbx;
using namespace smbx::server;

int main(int argc, char** argv) {
  CLI::App app{"smbxd: the smbx reference SMB 2/3 file server"};
  std::string config_file;
  std::string listen;
  std::vector<std::string> shares;
  std::vector<std::string> users;
  std::string state_dir;
  std::string control;
  std::string log_level;
  unsigned break_timeout = 0;
  app.add_option("--config", config_file, "INI file (smb.conf style) with the same settings; flags override it");
  app.add_option("--listen", listen, "ADDR:PORT to listen on (default 127.0.0.1:445)");
  app.add_option("--share", shares,
                 "NAME=PATH[,encrypt][,readonly][,ca]; repeat for more shares (ca: continuously available, "
                 "persistent handles; needs --state-dir)");
  app.add_option("--user", users, "USER:PASSWORD; repeat for more users");
  app.add_option("--state-dir", state_dir,
                 "directory for the state store (persistent handles, FileIds); created mode 0700 when missing");
  app.add_option("--control", control, "Unix socket for smbxctl (created mode 0600)");
  app.add_option("--log", log_level, "error, warn, info or debug (default info)");
  app.add_option("--break-timeout", break_timeout,
                 "milliseconds an oplock or lease break may go unacknowledged (default 35000)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error exits 2, as smbx does.
    return app.exit(e) == 0 ? 0 : 2;
  }

  auto fail = [](const Error& e) {
    std::fprintf(stderr, "smbxd: %s\n", describe(e).c_str());
    return 2;
  };
  auto usage = [](const std::string& message) {
    std::fprintf(stderr, "smbxd: %s\n", message.c_str());
    return 2;
  };
  ServerConfig config;
  if (!config_file.empty()) {
    auto loaded = load_config_file(config_file);
    if (!loaded) return usage(loaded.error().detail);  // "FILE:LINE: what"
    config = std::move(*loaded);
  }
  // Flags override the file: scalar settings replace, shares and users are
  // added or replace the entry of the same name.
  if (!listen.empty()) {
    if (auto ok = parse_listen_spec(listen, config); !ok) return fail(ok.error());
  }
  for (const auto& spec : shares) {
    auto share = parse_share_spec(spec);
    if (!share) return fail(share.error());
    merge_share(config, std::move(*share));
  }
  for (const auto& spec : users) {
    auto user = parse_user_spec(spec);
    if (!user) return fail(user.error());
    merge_user(config, std::move(*user));
  }
  if (!state_dir.empty()) config.state_dir = state_dir;
  if (!control.empty()) config.control_socket = control;
  if (!log_level.empty()) config.log_level = log_level;
  if (break_timeout != 0) config.break_timeout_ms = break_timeout;
  if (config.shares.empty()) return usage("--share is required (or a [NAME] share section in --config)");
  if (config.users.empty()) return usage("--user is required (or 'user =' in the [global] section of --config)");
  if (auto ok = check_config(config); !ok) return usage(ok.error().detail);
  const auto level = parse_log_level(config.log_level);
  if (!level) return usage("--log " + config.log_level + ": expected error, warn, info or debug");
  set_log_level(*level);

  asio::io_context io{1};
  const std::string where = config.listen_address + ":" + std::to_string(config.port);
  const std::string control_path = config.control_socket;
  auto server = Server::create(io, std::move(config));
  if (!server) return fail(server.error());
  if (auto ok = (*server)->listen(); !ok) return fail(ok.error());
  if (!control_path.empty()) {
    if (auto ok = (*server)->open_control(control_path); !ok) return fail(ok.error());
  }
  (*server)->start();
  log_info("listening on " + where + (control_path.empty() ? "" : ", control socket " + control_path));

  asio::signal_set signals{io, SIGTERM, SIGINT};
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    log_info(std::string{"shutting down on "} + (signal == SIGTERM ? "SIGTERM" : "SIGINT"));
    (*server)->stop();
    io.stop();
  });
  io.run();
  return 0;
}
