#include "fs/mount_options.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <limits>

#include "smbx/credentials.hpp"
#include "smbx/exit_status.hpp"

namespace smbx::fs {

namespace {

Error usage(std::string message) {
  return Error{.kind = ErrorKind::usage, .wire = WireError::none, .status = 0, .action = {},
               .detail = std::move(message)};
}

Error bad_value(std::string_view key, std::string_view value, std::string_view expected = {}) {
  std::string m = "bad value for " + std::string{key} + ": \"" + std::string{value} + "\"";
  if (!expected.empty()) m += " (expected " + std::string{expected} + ")";
  return usage(std::move(m));
}

template <typename T>
std::optional<T> parse_number(std::string_view text, int base = 10) {
  T value{};
  if (text.empty()) return std::nullopt;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value, base);
  if (ec != std::errc{} || ptr != end) return std::nullopt;
  return value;
}

// mount.cifs vers= spellings. "3" means any 3.x dialect, "default" the client's
// whole range (2.0.2 through 3.1.1).
std::optional<std::vector<std::uint16_t>> dialects_for(std::string_view vers) {
  using V = std::vector<std::uint16_t>;
  if (vers == "3.1.1" || vers == "3.11") return V{0x0311};
  if (vers == "3.0.2" || vers == "3.02") return V{0x0302};
  if (vers == "3.0") return V{0x0300};
  if (vers == "3") return V{0x0300, 0x0302, 0x0311};
  if (vers == "2.1") return V{0x0210};
  if (vers == "2.0" || vers == "2.0.2") return V{0x0202};
  if (vers == "default") return V{};
  return std::nullopt;
}

Expected<uid_t> parse_uid(std::string_view value) {
  if (auto n = parse_number<std::uint32_t>(value)) return static_cast<uid_t>(*n);
  const std::string name{value};
  if (name.empty()) return bad_value("uid", value, "a user name or number");
  if (const passwd* pw = ::getpwnam(name.c_str()); pw != nullptr) return pw->pw_uid;
  return bad_value("uid", value, "a user name or number");
}

Expected<gid_t> parse_gid(std::string_view value) {
  if (auto n = parse_number<std::uint32_t>(value)) return static_cast<gid_t>(*n);
  const std::string name{value};
  if (name.empty()) return bad_value("gid", value, "a group name or number");
  if (const group* gr = ::getgrnam(name.c_str()); gr != nullptr) return gr->gr_gid;
  return bad_value("gid", value, "a group name or number");
}

Expected<mode_t> parse_mode(std::string_view key, std::string_view value) {
  // Octal like chmod, with or without a leading 0 (mount.cifs: file_mode=0644).
  auto n = parse_number<std::uint32_t>(value, 8);
  if (!n || *n > 07777) return bad_value(key, value, "an octal mode such as 0644");
  return static_cast<mode_t>(*n);
}

// Splits "DOMAIN\user" or "DOMAIN/user" and "user%password" as mount.cifs does.
void set_user(std::string_view value, MountOptions& out) {
  if (const auto pct = value.find('%'); pct != std::string_view::npos) {
    out.client.password = std::string{value.substr(pct + 1)};
    out.password_given = true;
    value = value.substr(0, pct);
  }
  if (const auto sep = value.find_first_of("/\\"); sep != std::string_view::npos) {
    out.client.domain = std::string{value.substr(0, sep)};
    out.domain_given = true;
    value = value.substr(sep + 1);
  }
  out.client.user = std::string{value};
  out.user_given = true;
}

// mount(8)-level and generic VFS options. The first group only matter to
// mount(8) (fstab handling) and are accepted silently; the second are the
// kernel's per-mount flags, which the FUSE mount applies.
constexpr std::string_view kIgnored[] = {"_netdev", "noauto", "auto",  "user",   "users", "nouser", "nofail",
                                         "defaults", "owner", "noowner", "group", "nogroup", "forceuid",
                                         "noforceuid", "forcegid", "noforcegid", "async"};
constexpr std::string_view kVfsFlags[] = {"noexec", "exec",  "nosuid", "suid",    "nodev",
                                          "dev",    "noatime", "atime", "relatime", "sync", "dirsync"};

bool one_of(std::string_view word, std::span<const std::string_view> list) {
  return std::find(list.begin(), list.end(), word) != list.end();
}

Expected<void> apply_option(std::string_view key, std::optional<std::string_view> value, MountOptions& out) {
  auto need_value = [&](std::string_view k) -> Expected<std::string_view> {
    if (!value) return usage("option " + std::string{k} + " needs a value (" + std::string{k} + "=...)");
    return *value;
  };
  auto flag = [&](bool& target, bool set) -> Expected<void> {
    if (value) return usage("option " + std::string{key} + " takes no value");
    target = set;
    return {};
  };
  auto seconds = [&](std::string_view k, std::uint32_t min, std::uint32_t max) -> Expected<std::uint32_t> {
    auto v = need_value(k);
    if (!v) return Unexpected{v.error()};
    auto n = parse_number<std::uint32_t>(*v);
    if (!n || *n < min || *n > max)
      return bad_value(k, *v, "seconds from " + std::to_string(min) + " to " + std::to_string(max));
    return *n;
  };
  auto io_size = [&](std::string_view k) -> Expected<std::uint32_t> {
    auto v = need_value(k);
    if (!v) return Unexpected{v.error()};
    // FUSE caps a request at 1 MiB anyway; the server's maximum caps it further.
    auto n = parse_number<std::uint32_t>(*v);
    if (!n || *n < 4096 || *n > 16u * 1024 * 1024) return bad_value(k, *v, "bytes from 4096 to 16777216");
    return *n;
  };

  if (key == "username" || key == "user") {
    // mount(8) passes a bare `user` (fstab: any user may mount) down as well.
    if (!value) return {};
    set_user(*value, out);
    return {};
  }
  if (key == "password" || key == "pass") {
    out.client.password = std::string{value.value_or("")};
    out.password_given = true;
    return {};
  }
  if (key == "credentials" || key == "cred") {
    auto v = need_value(key);
    if (!v) return Unexpected{v.error()};
    if (v->empty()) return bad_value(key, *v, "a file name");
    out.credentials_file = std::string{*v};
    return {};
  }
  if (key == "domain" || key == "dom" || key == "workgroup") {
    auto v = need_value(key);
    if (!v) return Unexpected{v.error()};
    out.client.domain = std::string{*v};
    out.domain_given = true;
    return {};
  }
  if (key == "guest") return flag(out.guest, true);
  if (key == "vers") {
    auto v = need_value(key);
    if (!v) return Unexpected{v.error()};
    auto d = dialects_for(*v);
    if (!d) return bad_value(key, *v, "3.1.1, 3.11, 3.0.2, 3.02, 3.0, 3, 2.1, 2.0 or default");
    out.client.dialects = std::move(*d);
    return {};
  }
  if (key == "sec") {
    // NTLMSSP in SPNEGO is what smbx speaks; Kerberos comes later.
    auto v = need_value(key);
    if (!v) return Unexpected{v.error()};
    if (*v != "ntlmssp" && *v != "ntlmsspi" && *v != "ntlmv2" && *v != "ntlmv2i")
      return bad_value(key, *v, "ntlmssp");
    if (v->back() == 'i') out.sign = true;
    return {};
  }
  if (key == "seal") return flag(out.client.seal, true);
  if (key == "sign") return flag(out.sign, true);
  if (key == "port") {
    auto v = need_value(key);
    if (!v) return Unexpected{v.error()};
    auto n = parse_number<std::uint16_t>(*v);
    if (!n || *n == 0) return bad_value(key, *v, "a port from 1 to 65535");
    out.client.port = *n;
    return {};
  }
  if (key == "uid") {
    auto v = need_value(key);
    if (!v) return Unexpected{v.error()};
    auto id = parse_uid(*v);
    if (!id) return Unexpected{id.error()};
    out.config.uid = *id;
    return {};
  }
  if (key == "gid") {
    auto v = need_value(key);
    if (!v) return Unexpected{v.error()};
    auto id = parse_gid(*v);
    if (!id) return Unexpected{id.error()};
    out.config.gid = *id;
    return {};
  }
  if (key == "file_mode" || key == "dir_mode") {
    auto v = need_value(key);
    if (!v) return Unexpected{v.error()};
    auto m = parse_mode(key, *v);
    if (!m) return Unexpected{m.error()};
    (key == "file_mode" ? out.config.file_mode : out.config.dir_mode) = *m;
    return {};
  }
  if (key == "ro") return flag(out.config.read_only, true);
  if (key == "rw") return flag(out.config.read_only, false);
  if (key == "actimeo") {
    auto s = seconds(key, 0, 86400);
    if (!s) return Unexpected{s.error()};
    out.config.actimeo = std::chrono::seconds{*s};
    return {};
  }
  if (key == "cache") {
    auto v = need_value(key);
    if (!v) return Unexpected{v.error()};
    if (*v == "strict") out.config.cache = CacheMode::strict;
    else if (*v == "none") out.config.cache = CacheMode::none;
    else if (*v == "loose") out.config.cache = CacheMode::loose;
    else return bad_value(key, *v, "strict, none or loose");
    return {};
  }
  if (key == "rsize" || key == "wsize") {
    auto n = io_size(key);
    if (!n) return Unexpected{n.error()};
    (key == "rsize" ? out.config.rsize : out.config.wsize) = *n;
    return {};
  }
  if (key == "rasize" || key == "writebehind") {
    auto v = need_value(key);
    if (!v) return Unexpected{v.error()};
    auto n = parse_number<std::uint32_t>(*v);
    if (!n || *n > 64u * 1024 * 1024) return bad_value(key, *v, "bytes from 0 to 67108864");
    (key == "rasize" ? out.config.rasize : out.config.write_behind) = *n;
    return {};
  }
  if (key == "soft") return flag(out.config.soft, true);
  if (key == "hard") return flag(out.config.soft, false);
  if (key == "echo_interval") {
    // mount.cifs allows 1 to 600 seconds.
    auto s = seconds(key, 1, 600);
    if (!s) return Unexpected{s.error()};
    out.echo_interval = std::chrono::seconds{*s};
    return {};
  }
  if (key == "handletimeout") {
    // mount.cifs: milliseconds, at most 16 minutes.
    auto v = need_value(key);
    if (!v) return Unexpected{v.error()};
    auto n = parse_number<std::uint32_t>(*v);
    if (!n || *n > 960'000) return bad_value(key, *v, "milliseconds from 0 to 960000");
    out.handle_timeout_ms = *n;
    return {};
  }
  if (key == "persistenthandles" || key == "nopersistenthandles") {
    if (value) return usage("option " + std::string{key} + " takes no value");
    out.persistent_handles = key == "persistenthandles";
    return {};
  }
  if (key == "nobrl") return flag(out.config.nobrl, true);
  if (key == "mfsymlinks") return flag(out.config.mfsymlinks, true);
  if (key == "nomfsymlinks") return flag(out.config.mfsymlinks, false);
  if (one_of(key, kVfsFlags)) {
    if (value) return usage("option " + std::string{key} + " takes no value");
    out.config.mount_flags.emplace_back(key);
    return {};
  }
  if (one_of(key, kIgnored) || key.starts_with("x-") || key == "comment") return {};
  std::string shown{key};
  if (value) shown += "=" + std::string{*value};
  if (out.sloppy) {
    out.warnings.push_back("ignoring unknown option \"" + shown + "\"");
    return {};
  }
  return usage("unknown option \"" + std::string{key} + "\"");
}

// Where the -o option strings are in a command line: (argument index, offset
// of the option string in it). Shared by the parser and the password scrubber
// so that both see the same strings.
struct Position {
  std::size_t arg;
  std::size_t offset;
};

// Walks args like the parser; `on_flag` gets every short flag that takes no
// value, `on_value` every value of -o / -N / --log, `on_positional` the rest.
template <typename OnFlag, typename OnValue, typename OnPositional>
Expected<void> walk(std::span<const std::string> args, OnFlag on_flag, OnValue on_value,
                    OnPositional on_positional, bool lenient = false) {
  bool options_done = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (options_done || a.size() < 2 || a[0] != '-') {
      SMBX_TRY_VOID(on_positional(a));
      continue;
    }
    if (a == "--") {
      options_done = true;
      continue;
    }
    if (a.starts_with("--")) {
      std::string name = a.substr(2);
      std::optional<std::string> inline_value;
      if (const auto eq = name.find('='); eq != std::string::npos) {
        inline_value = name.substr(eq + 1);
        name.resize(eq);
      }
      if (name == "log" || name == "options") {
        const char key = name == "log" ? 'l' : 'o';
        if (inline_value) {
          SMBX_TRY_VOID(on_value(key, Position{i, a.find('=') + 1}));
        } else {
          if (i + 1 >= args.size()) return usage("--" + name + " needs a value");
          SMBX_TRY_VOID(on_value(key, Position{++i, 0}));
        }
        continue;
      }
      if (inline_value) return usage("option --" + name + " takes no value");
      static constexpr std::pair<std::string_view, char> kLong[] = {
          {"foreground", 'f'}, {"verbose", 'v'}, {"sloppy", 's'}, {"help", 'h'}, {"version", 'V'},
          {"no-mtab", 'n'}};
      const auto* it = std::find_if(std::begin(kLong), std::end(kLong), [&](auto& p) { return p.first == name; });
      if (it == std::end(kLong)) {
        if (lenient) continue;
        return usage("unknown flag \"" + a + "\"");
      }
      SMBX_TRY_VOID(on_flag(it->second));
      continue;
    }
    // A cluster of short flags ("-sfnv"); -o and -N take the rest of the
    // argument or the next one ("-oro,port=1445", "-o ro").
    for (std::size_t j = 1; j < a.size(); ++j) {
      const char c = a[j];
      if (c == 'o' || c == 'N') {
        if (j + 1 < a.size()) {
          SMBX_TRY_VOID(on_value(c, Position{i, j + 1}));
        } else {
          if (i + 1 >= args.size()) return usage(std::string{"-"} + c + " needs a value");
          SMBX_TRY_VOID(on_value(c, Position{++i, 0}));
        }
        break;
      }
      if (std::strchr("sfnvhV", c) == nullptr) {
        if (lenient) continue;
        return usage(std::string{"unknown flag \"-"} + c + "\"");
      }
      SMBX_TRY_VOID(on_flag(c));
    }
  }
  return {};
}

}  // namespace

Expected<void> parse_unc(std::string_view spec, MountOptions& out) {
  const std::string shown{spec};
  auto bad = [&] {
    return usage("bad source \"" + shown + "\" (expected //server[:port]/share[/subdir])");
  };
  std::string s{spec};
  std::replace(s.begin(), s.end(), '\\', '/');
  if (!s.starts_with("//")) return bad();
  std::string_view rest{s};
  rest.remove_prefix(2);
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos) return bad();
  std::string_view host = rest.substr(0, slash);
  std::string_view path = rest.substr(slash + 1);
  std::optional<std::uint16_t> port;
  if (host.starts_with('[')) {
    // [IPv6]:port
    const auto close = host.find(']');
    if (close == std::string_view::npos) return bad();
    std::string_view after = host.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return bad();
      port = parse_number<std::uint16_t>(after.substr(1));
      if (!port || *port == 0) return bad();
    }
    host = host.substr(1, close - 1);
  } else if (const auto colon = host.find(':'); colon != std::string_view::npos &&
                                                 host.find(':', colon + 1) == std::string_view::npos) {
    port = parse_number<std::uint16_t>(host.substr(colon + 1));
    if (!port || *port == 0) return bad();
    host = host.substr(0, colon);
  }
  if (host.empty()) return bad();
  while (path.ends_with('/')) path.remove_suffix(1);
  const auto share_end = path.find('/');
  std::string_view share = path.substr(0, share_end);
  if (share.empty()) return bad();
  std::string subdir;
  if (share_end != std::string_view::npos) {
    std::string_view sub = path.substr(share_end + 1);
    // Collapse repeated slashes; refuse "." and ".." segments.
    std::size_t start = 0;
    while (start <= sub.size()) {
      const auto end = std::min(sub.find('/', start), sub.size());
      const auto seg = sub.substr(start, end - start);
      if (seg == "." || seg == "..") return bad();
      if (!seg.empty()) {
        if (!subdir.empty()) subdir += '/';
        subdir += seg;
      }
      start = end + 1;
    }
  }
  out.client.host = std::string{host};
  out.unc_port = port;
  if (port) out.client.port = *port;
  out.share = std::string{share};
  out.subdir = std::move(subdir);
  return {};
}

Expected<void> parse_option_string(std::string_view options, MountOptions& out) {
  while (!options.empty()) {
    const auto comma = options.find(',');
    std::string_view item = options.substr(0, comma);
    options = comma == std::string_view::npos ? std::string_view{} : options.substr(comma + 1);
    if (item.empty()) continue;
    const auto eq = item.find('=');
    std::string_view key = item.substr(0, eq);
    std::optional<std::string_view> value;
    if (eq != std::string_view::npos) value = item.substr(eq + 1);
    if (key.empty()) return usage("empty option name in \"" + std::string{item} + "\"");
    SMBX_TRY_VOID(apply_option(key, value, out));
  }
  return {};
}

Expected<MountOptions> parse_mount_command_line(std::span<const std::string> args) {
  MountOptions out;
  // mount.cifs: files belong to the mounting user unless uid=/gid= say otherwise.
  out.config.uid = ::getuid();
  out.config.gid = ::getgid();
  std::vector<std::string> positional;
  std::vector<std::string> option_strings;
  auto result = walk(
      args,
      [&](char c) -> Expected<void> {
        switch (c) {
          case 'f': out.foreground = true; break;
          case 'v': out.verbose = true; break;
          case 's': out.sloppy = true; break;
          case 'n': out.no_mtab = true; break;
          case 'h': out.help = true; break;
          case 'V': out.version = true; break;
          default: break;
        }
        return {};
      },
      [&](char key, Position p) -> Expected<void> {
        std::string value = args[p.arg].substr(p.offset);
        if (key == 'o') {
          option_strings.push_back(std::move(value));
        } else if (key == 'N') {
          if (value.empty()) return usage("-N needs a namespace (a pid or a path)");
          out.ns = std::move(value);
        } else {
          if (value.empty()) return usage("--log needs a file name");
          out.log_file = std::move(value);
        }
        return {};
      },
      [&](const std::string& a) -> Expected<void> {
        positional.push_back(a);
        return {};
      });
  if (!result) return Unexpected{result.error()};
  if (out.help || out.version) return out;
  if (positional.size() < 2)
    return usage(positional.empty() ? "missing source //server/share and mount point" : "missing mount point");
  if (positional.size() > 2) return usage("unexpected argument \"" + positional[2] + "\"");
  SMBX_TRY_VOID(parse_unc(positional[0], out));
  out.client.port = 445;
  // After the whole line: -s must be known wherever it stood.
  bool port_option = false;
  for (const auto& o : option_strings) {
    const auto before = out.client.port;
    out.client.port = 0;
    SMBX_TRY_VOID(parse_option_string(o, out));
    if (out.client.port != 0) port_option = true; else out.client.port = before;
  }
  if (out.unc_port) {
    if (port_option && out.client.port != *out.unc_port)
      return usage("port " + std::to_string(*out.unc_port) + " in \"" + positional[0] +
                   "\" conflicts with port=" + std::to_string(out.client.port));
    out.client.port = *out.unc_port;
  }
  if (positional[1].empty()) return usage("empty mount point");
  apply_failover_options(out);
  out.config.mountpoint = positional[1];
  out.config.fsname = fs_name(out);
  return out;
}

void apply_failover_options(MountOptions& out) {
  auto& c = out.client;
  const std::chrono::milliseconds deadline{out.handle_timeout_ms != 0 ? out.handle_timeout_ms : 60'000};
  c.recover = true;
  c.hard = !out.config.soft;
  c.handle_timeout = out.handle_timeout_ms;
  c.recovery_timeout = deadline;
  c.persistent_handles = out.persistent_handles;
  c.echo_interval = out.echo_interval;
  // soft: an operation gives up after the deadline, whether the connection
  // died or the server stopped answering on it. hard: a slow answer is waited
  // for (a dead peer is found by the ECHO keep-alive instead).
  c.request_timeout = c.hard ? std::chrono::milliseconds{std::chrono::hours{24 * 365}} : deadline;
}

Expected<void> apply_credentials_file(MountOptions& out) {
  if (out.credentials_file.empty()) return {};
  auto creds = read_credentials_file(out.credentials_file);
  if (!creds) return Unexpected{creds.error()};
  if (creds->username && !out.user_given) {
    out.client.user = *creds->username;
    out.user_given = true;
  }
  // "DOMAIN/user" in the file's username= sets the domain too.
  if (creds->domain && !out.domain_given) {
    out.client.domain = *creds->domain;
    out.domain_given = true;
  }
  if (creds->password && !out.password_given) {
    out.client.password = *creds->password;
    out.password_given = true;
  }
  return {};
}

Expected<void> fill_identity(MountOptions& out, const std::function<const char*(const char*)>& getenv_fn,
                             const std::function<std::optional<std::string>(const std::string&)>& prompt) {
  if (!out.user_given || out.client.user.empty()) {
    const char* env_user = getenv_fn("USER");
    if (env_user == nullptr || *env_user == '\0') env_user = getenv_fn("LOGNAME");
    std::string name = env_user != nullptr ? env_user : "";
    if (name.empty())
      if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr) name = pw->pw_name;
    if (name.empty()) return usage("no user name: give username= or credentials=FILE");
    set_user(name, out);
  }
  if (out.password_given || out.guest) return {};
  // mount.cifs reads PASSWD from the environment.
  if (const char* env = getenv_fn("PASSWD"); env != nullptr) {
    out.client.password = env;
    out.password_given = true;
    return {};
  }
  if (prompt) {
    if (auto typed = prompt("Password for " + principal(out) + "@" + fs_name(out) + ": ")) {
      out.client.password = std::move(*typed);
      out.password_given = true;
      return {};
    }
  }
  return usage("no password for " + principal(out) + " on " + fs_name(out) +
               ": give password=, credentials=FILE or PASSWD, or run on a terminal");
}

int scrub_password_arguments(int argc, char** argv) {
  if (argc < 2) return 0;
  std::vector<std::string> args(argv + 1, argv + argc);
  int hidden = 0;
  auto hide = [&](std::size_t arg, std::size_t offset) {
    char* s = argv[arg + 1] + offset;
    // Option by option, like parse_option_string.
    while (*s != '\0') {
      char* end = std::strchr(s, ',');
      if (end == nullptr) end = s + std::strlen(s);
      char* eq = static_cast<char*>(std::memchr(s, '=', static_cast<std::size_t>(end - s)));
      if (eq != nullptr) {
        const std::string_view key{s, static_cast<std::size_t>(eq - s)};
        char* value = eq + 1;
        if (key == "user" || key == "username") {
          value = static_cast<char*>(std::memchr(value, '%', static_cast<std::size_t>(end - value)));
          if (value != nullptr) ++value;
        } else if (key != "password" && key != "pass") {
          value = nullptr;
        }
        if (value != nullptr && value < end) {
          std::memset(value, 'x', static_cast<std::size_t>(end - value));
          ++hidden;
        }
      }
      s = *end == ',' ? end + 1 : end;
    }
  };
  // Lenient: a line the parser will refuse still has every -o value hidden.
  (void)walk(
      args, [](char) -> Expected<void> { return {}; },
      [&](char key, Position p) -> Expected<void> {
        if (key == 'o') hide(p.arg, p.offset);
        return {};
      },
      [](const std::string&) -> Expected<void> { return {}; }, true);
  return hidden;
}

std::string principal(const MountOptions& options) {
  return options.client.domain.empty() ? options.client.user : options.client.domain + "\\" + options.client.user;
}

std::string fs_name(const MountOptions& options) {
  const bool v6 = options.client.host.find(':') != std::string::npos;
  std::string out = "//" + (v6 ? "[" + options.client.host + "]" : options.client.host);
  if (options.client.port != 445) out += ":" + std::to_string(options.client.port);
  out += "/" + options.share;
  if (!options.subdir.empty()) out += "/" + options.subdir;
  return out;
}

MountExit mount_exit_for(const Error& error) noexcept {
  switch (exit_code_for(error)) {
    case ExitCode::ok: return MountExit::ok;
    case ExitCode::usage: return MountExit::usage;
    case ExitCode::authentication: return MountExit::authentication;
    case ExitCode::not_found: return MountExit::not_found;
    case ExitCode::access_denied: return MountExit::access_denied;
    case ExitCode::network: return MountExit::network;
    case ExitCode::other: break;
  }
  return MountExit::failure;
}

}  // namespace smbx::fs
