// g++ 12 at -O2 reports -Wmismatched-new-delete for asio::awaitable frames (a
// false positive; see src/client/client.cpp).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include "copier.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>

#include "client/password_prompt.hpp"
#include "common/tool_support.hpp"
#include "mounts.hpp"
#include "report.hpp"
#include "smbx/client.hpp"
#include "smbx/credentials.hpp"
#include "smbx/exit_status.hpp"
#include "smbx/file.hpp"
#include "smbx/url.hpp"
#include "wire/create.hpp"
#include "wire/fscc.hpp"
#include "wire/ntstatus.hpp"

namespace smbx::cpo {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

using cli::dialect_from_vers;
using cli::local_error;
using cli::usage_error;

constexpr unsigned kMaxDepth = 256;  // directory levels below a SRC (a symlink loop ends here)

Error local_error_text(std::string action, std::string detail) {
  return Error{.kind = ErrorKind::local, .wire = WireError::none, .status = 0, .action = std::move(action),
               .detail = std::move(detail)};
}

ExitCode exit_code_for_errno(int err) {
  if (err == ENOENT || err == ENOTDIR) return ExitCode::not_found;
  if (err == EACCES || err == EPERM) return ExitCode::access_denied;
  return ExitCode::other;
}

// A mount's `error`/`failed` message carries the NTSTATUS name or errno text
// of the cause; its exit code follows the same classes as smbx's.
ExitCode exit_code_for_message(const std::string& message) {
  for (const char* s : {"STATUS_OBJECT_NAME_NOT_FOUND", "STATUS_OBJECT_PATH_NOT_FOUND", "STATUS_NO_SUCH_FILE",
                        "No such file or directory", "no such file"})
    if (message.find(s) != std::string::npos) return ExitCode::not_found;
  for (const char* s : {"STATUS_ACCESS_DENIED", "Permission denied", "access denied"})
    if (message.find(s) != std::string::npos) return ExitCode::access_denied;
  for (const char* s : {"STATUS_CONNECTION", "STATUS_IO_TIMEOUT", "STATUS_NETWORK_NAME_DELETED"})
    if (message.find(s) != std::string::npos) return ExitCode::network;
  return ExitCode::other;
}

std::string join(const std::string& dir, const std::string& name) { return dir.empty() ? name : dir + "/" + name; }

std::string base_name(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool is_missing(const Error& e) {
  return e.status == wire::status::OBJECT_NAME_NOT_FOUND || e.status == wire::status::OBJECT_PATH_NOT_FOUND ||
         e.status == wire::status::NO_SUCH_FILE;
}

FileInfo info_from_stat(const struct stat& st, std::string name) {
  auto filetime = [](const timespec& t) -> std::uint64_t {
    if (t.tv_sec < 0) return std::uint64_t{0};
    return wire::fscc::kFiletimeOfUnixEpoch + static_cast<std::uint64_t>(t.tv_sec) * 10'000'000ULL +
           static_cast<std::uint64_t>(t.tv_nsec) / 100;
  };
  FileInfo i;
  i.name = std::move(name);
  i.size = static_cast<std::uint64_t>(st.st_size);
  i.attributes = S_ISDIR(st.st_mode) ? wire::file_attributes::directory : wire::file_attributes::normal;
  i.last_access_time = filetime(st.st_atim);
  i.last_write_time = filetime(st.st_mtim);
  i.change_time = filetime(st.st_ctim);
  i.file_index = static_cast<std::uint64_t>(st.st_ino);
  return i;
}

// One file or directory as a walk sees it.
struct Entry {
  std::string name;
  bool dir = false;
  FileInfo info;          // size, times and attributes
  struct stat st {};      // on a mount: what stat(2) said
};

// One side of a copy: a share on a server, or a mount.smbx mount. Paths are
// relative to the share (the mount), '/'-separated, "" for the root.
class Side {
 public:
  virtual ~Side() = default;
  // nullopt when nothing is at `path`.
  virtual asio::awaitable<Expected<std::optional<Entry>>> stat(std::string path) = 0;
  virtual asio::awaitable<Expected<std::vector<Entry>>> list(std::string path) = 0;
  virtual asio::awaitable<Expected<void>> mkdir(std::string path) = 0;
  // -p: the times (and attributes where the side can) of `from` onto `path`.
  virtual asio::awaitable<Expected<void>> preserve(std::string path, Entry from) = 0;
  // "smb://host/share/path" or "/mnt/x/path", for messages.
  virtual std::string show(const std::string& path) const = 0;
  // Two paths name the same object when their sides' ids are equal and so are the paths.
  virtual std::string id() const = 0;
};

// MS-FSCC 2.6: the attributes -p carries over (not DIRECTORY, SPARSE, ...).
BasicInfoChange basic_change(const FileInfo& from, bool dir) {
  namespace fa = wire::file_attributes;
  std::uint32_t attributes = from.attributes & (fa::readonly | fa::hidden | fa::system | fa::archive |
                                                fa::not_content_indexed);
  if (dir) attributes |= fa::directory;
  // 0 would leave the target's attributes alone (MS-FSCC 2.4.7): NORMAL clears them.
  if (attributes == 0) attributes = fa::normal;
  BasicInfoChange c;
  c.creation_time = from.creation_time;
  c.last_access_time = from.last_access_time;
  c.last_write_time = from.last_write_time;
  c.change_time = 0;
  c.attributes = attributes;
  return c;
}

class SmbSide final : public Side {
 public:
  SmbSide(Client& client, Share& share, std::string server, std::string prefix)
      : client_{client}, share_{share}, files_{share}, server_{std::move(server)}, prefix_{std::move(prefix)} {}

  Client& client() { return client_; }
  Files& files() { return files_; }
  const std::string& server() const { return server_; }

  asio::awaitable<Expected<std::optional<Entry>>> stat(std::string path) override {
    auto info = co_await share_.stat(path);
    if (!info) {
      if (is_missing(info.error())) co_return std::optional<Entry>{};
      co_return Unexpected{info.error()};
    }
    Entry e;
    e.name = base_name(path);
    e.dir = info->is_directory();
    e.info = std::move(*info);
    co_return std::optional<Entry>{std::move(e)};
  }

  asio::awaitable<Expected<std::vector<Entry>>> list(std::string path) override {
    auto infos = co_await share_.list(path);
    if (!infos) co_return Unexpected{infos.error()};
    std::vector<Entry> out;
    for (auto& i : *infos) {
      Entry e;
      e.name = i.name;
      e.dir = i.is_directory();
      e.info = std::move(i);
      out.push_back(std::move(e));
    }
    co_return out;
  }

  asio::awaitable<Expected<void>> mkdir(std::string path) override { co_return co_await share_.mkdir(path); }

  asio::awaitable<Expected<void>> preserve(std::string path, Entry from) override {
    OpenRequest request;
    request.path = path;
    request.desired_access = wire::access::write_attributes | wire::access::read_attributes | wire::access::synchronize;
    request.disposition = wire::disposition::open;
    auto opened = co_await files_.open(request);
    if (!opened) co_return Unexpected{opened.error()};
    BasicInfoChange change = basic_change(from.info, from.dir);
    auto set = co_await opened->set_basic(change);
    auto closed = co_await opened->close();
    if (!set) co_return Unexpected{set.error()};
    if (!closed) co_return Unexpected{closed.error()};
    co_return Expected<void>{};
  }

  std::string show(const std::string& path) const override { return prefix_ + "/" + path; }
  std::string id() const override { return "smb " + server_ + "/" + lower(share_.name()); }

 private:
  Client& client_;
  Share& share_;
  Files files_;
  std::string server_;  // host:port
  std::string prefix_;  // smb://host[:port]/share
};

class MountSide final : public Side {
 public:
  MountSide(std::string mountpoint, std::string socket) : mountpoint_{std::move(mountpoint)}, socket_{std::move(socket)} {}

  const std::string& socket() const { return socket_; }
  std::string local(const std::string& path) const {
    if (path.empty()) return mountpoint_;
    return mountpoint_ == "/" ? "/" + path : mountpoint_ + "/" + path;
  }

  asio::awaitable<Expected<std::optional<Entry>>> stat(std::string path) override {
    struct stat st {};
    const std::string where = local(path);
    if (::stat(where.c_str(), &st) != 0) {
      if (errno == ENOENT) co_return std::optional<Entry>{};
      co_return Unexpected{local_error("stat " + where, errno)};
    }
    Entry e;
    e.name = base_name(path);
    e.dir = S_ISDIR(st.st_mode);
    e.info = info_from_stat(st, e.name);
    e.st = st;
    co_return std::optional<Entry>{std::move(e)};
  }

  asio::awaitable<Expected<std::vector<Entry>>> list(std::string path) override {
    const std::string where = local(path);
    DIR* dir = ::opendir(where.c_str());
    if (dir == nullptr) co_return Unexpected{local_error("list " + where, errno)};
    std::vector<std::string> names;
    errno = 0;
    while (const dirent* d = ::readdir(dir)) {
      const std::string name = d->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    const int err = errno;
    ::closedir(dir);
    if (err != 0) co_return Unexpected{local_error("list " + where, err)};
    std::vector<Entry> out;
    for (const auto& name : names) {
      struct stat st {};
      const std::string child = where + "/" + name;
      if (::stat(child.c_str(), &st) != 0) co_return Unexpected{local_error("stat " + child, errno)};
      Entry e;
      e.name = name;
      e.dir = S_ISDIR(st.st_mode);
      e.info = info_from_stat(st, name);
      e.st = st;
      out.push_back(std::move(e));
    }
    co_return out;
  }

  asio::awaitable<Expected<void>> mkdir(std::string path) override {
    const std::string where = local(path);
    if (::mkdir(where.c_str(), 0777) != 0) co_return Unexpected{local_error("create directory " + where, errno)};
    co_return Expected<void>{};
  }

  // Through the mount: utimensat becomes SET_INFO FileBasicInformation there.
  asio::awaitable<Expected<void>> preserve(std::string path, Entry from) override {
    const std::string where = local(path);
    const timespec times[2] = {from.st.st_atim, from.st.st_mtim};
    if (::utimensat(AT_FDCWD, where.c_str(), times, 0) != 0)
      co_return Unexpected{local_error("set the times of " + where, errno)};
    co_return Expected<void>{};
  }

  std::string show(const std::string& path) const override { return local(path); }
  std::string id() const override { return "mount " + socket_; }

 private:
  std::string mountpoint_;
  std::string socket_;
};

// One SRC or DST argument.
struct Place {
  std::string arg;             // as given
  bool on_mount = false;
  bool trailing_slash = false;  // names a directory
  SmbUrl url;                   // the URL given, or the mount path resolved
  bool resolved = false;        // url is valid (always for a URL argument)
  std::string mount_user;       // the mount's user name (resolve), a default for the connection
  std::string mountpoint;
  std::string socket;
  std::string rel;              // mount-relative path
};

class Runner {
 public:
  explicit Runner(const Options& options) : options_{options}, progress_{options.progress} {}

  // Closes every connection, which ends their receive loops.
  void shutdown() {
    smb_sides_.clear();
    mount_sides_.clear();
    shares_.clear();
    clients_.clear();
  }

  asio::awaitable<int> run(std::vector<std::string> sources, std::string target) {
    if (!options_.vers.empty() && !dialect_from_vers(options_.vers))
      co_return fail({}, usage_error("--vers " + options_.vers, "expected 3.1.1, 3.0.2, 3.0, 2.1 or 2.0.2"));
    if (!options_.credentials_file.empty()) {
      auto creds = read_credentials_file(options_.credentials_file);
      if (!creds) co_return fail({}, creds.error());
      credentials_ = std::move(*creds);
    }
    const auto started = Clock::now();
    auto dst = co_await place_of(target);
    if (!dst) co_return fail({}, dst.error());

    int status = 0;
    std::vector<Place> srcs;
    for (const auto& arg : sources) {
      auto src = co_await place_of(arg);
      if (!src) {
        status = fail({}, src.error());
        continue;
      }
      srcs.push_back(std::move(*src));
    }

    if (srcs.empty()) co_return status;

    // A pair on one mount is copied by the mount with its own session; any
    // other pair through connections of our own, so mount paths become URLs.
    std::vector<bool> by_mount;
    for (auto& src : srcs) {
      const bool same_mount = src.on_mount && dst->on_mount && src.socket == dst->socket;
      by_mount.push_back(same_mount);
      if (same_mount) continue;
      if (auto ok = co_await resolve(src); !ok) co_return fail({}, ok.error());
      if (auto ok = co_await resolve(*dst); !ok) co_return fail({}, ok.error());
    }

    // ODX and copy chunks never leave a server: refuse before copying anything.
    if (options_.method == copy::Method::odx || options_.method == copy::Method::copychunk) {
      for (std::size_t i = 0; i < srcs.size(); ++i) {
        if (by_mount[i] || server_key(srcs[i].url) == server_key(dst->url)) continue;
        co_return fail({}, usage_error("cannot copy " + srcs[i].arg + " to " + dst->arg + " with --method " +
                                           std::string{copy::method_name(options_.method)},
                                       "they are on different servers (" + server_key(srcs[i].url) + " and " +
                                           server_key(dst->url) +
                                           "), and ODX and copy chunks copy only within one server; use "
                                           "--method auto or --method stream"));
      }
    }

    // Several sources go into a directory, as with cp.
    if (sources.size() > 1 || dst->trailing_slash) {
      auto side = co_await dst_side(*dst, by_mount.front());
      if (!side) co_return fail({}, side.error());
      auto entry = co_await (*side)->stat(dst_path(*dst, by_mount.front()));
      if (!entry) co_return fail({}, entry.error());
      if (!*entry || !(*entry)->dir) {
        const bool missing = !*entry;
        std::fprintf(stderr, "cp-offload: target '%s' is not a directory%s\n", dst->arg.c_str(),
                     missing ? " (it does not exist)" : "");
        co_return static_cast<int>(missing ? ExitCode::not_found : ExitCode::usage);
      }
    }

    for (std::size_t i = 0; i < srcs.size(); ++i) {
      const int one = co_await copy_argument(srcs[i], *dst, by_mount[i]);
      if (one != 0) status = one;
    }
    if (options_.stats && totals_.files() > 1) totals_.print(stdout, Clock::now() - started);
    co_return status;
  }

 private:
  int fail(const std::string& context, const Error& error) {
    std::fprintf(stderr, "cp-offload: %s%s\n", context.empty() ? "" : (context + ": ").c_str(),
                 user_message(error, principal_).c_str());
    std::fflush(stderr);
    return static_cast<int>(exit_code_for(error));
  }

  int fail_message(const std::string& message, ExitCode code) {
    std::fprintf(stderr, "cp-offload: %s\n", message.c_str());
    std::fflush(stderr);
    return static_cast<int>(code);
  }

  std::chrono::milliseconds control_timeout() const {
    return std::chrono::seconds{std::max(options_.timeout_seconds, 10)};
  }

  std::uint16_t port_of(const SmbUrl& url) const {
    return url.port ? *url.port : options_.port ? static_cast<std::uint16_t>(*options_.port) : std::uint16_t{445};
  }

  std::string server_key(const SmbUrl& url) const { return lower(url.host) + ":" + std::to_string(port_of(url)); }

  // ---- arguments ------------------------------------------------------------------
  asio::awaitable<Expected<Place>> place_of(std::string arg) {
    Place p;
    p.arg = arg;
    if (arg.rfind("smb://", 0) == 0) {
      auto url = parse_smb_url(arg);
      if (!url) co_return Unexpected{url.error()};
      if (url->share.empty()) co_return Unexpected{usage_error("bad URL '" + arg + "'", "it names no share")};
      p.url = std::move(*url);
      p.trailing_slash = p.url.trailing_slash;
      p.resolved = true;
      co_return p;
    }
    if (arg.find("://") != std::string::npos)
      co_return Unexpected{usage_error("bad URL '" + arg + "'", "cp-offload takes smb:// URLs and mount.smbx paths")};
    auto absolute = absolute_path(arg);
    if (!absolute) co_return Unexpected{absolute.error()};
    auto mount = find_smbx_mount(*absolute, options_.mountinfo);
    if (!mount)
      co_return Unexpected{usage_error(
          "'" + arg + "' is a local path",
          "cp-offload copies files within and between SMB servers: give smb:// URLs or paths on a mount.smbx "
          "mount (use cp for local files)")};
    auto control = mount_controls_.find(mount->path);
    if (control == mount_controls_.end()) {
      auto found = co_await find_mount_control(mount->path, options_.run_dir);
      if (!found) co_return Unexpected{found.error()};
      control = mount_controls_.emplace(mount->path, std::move(*found)).first;
    }
    p.on_mount = true;
    p.mountpoint = mount->path;
    p.socket = control->second.socket;
    if (*absolute != mount->path) p.rel = absolute->substr(mount->path == "/" ? 1 : mount->path.size() + 1);
    p.trailing_slash = arg.size() > 1 && arg.back() == '/';
    co_return p;
  }

  static Error resolve_error(const Place& p, const Error& why) {
    return local_error_text("cannot resolve " + p.arg + " to an smb:// URL through its mount (" + p.mountpoint + ")",
                       user_message(why));
  }

  // A mount path as a URL: the mount's `resolve` request.
  asio::awaitable<Expected<void>> resolve(Place& p) {
    if (p.resolved) co_return Expected<void>{};
    // A bare `resolve` names the mount's root.
    ControlRequest request{p.socket, control_timeout()};
    const std::string line = p.rel.empty() ? std::string{"resolve"} : "resolve " + encode_request_path(p.rel);
    auto sent = co_await request.send(line);
    if (!sent) co_return Unexpected{resolve_error(p, sent.error())};
    auto lines = co_await request.rest();
    if (!lines) co_return Unexpected{resolve_error(p, lines.error())};
    std::optional<SmbUrl> url;
    for (const auto& l : *lines) {
      if (l.rfind("url ", 0) == 0) {
        auto parsed = parse_smb_url(l.substr(4));
        if (!parsed) co_return Unexpected{parsed.error()};
        url = std::move(*parsed);
      } else if (l.rfind("user ", 0) == 0) {
        p.mount_user = l.substr(5);
      }
    }
    if (!url) co_return Unexpected{usage_error("resolve " + p.arg, "the mount's reply has no url line")};
    url->trailing_slash = p.trailing_slash;
    p.url = std::move(*url);
    p.resolved = true;
    co_return Expected<void>{};
  }

  // ---- connections ----------------------------------------------------------------
  Expected<ClientOptions> client_options(const SmbUrl& url, const std::string& default_user) {
    ClientOptions o;
    o.host = url.host;
    o.port = port_of(url);
    std::string flag_user = options_.user, flag_domain;
    if (const auto sep = flag_user.find_first_of("\\/"); sep != std::string::npos) {
      flag_domain = flag_user.substr(0, sep);
      flag_user = flag_user.substr(sep + 1);
    }
    o.user = !url.user.empty()                ? url.user
             : !flag_user.empty()             ? flag_user
             : credentials_.username          ? *credentials_.username
                                              : default_user;
    o.domain = !url.domain.empty() ? url.domain : !flag_domain.empty() ? flag_domain : credentials_.domain.value_or("");
    if (o.user.empty()) o.user = cli::local_user_name();
    if (o.user.empty())
      return usage_error("no user name for " + url.to_string(), "give -U USER, user@ in the URL or -A FILE");
    principal_ = o.domain.empty() ? o.user : o.domain + "\\" + o.user;
    const std::string key = principal_ + "@" + o.host;
    if (credentials_.password) {
      o.password = *credentials_.password;
    } else if (const char* env = std::getenv("SMBX_PASSWORD"); env != nullptr) {
      o.password = env;
    } else if (const char* env2 = std::getenv("PASSWD"); env2 != nullptr) {
      o.password = env2;
    } else if (auto typed = typed_.find(key); typed != typed_.end()) {
      o.password = typed->second;
    } else if (auto prompt = client::prompt_password("Password for " + principal_ + "@" + o.host + ": ")) {
      typed_[key] = *prompt;
      o.password = *prompt;
    } else {
      return usage_error("no password for " + principal_,
                         "give -A FILE, SMBX_PASSWORD (or PASSWD), or run on a terminal");
    }
    cli::apply_connection_flags(o, options_.vers, options_.seal, options_.timeout_seconds);
    return o;
  }

  // One connection per server and user, one tree connect per share.
  asio::awaitable<Expected<SmbSide*>> smb_side(const Place& p) {
    auto o = client_options(p.url, p.mount_user);
    if (!o) co_return Unexpected{o.error()};
    auto client = co_await clients_.connect(*o);
    if (!client) co_return Unexpected{client.error()};
    const std::string share_key = cli::ClientPool::key_of(*o) + "|" + lower(p.url.share);
    auto side = smb_sides_.find(share_key);
    if (side == smb_sides_.end()) {
      auto share = co_await (*client)->share(p.url.share);
      if (!share) co_return Unexpected{share.error()};
      auto stored = shares_.emplace(share_key, std::make_unique<Share>(std::move(*share))).first;
      const bool bracket = o->host.find(':') != std::string::npos;
      std::string prefix = "smb://" + (bracket ? "[" + o->host + "]" : o->host);
      if (o->port != 445) prefix += ":" + std::to_string(o->port);
      prefix += "/" + p.url.share;
      side = smb_sides_
                 .emplace(share_key, std::make_unique<SmbSide>(**client, *stored->second,
                                                               server_key(p.url), prefix))
                 .first;
    }
    co_return side->second.get();
  }

  MountSide& mount_side(const Place& p) {
    auto side = mount_sides_.find(p.socket);
    if (side == mount_sides_.end())
      side = mount_sides_.emplace(p.socket, std::make_unique<MountSide>(p.mountpoint, p.socket)).first;
    return *side->second;
  }

  asio::awaitable<Expected<Side*>> dst_side(const Place& dst, bool by_mount) {
    if (by_mount) co_return static_cast<Side*>(&mount_side(dst));
    auto side = co_await smb_side(dst);
    if (!side) co_return Unexpected{side.error()};
    co_return static_cast<Side*>(*side);
  }

  static std::string dst_path(const Place& p, bool by_mount) { return by_mount ? p.rel : p.url.path; }

  // ---- cp's rules -----------------------------------------------------------------
  asio::awaitable<int> copy_argument(const Place& src, const Place& dst, bool by_mount) {
    Side* s = nullptr;
    Side* d = nullptr;
    if (by_mount) {
      s = d = &mount_side(src);
    } else {
      auto ss = co_await smb_side(src);
      if (!ss) co_return fail({}, ss.error());
      auto ds = co_await smb_side(dst);
      if (!ds) co_return fail({}, ds.error());
      s = *ss;
      d = *ds;
    }
    const std::string sp = by_mount ? src.rel : src.url.path;
    const std::string dp = dst_path(dst, by_mount);
    auto source = co_await s->stat(sp);
    if (!source) co_return fail("cannot stat '" + src.arg + "'", source.error());
    if (!*source) co_return fail_message("cannot stat '" + src.arg + "': no such file or directory", ExitCode::not_found);
    auto target = co_await d->stat(dp);
    if (!target) co_return fail("cannot stat '" + dst.arg + "'", target.error());
    const bool into = *target && (*target)->dir;
    if (dst.trailing_slash && !into && !(*source)->dir)
      co_return fail_message("cannot create '" + dst.arg + "': not a directory", ExitCode::not_found);
    std::string name = base_name(sp);
    if (name.empty()) name = by_mount ? base_name(src.mountpoint) : src.url.share;
    const std::string tp = into ? join(dp, name) : dp;
    if ((*source)->dir) {
      if (!options_.recursive)
        co_return fail_message("-r not specified; omitting directory '" + src.arg + "'", ExitCode::other);
      co_return co_await copy_tree(*s, sp, **source, *d, tp, 0);
    }
    co_return co_await copy_file(*s, sp, **source, *d, tp);
  }

  static bool inside(const std::string& path, const std::string& dir) {
    return dir.empty() || path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
                                          path[dir.size()] == '/');
  }

  asio::awaitable<int> copy_tree(Side& s, std::string sp, Entry source, Side& d, std::string tp, unsigned depth) {
    if (s.id() == d.id() && inside(lower(tp), lower(sp)))
      co_return fail_message("cannot copy a directory, '" + s.show(sp) + "', into itself, '" + d.show(tp) + "'",
                             ExitCode::usage);
    if (depth > kMaxDepth)
      co_return fail_message("'" + s.show(sp) + "': more than " + std::to_string(kMaxDepth) +
                                 " directory levels (a symbolic link loop?)",
                             ExitCode::other);
    auto target = co_await d.stat(tp);
    if (!target) co_return fail({}, target.error());
    if (*target && !(*target)->dir)
      co_return fail_message("cannot overwrite non-directory '" + d.show(tp) + "' with directory '" + s.show(sp) + "'",
                             ExitCode::other);
    if (!*target) {
      auto made = co_await d.mkdir(tp);
      if (!made) co_return fail({}, made.error());
    }
    auto entries = co_await s.list(sp);
    if (!entries) co_return fail({}, entries.error());
    std::sort(entries->begin(), entries->end(), [](const Entry& a, const Entry& b) { return a.name < b.name; });
    int status = 0;
    for (auto& e : *entries) {
      const std::string child = join(sp, e.name);
      const std::string child_target = join(tp, e.name);
      const int one = e.dir ? co_await copy_tree(s, child, e, d, child_target, depth + 1)
                            : co_await copy_file(s, child, e, d, child_target);
      if (one != 0) status = one;
    }
    // After the children: creating them changed the directory's times.
    if (options_.preserve) {
      auto kept = co_await d.preserve(tp, source);
      if (!kept) status = fail({}, kept.error());
    }
    co_return status;
  }

  asio::awaitable<int> copy_file(Side& s, std::string sp, Entry source, Side& d, std::string tp) {
    if (s.id() == d.id() && lower(sp) == lower(tp))
      co_return fail_message("'" + s.show(sp) + "' and '" + d.show(tp) + "' are the same file", ExitCode::usage);
    if (auto* ms = dynamic_cast<MountSide*>(&s)) co_return co_await copy_on_mount(*ms, sp, source, tp);
    co_return co_await copy_over_smb(dynamic_cast<SmbSide&>(s), sp, dynamic_cast<SmbSide&>(d), tp);
  }

  // ---- a file through our own connections: the engine -----------------------------
  // Wire bytes of the connections a copy uses, sent and received.
  static std::pair<std::uint64_t, std::uint64_t> wire_bytes(SmbSide& a, SmbSide& b) {
    const auto one = a.client().info();
    std::pair<std::uint64_t, std::uint64_t> out{one.bytes_sent, one.bytes_received};
    if (&a.client() != &b.client()) {
      const auto two = b.client().info();
      out.first += two.bytes_sent;
      out.second += two.bytes_received;
    }
    return out;
  }

  asio::awaitable<int> copy_over_smb(SmbSide& s, std::string sp, SmbSide& d, std::string tp) {
    const std::string from = s.show(sp);
    const std::string to = d.show(tp);
    const std::string context = "cannot copy '" + from + "' to '" + to + "'";
    const auto wire_before = wire_bytes(s, d);
    const auto started = Clock::now();

    OpenRequest source_request;
    source_request.path = sp;
    source_request.desired_access = wire::access::read_data | wire::access::read_attributes | wire::access::synchronize;
    source_request.disposition = wire::disposition::open;
    source_request.create_options = wire::create_options::non_directory_file;
    auto source = co_await s.files().open(source_request);
    if (!source) co_return fail(context, source.error());

    // Read access too: FSCTL_SRV_COPYCHUNK needs it on the target (MS-SMB2
    // 3.3.5.15.6); DELETE to remove a target we created when the copy fails.
    OpenRequest target_request;
    target_request.path = tp;
    target_request.desired_access = wire::access::read_data | wire::access::write_data |
                                    wire::access::read_attributes | wire::access::write_attributes |
                                    wire::access::delete_ | wire::access::synchronize;
    target_request.share_access = wire::share_access::read;
    // Without -f an existing target is an error (FILE_CREATE); with -f it is
    // opened as it is and the engine cuts it to the source's size at the end.
    target_request.disposition = options_.force ? wire::disposition::open_if : wire::disposition::create;
    target_request.create_options = wire::create_options::non_directory_file;
    target_request.attributes = wire::file_attributes::normal;
    auto target = co_await d.files().open(target_request);
    if (!target) {
      (void)co_await source->close();
      if (target.error().status == wire::status::OBJECT_NAME_COLLISION)
        co_return fail_message(context + ": the target exists (-f overwrites it)", ExitCode::other);
      if (target.error().status == wire::status::FILE_IS_A_DIRECTORY)
        co_return fail_message("cannot overwrite directory '" + to + "' with non-directory", ExitCode::other);
      co_return fail(context, target.error());
    }
    const bool created = target->reply().create_action == wire::create_action::created;
    if (!created && s.server() == d.server()) {
      // Another name of the same file (a hard link, another share on the
      // same directory): copying onto it would destroy the source.
      auto a = co_await source->query();
      auto b = co_await target->query();
      if (a && b && a->file_index != 0 && a->file_index == b->file_index) {
        (void)co_await target->close();
        (void)co_await source->close();
        co_return fail_message("'" + from + "' and '" + to + "' are the same file", ExitCode::usage);
      }
    }

    progress_.start(base_name(tp));
    copy::CopyOptions copy_options;
    copy_options.method = options_.method;
    copy_options.progress = [this](std::uint64_t done, std::uint64_t total) { progress_.update(done, total); };
    auto stats = co_await copy::copy_file(*source, *target, copy_options, memory_);
    progress_.finish();
    if (!stats) {
      // No partial file that looks complete.
      if (created) (void)co_await target->set_delete_pending(true);
      (void)co_await target->close();
      (void)co_await source->close();
      co_return fail(context + refusal_hint(stats.error()), stats.error());
    }
    int status = 0;
    if (options_.preserve) {
      BasicInfoChange change = basic_change(source->reply().info, false);
      auto kept = co_await target->set_basic(change);
      if (!kept) status = fail("cannot preserve the times and attributes of '" + to + "'", kept.error());
    }
    auto closed = co_await target->close();
    (void)co_await source->close();
    if (!closed) co_return fail(context, closed.error());

    const auto wire_after = wire_bytes(s, d);
    FileResult r;
    r.method = copy::method_name(stats->method);
    r.bytes_copied = stats->bytes_copied;
    r.bytes_through_client = stats->bytes_through_client;
    r.wire_sent = wire_after.first - wire_before.first;
    r.wire_received = wire_after.second - wire_before.second;
    r.elapsed = Clock::now() - started;
    report(from, to, r);
    co_return status;
  }

  // What a refusal of the one method asked for means, before the details.
  std::string refusal_hint(const Error& e) const {
    namespace st = wire::status;
    // offload-copy.md §2.7: the statuses of a server (or file) without the feature.
    const bool unsupported = e.status == st::INVALID_DEVICE_REQUEST || e.status == st::NOT_SUPPORTED ||
                             e.status == st::OFFLOAD_READ_FLT_NOT_SUPPORTED ||
                             e.status == st::OFFLOAD_WRITE_FLT_NOT_SUPPORTED ||
                             e.status == st::OFFLOAD_READ_FILE_NOT_SUPPORTED ||
                             e.status == st::OFFLOAD_WRITE_FILE_NOT_SUPPORTED;
    if (!unsupported) return {};
    if (options_.method == copy::Method::odx)
      return ": the server does not offer ODX (--method auto falls back to copy chunks or the stream)";
    if (options_.method == copy::Method::copychunk)
      return ": the server does not offer server-side copy chunks (--method auto falls back to the stream)";
    return {};
  }

  void report(const std::string& from, const std::string& to, const FileResult& r) {
    totals_.add(r);
    if (options_.stats) print_file_stats(stdout, from, to, r);
  }

  // ---- a file on one mount: the mount copies it with its session -------------------
  asio::awaitable<std::optional<std::pair<std::uint64_t, std::uint64_t>>> mount_wire_bytes(const MountSide& m) {
    ControlRequest request{m.socket(), control_timeout()};
    auto sent = co_await request.send("status");
    if (!sent) co_return std::nullopt;
    auto lines = co_await request.rest();
    if (!lines) co_return std::nullopt;
    const auto out = line_number(*lines, "wire bytes sent");
    const auto in = line_number(*lines, "wire bytes received");
    if (!out || !in) co_return std::nullopt;
    co_return std::pair{*out, *in};
  }

  asio::awaitable<int> copy_on_mount(MountSide& m, std::string sp, Entry source, std::string tp) {
    const std::string from = m.show(sp);
    const std::string to = m.show(tp);
    const std::string context = "cannot copy '" + from + "' to '" + to + "'";
    struct stat existing {};
    const bool existed = ::stat(to.c_str(), &existing) == 0;
    if (!existed && errno != ENOENT) {
      const int err = errno;
      co_return fail_message(context + ": " + std::strerror(err), exit_code_for_errno(err));
    }
    if (existed) {
      if (S_ISDIR(existing.st_mode))
        co_return fail_message("cannot overwrite directory '" + to + "' with non-directory", ExitCode::other);
      if (existing.st_dev == source.st.st_dev && existing.st_ino == source.st.st_ino)
        co_return fail_message("'" + from + "' and '" + to + "' are the same file", ExitCode::usage);
      if (!options_.force) co_return fail_message(context + ": the target exists (-f overwrites it)", ExitCode::other);
    }
    const auto wire_before = co_await mount_wire_bytes(m);
    const auto started = Clock::now();
    progress_.start(base_name(tp));
    ControlRequest request{m.socket(), control_timeout()};
    const std::string line = "copy " + std::string{copy::method_name(options_.method)} + " " +
                             encode_request_path(sp) + " " + encode_request_path(tp);
    auto sent = co_await request.send(line);
    if (!sent) {
      const std::string why = user_message(sent.error());
      co_return fail_message(context + ": " + why, exit_code_for_message(why));
    }
    std::vector<std::string> stats;
    std::optional<std::string> failure;
    bool done = false;
    while (!done && !failure) {
      auto next = co_await request.next_line();
      if (!next) {
        failure = user_message(next.error());
      } else if (!*next) {
        failure = "the mount ended its reply before the copy finished";
      } else if ((*next)->rfind("progress ", 0) == 0) {
        unsigned long long copied = 0, total = 0;
        if (std::sscanf((*next)->c_str(), "progress %llu %llu", &copied, &total) == 2) progress_.update(copied, total);
      } else if (**next == "done") {
        done = true;
      } else if ((*next)->rfind("failed", 0) == 0) {
        failure = (*next)->size() > 7 ? (*next)->substr(7) : "failed";
      } else {
        stats.push_back(std::move(**next));
      }
    }
    progress_.finish();
    if (failure) {
      if (!existed) ::unlink(to.c_str());  // no partial file that looks complete
      co_return fail_message(context + ": " + *failure, exit_code_for_message(*failure));
    }
    int status = 0;
    if (options_.preserve) {
      auto kept = co_await m.preserve(tp, source);
      if (!kept) status = fail({}, kept.error());
    }
    const auto wire_after = co_await mount_wire_bytes(m);
    FileResult r;
    r.method = line_value(stats, "method").value_or("unknown");
    r.bytes_copied = line_number(stats, "bytes copied").value_or(0);
    r.bytes_through_client = line_number(stats, "bytes through client").value_or(0);
    if (wire_before && wire_after) {
      r.wire_sent = wire_after->first - wire_before->first;
      r.wire_received = wire_after->second - wire_before->second;
    }
    r.elapsed = Clock::now() - started;
    report(from, to, r);
    co_return status;
  }

  const Options& options_;
  CredentialsFile credentials_;
  std::string principal_;
  std::map<std::string, std::string> typed_;  // passwords typed, by principal@host
  std::map<std::string, MountControl> mount_controls_;
  cli::ClientPool clients_;
  std::map<std::string, std::unique_ptr<Share>> shares_;
  std::map<std::string, std::unique_ptr<SmbSide>> smb_sides_;
  std::map<std::string, std::unique_ptr<MountSide>> mount_sides_;
  copy::MethodMemory memory_;  // for the whole run: what each server refused
  Progress progress_;
  Totals totals_;
};

}  // namespace

int run(const std::vector<std::string>& sources, const std::string& target, const Options& options) {
  asio::io_context io;
  Runner runner{options};
  return cli::run_to_exit_code(io, runner.run(sources, target), [&] { runner.shutdown(); }, "cp-offload");
}

}  // namespace smbx::cpo
