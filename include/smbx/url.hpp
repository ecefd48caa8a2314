// smb:// URLs as the command-line tools take them:
//   smb://[domain;]user@host[:port]/share/path
// (the shape of the SMB URL draft, draft-crhertel-smb-url, minus passwords).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "smbx/expected.hpp"

namespace smbx {

struct SmbUrl {
  std::string domain;             // empty when not given
  std::string user;               // empty when not given
  std::string host;               // a name, an IPv4 address, or an IPv6 address without brackets
  std::optional<std::uint16_t> port;
  std::string share;              // empty only for smb://host/
  std::string path;               // relative to the share, '/'-separated, no leading or trailing '/'
  bool trailing_slash = false;    // the URL ended in '/': it names a directory

  // "smb://dom;user@host:port/share/path", for messages.
  std::string to_string() const;
};

// Parses strictly: lower-case "smb://" scheme; %XX escapes decoded in the
// user, domain and path; no password, query or fragment; no "." or ".."
// path segments; a port from 1 to 65535. Errors are ErrorKind::usage and say
// what is wrong.
Expected<SmbUrl> parse_smb_url(std::string_view text);

// RFC 3986 %XX escapes: every byte but the unreserved characters (and '/'
// when keep_slash) is escaped, so the result holds no space, '%' or control byte.
std::string percent_encode(std::string_view text, bool keep_slash = false);
// Decodes %XX escapes; nullopt on a broken escape or a decoded control character.
std::optional<std::string> percent_decode(std::string_view text);

}  // namespace smbx
