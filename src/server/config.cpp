#include "server/config.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include "wire/bytes.hpp"

namespace smbx::server {

namespace {
Error usage(std::string action, std::string detail) {
  return Error{.kind = ErrorKind::usage, .wire = WireError::none, .status = 0, .action = std::move(action),
               .detail = std::move(detail)};
}

// "a:b", "a, b" or "a b" -> {"a", "b"}.
std::vector<std::string> split_users(std::string_view text, std::string_view separators) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto start = text.find_first_not_of(separators, i);
    if (start == std::string_view::npos) break;
    const auto end = text.find_first_of(separators, start);
    out.emplace_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    i = end == std::string_view::npos ? text.size() : end;
  }
  return out;
}

}  // namespace

bool ShareConfig::allows(std::string_view user) const {
  return users.empty() ||
         std::any_of(users.begin(), users.end(), [&](const auto& u) { return equal_ascii_ci(u, user); });
}

Expected<ShareConfig> parse_share_spec(std::string_view spec) {
  const std::string action = "parse --share " + std::string{spec};
  const auto eq = spec.find('=');
  if (eq == std::string_view::npos || eq == 0)
    return usage(action, "expected NAME=PATH[,encrypt][,readonly][,ca][,users=USER:USER...]");
  ShareConfig share;
  share.name = std::string{spec.substr(0, eq)};
  if (share.name.find_first_of("\\/:*?\"<>|$ ") != std::string::npos || share.name.size() > 80)
    return usage(action, "share name '" + share.name + "' has a character clients cannot use");
  std::string_view rest = spec.substr(eq + 1);
  bool first = true;
  while (true) {
    const auto comma = rest.find(',');
    const auto item = rest.substr(0, comma);
    if (first) {
      share.path = std::string{item};
      if (share.path.empty()) return usage(action, "the share path is empty");
      first = false;
    } else if (item == "encrypt") {
      share.encrypt = true;
    } else if (item == "readonly") {
      share.readonly = true;
    } else if (item == "ca") {
      share.continuously_available = true;
    } else if (item.starts_with("users=")) {
      share.users = split_users(item.substr(6), ":");
      if (share.users.empty()) return usage(action, "users= names no user");
    } else {
      return usage(action, "unknown share option '" + std::string{item} + "' (encrypt, readonly, ca, users=)");
    }
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  return share;
}

Expected<UserConfig> parse_user_spec(std::string_view spec) {
  const auto colon = spec.find(':');
  if (colon == std::string_view::npos || colon == 0)
    return usage("parse --user", "expected USER:PASSWORD");
  return UserConfig{std::string{spec.substr(0, colon)}, std::string{spec.substr(colon + 1)}};
}

Expected<void> parse_listen_spec(std::string_view spec, ServerConfig& config) {
  const std::string action = "parse --listen " + std::string{spec};
  std::string_view host = spec;
  std::string_view port;
  if (!spec.empty() && spec.front() == '[') {
    const auto close = spec.find(']');
    if (close == std::string_view::npos) return usage(action, "missing ']'");
    host = spec.substr(1, close - 1);
    if (close + 1 < spec.size()) {
      if (spec[close + 1] != ':') return usage(action, "expected ':' after ']'");
      port = spec.substr(close + 2);
    }
  } else if (const auto colon = spec.rfind(':'); colon != std::string_view::npos) {
    host = spec.substr(0, colon);
    port = spec.substr(colon + 1);
  }
  if (host.empty()) return usage(action, "the address is empty");
  config.listen_address = std::string{host};
  if (!port.empty()) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535)
      return usage(action, "port '" + std::string{port} + "' is not a number from 1 to 65535");
    config.port = static_cast<std::uint16_t>(value);
  }
  return {};
}

namespace {

std::string trim(std::string_view s) {
  const auto begin = s.find_first_not_of(" \t\r");
  if (begin == std::string_view::npos) return {};
  const auto end = s.find_last_not_of(" \t\r");
  return std::string{s.substr(begin, end - begin + 1)};
}

// "Log Level" -> "loglevel": smb.conf's way of matching parameter names.
std::string key_of(std::string_view s) {
  std::string out;
  for (const char c : s)
    if (c != ' ' && c != '\t' && c != '_') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::optional<bool> parse_bool(std::string_view v) {
  const std::string k = key_of(v);
  if (k == "yes" || k == "true" || k == "1" || k == "on") return true;
  if (k == "no" || k == "false" || k == "0" || k == "off") return false;
  return std::nullopt;
}

}  // namespace

void merge_share(ServerConfig& config, ShareConfig share) {
  for (auto& existing : config.shares)
    if (equal_ascii_ci(existing.name, share.name)) {
      existing = std::move(share);
      return;
    }
  config.shares.push_back(std::move(share));
}

void merge_user(ServerConfig& config, UserConfig user) {
  for (auto& existing : config.users)
    if (equal_ascii_ci(existing.user, user.user)) {
      existing = std::move(user);
      return;
    }
  config.users.push_back(std::move(user));
}

Expected<ServerConfig> parse_config_text(std::string_view text, const std::string& origin) {
  ServerConfig config;
  std::size_t line_no = 0;
  std::string section;            // "" before the first section header
  ShareConfig* share = nullptr;   // the [NAME] section being read
  std::vector<std::size_t> share_lines;  // where each share began, for "no path" errors
  // "FILE:LINE: what" is the whole message (main prints the detail alone).
  auto error = [&](const std::string& what) { return usage("", origin + ":" + std::to_string(line_no) + ": " + what); };
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const auto nl = text.find('\n', pos);
    const std::string_view raw = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++line_no;
    const std::string line = trim(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line[0] == '[') {
      if (line.back() != ']') return error("section header '" + line + "' has no closing ']'");
      section = trim(std::string_view{line}.substr(1, line.size() - 2));
      if (section.empty()) return error("empty section name");
      share = nullptr;
      if (key_of(section) == "global") continue;
      if (section.find_first_of("\\/:*?\"<>|$ ") != std::string::npos || section.size() > 80)
        return error("share name '" + section + "' has a character clients cannot use");
      for (const auto& existing : config.shares)
        if (equal_ascii_ci(existing.name, section)) return error("share [" + section + "] is defined twice");
      config.shares.push_back(ShareConfig{.name = section, .path = "", .users = {}});
      share_lines.push_back(line_no);
      share = &config.shares.back();
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string::npos) return error("expected 'key = value', got '" + line + "'");
    const std::string key = key_of(std::string_view{line}.substr(0, eq));
    const std::string value = trim(std::string_view{line}.substr(eq + 1));
    if (key.empty()) return error("missing key before '='");
    if (section.empty()) return error("'" + trim(std::string_view{line}.substr(0, eq)) + "' is outside any section");
    if (share == nullptr) {  // [global]
      if (key == "listen") {
        if (auto ok = parse_listen_spec(value, config); !ok) return error(ok.error().detail);
      } else if (key == "user") {
        auto user = parse_user_spec(value);
        if (!user) return error("user: " + user.error().detail);
        merge_user(config, std::move(*user));
      } else if (key == "loglevel" || key == "log") {
        const std::string level = key_of(value);
        if (level != "error" && level != "warn" && level != "info" && level != "debug")
          return error("log level '" + value + "': expected error, warn, info or debug");
        config.log_level = level;
      } else if (key == "statedir") {
        if (value.empty()) return error("state dir is empty");
        config.state_dir = value;
      } else if (key == "control") {
        if (value.empty()) return error("control is empty");
        config.control_socket = value;
      } else if (key == "breaktimeout") {
        unsigned ms = 0;
        const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), ms);
        if (ec != std::errc{} || end != value.data() + value.size() || ms == 0)
          return error("break timeout '" + value + "': expected milliseconds above 0");
        config.break_timeout_ms = ms;
      } else {
        return error("unknown [global] parameter '" + trim(std::string_view{line}.substr(0, eq)) +
                     "' (listen, user, log level, state dir, control, break timeout)");
      }
      continue;
    }
    if (key == "path") {
      if (value.empty()) return error("path is empty");
      share->path = value;
    } else if (key == "encrypt" || key == "readonly") {
      const auto flag = parse_bool(value);
      if (!flag) return error(trim(std::string_view{line}.substr(0, eq)) + " = '" + value + "': expected yes or no");
      (key == "encrypt" ? share->encrypt : share->readonly) = *flag;
    } else if (key == "continuouslyavailable" || key == "ca") {
      const auto flag = parse_bool(value);
      if (!flag) return error("continuously available = '" + value + "': expected yes or no");
      share->continuously_available = *flag;
    } else if (key == "users" || key == "validusers") {
      share->users = split_users(value, ":, \t");
      if (share->users.empty()) return error("users names no user");
    } else if (key == "writable" || key == "writeable") {
      const auto flag = parse_bool(value);
      if (!flag) return error("writable = '" + value + "': expected yes or no");
      share->readonly = !*flag;
    } else {
      return error("unknown share parameter '" + trim(std::string_view{line}.substr(0, eq)) +
                   "' (path, encrypt, read only, continuously available, users)");
    }
  }
  for (std::size_t i = 0; i < config.shares.size(); ++i)
    if (config.shares[i].path.empty()) {
      line_no = share_lines[i];
      return error("share [" + config.shares[i].name + "] has no path");
    }
  return config;
}

Expected<void> check_config(const ServerConfig& config) {
  // Persistent handles must outlive the process (MS-SMB2 3.3.5.9.10 grants
  // them only on CA shares): without a state store they could not.
  for (const auto& share : config.shares)
    if (share.continuously_available && config.state_dir.empty())
      return usage("", "share " + share.name +
                           " is continuously available (ca) but no --state-dir (or 'state dir =') keeps its "
                           "persistent handles");
  return {};
}

Expected<ServerConfig> load_config_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in) return usage("", path + ": cannot open: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return parse_config_text(text.str(), path);
}

}  // namespace smbx::server
