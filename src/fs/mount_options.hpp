// mount.smbx's command line and -o options, with mount.cifs(8) names and
// meanings wherever the concept is the same (DESIGN.md, Conventions).
//
//   mount.smbx //server[:port]/share[/subdir] MOUNTPOINT [-sfnv] [-N NS] [-o OPTS] [--log FILE]
//
// mount(8) runs /sbin/mount.TYPE as `spec dir [-sfnv] [-N ns] [-o opts]`
// (util-linux libmount, context_mount.c), so those flags are accepted here.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fs/filesystem.hpp"
#include "smbx/client.hpp"
#include "smbx/expected.hpp"

namespace smbx::fs {

// What the command line asks for, before credentials and the password prompt.
struct MountOptions {
  ClientOptions client;  // host, port, user, domain, password, dialects, seal, timeouts
  MountConfig config;    // mountpoint (as given; main() makes it canonical), uid, gid, modes, caches
  std::string share;     // the share name
  std::string subdir;    // '/'-separated path below the share root; empty for the root
  std::optional<std::uint16_t> unc_port;  // the port in //server:port/share, if any
  std::string credentials_file;  // credentials=FILE, read by apply_credentials_file()
  bool password_given = false;   // password= (even an empty one) or a credentials file's password=
  bool user_given = false;
  bool domain_given = false;
  bool guest = false;            // guest: no password, no prompt
  bool sign = false;             // sign: accepted; smbx always signs when the server allows it
  std::chrono::seconds echo_interval{60};
  // handletimeout=MS: the durable handle timeout asked for (DH2Q), and on a
  // soft mount how long an operation waits for the server (0: the server's
  // default for the former, 60 s for the latter).
  std::uint32_t handle_timeout_ms = 60'000;
  std::optional<bool> persistent_handles;  // persistenthandles / nopersistenthandles; unset: on CA shares

  // mount(8)-level flags.
  bool foreground = false;  // -f: stay in the foreground, log to stderr
  bool verbose = false;     // -v
  bool sloppy = false;      // -s: unknown options are ignored with a warning
  bool no_mtab = false;     // -n: there is no mtab to write (accepted)
  std::string ns;           // -N: mount in this mount namespace (pid or /proc/PID/ns/mnt path)
  std::string log_file;     // --log FILE (background); default syslog
  // Warnings for the user (ignored options under -s).
  std::vector<std::string> warnings;
  bool help = false;
  bool version = false;
};

// Parses argv[1..] (without the program name). Errors are ErrorKind::usage
// with a message that names the offending option, e.g.
// `unknown option "foo"` or `bad value for rsize: "abc"`.
Expected<MountOptions> parse_mount_command_line(std::span<const std::string> args);

// Parses one -o string ("a=1,b,c=2") into `out`. Exposed for tests.
Expected<void> parse_option_string(std::string_view options, MountOptions& out);

// Splits "//server[:port]/share[/subdir]" (also "\\server\share"). Exposed for tests.
Expected<void> parse_unc(std::string_view spec, MountOptions& out);

// Sets the failover fields of out.client (hard/soft, handletimeout,
// persistenthandles, echo_interval). parse_mount_command_line calls it.
void apply_failover_options(MountOptions& out);

// Reads credentials=FILE (mount.cifs format, src/client/credentials.cpp): its
// values fill only what the options left unset, so an explicit username=,
// password= or domain= wins. No-op without credentials=.
Expected<void> apply_credentials_file(MountOptions& out);

// Fills the user name (USER env, then the real uid's name) and the password
// (env PASSWD, then `prompt` if given) when still unset. Usage error when no
// password can be found.
Expected<void> fill_identity(MountOptions& out, const std::function<const char*(const char*)>& getenv_fn,
                             const std::function<std::optional<std::string>(const std::string&)>& prompt);

// Overwrites, in place, the value of every password= / pass= option in the
// -o arguments of argv (and in "-oOPTS" forms) with 'x's of the same length,
// so that /proc/PID/cmdline never shows it. Returns how many values it hid.
int scrub_password_arguments(int argc, char** argv);

// "TESTDOM\alice" or "alice".
std::string principal(const MountOptions& options);
// "//server/share" (with ":port" when not 445), as /proc/mounts shows it.
std::string fs_name(const MountOptions& options);

// mount(8)'s exit codes (mount(8), RETURN CODES), with distinct codes inside
// the "mount failure" range for the causes a script can act on. Documented in
// man/mount.smbx.8.
enum class MountExit : int {
  ok = 0,
  usage = 1,            // incorrect invocation, bad options, no permission
  system = 2,           // system error (fork, pipe, out of memory)
  failure = 32,         // mount failure: any other cause
  authentication = 33,  // logon failure, bad password, disabled or locked account
  not_found = 34,       // no such share (or subdir)
  access_denied = 35,   // the share refused this user
  network = 36,         // host unreachable, connection refused, timed out
};

// The mount exit code for a failed connect, tree connect or mount.
MountExit mount_exit_for(const Error& error) noexcept;

}  // namespace smbx::fs
