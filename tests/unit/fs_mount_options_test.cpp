#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "fs/mount_options.hpp"
#include "smbx/exit_status.hpp"
#include "wire/ntstatus.hpp"

using namespace smbx;
using namespace smbx::fs;

namespace {

Expected<MountOptions> parse(std::vector<std::string> args) { return parse_mount_command_line(args); }

Expected<MountOptions> with_options(const std::string& o) {
  return parse({"//srv/share", "/mnt/x", "-o", o});
}

std::string error_of(const Expected<MountOptions>& r) {
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == ErrorKind::usage);
  return user_message(r.error());
}

// argv as main() gets it: writable strings.
struct Argv {
  std::vector<std::string> storage;
  std::vector<char*> pointers;
  explicit Argv(std::vector<std::string> args) : storage(std::move(args)) {
    for (auto& s : storage) pointers.push_back(s.data());
    pointers.push_back(nullptr);
  }
  int argc() const { return static_cast<int>(storage.size()); }
  char** argv() { return pointers.data(); }
  std::string joined() const {
    std::string out;
    for (const auto& s : storage) out += std::string{s.c_str()} + " ";
    return out;
  }
};

}  // namespace

TEST_CASE("the source and mount point, with mount(8)'s helper flags") {
  auto r = parse({"//fileserver/data", "/mnt/data", "-s", "-f", "-n", "-v", "-o", "username=alice,password=pw"});
  REQUIRE(r);
  CHECK(r->client.host == "fileserver");
  CHECK(r->client.port == 445);
  CHECK(r->share == "data");
  CHECK(r->subdir.empty());
  CHECK(r->config.mountpoint == "/mnt/data");
  CHECK(r->config.fsname == "//fileserver/data");
  CHECK(r->foreground);
  CHECK(r->verbose);
  CHECK(r->sloppy);
  CHECK(r->no_mtab);
  CHECK(r->client.user == "alice");
  CHECK(r->client.password == "pw");
  CHECK(r->password_given);
}

TEST_CASE("combined short flags, -oOPTS, -N, --log and flags before the positionals") {
  auto r = parse({"-fv", "-oro,port=1445", "-N", "/proc/1/ns/mnt", "--log", "/tmp/m.log", "//h/s", "/m"});
  REQUIRE(r);
  CHECK(r->foreground);
  CHECK(r->verbose);
  CHECK_FALSE(r->sloppy);
  CHECK(r->config.read_only);
  CHECK(r->client.port == 1445);
  CHECK(r->ns == "/proc/1/ns/mnt");
  CHECK(r->log_file == "/tmp/m.log");
  auto r2 = parse({"//h/s", "/m", "--log=/var/log/x", "-vo", "rw", "-NNS"});
  REQUIRE(r2);
  CHECK(r2->log_file == "/var/log/x");
  CHECK(r2->verbose);
  CHECK_FALSE(r2->config.read_only);
  CHECK(r2->ns == "NS");
}

TEST_CASE("several -o arguments add up; later values win") {
  auto r = parse({"//h/s", "/m", "-o", "uid=5,rsize=65536", "-o", "uid=7"});
  REQUIRE(r);
  CHECK(r->config.uid == 7);
  CHECK(r->config.rsize == 65536);
}

TEST_CASE("sources: ports, IPv6, backslashes, subdirectories") {
  auto r = parse({"//127.0.0.1:1445/share/a//b/", "/m"});
  REQUIRE(r);
  CHECK(r->client.host == "127.0.0.1");
  CHECK(r->client.port == 1445);
  CHECK(r->share == "share");
  CHECK(r->subdir == "a/b");
  CHECK(r->config.fsname == "//127.0.0.1:1445/share/a/b");

  auto v6 = parse({"//[::1]:4445/s", "/m"});
  REQUIRE(v6);
  CHECK(v6->client.host == "::1");
  CHECK(v6->client.port == 4445);
  CHECK(v6->config.fsname == "//[::1]:4445/s");

  auto bare6 = parse({"//fe80::1/s", "/m"});
  REQUIRE(bare6);
  CHECK(bare6->client.host == "fe80::1");
  CHECK(bare6->client.port == 445);

  auto bs = parse({"\\\\srv\\share\\dir", "/m"});
  REQUIRE(bs);
  CHECK(bs->client.host == "srv");
  CHECK(bs->share == "share");
  CHECK(bs->subdir == "dir");

  // The same port twice is fine; two different ones are a mistake.
  CHECK(parse({"//h:1445/s", "/m", "-o", "port=1445"}));
  CHECK(error_of(parse({"//h:1445/s", "/m", "-o", "port=445"})).find("conflicts with port=445") != std::string::npos);
}

TEST_CASE("malformed sources are named") {
  for (const char* bad : {"srv/share", "//srv", "//srv/", "///share", "//h:0/s", "//h:abc/s", "//h:70000/s",
                          "//h/s/../x", "//h/s/./x", "//[::1/s", "//[::1]x/s"}) {
    CAPTURE(bad);
    const auto m = error_of(parse({bad, "/m"}));
    CHECK(m.find(std::string{"bad source \""} + bad + "\"") != std::string::npos);
  }
}

TEST_CASE("missing or extra positionals, unknown flags") {
  CHECK(error_of(parse({})) == "missing source //server/share and mount point");
  CHECK(error_of(parse({"//h/s"})) == "missing mount point");
  CHECK(error_of(parse({"//h/s", "/m", "/extra"})) == "unexpected argument \"/extra\"");
  CHECK(error_of(parse({"//h/s", "/m", "-x"})) == "unknown flag \"-x\"");
  CHECK(error_of(parse({"//h/s", "/m", "--bogus"})) == "unknown flag \"--bogus\"");
  CHECK(error_of(parse({"//h/s", "/m", "-o"})) == "-o needs a value");
  CHECK(error_of(parse({"//h/s", "/m", "--log"})) == "--log needs a value");
  auto help = parse({"--help"});
  REQUIRE(help);
  CHECK(help->help);
  // "--" ends the flags: a mount point may start with '-'.
  auto dash = parse({"//h/s", "--", "-odd"});
  REQUIRE(dash);
  CHECK(dash->config.mountpoint == "-odd");
}

TEST_CASE("unknown and malformed options are named in the error") {
  CHECK(error_of(with_options("foo")) == "unknown option \"foo\"");
  CHECK(error_of(with_options("foo=1")) == "unknown option \"foo\"");
  CHECK(error_of(with_options("rsize=abc")).starts_with("bad value for rsize: \"abc\""));
  CHECK(error_of(with_options("wsize=12x")).starts_with("bad value for wsize: \"12x\""));
  CHECK(error_of(with_options("rsize=100")).starts_with("bad value for rsize: \"100\""));
  CHECK(error_of(with_options("port=0")).starts_with("bad value for port: \"0\""));
  CHECK(error_of(with_options("port=65536")).starts_with("bad value for port: \"65536\""));
  CHECK(error_of(with_options("vers=4.0")).starts_with("bad value for vers: \"4.0\""));
  CHECK(error_of(with_options("cache=sometimes")).starts_with("bad value for cache: \"sometimes\""));
  CHECK(error_of(with_options("file_mode=0999")).starts_with("bad value for file_mode: \"0999\""));
  CHECK(error_of(with_options("dir_mode=17777")).starts_with("bad value for dir_mode: \"17777\""));
  CHECK(error_of(with_options("uid=no-such-user-smbx")).starts_with("bad value for uid: \"no-such-user-smbx\""));
  CHECK(error_of(with_options("gid=no-such-group-smbx")).starts_with("bad value for gid: \"no-such-group-smbx\""));
  CHECK(error_of(with_options("actimeo=-1")).starts_with("bad value for actimeo: \"-1\""));
  CHECK(error_of(with_options("echo_interval=0")).starts_with("bad value for echo_interval: \"0\""));
  CHECK(error_of(with_options("echo_interval=601")).starts_with("bad value for echo_interval: \"601\""));
  CHECK(error_of(with_options("sec=krb5")).starts_with("bad value for sec: \"krb5\""));
  CHECK(error_of(with_options("seal=1")) == "option seal takes no value");
  CHECK(error_of(with_options("nosuid=1")) == "option nosuid takes no value");
  CHECK(error_of(with_options("rsize")) == "option rsize needs a value (rsize=...)");
  CHECK(error_of(with_options("domain")) == "option domain needs a value (domain=...)");
  CHECK(error_of(with_options("=x")) == "empty option name in \"=x\"");
}

TEST_CASE("-s (sloppy) turns unknown options into warnings, wherever it stands") {
  auto r = parse({"//h/s", "/m", "-o", "foo,bar=2,ro", "-s"});
  REQUIRE(r);
  CHECK(r->config.read_only);
  REQUIRE(r->warnings.size() == 2);
  CHECK(r->warnings[0] == "ignoring unknown option \"foo\"");
  CHECK(r->warnings[1] == "ignoring unknown option \"bar=2\"");
  // Malformed values of known options stay errors.
  CHECK_FALSE(parse({"//h/s", "/m", "-s", "-o", "rsize=abc"}));
}

TEST_CASE("every mount.cifs option with its meaning") {
  auto r = with_options(
      "user=bob,pass=secret,dom=CORP,vers=3.0.2,seal,sign,port=4450,uid=1000,gid=100,file_mode=0640,dir_mode=750,"
      "ro,actimeo=30,cache=loose,rsize=131072,wsize=262144,soft,echo_interval=10,nobrl,nomfsymlinks");
  REQUIRE(r);
  CHECK(r->client.user == "bob");
  CHECK(r->client.password == "secret");
  CHECK(r->client.domain == "CORP");
  CHECK(r->client.dialects == std::vector<std::uint16_t>{0x0302});
  CHECK(r->client.seal);
  CHECK(r->sign);
  CHECK(r->client.port == 4450);
  CHECK(r->config.uid == 1000);
  CHECK(r->config.gid == 100);
  CHECK(r->config.file_mode == 0640);
  CHECK(r->config.dir_mode == 0750);
  CHECK(r->config.read_only);
  CHECK(r->config.actimeo == std::chrono::seconds{30});
  CHECK(r->config.cache == CacheMode::loose);
  CHECK(r->config.rsize == 131072);
  CHECK(r->config.wsize == 262144);
  CHECK(r->config.soft);
  CHECK(r->echo_interval == std::chrono::seconds{10});
  CHECK(r->config.nobrl);
  CHECK_FALSE(r->config.mfsymlinks);

  auto d = with_options("username=x,password=y,domain=D,workgroup=W,hard,mfsymlinks,rw,cache=none");
  REQUIRE(d);
  CHECK(d->client.domain == "W");  // the last one wins
  CHECK_FALSE(d->config.soft);
  CHECK(d->config.mfsymlinks);
  CHECK_FALSE(d->config.read_only);
  CHECK(d->config.cache == CacheMode::none);

  auto defaults = parse({"//h/s", "/m"});
  REQUIRE(defaults);
  CHECK(defaults->config.uid == ::getuid());
  CHECK(defaults->config.gid == ::getgid());
  CHECK(defaults->config.cache == CacheMode::strict);
  CHECK(defaults->client.dialects.empty());
  CHECK_FALSE(defaults->password_given);
}

TEST_CASE("uid= and gid= take names") {
  auto r = with_options("uid=root,gid=root");
  REQUIRE(r);
  CHECK(r->config.uid == 0);
  CHECK(r->config.gid == 0);
}

TEST_CASE("vers= spellings") {
  const std::map<std::string, std::vector<std::uint16_t>> cases = {
      {"3.1.1", {0x0311}}, {"3.11", {0x0311}}, {"3.0.2", {0x0302}}, {"3.02", {0x0302}},
      {"3.0", {0x0300}},   {"3", {0x0300, 0x0302, 0x0311}},          {"2.1", {0x0210}},
      {"2.0", {0x0202}},   {"default", {}}};
  for (const auto& [vers, dialects] : cases) {
    CAPTURE(vers);
    auto r = with_options("vers=" + vers);
    REQUIRE(r);
    CHECK(r->client.dialects == dialects);
  }
}

TEST_CASE("username= may carry DOMAIN/ or DOMAIN\\ and %password") {
  auto r = with_options("username=CORP/alice%pw");
  REQUIRE(r);
  CHECK(r->client.domain == "CORP");
  CHECK(r->client.user == "alice");
  CHECK(r->client.password == "pw");
  auto r2 = with_options("user=CORP\\bob");
  REQUIRE(r2);
  CHECK(r2->client.domain == "CORP");
  CHECK(r2->client.user == "bob");
  CHECK_FALSE(r2->password_given);
  // A bare `user` is mount(8)'s fstab flag, not a user name.
  auto r3 = with_options("user,users,nouser");
  REQUIRE(r3);
  CHECK_FALSE(r3->user_given);
}

TEST_CASE("mount(8)-level options are accepted; VFS flags go to FUSE") {
  auto r = with_options(
      "_netdev,noauto,auto,nofail,defaults,x-systemd.automount,x-gvfs-hide,comment=systemd.foo,"
      "noexec,nosuid,nodev,exec,suid,dev,sec=ntlmssp");
  REQUIRE(r);
  CHECK(r->config.mount_flags == std::vector<std::string>{"noexec", "nosuid", "nodev", "exec", "suid", "dev"});
  CHECK(r->warnings.empty());
}

TEST_CASE("credentials=FILE fills what the options left unset") {
  char path[] = "/tmp/smbx-creds-XXXXXX";
  const int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  ::close(fd);
  {
    std::ofstream f{path};
    f << "username=CORP/carol\npassword=from file\n";
  }
  auto r = with_options(std::string{"credentials="} + path);
  REQUIRE(r);
  CHECK(r->credentials_file == path);
  REQUIRE(apply_credentials_file(*r));
  CHECK(r->client.user == "carol");
  CHECK(r->client.domain == "CORP");
  CHECK(r->client.password == "from file");
  CHECK(r->password_given);

  auto explicit_wins = with_options(std::string{"user=dave,password=cli,cred="} + path);
  REQUIRE(explicit_wins);
  REQUIRE(apply_credentials_file(*explicit_wins));
  CHECK(explicit_wins->client.user == "dave");
  CHECK(explicit_wins->client.password == "cli");
  CHECK(explicit_wins->client.domain == "CORP");

  {
    std::ofstream f{path};
    f << "nonsense\n";
  }
  auto bad = with_options(std::string{"credentials="} + path);
  REQUIRE(bad);
  auto applied = apply_credentials_file(*bad);
  REQUIRE_FALSE(applied);
  CHECK(applied.error().kind == ErrorKind::usage);
  CHECK(user_message(applied.error()).find(path) != std::string::npos);
  ::unlink(path);

  auto missing = with_options("credentials=/nonexistent/smbx-creds");
  REQUIRE(missing);
  auto failed = apply_credentials_file(*missing);
  REQUIRE_FALSE(failed);
  CHECK(user_message(failed.error()).find("/nonexistent/smbx-creds") != std::string::npos);
}

TEST_CASE("the user and password come from USER, PASSWD and the prompt, in that order") {
  std::map<std::string, std::string> env;
  auto getenv_fn = [&](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  int prompts = 0;
  std::string prompt_text;
  auto prompt = [&](const std::string& text) -> std::optional<std::string> {
    ++prompts;
    prompt_text = text;
    return std::string{"typed"};
  };
  auto no_terminal = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };

  env["USER"] = "erin";
  env["PASSWD"] = "from-env";
  auto r = parse({"//h/s", "/m", "-o", "domain=D"});
  REQUIRE(r);
  REQUIRE(fill_identity(*r, getenv_fn, prompt));
  CHECK(r->client.user == "erin");
  CHECK(r->client.password == "from-env");
  CHECK(prompts == 0);

  env.erase("PASSWD");
  auto p = parse({"//h/s", "/m", "-o", "domain=D"});
  REQUIRE(p);
  REQUIRE(fill_identity(*p, getenv_fn, prompt));
  CHECK(p->client.password == "typed");
  CHECK(prompts == 1);
  CHECK(prompt_text == "Password for D\\erin@//h/s: ");

  // An explicit empty password= is a password: no prompt.
  auto empty = with_options("user=x,password=");
  REQUIRE(empty);
  REQUIRE(fill_identity(*empty, getenv_fn, prompt));
  CHECK(empty->client.password.empty());
  CHECK(prompts == 1);

  auto guest = with_options("guest");
  REQUIRE(guest);
  REQUIRE(fill_identity(*guest, getenv_fn, no_terminal));

  auto none = parse({"//h/s", "/m"});
  REQUIRE(none);
  auto failed = fill_identity(*none, getenv_fn, no_terminal);
  REQUIRE_FALSE(failed);
  CHECK(user_message(failed.error()) ==
        "no password for erin on //h/s: give password=, credentials=FILE or PASSWD, or run on a terminal");
}

TEST_CASE("passwords are overwritten in argv in place") {
  Argv a{{"mount.smbx", "//h/s", "/m", "-o", "user=u,password=hunter2,ro", "-opass=abc", "-vo",
          "username=D/u%topsecret,port=1"}};
  CHECK(scrub_password_arguments(a.argc(), a.argv()) == 3);
  const auto line = a.joined();
  CHECK(line.find("hunter2") == std::string::npos);
  CHECK(line.find("abc") == std::string::npos);
  CHECK(line.find("topsecret") == std::string::npos);
  CHECK(std::string{a.argv()[4]} == "user=u,password=xxxxxxx,ro");
  CHECK(std::string{a.argv()[5]} == "-opass=xxx");
  CHECK(std::string{a.argv()[7]} == "username=D/u%xxxxxxxxx,port=1");
  Argv l{{"mount.smbx", "//h/s", "/m", "--options=pass=secret1", "--options", "password=secret2"}};
  CHECK(scrub_password_arguments(l.argc(), l.argv()) == 2);
  CHECK(std::string{l.argv()[3]} == "--options=pass=xxxxxxx");
  CHECK(std::string{l.argv()[5]} == "password=xxxxxxx");
  // Options that only look like passwords elsewhere are left alone.
  Argv b{{"mount.smbx", "//h/password=x", "/m", "-o", "passwd=1,nopassword"}};
  CHECK(scrub_password_arguments(b.argc(), b.argv()) == 0);
  CHECK(std::string{b.argv()[1]} == "//h/password=x");
  // Even after a flag the parser refuses, the value is hidden.
  Argv c{{"mount.smbx", "-o", "password=pw1", "-Z", "-o", "password=pw2"}};
  scrub_password_arguments(c.argc(), c.argv());
  CHECK(std::string{c.argv()[2]} == "password=xxx");
  CHECK(std::string{c.argv()[5]} == "password=xxx");
}

TEST_CASE("mount exit codes for connect and mount failures") {
  auto status = [](std::uint32_t s) {
    return Error{.kind = ErrorKind::status, .wire = WireError::none, .status = s, .action = "x", .detail = {}};
  };
  CHECK(mount_exit_for(status(wire::status::LOGON_FAILURE)) == MountExit::authentication);
  CHECK(mount_exit_for(status(wire::status::BAD_NETWORK_NAME)) == MountExit::not_found);
  CHECK(mount_exit_for(status(wire::status::ACCESS_DENIED)) == MountExit::access_denied);
  CHECK(mount_exit_for(Error{.kind = ErrorKind::transport, .wire = WireError::none, .status = 0, .action = "c",
                             .detail = "refused"}) == MountExit::network);
  CHECK(mount_exit_for(Error{.kind = ErrorKind::usage, .wire = WireError::none, .status = 0, .action = {},
                             .detail = "x"}) == MountExit::usage);
  CHECK(mount_exit_for(Error{.kind = ErrorKind::crypto, .wire = WireError::none, .status = 0, .action = {},
                             .detail = "x"}) == MountExit::failure);
  CHECK(static_cast<int>(MountExit::failure) == 32);
}

TEST_CASE("failover options: hard/soft, handletimeout, persistenthandles, echo_interval reach the client") {
  auto hard = parse({"//h/s", "/m"});
  REQUIRE(hard);
  CHECK(hard->client.recover);
  CHECK(hard->client.hard);  // hard is the default
  CHECK(hard->client.handle_timeout == 60000);
  CHECK(hard->client.recovery_timeout == std::chrono::milliseconds{60000});
  CHECK_FALSE(hard->client.persistent_handles.has_value());
  CHECK(hard->client.echo_interval == std::chrono::milliseconds{60000});
  // hard: a slow answer is waited for; the ECHO keep-alive finds a dead peer.
  CHECK(hard->client.request_timeout > std::chrono::hours{24});

  auto soft = with_options("soft,handletimeout=5000,persistenthandles,echo_interval=7");
  REQUIRE(soft);
  CHECK_FALSE(soft->client.hard);
  CHECK(soft->client.handle_timeout == 5000);
  CHECK(soft->client.recovery_timeout == std::chrono::milliseconds{5000});
  CHECK(soft->client.request_timeout == std::chrono::milliseconds{5000});
  CHECK(soft->client.persistent_handles == std::optional<bool>{true});
  CHECK(soft->client.echo_interval == std::chrono::milliseconds{7000});

  auto server_default = with_options("soft,handletimeout=0,nopersistenthandles");
  REQUIRE(server_default);
  CHECK(server_default->client.handle_timeout == 0);
  CHECK(server_default->client.recovery_timeout == std::chrono::milliseconds{60000});
  CHECK(server_default->client.persistent_handles == std::optional<bool>{false});

  CHECK(error_of(with_options("handletimeout=960001")).starts_with("bad value for handletimeout: \"960001\""));
  CHECK(error_of(with_options("handletimeout=x")).starts_with("bad value for handletimeout"));
  CHECK_FALSE(with_options("persistenthandles=1"));
}

TEST_CASE("rasize and writebehind: the memory windows, 4 MiB by default, at most 64 MiB") {
  auto d = with_options("username=a");
  REQUIRE(d);
  CHECK(d->config.rasize == 4u << 20);
  CHECK(d->config.write_behind == 4u << 20);
  auto r = with_options("rasize=1048576,writebehind=0");
  REQUIRE(r);
  CHECK(r->config.rasize == 1048576);
  CHECK(r->config.write_behind == 0);
  CHECK(with_options("writebehind=67108864"));
  CHECK(error_of(with_options("writebehind=67108865")).starts_with("bad value for writebehind: \"67108865\""));
  CHECK(error_of(with_options("rasize=lots")).starts_with("bad value for rasize: \"lots\""));
  CHECK(error_of(with_options("rasize")).find("rasize") != std::string::npos);
}
