#include "smbx/credentials.hpp"

#include <fstream>
#include <sstream>

namespace smbx {

namespace {

Error credentials_error(std::string detail) {
  return Error{.kind = ErrorKind::usage, .wire = WireError::none, .status = 0, .action = "credentials file",
               .detail = std::move(detail)};
}

}  // namespace

Expected<CredentialsFile> parse_credentials(std::string_view text) {
  CredentialsFile out;
  std::size_t number = 0;
  while (!text.empty()) {
    const auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos || line[first] == '#') continue;
    line = line.substr(first);
    const auto eq = line.find('=');
    if (eq == std::string_view::npos)
      return credentials_error("line " + std::to_string(number) + " is not key=value");
    std::string_view key = line.substr(0, eq);
    while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.remove_suffix(1);
    const std::string value{line.substr(eq + 1)};
    if (key == "username" || key == "user") {
      // mount.cifs accepts "DOMAIN/user" (and "DOMAIN\user") here.
      const auto sep = value.find_first_of("/\\");
      if (sep != std::string::npos) {
        out.domain = value.substr(0, sep);
        out.username = value.substr(sep + 1);
      } else {
        out.username = value;
      }
    } else if (key == "password" || key == "pass") {
      out.password = value;
    } else if (key == "domain" || key == "dom" || key == "workgroup") {
      out.domain = value;
    } else {
      return credentials_error("line " + std::to_string(number) + ": unknown key '" + std::string{key} +
                               "' (expected username=, password= or domain=)");
    }
  }
  return out;
}

Expected<CredentialsFile> read_credentials_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return Error{.kind = ErrorKind::usage, .wire = WireError::none, .status = 0,
                 .action = "read credentials file " + path, .detail = "cannot open it"};
  std::ostringstream content;
  content << in.rdbuf();
  const auto text = content.str();
  if (text.size() > 64 * 1024)
    return Error{.kind = ErrorKind::usage, .wire = WireError::none, .status = 0,
                 .action = "read credentials file " + path, .detail = "larger than 64 KiB"};
  auto parsed = parse_credentials(text);
  if (!parsed) {
    Error e = parsed.error();
    e.action = "credentials file " + path;
    return e;
  }
  return parsed;
}

}  // namespace smbx
