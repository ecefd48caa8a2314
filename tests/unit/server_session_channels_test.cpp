// smbxd multichannel bookkeeping (state.hpp Session/Channel, server.hpp
// GlobalSessionTable and GlobalOpenTable): what session binding
// (MS-SMB2 3.3.5.5.2) and channel loss (3.3.7.1) rely on. The wire side is
// proven by smbtorture (tests/server/gate-multichannel.txt).
#include <doctest/doctest.h>

#include <boost/asio.hpp>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "server/server.hpp"

namespace {

namespace server = smbx::server;
namespace asio = boost::asio;

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "smbx-channels.XXXXXX").string();
    path = ::mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

std::unique_ptr<server::Server> make_server(asio::io_context& io, const TempDir& dir) {
  server::ServerConfig config;
  server::ShareConfig share;
  share.name = "share";
  share.path = dir.path.string();
  config.shares.push_back(share);
  server::UserConfig user;
  user.user = "u";
  user.password = "p";
  config.users.push_back(user);
  auto made = server::Server::create(io, config);
  REQUIRE(made);
  return std::move(*made);
}

}  // namespace

TEST_CASE("a session's channels are found by their connection, each with its own key and algorithm") {
  server::Session session;
  // Channels are identified by the connection object only; these stand-ins
  // are never dereferenced.
  const auto* first = reinterpret_cast<const server::Connection*>(0x1000);
  const auto* second = reinterpret_cast<const server::Connection*>(0x2000);
  const auto* other = reinterpret_cast<const server::Connection*>(0x3000);
  session.channels.push_back({first, {}, smbx::Bytes(16, 1), smbx::crypto::SigningAlgorithm::aes_gmac});
  session.channels.push_back({second, {}, {}, smbx::crypto::SigningAlgorithm::aes_cmac});
  REQUIRE(session.find_channel(first) != nullptr);
  CHECK(session.find_channel(first)->signing_key == smbx::Bytes(16, 1));
  CHECK(session.find_channel(first)->signing_algorithm == smbx::crypto::SigningAlgorithm::aes_gmac);
  REQUIRE(session.find_channel(second) != nullptr);
  CHECK(session.find_channel(second)->signing_key.empty());  // binding still authenticating
  CHECK(session.find_channel(second)->signing_algorithm == smbx::crypto::SigningAlgorithm::aes_cmac);
  CHECK(session.find_channel(other) == nullptr);
  CHECK(server::kMaxChannels == 32);  // smb2.multichannel.generic.num_channels: the 33rd fails
}

TEST_CASE("the global session table finds a session while a channel owns it, and forgets it after") {
  asio::io_context io;
  TempDir dir;
  auto srv = make_server(io, dir);
  auto session = std::make_shared<server::Session>();
  session->id = srv->allocate_session_id();
  srv->register_session(session);
  CHECK(srv->find_session(session->id) == session);
  CHECK(srv->find_session(session->id + 1) == nullptr);
  const auto id = session->id;
  session.reset();  // the last channel's connection let go of it
  CHECK(srv->find_session(id) == nullptr);

  auto again = std::make_shared<server::Session>();
  again->id = srv->allocate_session_id();
  CHECK(again->id != id);
  srv->register_session(again);
  srv->unregister_session(again->id);  // LOGOFF, a failed reauthentication
  CHECK(srv->find_session(again->id) == nullptr);
}

TEST_CASE("one open table serves every connection of the server") {
  asio::io_context io;
  TempDir dir;
  auto srv = make_server(io, dir);
  auto& table = srv->open_table();
  CHECK(table.empty());
  auto open = std::make_unique<server::Open>();
  open->id = srv->allocate_file_id();
  open->session_id = 7;
  const auto id = open->id;
  table[id] = std::move(open);
  // What another channel of session 7 looks up is the same object.
  CHECK(&srv->open_table() == &table);
  REQUIRE(srv->open_table().count(id) == 1);
  CHECK(srv->open_table().at(id)->session_id == 7);
  table.erase(id);
}
