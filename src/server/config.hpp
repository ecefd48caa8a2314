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
  bool continuously_available = false;  // ",ca": MS-SMB2 Share.IsCA (persistent handles)
  // ",users=A:B": the only users that may connect to the share (TREE_CONNECT
  // fails ACCESS_DENIED for others) and use its ODX tokens; empty: every user.
  std::vector<std::string> users;
  // Whether `user` may use the share (names compare ignoring case).
  bool allows(std::string_view user) const;
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
  // --state-dir: holds the state store (smbxd-state.sqlite, state_store.hpp);
  // created mode 0700 when missing. Required by a continuously available share.
  std::string state_dir;
  std::string control_socket;  // --control: Unix socket for smbxctl (empty: none)
  std::string log_level = "info";
  // MS-SMB2 3.3.2.1 / 3.3.2.5: how long an oplock or lease break may go
  // unacknowledged before the server lowers the state itself.
  std::uint32_t break_timeout_ms = 35000;
  std::uint32_t max_io_size = 8u << 20;  // MaxReadSize / MaxWriteSize / MaxTransactSize
};

// "NAME=PATH[,encrypt][,readonly][,ca][,users=USER:USER...]"
Expected<ShareConfig> parse_share_spec(std::string_view spec);
// "USER:PASSWORD" (the password may contain ':')
Expected<UserConfig> parse_user_spec(std::string_view spec);
// "ADDR:PORT", "[v6addr]:PORT" or "ADDR" (port 445)
Expected<void> parse_listen_spec(std::string_view spec, ServerConfig& config);

// A config file in smb.conf's INI style (man/smbxd.8):
//   [global]  listen = ADDR:PORT, user = NAME:PASSWORD (repeatable),
//             log level = LEVEL, state dir = DIR, control = SOCKET,
//             break timeout = MILLISECONDS
//   [NAME]    path = DIR, encrypt = yes|no, read only = yes|no,
//             continuously available = yes|no, users = USER:USER... (also
//             separated by ',' or spaces)
// Keys ignore case and spaces ("state dir" = "statedir"); '#' and ';' start
// comment lines. Errors name the file and line: "FILE:LINE: ...".
// `origin` names the text in messages (the file name).
Expected<ServerConfig> parse_config_text(std::string_view text, const std::string& origin);
Expected<ServerConfig> load_config_file(const std::string& path);

// Adds or replaces (same name, ignoring case) a share or user: how command-line
// flags override the file.
void merge_share(ServerConfig& config, ShareConfig share);

// Checks what only the whole configuration can tell (after the file and the
// flags are merged): a continuously available share needs a state dir.
Expected<void> check_config(const ServerConfig& config);
void merge_user(ServerConfig& config, UserConfig user);

}  // namespace smbx::server
