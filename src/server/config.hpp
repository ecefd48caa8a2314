// smbxd's settings: what the command line (and later a config file) says.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "smbx/expected.hpp"

namespace smbx::server {

struct ShareConfig {
  std::string name;  // as clients name it; matched case-insensitively
  std::string path;  // the directory served
  bool encrypt = false;   // MS-SMB2 3.3.5.7: Share.EncryptData, RejectUnencryptedAccess
  bool readonly = false;
};

struct UserConfig {
  std::string user;
  std::string password;
};

struct ServerConfig {
  std::string listen_address = "127.0.0.1";
  std::uint16_t port = 445;
  std::vector<ShareConfig> shares;
  std::vector<UserConfig> users;
  std::string state_dir;
  std::uint32_t max_io_size = 8u << 20;  // MaxReadSize / MaxWriteSize / MaxTransactSize
};

// "NAME=PATH[,encrypt][,readonly]"
Expected<ShareConfig> parse_share_spec(std::string_view spec);
// "USER:PASSWORD" (the password may contain ':')
Expected<UserConfig> parse_user_spec(std::string_view spec);
// "ADDR:PORT", "[v6addr]:PORT" or "ADDR" (port 445)
Expected<void> parse_listen_spec(std::string_view spec, ServerConfig& config);

}  // namespace smbx::server
