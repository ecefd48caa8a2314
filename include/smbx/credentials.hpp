// mount.cifs credentials files (mount.cifs(8), "credentials="): lines of
// username=, password= and domain=.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "smbx/expected.hpp"

namespace smbx {

struct CredentialsFile {
  std::optional<std::string> username;
  std::optional<std::string> password;
  std::optional<std::string> domain;
};

// Keys as mount.cifs reads them: username (or user), password (or pass),
// domain (or dom, workgroup). "DOMAIN/user" or "DOMAIN\user" in username sets
// both. Blank lines and lines starting with '#' are skipped; a value runs to
// the end of the line (a trailing '\r' is dropped, spaces are kept). Any
// other line is a usage error naming its number.
Expected<CredentialsFile> parse_credentials(std::string_view text);
// Reads and parses a file; refuses one larger than 64 KiB.
Expected<CredentialsFile> read_credentials_file(const std::string& path);

}  // namespace smbx
