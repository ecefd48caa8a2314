#include "server/config.hpp"

#include <charconv>

namespace smbx::server {
namespace {
Error usage(std::string action, std::string detail) {
  return Error{.kind = ErrorKind::usage, .wire = WireError::none, .status = 0, .action = std::move(action),
               .detail = std::move(detail)};
}
}  // namespace

Expected<ShareConfig> parse_share_spec(std::string_view spec) {
  const std::string action = "parse --share " + std::string{spec};
  const auto eq = spec.find('=');
  if (eq == std::string_view::npos || eq == 0) return usage(action, "expected NAME=PATH[,encrypt][,readonly]");
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
    } else {
      return usage(action, "unknown share option '" + std::string{item} + "' (encrypt, readonly)");
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

}  // namespace smbx::server
