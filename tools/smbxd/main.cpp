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
  std::string listen = "127.0.0.1:445";
  std::vector<std::string> shares;
  std::vector<std::string> users;
  std::string state_dir;
  std::string log_level = "info";
  app.add_option("--listen", listen, "ADDR:PORT to listen on (default 127.0.0.1:445)");
  app.add_option("--share", shares, "NAME=PATH[,encrypt][,readonly]; repeat for more shares")->required();
  app.add_option("--user", users, "USER:PASSWORD; repeat for more users")->required();
  app.add_option("--state-dir", state_dir, "directory for server state (reserved for durable handles)");
  app.add_option("--log", log_level, "error, warn, info or debug (default info)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error exits 2, as smbx does.
    return app.exit(e) == 0 ? 0 : 2;
  }

  ServerConfig config;
  auto fail = [](const Error& e) {
    std::fprintf(stderr, "smbxd: %s\n", describe(e).c_str());
    return 2;
  };
  const auto level = parse_log_level(log_level);
  if (!level) {
    std::fprintf(stderr, "smbxd: --log %s: expected error, warn, info or debug\n", log_level.c_str());
    return 2;
  }
  set_log_level(*level);
  if (auto ok = parse_listen_spec(listen, config); !ok) return fail(ok.error());
  for (const auto& spec : shares) {
    auto share = parse_share_spec(spec);
    if (!share) return fail(share.error());
    config.shares.push_back(std::move(*share));
  }
  for (const auto& spec : users) {
    auto user = parse_user_spec(spec);
    if (!user) return fail(user.error());
    config.users.push_back(std::move(*user));
  }
  config.state_dir = state_dir;

  asio::io_context io{1};
  auto server = Server::create(io, std::move(config));
  if (!server) return fail(server.error());
  if (auto ok = (*server)->listen(); !ok) return fail(ok.error());
  (*server)->start();
  log_info("listening on " + listen);

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
