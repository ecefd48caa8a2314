#include "smbx/url.hpp"

#include <charconv>

namespace smbx {

namespace {

Error url_error(std::string_view text, std::string detail) {
  return Error{.kind = ErrorKind::usage, .wire = WireError::none, .status = 0,
               .action = "bad URL '" + std::string{text} + "'", .detail = std::move(detail)};
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}


bool is_host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_';
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return std::nullopt;
      const int hi = hex_value(in[i + 1]);
      const int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) return std::nullopt;
    out += c;
  }
  return out;
}

std::string percent_encode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                            c == '.' || c == '_' || c == '~';
    if (unreserved || (keep_slash && c == '/')) {
      out += c;
    } else {
      const auto b = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[b >> 4];
      out += kHex[b & 15];
    }
  }
  return out;
}

std::string SmbUrl::to_string() const {
  std::string out = "smb://";
  if (!domain.empty()) out += percent_encode(domain) + ";";
  if (!user.empty()) out += percent_encode(user) + "@";
  out += host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port) out += ":" + std::to_string(*port);
  out += "/" + percent_encode(share);
  if (!path.empty()) out += "/" + percent_encode(path, true);
  return out;
}

Expected<SmbUrl> parse_smb_url(std::string_view text) {
  constexpr std::string_view kScheme = "smb://";
  if (text.substr(0, kScheme.size()) != kScheme)
    return url_error(text, "it must start with smb:// (smb://[domain;]user@host[:port]/share/path)");
  if (text.find_first_of("?#") != std::string_view::npos)
    return url_error(text, "a query (?) or fragment (#) has no meaning here");
  std::string_view rest = text.substr(kScheme.size());
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view resource = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
  SmbUrl url;

  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    if (userinfo.find(':') != std::string_view::npos)
      return url_error(text, "passwords in URLs are not accepted; use -A FILE, SMBX_PASSWORD or the prompt");
    if (const auto semi = userinfo.find(';'); semi != std::string_view::npos) {
      auto domain = percent_decode(userinfo.substr(0, semi));
      if (!domain || domain->empty()) return url_error(text, "the domain before ';' is empty or badly escaped");
      url.domain = std::move(*domain);
      userinfo = userinfo.substr(semi + 1);
    }
    if (userinfo.find_first_of(";@") != std::string_view::npos)
      return url_error(text, "the user name holds ';' or '@' (escape them as %3B, %40)");
    auto user = percent_decode(userinfo);
    if (!user || user->empty()) return url_error(text, "the user name before '@' is empty or badly escaped");
    url.user = std::move(*user);
  }

  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return url_error(text, "an IPv6 address lacks its closing ']'");
    url.host = std::string{authority.substr(1, close - 1)};
    for (char c : url.host)
      if (hex_value(c) < 0 && c != ':' && c != '.') return url_error(text, "'" + url.host + "' is not an IPv6 address");
    if (url.host.find(':') == std::string::npos) return url_error(text, "'" + url.host + "' is not an IPv6 address");
    const auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return url_error(text, "unexpected text after the IPv6 address");
      port_text = after.substr(1);
      if (port_text.empty()) return url_error(text, "the port after ':' is empty");
    }
  } else {
    const auto colon = authority.find(':');
    url.host = std::string{authority.substr(0, colon)};
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return url_error(text, "the port after ':' is empty");
    }
    for (char c : url.host)
      if (!is_host_char(c)) return url_error(text, "the host name '" + url.host + "' holds '" + std::string(1, c) + "'");
  }
  if (url.host.empty()) return url_error(text, "the host is missing");
  if (!port_text.empty()) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc{} || end != port_text.data() + port_text.size() || value == 0 || value > 65535)
      return url_error(text, "the port '" + std::string{port_text} + "' is not a number from 1 to 65535");
    url.port = static_cast<std::uint16_t>(value);
  }

  auto decoded = percent_decode(resource);
  if (!decoded) return url_error(text, "the path holds a bad %-escape or a control character");
  std::string_view path = *decoded;
  url.trailing_slash = !path.empty() && path.back() == '/';
  const auto share_end = path.find('/');
  url.share = std::string{path.substr(0, share_end)};
  if (url.share.find_first_of("\\:*?\"<>|") != std::string::npos)
    return url_error(text, "the share name '" + url.share + "' holds a character shares cannot have");
  std::string_view remainder = share_end == std::string_view::npos ? std::string_view{} : path.substr(share_end + 1);
  while (!remainder.empty()) {
    const auto next = remainder.find('/');
    const auto segment = remainder.substr(0, next);
    remainder = next == std::string_view::npos ? std::string_view{} : remainder.substr(next + 1);
    if (segment.empty()) continue;  // "a//b" is "a/b"
    if (segment == "." || segment == "..")
      return url_error(text, "'.' and '..' path segments are not allowed");
    if (!url.path.empty()) url.path += '/';
    url.path += segment;
  }
  if (url.share.empty() && !url.path.empty()) return url_error(text, "the share name is empty");
  return url;
}

}  // namespace smbx
