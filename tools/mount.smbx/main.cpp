// mount.smbx: the mount helper. mount(8) runs it as
//   mount.smbx //server/share MOUNTPOINT [-sfnv] [-N NS] [-o OPTIONS]
// It returns once the mount is usable (or failed, with mount's exit codes and
// a one-line message), then serves the FUSE filesystem in the background until
// `umount` (DESIGN.md, Conventions). See man/mount.smbx.8.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"  // g++ 12, asio::awaitable (src/client/client.cpp)

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "client/password_prompt.hpp"
#include "fs/control_server.hpp"
#include "fs/filesystem.hpp"
#include "fs/mount_options.hpp"
#include "smbx/client.hpp"
#include "smbx/exit_status.hpp"

#ifndef SMBX_VERSION
#define SMBX_VERSION "0.1.0"
#endif

namespace {

namespace asio = boost::asio;
using smbx::fs::MountExit;
using smbx::fs::MountOptions;

constexpr const char* kUsage =
    "usage: mount.smbx //server[:port]/share MOUNTPOINT [-sfnv] [-N NS] [-o OPTIONS] [--log FILE]\n"
    "  -o OPTIONS   comma-separated mount options (username=, password=, credentials=FILE, domain=,\n"
    "               vers=, seal, port=, uid=, gid=, file_mode=, dir_mode=, ro, rw, actimeo=, cache=,\n"
    "               rsize=, wsize=, soft, hard, handletimeout=, persistenthandles, echo_interval=,\n"
    "               nobrl, mfsymlinks, ...)\n"
    "  -f           stay in the foreground and log to standard error\n"
    "  -v           say what was negotiated\n"
    "  -s           sloppy: ignore unknown options (with a warning)\n"
    "  -n           accepted for mount(8) (there is no mtab to write)\n"
    "  -N NS        mount in another mount namespace (a pid or /proc/PID/ns/mnt)\n"
    "  --log FILE   log to FILE instead of syslog once in the background\n"
    "See mount.smbx(8) for every option and the exit codes.\n";

// ---- Logging: stderr in the foreground, syslog or --log FILE in the background.
enum class LogTo { standard_error, syslog, file };
LogTo g_log_to = LogTo::standard_error;
int g_log_fd = -1;

void log_line(int priority, const std::string& message) {
  switch (g_log_to) {
    case LogTo::standard_error:
      std::cerr << "mount.smbx: " << message << "\n";
      break;
    case LogTo::syslog:
      ::syslog(priority, "%s", message.c_str());
      break;
    case LogTo::file: {
      char stamp[40];
      const std::time_t now = std::time(nullptr);
      std::tm tm{};
      ::gmtime_r(&now, &tm);
      std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
      const std::string line = std::string{stamp} + " mount.smbx[" + std::to_string(::getpid()) + "]: " + message + "\n";
      (void)!::write(g_log_fd, line.data(), line.size());
      break;
    }
  }
}

int fail(MountExit code, const std::string& message) {
  std::cerr << "mount.smbx: " << message << "\n";
  return static_cast<int>(code);
}

void redirect_stdio_to_null() {
  const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0) return;
  ::dup2(null, STDIN_FILENO);
  ::dup2(null, STDOUT_FILENO);
  ::dup2(null, STDERR_FILENO);
  if (null > STDERR_FILENO) ::close(null);
}

// ---- Reporting the mount's outcome from the child to the waiting parent.
// One line on a pipe: "<exit code> <message>".
class Reporter {
 public:
  explicit Reporter(int fd) : fd_{fd} {}
  void report(MountExit code, const std::string& message) {
    if (done_) return;
    done_ = true;
    if (fd_ < 0) {
      // Foreground: no parent waits. The log already said it when it goes to stderr.
      if (code != MountExit::ok && g_log_to != LogTo::standard_error) std::cerr << "mount.smbx: " << message << "\n";
      return;
    }
    const std::string line = std::to_string(static_cast<int>(code)) + " " + message + "\n";
    (void)!::write(fd_, line.data(), line.size());
    ::close(fd_);
    fd_ = -1;
    // Until now libfuse's own complaints reached the mounting terminal; from
    // here on the daemon logs, and holds no one's terminal or pipe open.
    if (code == MountExit::ok) redirect_stdio_to_null();
  }

 private:
  int fd_;
  bool done_ = false;
};

std::string where(const MountOptions& o) { return smbx::fs::fs_name(o); }

// Connects, attaches the share, mounts and serves until unmounted. Returns
// the process's exit code.
int serve(MountOptions options, Reporter& reporter) {
  asio::io_context io{1};
  std::unique_ptr<smbx::fs::Filesystem> filesystem;
  std::unique_ptr<smbx::fs::ControlServer> control;
  asio::signal_set signals{io, SIGTERM, SIGINT};
  int exit_code = 0;

  auto failed = [&](const smbx::Error& error) {
    // "logon failure for TESTDOM\alice on //127.0.0.1/share (STATUS_LOGON_FAILURE)"
    const auto code = smbx::fs::mount_exit_for(error);
    const std::string message = smbx::user_message(error, smbx::fs::principal(options) + " on " + where(options));
    log_line(LOG_ERR, message);
    reporter.report(code, message);
    exit_code = static_cast<int>(code);
    // Nothing is mounted; a half-open session must not keep the child alive.
    io.stop();
  };

  auto main_task = [&]() -> asio::awaitable<void> {
    options.client.failover_log = [](const std::string& line) { log_line(LOG_NOTICE, line); };
    auto client = co_await smbx::Client::connect(options.client);
    if (!client) {
      failed(client.error());
      co_return;
    }
    auto share = co_await (*client)->share(options.share);
    if (!share) {
      failed(share.error());
      co_return;
    }
    // //server/share/subdir: the subdirectory must exist and be one (as
    // mount.cifs, which fails with ENOENT/ENOTDIR before mounting).
    if (!options.subdir.empty()) {
      auto root = co_await share->stat(options.subdir);
      if (!root) {
        failed(root.error());
        co_return;
      }
      if (!root->is_directory()) {
        failed(smbx::Error{.kind = smbx::ErrorKind::local, .wire = smbx::WireError::none, .status = 0,
                           .action = "mount " + where(options), .detail = "not a directory"});
        co_return;
      }
      options.config.subdir = options.subdir;
    }
    const auto info = (*client)->info();
    const bool sealed = info.session_encrypted || share->is_encrypted();
    const std::string summary =
        where(options) + " on " + options.config.mountpoint + ": SMB " + info.dialect + ", " +
        (sealed ? "encrypted with " + info.cipher
                : info.signing.empty() ? std::string{"unsigned"} : "signed with " + info.signing);
    auto mounted = smbx::fs::Filesystem::mount(io, std::move(*client), std::move(*share), options.config);
    if (!mounted) {
      failed(mounted.error());
      co_return;
    }
    filesystem = std::move(*mounted);
    // The mount works without its control socket (smbxctl then cannot see it).
    auto* fs = filesystem.get();
    // The protocol's "server: host:port" (the filesystem knows only fsname).
    const bool v6 = options.client.host.find(':') != std::string::npos;
    const std::string server = (v6 ? "[" + options.client.host + "]" : options.client.host) + ":" +
                               std::to_string(options.client.port);
    smbx::fs::remove_stale_mount_sockets();
    auto control_info = std::make_shared<smbx::fs::MountControl>();
    control_info->status = [fs, server] {
      auto status = fs->status();
      status.server = server;
      return status;
    };
    control_info->host = options.client.host;
    control_info->port = options.client.port;
    control_info->share = options.share;
    control_info->user = options.client.user;
    control_info->root = options.subdir;
    control_info->filesystem = fs;
    auto started = smbx::fs::ControlServer::start_streaming(
        io, smbx::fs::mount_socket_path(::getpid()),
        [control_info](std::vector<std::string> words, std::shared_ptr<smbx::fs::ControlReplyStream> out) {
          return smbx::fs::serve_mount_request(std::move(words), std::move(out), control_info);
        });
    if (started) control = std::move(*started);
    else log_line(LOG_WARNING, "no control socket: " + smbx::describe(started.error()));
    log_line(LOG_INFO, "mounted " + summary);
    reporter.report(MountExit::ok, options.verbose ? summary : std::string{});
    signals.async_wait([fs](boost::system::error_code ec, int signal) {
      if (ec) return;
      log_line(LOG_INFO, std::string{"unmounting on "} + ::strsignal(signal));
      fs->stop();
    });
    co_await filesystem->run();
    signals.cancel();
    if (control) control->stop();
    log_line(LOG_INFO, "unmounted " + options.config.mountpoint);
    // The session's receive loop would keep the io_context busy forever;
    // the filesystem has closed its handles, so nothing is left to wait for.
    io.stop();
  };

  asio::co_spawn(io, main_task(), [&](std::exception_ptr e) {
    if (control) control->stop();
    signals.cancel();
    if (!e) return;
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      what = ex.what();
    } catch (...) {
    }
    log_line(LOG_ERR, "ended by an exception: " + what);
    reporter.report(MountExit::failure, "internal error: " + what);
    exit_code = static_cast<int>(MountExit::failure);
  });
  io.run();
  // Destroyed before the io_context: the filesystem closes its handles and session.
  control.reset();
  filesystem.reset();
  return exit_code;
}

// -N: a pid or a path to a mount namespace file (util-linux libmount passes it).
bool enter_namespace(const std::string& ns, std::string& error) {
  std::string path = ns;
  if (ns.find_first_not_of("0123456789") == std::string::npos) path = "/proc/" + ns + "/ns/mnt";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = "cannot open mount namespace " + path + ": " + std::strerror(errno);
    return false;
  }
  const int rc = ::setns(fd, CLONE_NEWNS);
  const int err = errno;
  ::close(fd);
  if (rc != 0) {
    error = "cannot enter mount namespace " + path + ": " + std::strerror(err);
    return false;
  }
  return true;
}

void warn_if_credentials_readable(const std::string& path) {
  struct stat st {};
  if (path.empty() || ::stat(path.c_str(), &st) != 0) return;
  if ((st.st_mode & (S_IRGRP | S_IROTH)) != 0)
    std::cerr << "mount.smbx: warning: credentials file " << path
              << " is readable by group or others (chmod 600 " << path << ")\n";
}

// The parent: waits for the child's one-line report and exits with its code.
int wait_for_child(pid_t child, int read_fd, bool verbose) {
  std::string text;
  char buf[1024];
  for (;;) {
    const auto n = ::read(read_fd, buf, sizeof buf);
    if (n > 0) {
      text.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  ::close(read_fd);
  if (text.empty()) {
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFSIGNALED(status))
      return fail(MountExit::failure, std::string{"the mount process was killed by "} + ::strsignal(WTERMSIG(status)));
    return fail(MountExit::failure, "the mount process ended without a word (exit " +
                                        std::to_string(WEXITSTATUS(status)) + ")");
  }
  if (!text.empty() && text.back() == '\n') text.pop_back();
  const auto space = text.find(' ');
  const int code = std::atoi(text.substr(0, space).c_str());
  const std::string message = space == std::string::npos ? std::string{} : text.substr(space + 1);
  if (code == 0) {
    if (verbose && !message.empty()) std::cerr << "mount.smbx: " << message << "\n";
    return 0;
  }
  // The child exits right after a failure; reap it so no zombie outlives us.
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  std::cerr << "mount.smbx: " << message << "\n";
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  // First of all: copy the arguments, then hide passwords from /proc/PID/cmdline.
  const std::vector<std::string> args(argv + 1, argv + argc);
  smbx::fs::scrub_password_arguments(argc, argv);

  auto parsed = smbx::fs::parse_mount_command_line(args);
  if (!parsed) {
    std::cerr << "mount.smbx: " << smbx::user_message(parsed.error()) << "\n" << kUsage;
    return static_cast<int>(MountExit::usage);
  }
  MountOptions options = std::move(*parsed);
  if (options.help) {
    std::cout << kUsage;
    return 0;
  }
  if (options.version) {
    std::cout << "mount.smbx (smbx) " << SMBX_VERSION << "\n";
    return 0;
  }
  for (const auto& w : options.warnings) std::cerr << "mount.smbx: warning: " << w << "\n";

  warn_if_credentials_readable(options.credentials_file);
  if (auto creds = smbx::fs::apply_credentials_file(options); !creds)
    return fail(MountExit::usage, smbx::user_message(creds.error()));
  auto identity = smbx::fs::fill_identity(
      options, [](const char* name) { return std::getenv(name); },
      [](const std::string& prompt) { return smbx::client::prompt_password(prompt); });
  if (!identity) return fail(MountExit::usage, smbx::user_message(identity.error()));

  if (!options.ns.empty()) {
    std::string error;
    if (!enter_namespace(options.ns, error)) return fail(MountExit::usage, error);
  }
  // The mount point as the kernel will show it; a relative one means nothing after chdir("/").
  char resolved[PATH_MAX];
  if (::realpath(options.config.mountpoint.c_str(), resolved) == nullptr)
    return fail(MountExit::failure, "mount point " + options.config.mountpoint + ": " + std::strerror(errno));
  struct stat st {};
  if (::stat(resolved, &st) != 0 || !S_ISDIR(st.st_mode))
    return fail(MountExit::failure, "mount point " + options.config.mountpoint + " is not a directory");
  options.config.mountpoint = resolved;
  // No one reads a broken pipe's SIGPIPE; write() reports EPIPE instead.
  std::signal(SIGPIPE, SIG_IGN);

  if (!options.log_file.empty()) {
    g_log_fd = ::open(options.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (g_log_fd < 0)
      return fail(MountExit::usage, "cannot open log file " + options.log_file + ": " + std::strerror(errno));
    g_log_to = LogTo::file;
  }

  if (options.foreground) {
    Reporter reporter{-1};
    return serve(std::move(options), reporter);
  }

  // Fork before any io_context or thread exists: only the calling thread
  // survives a fork, and asio's reactor must belong to the child.
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return fail(MountExit::system, std::string{"pipe: "} + std::strerror(errno));
  const pid_t child = ::fork();
  if (child < 0) return fail(MountExit::system, std::string{"fork: "} + std::strerror(errno));
  if (child > 0) {
    ::close(fds[1]);
    return wait_for_child(child, fds[0], options.verbose);
  }
  ::close(fds[0]);
  ::setsid();  // no controlling terminal: a ^C in the mounting shell does not end the mount
  if (::chdir("/") != 0) {
    // Cannot happen for "/"; keep going, the mount needs no working directory.
  }
  if (g_log_to != LogTo::file) {
    ::openlog("mount.smbx", LOG_PID, LOG_DAEMON);
    g_log_to = LogTo::syslog;
  }
  Reporter reporter{fds[1]};
  return serve(std::move(options), reporter);
}
