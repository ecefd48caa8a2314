#include "file_commands.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>
#include <map>

#include "client/password_prompt.hpp"
#include "common/tool_support.hpp"
#include "progress.hpp"
#include "smbx/client.hpp"
#include "smbx/credentials.hpp"
#include "smbx/exit_status.hpp"
#include "smbx/url.hpp"

// g++ 12 at -O2 reports -Wmismatched-new-delete for asio::awaitable frames, which
// pair awaitable_frame_base's own operator new and delete: a false positive, so
// it is off in the files that define coroutines.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace smbx::cli {

namespace asio = boost::asio;

namespace {

std::string base_name(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string format_filetime(std::uint64_t filetime) {
  constexpr std::uint64_t kUnixEpoch = 116'444'736'000'000'000ULL;
  if (filetime < kUnixEpoch) return "-";
  const auto seconds = static_cast<std::time_t>((filetime - kUnixEpoch) / 10'000'000ULL);
  std::tm tm{};
  localtime_r(&seconds, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

Expected<void> write_all(int fd, std::span<const std::uint8_t> data, std::string_view what) {
  while (!data.empty()) {
    const auto n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return local_error("write " + std::string{what}, errno);
    }
    data = data.subspan(static_cast<std::size_t>(n));
  }
  return {};
}

SourceFn fd_source(int fd, std::string what) {
  return [fd, what](std::span<std::uint8_t> buffer) -> Expected<std::size_t> {
    while (true) {
      const auto n = ::read(fd, buffer.data(), buffer.size());
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno != EINTR) return local_error("read " + what, errno);
    }
  };
}

class Runner {
 public:
  explicit Runner(const GlobalOptions& options) : options_{options} {}

  asio::awaitable<int> run(const std::string& command, const std::vector<std::string>& args) {
    if (!options_.vers.empty() && !dialect_from_vers(options_.vers))
      co_return fail(usage_error("--vers " + options_.vers, "expected 3.1.1, 3.0.2, 3.0, 2.1 or 2.0.2"));
    if (!options_.credentials_file.empty()) {
      auto creds = read_credentials_file(options_.credentials_file);
      if (!creds) co_return fail(creds.error());
      credentials_ = std::move(*creds);
    }
    if (command == "get") co_return co_await get(args);
    if (command == "put") co_return co_await put(args);
    if (command == "mv") co_return co_await mv(args);
    int status = 0;
    for (const auto& arg : args) {
      auto url = parse(arg);
      if (!url) {
        status = fail(url.error());
        continue;
      }
      const int one = co_await per_url(command, *url);
      if (one != 0) status = one;
    }
    co_return status;
  }

 private:
  int fail(const Error& error) {
    std::cerr << "smbx: " << user_message(error, principal_) << "\n";
    return static_cast<int>(exit_code_for(error));
  }

  Expected<SmbUrl> parse(const std::string& text, bool need_path = false) {
    auto url = parse_smb_url(text);
    if (!url) return url;
    if (url->share.empty()) return usage_error("bad URL '" + text + "'", "it names no share");
    if (need_path && url->path.empty()) return usage_error("bad URL '" + text + "'", "it names no file in the share");
    return url;
  }

  Expected<ClientOptions> client_options(const SmbUrl& url) {
    ClientOptions o;
    o.host = url.host;
    o.port = url.port ? *url.port : options_.port ? static_cast<std::uint16_t>(*options_.port) : std::uint16_t{445};
    o.user = !url.user.empty() ? url.user : credentials_.username.value_or("");
    o.domain = !url.domain.empty() ? url.domain : credentials_.domain.value_or("");
    if (o.user.empty()) o.user = local_user_name();
    if (o.user.empty())
      return usage_error("no user name for " + url.to_string(), "put user@ in the URL or username= in -A FILE");
    principal_ = o.domain.empty() ? o.user : o.domain + "\\" + o.user;
    if (credentials_.password) {
      o.password = *credentials_.password;
    } else if (const char* env = std::getenv("SMBX_PASSWORD"); env != nullptr) {
      o.password = env;
    } else if (auto typed = client::prompt_password("Password for " + principal_ + "@" + o.host + ": ")) {
      credentials_.password = *typed;
      o.password = *typed;
    } else {
      return usage_error("no password for " + principal_, "give -A FILE or SMBX_PASSWORD, or run on a terminal");
    }
    apply_connection_flags(o, options_.vers, options_.seal, options_.timeout_seconds);
    return o;
  }

  // One connection per server and user, one tree connect per share.
  asio::awaitable<Expected<Share*>> share_for(const SmbUrl& url) {
    auto o = client_options(url);
    if (!o) co_return Unexpected{o.error()};
    auto client = co_await clients_.connect(*o);
    if (!client) co_return Unexpected{client.error()};
    const std::string share_key = ClientPool::key_of(*o) + "|" + url.share;
    auto share = shares_.find(share_key);
    if (share == shares_.end()) {
      auto connected = co_await (*client)->share(url.share);
      if (!connected) co_return Unexpected{connected.error()};
      share = shares_.emplace(share_key, std::move(*connected)).first;
      if (options_.verbose) {
        const auto info = (*client)->info();
        const bool sealed = info.session_encrypted || share->second.is_encrypted();
        std::cerr << "smbx: //" << o->host << "/" << url.share << ": SMB " << info.dialect << ", "
                  << (sealed ? "encrypted with " + info.cipher
                             : info.signing.empty() ? std::string{"unsigned"} : "signed with " + info.signing)
                  << ", max read " << info.max_read_size << ", max write " << info.max_write_size << "\n";
      }
    }
    co_return &share->second;
  }

  asio::awaitable<int> per_url(const std::string& command, const SmbUrl& url) {
    auto share = co_await share_for(url);
    if (!share) co_return fail(share.error());
    auto& s = **share;
    if (command == "ls") co_return co_await ls(s, url);
    if (command == "stat") co_return co_await stat(s, url);
    if (command == "cat") co_return co_await download(s, url, STDOUT_FILENO, "standard output", false);
    Expected<void> done;
    if (command == "rm") done = co_await s.remove(url.path);
    else if (command == "mkdir") done = co_await s.mkdir(url.path);
    else if (command == "rmdir") done = co_await s.rmdir(url.path);
    else co_return fail(usage_error("unknown command " + command));
    if (!done) co_return fail(done.error());
    co_return 0;
  }

  asio::awaitable<int> ls(Share& share, const SmbUrl& url) {
    auto entries = co_await share.list(url.path);
    if (!entries && entries.error().status == 0xC0000103) {  // STATUS_NOT_A_DIRECTORY: list the file itself
      auto info = co_await share.stat(url.path);
      if (!info) co_return fail(info.error());
      entries = std::vector<FileInfo>{*info};
    }
    if (!entries) co_return fail(entries.error());
    std::sort(entries->begin(), entries->end(), [](const FileInfo& a, const FileInfo& b) { return a.name < b.name; });
    for (const auto& e : *entries)
      std::printf("%c %14llu  %s  %s\n", e.is_directory() ? 'd' : '-', static_cast<unsigned long long>(e.size),
                  format_filetime(e.last_write_time).c_str(), e.name.c_str());
    std::fflush(stdout);
    co_return 0;
  }

  asio::awaitable<int> stat(Share& share, const SmbUrl& url) {
    auto info = co_await share.stat(url.path);
    if (!info) co_return fail(info.error());
    const auto& i = *info;
    std::printf("name: %s\ntype: %s\nsize: %llu\nallocation_size: %llu\nattributes: 0x%08x\nlinks: %u\n"
                "file_index: %llu\ncreated: %s\naccessed: %s\nmodified: %s\nchanged: %s\n",
                url.path.empty() ? "/" : url.path.c_str(), i.is_directory() ? "directory" : "file",
                static_cast<unsigned long long>(i.size), static_cast<unsigned long long>(i.allocation_size),
                i.attributes, i.links, static_cast<unsigned long long>(i.file_index),
                format_filetime(i.creation_time).c_str(), format_filetime(i.last_access_time).c_str(),
                format_filetime(i.last_write_time).c_str(), format_filetime(i.change_time).c_str());
    std::fflush(stdout);
    co_return 0;
  }

  asio::awaitable<int> download(Share& share, const SmbUrl& url, int fd, std::string_view what, bool show) {
    ProgressBar bar{base_name(url.path), show && !options_.quiet};
    // Named std::functions: no non-trivial temporaries inside a co_await (g++ 12).
    SinkFn sink = [&](std::span<const std::uint8_t> data) { return write_all(fd, data, what); };
    ProgressFn progress = [&](std::uint64_t done, std::uint64_t total) { bar.update(done, total); };
    auto got = co_await share.download(url.path, std::move(sink), std::move(progress));
    bar.finish();
    if (!got) co_return fail(got.error());
    co_return 0;
  }

  asio::awaitable<int> get(const std::vector<std::string>& args) {
    if (args.empty() || args.size() > 2) co_return fail(usage_error("get", "usage: smbx get URL [LOCALFILE|-]"));
    auto url = parse(args[0], true);
    if (!url) co_return fail(url.error());
    std::string local = args.size() == 2 ? args[1] : base_name(url->path);
    if (local == "-") {
      auto share = co_await share_for(*url);
      if (!share) co_return fail(share.error());
      co_return co_await download(**share, *url, STDOUT_FILENO, "standard output", false);
    }
    struct stat st{};
    if (::stat(local.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) local += "/" + base_name(url->path);
    auto share = co_await share_for(*url);
    if (!share) co_return fail(share.error());
    const int fd = ::open(local.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) co_return fail(local_error("create " + local, errno));
    const int status = co_await download(**share, *url, fd, local, true);
    if (::close(fd) != 0 && status == 0) co_return fail(local_error("close " + local, errno));
    if (status != 0) ::unlink(local.c_str());  // no partial file that looks complete
    co_return status;
  }

  asio::awaitable<int> put(const std::vector<std::string>& args) {
    if (args.size() != 2) co_return fail(usage_error("put", "usage: smbx put LOCALFILE|- URL"));
    const std::string& local = args[0];
    auto url = parse(args[1]);
    if (!url) co_return fail(url.error());
    if (url->path.empty() || url->trailing_slash) {
      if (local == "-") co_return fail(usage_error("put -", "the URL must name the file to write"));
      url->path += (url->path.empty() ? "" : "/") + base_name(local);
    }
    int fd = STDIN_FILENO;
    std::uint64_t size = 0;
    if (local != "-") {
      fd = ::open(local.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) co_return fail(local_error("open " + local, errno));
      struct stat st{};
      if (::fstat(fd, &st) == 0) size = static_cast<std::uint64_t>(st.st_size);
    }
    auto share = co_await share_for(*url);
    int status = 0;
    if (!share) {
      status = fail(share.error());
    } else {
      ProgressBar bar{base_name(url->path), local != "-" && !options_.quiet};
      SourceFn source = fd_source(fd, local);
      ProgressFn progress = [&](std::uint64_t done, std::uint64_t total) { bar.update(done, total); };
      auto sent = co_await (*share)->upload(url->path, std::move(source), size, std::move(progress));
      bar.finish();
      if (!sent) status = fail(sent.error());
    }
    if (fd != STDIN_FILENO) ::close(fd);
    co_return status;
  }

  asio::awaitable<int> mv(const std::vector<std::string>& args) {
    if (args.size() != 2) co_return fail(usage_error("mv", "usage: smbx mv URL NEWURL|NEWPATH"));
    auto from = parse(args[0], true);
    if (!from) co_return fail(from.error());
    std::string to;
    if (args[1].rfind("smb://", 0) == 0) {
      auto target = parse(args[1], true);
      if (!target) co_return fail(target.error());
      if (target->host != from->host || target->share != from->share || target->port != from->port)
        co_return fail(usage_error("mv " + args[0] + " " + args[1], "both URLs must name the same server and share"));
      to = target->path;
      if (target->trailing_slash) to += "/" + base_name(from->path);
    } else {
      auto target = parse("smb://h/s/" + args[1], true);  // the same path rules as a URL's
      if (!target) co_return fail(usage_error("mv", "bad destination path '" + args[1] + "'"));
      to = target->path;
      if (target->trailing_slash) to += "/" + base_name(from->path);
    }
    auto share = co_await share_for(*from);
    if (!share) co_return fail(share.error());
    auto moved = co_await (*share)->rename(from->path, to, false);
    if (!moved) co_return fail(moved.error());
    co_return 0;
  }

  const GlobalOptions& options_;
  CredentialsFile credentials_;
 public:
  // Closes every connection, which ends their receive loops.
  void shutdown() {
    shares_.clear();
    clients_.clear();
  }

 private:
  std::string principal_;
  ClientPool clients_;
  std::map<std::string, Share> shares_;
};

}  // namespace

int run_file_command(const std::string& command, const std::vector<std::string>& args, const GlobalOptions& options) {
  asio::io_context io;
  Runner runner{options};
  return run_to_exit_code(io, runner.run(command, args), [&] { runner.shutdown(); }, "smbx");
}

}  // namespace smbx::cli
