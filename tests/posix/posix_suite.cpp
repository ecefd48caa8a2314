// posix_suite: POSIX file-system behaviour that applications rely on, checked
// case by case inside a directory of the file system under test (issue 6).
// It knows nothing about SMB: it must pass on tmpfs, and every failure on a
// network mount is a difference an application would see.
//
//   posix_suite DIR [--only NAME]... [--skip NAME]... [--list] [--keep]
//               [--small-fs BYTES] [--time-granularity NS] [--timeout SECONDS]
//
// Each case runs in a child process of its own (a crash or a hang stays in
// that case) inside DIR/NAME, made fresh and removed afterwards (kept after a
// failure with --keep). One line per case: `PASS name`, `SKIP name: why`, or
// `FAIL name: step: expected X, got Y`. Exit 0 when nothing failed, 1 when a
// case failed, 2 on a usage error.
//
// `enospc` fills the file system: it runs only with --small-fs BYTES (or
// SMBX_POSIX_SMALL_FS_BYTES in the environment), the size of a file system
// known to be small (a test's own tmpfs share).
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

struct CaseFailed {
  std::string message;
};
struct CaseSkipped {
  std::string reason;
};

struct Options {
  std::uint64_t small_fs_bytes = 0;
  std::int64_t time_granularity_ns = 100;  // NT time has 100 ns ticks (MS-DTYP 2.3.3)
  int timeout_seconds = 120;
  bool keep = false;
};
Options options;

std::string errno_name(int e) {
  if (e == 0) {
    return "success";
  }
  const char* name = strerrorname_np(e);
  return std::string(name != nullptr ? name : "errno " + std::to_string(e)) + " (" + std::strerror(e) + ")";
}

std::string errno_list(std::initializer_list<int> list) {
  std::string out;
  for (int e : list) {
    if (!out.empty()) {
      out += " or ";
    }
    const char* name = strerrorname_np(e);
    out += name != nullptr ? name : std::to_string(e);
  }
  return out;
}

[[noreturn]] void fail(const std::string& message) { throw CaseFailed{message}; }
[[noreturn]] void skip(const std::string& reason) { throw CaseSkipped{reason}; }

// rc < 0 is a failure of WHAT; returns rc otherwise.
template <typename T>
T ok(T rc, const std::string& what) {
  if (rc < 0) {
    fail(what + ": expected success, got " + errno_name(errno));
  }
  return rc;
}

// WHAT must fail with one of WANT.
template <typename T>
void expect_errno(T rc, std::initializer_list<int> want, const std::string& what) {
  int got = rc < 0 ? errno : 0;
  if (rc >= 0 || std::find(want.begin(), want.end(), got) == want.end()) {
    fail(what + ": expected " + errno_list(want) + ", got " + (rc >= 0 ? "success" : errno_name(got)));
  }
}

template <typename A, typename B>
void expect_eq(const A& got, const B& want, const std::string& what) {
  if (!(got == want)) {
    if constexpr (requires { std::to_string(got); std::to_string(want); }) {
      fail(what + ": expected " + std::to_string(want) + ", got " + std::to_string(got));
    } else {
      fail(what + ": expected " + std::string(want) + ", got " + std::string(got));
    }
  }
}

void expect(bool condition, const std::string& what) {
  if (!condition) {
    fail(what);
  }
}

// Deterministic bytes, different per seed, so a misplaced block shows.
std::string pattern(std::size_t size, std::uint32_t seed) {
  std::string out(size, '\0');
  std::uint32_t x = seed * 2654435761U + 1;
  for (auto& c : out) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x & 0xff);
  }
  return out;
}

// Where two strings first differ, for the failure message.
std::string data_diff(const std::string& got, const std::string& want) {
  if (got.size() != want.size()) {
    return "expected " + std::to_string(want.size()) + " bytes, got " + std::to_string(got.size());
  }
  auto mismatch = std::mismatch(got.begin(), got.end(), want.begin());
  auto at = static_cast<std::size_t>(mismatch.first - got.begin());
  char buf[96];
  std::snprintf(buf, sizeof buf, "data differs at byte %zu: expected 0x%02x, got 0x%02x", at,
                static_cast<unsigned>(static_cast<unsigned char>(want[at])),
                static_cast<unsigned>(static_cast<unsigned char>(got[at])));
  return buf;
}

void expect_data(const std::string& got, const std::string& want, const std::string& what) {
  if (got != want) {
    fail(what + ": " + data_diff(got, want));
  }
}

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  Fd& operator=(Fd&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  ~Fd() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  int get() const { return fd_; }
  // An explicit close whose result is checked (write-back errors show here).
  void close(const std::string& what) {
    int fd = fd_;
    fd_ = -1;
    ok(::close(fd), what);
  }

 private:
  int fd_ = -1;
};

Fd open_ok(const std::string& path, int flags, mode_t mode = 0644) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) {
    fail("open " + path + ": expected success, got " + errno_name(errno));
  }
  return Fd(fd);
}

void pwrite_all(int fd, const std::string& data, off_t offset, const std::string& what) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pwrite(fd, data.data() + done, data.size() - done, offset + static_cast<off_t>(done));
    if (n < 0) {
      fail(what + ": pwrite at " + std::to_string(offset + static_cast<off_t>(done)) + ": expected success, got " +
           errno_name(errno));
    }
    if (n == 0) {
      fail(what + ": pwrite wrote 0 bytes");
    }
    done += static_cast<std::size_t>(n);
  }
}

void write_all(int fd, const std::string& data, const std::string& what) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      fail(what + ": write: expected success, got " + errno_name(errno));
    }
    if (n == 0) {
      fail(what + ": write wrote 0 bytes");
    }
    done += static_cast<std::size_t>(n);
  }
}

// Reads SIZE bytes at OFFSET, fewer only at end of file.
std::string pread_n(int fd, std::size_t size, off_t offset, const std::string& what) {
  std::string out(size, '\0');
  std::size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd, out.data() + done, size - done, offset + static_cast<off_t>(done));
    if (n < 0) {
      fail(what + ": pread: expected success, got " + errno_name(errno));
    }
    if (n == 0) {
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  out.resize(done);
  return out;
}

std::string read_fd_all(int fd, const std::string& what) {
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      fail(what + ": read: expected success, got " + errno_name(errno));
    }
    if (n == 0) {
      return out;
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
}

std::string read_file(const std::string& path) {
  Fd fd = open_ok(path, O_RDONLY);
  return read_fd_all(fd.get(), "read " + path);
}

void write_file(const std::string& path, const std::string& data, int extra_flags = 0) {
  Fd fd = open_ok(path, O_WRONLY | O_CREAT | O_TRUNC | extra_flags);
  write_all(fd.get(), data, "write " + path);
  fd.close("close " + path);
}

struct stat stat_ok(const std::string& path) {
  struct stat st {};
  ok(::stat(path.c_str(), &st), "stat " + path);
  return st;
}

struct stat lstat_ok(const std::string& path) {
  struct stat st {};
  ok(::lstat(path.c_str(), &st), "lstat " + path);
  return st;
}

std::vector<std::string> list_dir(const std::string& path) {
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr) {
    fail("opendir " + path + ": expected success, got " + errno_name(errno));
  }
  std::vector<std::string> names;
  errno = 0;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") {
      names.push_back(name);
    }
    errno = 0;
  }
  int e = errno;
  ::closedir(d);
  if (e != 0) {
    fail("readdir " + path + ": expected success, got " + errno_name(e));
  }
  return names;
}

int remove_entry(const char* path, const struct stat*, int, struct FTW*) {
  if (::remove(path) != 0 && errno != ENOENT) {
    // Leave it; the caller reports that the directory could not be removed.
    return 0;
  }
  return 0;
}

bool remove_tree(const std::string& path) {
  ::nftw(path.c_str(), remove_entry, 32, FTW_DEPTH | FTW_PHYS);
  struct stat st {};
  return ::lstat(path.c_str(), &st) != 0 && errno == ENOENT;
}

// Runs FN in a child process; returns "" if it succeeded, else its failure
// message. Processes are what fcntl locks and uids are per.
std::string in_child(const std::function<void()>& fn, int timeout_seconds = 60) {
  int pipefd[2];
  ok(::pipe2(pipefd, O_CLOEXEC), "pipe");
  pid_t pid = ::fork();
  ok(pid, "fork");
  if (pid == 0) {
    ::close(pipefd[0]);
    std::string message;
    try {
      fn();
    } catch (const CaseFailed& f) {
      message = "F" + f.message;
    } catch (const CaseSkipped& s) {
      message = "S" + s.reason;
    }
    if (!message.empty()) {
      [[maybe_unused]] ssize_t n = ::write(pipefd[1], message.data(), message.size());
    }
    ::_exit(0);
  }
  ::close(pipefd[1]);
  Fd reader(pipefd[0]);
  std::string message;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  for (;;) {
    pollfd p{reader.get(), POLLIN, 0};
    int r = ::poll(&p, 1, 200);
    if (r > 0) {
      char buf[4096];
      ssize_t n = ::read(reader.get(), buf, sizeof buf);
      if (n <= 0) {
        break;
      }
      message.append(buf, static_cast<std::size_t>(n));
    }
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      return "child process did not finish within " + std::to_string(timeout_seconds) + " s";
    }
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!message.empty() && message[0] == 'S') {
    skip(message.substr(1));
  }
  if (!message.empty()) {
    return message.substr(1);
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return "child process died (status " + std::to_string(status) + ")";
  }
  return "";
}

// Drops to an unprivileged uid/gid in a child (the caller forked).
void become_nobody() {
  const uid_t nobody = 65534;
  ok(::setgroups(0, nullptr), "setgroups");
  ok(::setresgid(nobody, nobody, nobody), "setresgid 65534");
  ok(::setresuid(nobody, nobody, nobody), "setresuid 65534");
}

// ---------------------------------------------------------------------------
// The cases. Each gets its own fresh directory D.

void case_create_read_write(const std::string& d) {
  const std::string f = d + "/f";
  const std::string data = pattern(1 << 20, 1);
  {
    Fd fd = open_ok(f, O_RDWR | O_CREAT | O_EXCL, 0644);
    // Uneven write sizes cross every page and block boundary.
    std::size_t off = 0;
    std::size_t step = 1;
    while (off < data.size()) {
      std::size_t n = std::min(step, data.size() - off);
      write_all(fd.get(), data.substr(off, n), "sequential writes");
      off += n;
      step = step * 3 + 7;
    }
    struct stat st {};
    ok(::fstat(fd.get(), &st), "fstat");
    expect_eq(static_cast<std::int64_t>(st.st_size), static_cast<std::int64_t>(data.size()), "st_size after writes");
    expect_data(pread_n(fd.get(), data.size(), 0, "read back on the same fd"), data, "read back on the same fd");
    fd.close("close");
  }
  expect_data(read_file(f), data, "read back through a new open");
  {
    // Overwrite in the middle at an odd offset; the rest must stay.
    Fd fd = open_ok(f, O_RDWR);
    const std::string patch = pattern(10007, 2);
    pwrite_all(fd.get(), patch, 123457, "overwrite");
    fd.close("close after overwrite");
  }
  std::string want = data;
  want.replace(123457, 10007, pattern(10007, 2));
  expect_data(read_file(f), want, "contents after an overwrite in the middle");
  Fd fd = open_ok(f, O_RDONLY);
  expect_eq(pread_n(fd.get(), 10, static_cast<off_t>(data.size()), "read at EOF").size(), std::size_t{0},
            "bytes read at end of file");
  char c;
  expect_errno(::write(fd.get(), &c, 1), {EBADF}, "write on an O_RDONLY fd");
  expect_eq(static_cast<std::int64_t>(stat_ok(f).st_size), static_cast<std::int64_t>(data.size()), "stat st_size");
  expect(S_ISREG(stat_ok(f).st_mode), "stat of a new file: expected S_IFREG");
}

void case_truncate(const std::string& d) {
  const std::string f = d + "/f";
  const std::string data = pattern(10000, 3);
  write_file(f, data);
  ok(::truncate(f.c_str(), 5000), "truncate to 5000 (shrink)");
  expect_eq(static_cast<std::int64_t>(stat_ok(f).st_size), std::int64_t{5000}, "st_size after shrink");
  expect_data(read_file(f), data.substr(0, 5000), "contents after shrink");
  ok(::truncate(f.c_str(), 20000), "truncate to 20000 (grow)");
  expect_eq(static_cast<std::int64_t>(stat_ok(f).st_size), std::int64_t{20000}, "st_size after grow");
  expect_data(read_file(f), data.substr(0, 5000) + std::string(15000, '\0'), "contents after grow (zeros past old end)");
  ok(::truncate(f.c_str(), 0), "truncate to 0");
  expect_eq(static_cast<std::int64_t>(stat_ok(f).st_size), std::int64_t{0}, "st_size after truncate to 0");
  write_file(f, data);
  { Fd fd = open_ok(f, O_WRONLY | O_TRUNC); }
  expect_eq(static_cast<std::int64_t>(stat_ok(f).st_size), std::int64_t{0}, "st_size after open O_TRUNC");
  expect_errno(::truncate((d + "/missing").c_str(), 10), {ENOENT}, "truncate of a missing file");
}

void case_ftruncate(const std::string& d) {
  const std::string f = d + "/f";
  const std::string data = pattern(70000, 4);
  Fd fd = open_ok(f, O_RDWR | O_CREAT, 0644);
  write_all(fd.get(), data, "write");
  ok(::ftruncate(fd.get(), 1000), "ftruncate to 1000 (shrink)");
  struct stat st {};
  ok(::fstat(fd.get(), &st), "fstat");
  expect_eq(static_cast<std::int64_t>(st.st_size), std::int64_t{1000}, "fstat st_size after shrink");
  expect_data(pread_n(fd.get(), 70000, 0, "read after shrink"), data.substr(0, 1000), "contents after ftruncate shrink");
  ok(::ftruncate(fd.get(), 65536 + 100), "ftruncate to 65636 (grow)");
  // Data written past the old end after a grow lands at its offset.
  pwrite_all(fd.get(), "xyz", 65536, "write in the grown region");
  std::string want = data.substr(0, 1000) + std::string(65536 - 1000, '\0') + "xyz" + std::string(97, '\0');
  expect_data(pread_n(fd.get(), 70000, 0, "read after grow"), want, "contents after ftruncate grow + write");
  fd.close("close");
  expect_data(read_file(f), want, "contents through a new open");
  Fd ro = open_ok(f, O_RDONLY);
  expect_errno(::ftruncate(ro.get(), 0), {EBADF, EINVAL}, "ftruncate on an O_RDONLY fd");
}

void case_append(const std::string& d) {
  const std::string f = d + "/log";
  write_file(f, "header\n");
  Fd a = open_ok(f, O_WRONLY | O_APPEND);
  Fd b = open_ok(f, O_WRONLY | O_APPEND);
  std::string want = "header\n";
  char line[32];
  for (int i = 0; i < 100; ++i) {
    std::snprintf(line, sizeof line, "a%04d-------\n", i);
    write_all(a.get(), line, "append through fd a");
    want += line;
    std::snprintf(line, sizeof line, "b%04d+++++++\n", i);
    write_all(b.get(), line, "append through fd b");
    want += line;
  }
  // pwrite on an O_APPEND fd appends too on Linux (pwrite(2), BUGS).
  a.close("close a");
  b.close("close b");
  expect_data(read_file(f), want, "interleaved O_APPEND writes from two fds");
}

void case_rename_replace(const std::string& d) {
  const std::string a = d + "/a", b = d + "/b";
  write_file(a, "new contents");
  write_file(b, "old contents, longer than the new ones");
  ino_t ino_a = stat_ok(a).st_ino;
  ok(::rename(a.c_str(), b.c_str()), "rename a over existing b");
  expect_errno(::access(a.c_str(), F_OK), {ENOENT}, "access of the rename source");
  expect_eq(read_file(b), std::string("new contents"), "contents of b after rename");
  expect_eq(static_cast<std::uint64_t>(stat_ok(b).st_ino), static_cast<std::uint64_t>(ino_a),
            "st_ino of b after rename (the moved file's)");
  auto names = list_dir(d);
  expect_eq(names.size(), std::size_t{1}, "entries in the directory after rename");
  // Renaming a file onto itself is a no-op.
  ok(::rename(b.c_str(), b.c_str()), "rename b onto itself");
  expect_eq(read_file(b), std::string("new contents"), "contents after rename onto itself");
  // A rename into another directory.
  ok(::mkdir((d + "/sub").c_str(), 0755), "mkdir sub");
  ok(::rename(b.c_str(), (d + "/sub/c").c_str()), "rename b to sub/c");
  expect_eq(read_file(d + "/sub/c"), std::string("new contents"), "contents after a move between directories");
  expect_errno(::rename((d + "/missing").c_str(), (d + "/x").c_str()), {ENOENT}, "rename of a missing file");
}

// Replacing a file that someone has open: the reader keeps the old file.
void case_rename_replace_open(const std::string& d) {
  const std::string a = d + "/a", b = d + "/b";
  write_file(a, "new contents");
  write_file(b, "old contents, longer than the new ones");
  Fd old_fd = open_ok(b, O_RDONLY);
  ok(::rename(a.c_str(), b.c_str()), "rename a over existing b while b is open for reading");
  expect_eq(read_file(b), std::string("new contents"), "contents of b after rename");
  expect_eq(read_fd_all(old_fd.get(), "read the replaced file through its open fd"),
            std::string("old contents, longer than the new ones"), "replaced file through an fd opened before");
  old_fd.close("close the replaced file");
  expect_eq(read_file(b), std::string("new contents"), "contents of b after the replaced file's last close");
  // The same while the target is open for writing.
  write_file(a, "newer");
  Fd writer = open_ok(b, O_WRONLY);
  ok(::rename(a.c_str(), b.c_str()), "rename a over existing b while b is open for writing");
  writer.close("close the replaced file");
  expect_eq(read_file(b), std::string("newer"), "contents of b after the second rename");
}

// The save-by-rename pattern (editors, package managers): a reader that
// keeps opening the target must always find a complete old or new file,
// never ENOENT, while writers rename fresh files over it.
void case_rename_replace_atomic(const std::string& d) {
  const std::string target = d + "/target";
  const std::size_t size = 4096;
  write_file(target, std::string(size, 'A'));
  const std::string stop = d + "/stop";
  pid_t reader = ::fork();
  ok(reader, "fork");
  if (reader == 0) {
    // Exit 0: fine; 1: ENOENT or other open error; 2: torn contents; 3: never opened.
    int opens = 0;
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
      int fd = ::open(target.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        std::fprintf(stderr, "posix_suite: rename_replace_atomic: reader open: %s\n", errno_name(errno).c_str());
        ::_exit(1);
      }
      char buf[8192];
      ssize_t n = ::pread(fd, buf, sizeof buf, 0);
      ::close(fd);
      if (n != static_cast<ssize_t>(size) || std::count(buf, buf + size, buf[0]) != static_cast<long>(size)) {
        std::fprintf(stderr, "posix_suite: rename_replace_atomic: reader saw %zd bytes, first 0x%02x\n", n,
                     n > 0 ? static_cast<unsigned>(static_cast<unsigned char>(buf[0])) : 0U);
        ::_exit(2);
      }
      ++opens;
      if (::access(stop.c_str(), F_OK) == 0) {
        break;
      }
    }
    ::_exit(opens > 0 ? 0 : 3);
  }
  std::string failure;
  char last = 'A';
  try {
    // At least 40 renames and half a second, so the reader overlaps many.
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 40 || (std::chrono::steady_clock::now() - start < 500ms && i < 5000); ++i) {
      const std::string tmp = d + "/tmp" + std::to_string(i);
      last = static_cast<char>('B' + i % 20);
      write_file(tmp, std::string(size, last));
      ok(::rename(tmp.c_str(), target.c_str()), "rename #" + std::to_string(i) + " over a file a reader keeps opening");
    }
    write_file(stop, "");
  } catch (const CaseFailed& f) {
    failure = f.message;
    ::kill(reader, SIGKILL);
  }
  int status = 0;
  ::waitpid(reader, &status, 0);
  if (!failure.empty()) {
    fail(failure);
  }
  expect(WIFEXITED(status), "reader process died");
  switch (WEXITSTATUS(status)) {
    case 0: break;
    case 1: fail("reader: open of the rename target: expected success every time, got an error (see stderr)");
    case 2: fail("reader: expected a complete old or new file every time, got torn contents (see stderr)");
    default: fail("reader: never opened the target");
  }
  expect_eq(read_file(target), std::string(size, last), "final contents");
}

void case_rename_dir(const std::string& d) {
  const std::string a = d + "/a", b = d + "/b";
  ok(::mkdir(a.c_str(), 0755), "mkdir a");
  ok(::mkdir((a + "/inner").c_str(), 0755), "mkdir a/inner");
  write_file(a + "/f", "in a");
  write_file(a + "/inner/g", "in a/inner");
  ok(::rename(a.c_str(), b.c_str()), "rename directory a to b");
  expect_errno(::access(a.c_str(), F_OK), {ENOENT}, "access of the old directory name");
  expect_eq(read_file(b + "/f"), std::string("in a"), "b/f after rename");
  expect_eq(read_file(b + "/inner/g"), std::string("in a/inner"), "b/inner/g after rename");
  expect_errno(::access((a + "/f").c_str(), F_OK), {ENOENT}, "access of a/f after rename");
  // A new directory of the old name is independent of the moved one.
  ok(::mkdir(a.c_str(), 0755), "mkdir a again");
  expect_eq(list_dir(a).size(), std::size_t{0}, "entries in the new a");
  write_file(a + "/x", "x");
  expect_errno(::rename(b.c_str(), a.c_str()), {ENOTEMPTY, EEXIST}, "rename directory over a non-empty directory");
  expect_errno(::rename(b.c_str(), (b + "/inner/sub").c_str()), {EINVAL}, "rename a directory into itself");
  expect_errno(::rename(b.c_str(), (a + "/x").c_str()), {ENOTDIR}, "rename a directory over a file");
  expect_errno(::rename((a + "/x").c_str(), b.c_str()), {EISDIR}, "rename a file over a directory");
}

// POSIX rename(2): a directory may replace an empty directory.
void case_rename_dir_over_empty(const std::string& d) {
  const std::string a = d + "/a", b = d + "/b";
  ok(::mkdir(a.c_str(), 0755), "mkdir a");
  write_file(a + "/f", "in a");
  ok(::mkdir(b.c_str(), 0755), "mkdir b (empty)");
  ok(::rename(a.c_str(), b.c_str()), "rename directory a over empty directory b");
  expect_eq(read_file(b + "/f"), std::string("in a"), "b/f after rename");
  expect_errno(::access(a.c_str(), F_OK), {ENOENT}, "access of the old name");
}

void case_unlink_open(const std::string& d) {
  const std::string f = d + "/f";
  const std::string data = pattern(100000, 5);
  write_file(f, data);
  Fd fd = open_ok(f, O_RDWR);
  ok(::unlink(f.c_str()), "unlink a file that is open");
  expect_errno(::access(f.c_str(), F_OK), {ENOENT}, "access after unlink");
  expect_data(pread_n(fd.get(), data.size() + 10, 0, "read through the open fd"), data,
              "contents through the fd after unlink");
  pwrite_all(fd.get(), "tail", static_cast<off_t>(data.size()), "write through the fd after unlink");
  expect_data(pread_n(fd.get(), data.size() + 10, 0, "read back"), data + "tail", "contents after a write to the unlinked file");
  struct stat st {};
  ok(::fstat(fd.get(), &st), "fstat of the unlinked file");
  expect_eq(static_cast<std::int64_t>(st.st_size), static_cast<std::int64_t>(data.size() + 4), "fstat st_size");
  auto names = list_dir(d);
  expect(std::find(names.begin(), names.end(), "f") == names.end(),
         "readdir after unlink, file still open: expected no entry f, got one");
  fd.close("close the unlinked file");
  expect_eq(list_dir(d).size(), std::size_t{0}, "entries after the last close");
}

// The name of an unlinked but still open file is free at once.
void case_unlink_open_recreate(const std::string& d) {
  const std::string f = d + "/f";
  write_file(f, "old");
  Fd old_fd = open_ok(f, O_RDONLY);
  ok(::unlink(f.c_str()), "unlink while open");
  {
    Fd fresh = open_ok(f, O_WRONLY | O_CREAT | O_EXCL, 0644);
    write_all(fresh.get(), "new", "write the new file");
    fresh.close("close the new file");
  }
  expect_eq(read_fd_all(old_fd.get(), "read the old file"), std::string("old"), "old file through its fd");
  expect_eq(read_file(f), std::string("new"), "new file of the same name");
  old_fd.close("close the old file");
  // Closing the unlinked file must not take the new one with it.
  expect_eq(read_file(f), std::string("new"), "new file after the old one's last close");
}

void case_mkdir(const std::string& d) {
  const std::string a = d + "/a";
  ok(::mkdir(a.c_str(), 0755), "mkdir");
  expect(S_ISDIR(stat_ok(a).st_mode), "stat of a new directory: expected S_IFDIR");
  expect_errno(::mkdir(a.c_str(), 0755), {EEXIST}, "mkdir of an existing directory");
  write_file(d + "/f", "x");
  expect_errno(::mkdir((d + "/f").c_str(), 0755), {EEXIST}, "mkdir over an existing file");
  expect_errno(::mkdir((d + "/missing/b").c_str(), 0755), {ENOENT}, "mkdir under a missing parent");
  expect_errno(::mkdir((d + "/f/b").c_str(), 0755), {ENOTDIR}, "mkdir under a file");
  ok(::mkdir((a + "/b").c_str(), 0755), "mkdir nested");
  auto names = list_dir(a);
  expect(names.size() == 1 && names[0] == "b", "entries of a: expected just b, got " + std::to_string(names.size()));
}

void case_rmdir_nonempty(const std::string& d) {
  const std::string a = d + "/a";
  ok(::mkdir(a.c_str(), 0755), "mkdir");
  write_file(a + "/f", "x");
  expect_errno(::rmdir(a.c_str()), {ENOTEMPTY}, "rmdir of a non-empty directory");
  expect_eq(read_file(a + "/f"), std::string("x"), "file in the directory after the failed rmdir");
  ok(::unlink((a + "/f").c_str()), "unlink the file");
  ok(::rmdir(a.c_str()), "rmdir once empty");
  expect_errno(::access(a.c_str(), F_OK), {ENOENT}, "access after rmdir");
  expect_errno(::rmdir(a.c_str()), {ENOENT}, "rmdir of a missing directory");
}

void case_rmdir_file(const std::string& d) {
  write_file(d + "/f", "x");
  expect_errno(::rmdir((d + "/f").c_str()), {ENOTDIR}, "rmdir of a file");
  expect_eq(read_file(d + "/f"), std::string("x"), "the file after the failed rmdir");
}

void case_unlink_dir(const std::string& d) {
  ok(::mkdir((d + "/a").c_str(), 0755), "mkdir");
  expect_errno(::unlink((d + "/a").c_str()), {EISDIR}, "unlink of a directory");
  expect(S_ISDIR(stat_ok(d + "/a").st_mode), "directory after the failed unlink: expected S_IFDIR");
  expect_errno(::unlink((d + "/missing").c_str()), {ENOENT}, "unlink of a missing file");
}

void case_open_missing(const std::string& d) {
  expect_errno(::open((d + "/missing").c_str(), O_RDONLY), {ENOENT}, "open of a missing file");
  expect_errno(::open((d + "/missing/x").c_str(), O_RDONLY), {ENOENT}, "open under a missing directory");
  expect_errno(::open((d + "/missing/x").c_str(), O_RDWR | O_CREAT, 0644), {ENOENT},
               "O_CREAT under a missing directory");
  struct stat st {};
  expect_errno(::stat((d + "/missing").c_str(), &st), {ENOENT}, "stat of a missing file");
  write_file(d + "/f", "x");
  expect_errno(::open((d + "/f/x").c_str(), O_RDONLY), {ENOTDIR}, "open with a file as a directory component");
  expect_errno(::open((d + "/f").c_str(), O_RDONLY | O_DIRECTORY), {ENOTDIR}, "O_DIRECTORY on a file");
  ok(::mkdir((d + "/a").c_str(), 0755), "mkdir");
  expect_errno(::open((d + "/a").c_str(), O_WRONLY), {EISDIR}, "open a directory for writing");
}

void case_creat_excl(const std::string& d) {
  const std::string f = d + "/f";
  write_file(f, "existing");
  expect_errno(::open(f.c_str(), O_RDWR | O_CREAT | O_EXCL, 0644), {EEXIST}, "O_CREAT|O_EXCL on an existing file");
  expect_eq(read_file(f), std::string("existing"), "contents after the failed exclusive create");
  ok(::mkdir((d + "/a").c_str(), 0755), "mkdir");
  expect_errno(::open((d + "/a").c_str(), O_RDWR | O_CREAT | O_EXCL, 0644), {EEXIST},
               "O_CREAT|O_EXCL on an existing directory");
  Fd fd = open_ok(d + "/g", O_RDWR | O_CREAT | O_EXCL, 0644);
  expect_eq(static_cast<std::int64_t>(stat_ok(d + "/g").st_size), std::int64_t{0}, "size of a new exclusive file");
}

// Entries are created and deleted while a directory is being read: no name
// may come twice, and every entry left alone must come exactly once.
void case_readdir_mutation(const std::string& d) {
  char name[32];
  for (int i = 0; i < 200; ++i) {
    std::snprintf(name, sizeof name, "/keep-%03d", i);
    write_file(d + name, "");
  }
  for (int i = 0; i < 100; ++i) {
    std::snprintf(name, sizeof name, "/del-%03d", i);
    write_file(d + name, "");
  }
  DIR* dir = ::opendir(d.c_str());
  if (dir == nullptr) {
    fail("opendir: expected success, got " + errno_name(errno));
  }
  std::map<std::string, int> seen;
  std::string failure;
  try {
    int count = 0;
    bool mutated = false;
    for (;;) {
      errno = 0;
      dirent* e = ::readdir(dir);
      if (e == nullptr) {
        if (errno != 0) {
          fail("readdir: expected success, got " + errno_name(errno));
        }
        break;
      }
      ++seen[e->d_name];
      if (++count == 60 && !mutated) {
        mutated = true;
        for (int i = 0; i < 100; ++i) {
          std::snprintf(name, sizeof name, "/new-%03d", i);
          write_file(d + name, "");
          std::snprintf(name, sizeof name, "/del-%03d", i);
          ok(::unlink((d + name).c_str()), std::string("unlink ") + name);
        }
      }
    }
    expect(mutated, "readdir returned fewer than 60 entries before the changes");
  } catch (const CaseFailed& f) {
    failure = f.message;
  }
  ::closedir(dir);
  if (!failure.empty()) {
    fail(failure);
  }
  for (const auto& [entry, n] : seen) {
    if (n > 1) {
      fail("readdir during changes: entry " + entry + " returned " + std::to_string(n) + " times");
    }
    bool known = entry == "." || entry == ".." || entry.starts_with("keep-") || entry.starts_with("del-") ||
                 entry.starts_with("new-");
    expect(known, "readdir during changes: unexpected entry " + entry);
  }
  for (int i = 0; i < 200; ++i) {
    std::snprintf(name, sizeof name, "keep-%03d", i);
    if (seen.count(name) == 0) {
      fail(std::string("readdir during changes: untouched entry ") + name + " not returned");
    }
  }
  // A fresh listing shows exactly the result.
  auto names = list_dir(d);
  std::set<std::string> now(names.begin(), names.end());
  expect_eq(names.size(), now.size(), "fresh listing: entries (duplicates found)");
  expect_eq(names.size(), std::size_t{300}, "fresh listing: number of entries (200 keep + 100 new)");
  for (const auto& n : names) {
    expect(!n.starts_with("del-"), "fresh listing: deleted entry " + n + " still listed");
  }
}

void case_readdir_many(const std::string& d) {
  char name[64];
  const int files = 1000;
  for (int i = 0; i < files; ++i) {
    std::snprintf(name, sizeof name, "/file-with-a-longer-name-%05d", i);
    write_file(d + name, "");
  }
  auto names = list_dir(d);
  std::set<std::string> unique(names.begin(), names.end());
  expect_eq(unique.size(), names.size(), "listing of 1000 files: distinct names (duplicates returned)");
  expect_eq(names.size(), static_cast<std::size_t>(files), "listing of 1000 files: entries");
  DIR* dir = ::opendir(d.c_str());
  if (dir == nullptr) {
    fail("opendir: expected success, got " + errno_name(errno));
  }
  // rewinddir starts over and sees the same set again.
  int first = 0, second = 0;
  while (dirent* e = ::readdir(dir)) {
    first += e->d_name[0] == 'f' ? 1 : 0;
    if (first == 10) {
      break;
    }
  }
  ::rewinddir(dir);
  while (dirent* e = ::readdir(dir)) {
    second += e->d_name[0] == 'f' ? 1 : 0;
  }
  ::closedir(dir);
  expect_eq(second, files, "entries after rewinddir");
}

void case_flock(const std::string& d) {
  const std::string f = d + "/f";
  write_file(f, "x");
  Fd a = open_ok(f, O_RDWR);
  Fd b = open_ok(f, O_RDWR);
  ok(::flock(a.get(), LOCK_EX), "flock LOCK_EX on the first open");
  expect_errno(::flock(b.get(), LOCK_EX | LOCK_NB), {EWOULDBLOCK}, "flock LOCK_EX|LOCK_NB on a second open");
  expect_errno(::flock(b.get(), LOCK_SH | LOCK_NB), {EWOULDBLOCK}, "flock LOCK_SH|LOCK_NB on a second open");
  ok(::flock(a.get(), LOCK_UN), "flock LOCK_UN");
  ok(::flock(b.get(), LOCK_EX | LOCK_NB), "flock LOCK_EX|LOCK_NB once released");
  ok(::flock(b.get(), LOCK_UN), "flock LOCK_UN");
  ok(::flock(a.get(), LOCK_SH | LOCK_NB), "flock LOCK_SH on the first open");
  ok(::flock(b.get(), LOCK_SH | LOCK_NB), "flock LOCK_SH on the second open (shared locks coexist)");
  // Closing the descriptor releases its lock.
  a = Fd();
  b = Fd();
  Fd c = open_ok(f, O_RDWR);
  ok(::flock(c.get(), LOCK_EX | LOCK_NB), "flock LOCK_EX after the holders closed");
}

// A POSIX record lock request on [start, start + len).
struct flock range_lock(short type, off_t start, off_t len) {
  struct flock lk {};
  lk.l_type = type;
  lk.l_whence = SEEK_SET;
  lk.l_start = start;
  lk.l_len = len;
  return lk;
}

// Runs `fn` in a second process (locks are per process) and records its failure here.
void in_second_process(const std::function<void()>& fn) {
  const std::string child = in_child(fn);
  if (!child.empty()) fail(child);
}

void case_fcntl_lock(const std::string& d) {
  const std::string f = d + "/f";
  write_file(f, pattern(4096, 6));
  Fd fd = open_ok(f, O_RDWR);
  struct flock lk = range_lock(F_WRLCK, 0, 100);
  ok(::fcntl(fd.get(), F_SETLK, &lk), "F_SETLK F_WRLCK [0,100) in the parent");
  in_second_process([&] {
    Fd mine = open_ok(f, O_RDWR);
    struct flock c = range_lock(F_WRLCK, 50, 10);
    expect_errno(::fcntl(mine.get(), F_SETLK, &c), {EAGAIN, EACCES}, "F_SETLK F_WRLCK [50,60) in a second process");
    c.l_type = F_RDLCK;
    expect_errno(::fcntl(mine.get(), F_SETLK, &c), {EAGAIN, EACCES}, "F_SETLK F_RDLCK [50,60) in a second process");
    c.l_type = F_WRLCK;
    ok(::fcntl(mine.get(), F_GETLK, &c), "F_GETLK");
    expect_eq(static_cast<int>(c.l_type), static_cast<int>(F_WRLCK), "F_GETLK l_type of the conflicting lock");
    c = range_lock(F_WRLCK, 200, 10);
    ok(::fcntl(mine.get(), F_SETLK, &c), "F_SETLK F_WRLCK [200,210) (no overlap) in a second process");
  });
  lk.l_type = F_UNLCK;
  ok(::fcntl(fd.get(), F_SETLK, &lk), "F_SETLK F_UNLCK in the parent");
  in_second_process([&] {
    Fd mine = open_ok(f, O_RDWR);
    struct flock c = range_lock(F_WRLCK, 50, 10);
    ok(::fcntl(mine.get(), F_SETLK, &c), "F_SETLK F_WRLCK [50,60) in a second process after the unlock");
  });
  // A read lock held by one process lets another read-lock the same range.
  lk.l_type = F_RDLCK;
  ok(::fcntl(fd.get(), F_SETLK, &lk), "F_SETLK F_RDLCK [0,100) in the parent");
  in_second_process([&] {
    Fd mine = open_ok(f, O_RDONLY);
    struct flock c = range_lock(F_RDLCK, 0, 100);
    ok(::fcntl(mine.get(), F_SETLK, &c), "F_SETLK F_RDLCK [0,100) while another process holds a read lock");
  });
}

// ---- a blocking lock interrupted by a signal ----
// A process waiting in F_SETLKW or flock() that gets a signal whose handler
// was installed without SA_RESTART returns EINTR, and the lock it waited for
// is not taken later behind its back (a network file system must withdraw the
// request it sent: issue 6, SMB2 CANCEL).

volatile sig_atomic_t alarms_seen = 0;
void count_alarm(int) { alarms_seen = alarms_seen + 1; }

// A second process that holds a lock on its own open of F until release()
// (or until `hold_limit` passed: a waiter that the signal did not interrupt
// then gets the lock and returns, so a failure cannot hang the suite).
class LockHolder {
 public:
  LockHolder(const std::string& f, const std::function<void(int)>& take, const std::function<void(int)>& give_back,
             std::chrono::milliseconds hold_limit) {
    int down[2], up[2];
    ok(::pipe2(down, O_CLOEXEC), "pipe");
    ok(::pipe2(up, O_CLOEXEC), "pipe");
    pid_ = ok(::fork(), "fork");
    if (pid_ == 0) {
      ::close(down[1]);
      ::close(up[0]);
      std::string said;
      try {
        Fd fd = open_ok(f, O_RDWR);
        take(fd.get());
        say(up[1], "L");
        pollfd p{down[0], POLLIN, 0};
        char c = 0;
        if (::poll(&p, 1, static_cast<int>(hold_limit.count())) > 0) {
          [[maybe_unused]] ssize_t n = ::read(down[0], &c, 1);
        }
        give_back(fd.get());
        say(up[1], "U");
        // Stay (the open stays too) until the case is done with us.
        p = pollfd{down[0], POLLIN, 0};
        while (::poll(&p, 1, 30000) > 0 && ::read(down[0], &c, 1) > 0) {
        }
      } catch (const CaseFailed& e) {
        say(up[1], "F" + e.message);
      }
      ::_exit(0);
    }
    ::close(down[0]);
    ::close(up[1]);
    to_ = Fd(down[1]);
    from_ = Fd(up[0]);
    expect_reply('L', "the lock holder");
  }
  LockHolder(const LockHolder&) = delete;
  LockHolder& operator=(const LockHolder&) = delete;
  ~LockHolder() {
    to_ = Fd();  // EOF: it exits
    int status = 0;
    for (int i = 0; i < 100 && ::waitpid(pid_, &status, WNOHANG) == 0; ++i) std::this_thread::sleep_for(50ms);
    if (::waitpid(pid_, &status, WNOHANG) == 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
  }
  // Tells it to give the lock back; returns once it did.
  void release() {
    say(to_.get(), "u");
    expect_reply('U', "the lock holder's unlock");
  }

 private:
  static void say(int fd, const std::string& s) { [[maybe_unused]] ssize_t n = ::write(fd, s.data(), s.size()); }
  void expect_reply(char want, const std::string& what) {
    pollfd p{from_.get(), POLLIN, 0};
    if (::poll(&p, 1, 30000) <= 0) fail(what + ": no answer within 30 s");
    char buf[4096];
    ssize_t n = ::read(from_.get(), buf, sizeof buf);
    if (n <= 0) fail(what + ": the process exited");
    std::string got(buf, static_cast<std::size_t>(n));
    if (got[0] == 'F') fail(what + ": " + got.substr(1));
    if (got[0] != want) fail(what + ": unexpected reply " + got);
  }
  pid_t pid_ = -1;
  Fd to_, from_;
};

// Converting a record lock: fcntl(2) keeps the old lock when the new type
// cannot be had, and taking a lock the process already holds changes nothing.
void case_fcntl_lock_convert(const std::string& d) {
  const std::string f = d + "/f";
  write_file(f, pattern(4096, 7));
  Fd fd = open_ok(f, O_RDWR);
  struct flock lk = range_lock(F_RDLCK, 0, 100);
  ok(::fcntl(fd.get(), F_SETLK, &lk), "F_SETLK F_RDLCK [0,100) in the parent");
  ok(::fcntl(fd.get(), F_SETLK, &lk), "F_SETLK F_RDLCK [0,100) again in the parent");
  {
    const auto take = [](int h) {
      struct flock c = range_lock(F_RDLCK, 0, 100);
      ok(::fcntl(h, F_SETLK, &c), "F_SETLK F_RDLCK [0,100) in the holder");
    };
    const auto give_back = [](int h) {
      struct flock c = range_lock(F_UNLCK, 0, 100);
      ok(::fcntl(h, F_SETLK, &c), "F_SETLK F_UNLCK in the holder");
    };
    LockHolder holder(f, take, give_back, 20000ms);
    lk.l_type = F_WRLCK;
    expect_errno(::fcntl(fd.get(), F_SETLK, &lk), {EAGAIN, EACCES},
                 "F_SETLK F_WRLCK over the parent's own read lock while another process reads");
    holder.release();
  }
  // The parent's read lock must still be there.
  in_second_process([&] {
    Fd mine = open_ok(f, O_RDWR);
    struct flock c = range_lock(F_WRLCK, 0, 100);
    expect_errno(::fcntl(mine.get(), F_SETLK, &c), {EAGAIN, EACCES},
                 "F_SETLK F_WRLCK in a second process after the parent's upgrade failed (its read lock stays)");
    c.l_type = F_RDLCK;
    ok(::fcntl(mine.get(), F_SETLK, &c), "F_SETLK F_RDLCK in a second process beside the parent's read lock");
  });
  lk.l_type = F_WRLCK;
  ok(::fcntl(fd.get(), F_SETLK, &lk), "F_SETLK F_WRLCK: the parent upgrades once alone");
  in_second_process([&] {
    Fd mine = open_ok(f, O_RDWR);
    struct flock c = range_lock(F_RDLCK, 0, 100);
    expect_errno(::fcntl(mine.get(), F_SETLK, &c), {EAGAIN, EACCES}, "F_SETLK F_RDLCK against the upgraded lock");
  });
  lk.l_type = F_RDLCK;
  ok(::fcntl(fd.get(), F_SETLK, &lk), "F_SETLK F_RDLCK: the parent downgrades");
  in_second_process([&] {
    Fd mine = open_ok(f, O_RDWR);
    struct flock c = range_lock(F_RDLCK, 0, 100);
    ok(::fcntl(mine.get(), F_SETLK, &c), "F_SETLK F_RDLCK beside the downgraded lock");
    c.l_type = F_WRLCK;
    expect_errno(::fcntl(mine.get(), F_SETLK, &c), {EAGAIN, EACCES}, "F_SETLK F_WRLCK against the downgraded lock");
  });
}

// Downgrading a record lock (F_WRLCK to F_RDLCK over the same range) has no
// moment when the range is free: a process already waiting in F_SETLKW for a
// write lock on it must go on waiting, and get it when the parent unlocks.
void case_fcntl_lock_downgrade(const std::string& d) {
  const std::string f = d + "/f";
  write_file(f, pattern(4096, 8));
  Fd fd = open_ok(f, O_RDWR);
  struct flock lk = range_lock(F_WRLCK, 0, 100);
  ok(::fcntl(fd.get(), F_SETLK, &lk), "F_SETLK F_WRLCK [0,100) in the parent");
  int up[2];
  ok(::pipe2(up, O_CLOEXEC), "pipe");
  const pid_t waiter = ok(::fork(), "fork");
  if (waiter == 0) {
    ::close(up[0]);
    const int h = ::open(f.c_str(), O_RDWR);
    struct flock c = range_lock(F_WRLCK, 0, 100);
    [[maybe_unused]] ssize_t n = ::write(up[1], "W", 1);
    const int rc = h < 0 ? -1 : ::fcntl(h, F_SETLKW, &c);
    n = ::write(up[1], rc == 0 ? "G" : "E", 1);
    std::this_thread::sleep_for(200ms);
    ::_exit(0);
  }
  ::close(up[1]);
  Fd from(up[0]);
  // Whatever happens below, the waiter does not outlive the case.
  struct Reaper {
    pid_t pid;
    ~Reaper() {
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
      }
    }
  } reaper{waiter};
  const auto next = [&](int timeout_ms) -> char {
    pollfd p{from.get(), POLLIN, 0};
    char c = 0;
    if (::poll(&p, 1, timeout_ms) <= 0 || ::read(from.get(), &c, 1) != 1) return 0;
    return c;
  };
  expect(next(30000) == 'W', "the waiter did not start");
  std::this_thread::sleep_for(1000ms);  // its F_SETLKW is waiting now (on the server, for a network FS)
  expect(next(0) == 0, "the waiter got F_WRLCK [0,100) while the parent held it");
  lk.l_type = F_RDLCK;
  ok(::fcntl(fd.get(), F_SETLK, &lk), "F_SETLK F_RDLCK: the parent downgrades while another process waits for F_WRLCK");
  const char during = next(1500);
  expect(during == 0, std::string{"the waiting F_SETLKW F_WRLCK "} +
                          (during == 'G' ? "was granted" : "failed") +
                          " during the parent's downgrade: the range was free for a moment");
  lk.l_type = F_UNLCK;
  ok(::fcntl(fd.get(), F_SETLK, &lk), "F_SETLK F_UNLCK in the parent");
  const char after = next(10000);
  expect(after == 'G', after == 'E' ? "the waiter's F_SETLKW failed after the parent unlocked"
                                    : "the waiter did not get F_WRLCK within 10 s of the parent's unlock");
}

// `wait_lock` blocks on an open of F while a LockHolder holds a conflicting
// lock; SIGALRM after 0.5 s must end it with EINTR within 5 s. After the
// holder unlocks, a third process gets the lock at once with `try_lock`.
void check_interrupted_lock(const std::string& f, const std::function<void(int)>& take,
                            const std::function<void(int)>& give_back, const std::function<int(int)>& wait_lock,
                            const std::function<void(int)>& try_lock, const std::string& what) {
  write_file(f, pattern(4096, 9));
  LockHolder holder(f, take, give_back, 8000ms);
  Fd mine = open_ok(f, O_RDWR);
  struct sigaction sa {};
  sa.sa_handler = count_alarm;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: the wait must end with EINTR
  ok(::sigaction(SIGALRM, &sa, nullptr), "sigaction SIGALRM");
  itimerval timer{};
  timer.it_value.tv_usec = 500'000;
  ok(::setitimer(ITIMER_REAL, &timer, nullptr), "setitimer");
  const auto started = std::chrono::steady_clock::now();
  const int rc = wait_lock(mine.get());
  const int err = errno;
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  timer = itimerval{};
  ::setitimer(ITIMER_REAL, &timer, nullptr);
  if (rc == 0) {
    fail(what + " interrupted by SIGALRM after 0.5 s: expected EINTR, got success after " + std::to_string(ms) +
         " ms (when the holder gave up)");
  }
  errno = err;  // as the lock call left it
  expect_errno(rc, {EINTR}, what + " interrupted by SIGALRM after 0.5 s");
  expect(alarms_seen == 1, "SIGALRM handler: expected 1 call, got " + std::to_string(alarms_seen));
  expect(ms < 5000, what + " interrupted: expected EINTR within 5000 ms, took " + std::to_string(ms) + " ms");
  holder.release();
  // A lock granted to the interrupted request (and not given back) would be
  // in place by now.
  std::this_thread::sleep_for(500ms);
  in_second_process([&] {
    Fd third = open_ok(f, O_RDWR);
    try_lock(third.get());
  });
}

void case_fcntl_lock_interrupt(const std::string& d) {
  auto set = [](int fd, short type, off_t start, off_t len, int cmd, const std::string& what) {
    struct flock lk = range_lock(type, start, len);
    return what.empty() ? ::fcntl(fd, cmd, &lk) : ok(::fcntl(fd, cmd, &lk), what);
  };
  check_interrupted_lock(
      d + "/f", [&](int fd) { set(fd, F_WRLCK, 0, 100, F_SETLK, "F_SETLK F_WRLCK [0,100) in the holder"); },
      [&](int fd) { set(fd, F_UNLCK, 0, 100, F_SETLK, "F_SETLK F_UNLCK [0,100) in the holder"); },
      [&](int fd) { return set(fd, F_WRLCK, 50, 10, F_SETLKW, ""); },
      [&](int fd) {
        set(fd, F_WRLCK, 50, 10, F_SETLK, "F_SETLK F_WRLCK [50,60) in a third process after the interrupted wait");
      },
      "F_SETLKW F_WRLCK [50,60)");
}

void case_flock_interrupt(const std::string& d) {
  check_interrupted_lock(
      d + "/f", [](int fd) { ok(::flock(fd, LOCK_EX), "flock LOCK_EX in the holder"); },
      [](int fd) { ok(::flock(fd, LOCK_UN), "flock LOCK_UN in the holder"); },
      [](int fd) { return ::flock(fd, LOCK_EX); },
      [](int fd) { ok(::flock(fd, LOCK_EX | LOCK_NB), "flock LOCK_EX|LOCK_NB in a third process after the interrupted wait"); },
      "flock LOCK_EX");
}

void case_statfs(const std::string& d) {
  struct statfs s {};
  ok(::statfs(d.c_str(), &s), "statfs");
  expect(s.f_blocks > 0, "statfs: expected f_blocks > 0, got " + std::to_string(s.f_blocks));
  expect(s.f_bsize > 0, "statfs: expected f_bsize > 0, got " + std::to_string(s.f_bsize));
  expect(s.f_bavail <= s.f_blocks, "statfs: expected f_bavail <= f_blocks, got " + std::to_string(s.f_bavail) +
                                       " > " + std::to_string(s.f_blocks));
  expect(s.f_bfree <= s.f_blocks, "statfs: expected f_bfree <= f_blocks, got " + std::to_string(s.f_bfree) + " > " +
                                      std::to_string(s.f_blocks));
  struct statvfs v {};
  ok(::statvfs(d.c_str(), &v), "statvfs");
  expect(v.f_frsize > 0 && v.f_blocks > 0, "statvfs: expected f_frsize > 0 and f_blocks > 0");
  expect(v.f_namemax >= 255 || v.f_namemax == 0, "statvfs: expected f_namemax >= 255, got " + std::to_string(v.f_namemax));
  // The free space drops when a file takes some (within the fs' accounting slack).
  Fd sfd = open_ok(d, O_RDONLY | O_DIRECTORY);
  struct statfs f {};
  ok(::fstatfs(sfd.get(), &f), "fstatfs on a directory fd");
  expect_eq(static_cast<std::uint64_t>(f.f_blocks), static_cast<std::uint64_t>(s.f_blocks), "fstatfs f_blocks vs statfs");
}

void case_large_file(const std::string& d) {
  const std::string f = d + "/big";
  const off_t five_gib = 5LL << 30;
  const off_t four_gib = 4LL << 30;
  const std::string block = pattern(1 << 20, 7);
  {
    Fd fd = open_ok(f, O_RDWR | O_CREAT, 0644);
    pwrite_all(fd.get(), block, five_gib, "pwrite 1 MiB at 5 GiB");
    // A write straddling the 4 GiB boundary (32-bit offset truncation shows here).
    pwrite_all(fd.get(), "ACROSS", four_gib - 3, "pwrite across 4 GiB");
    struct stat st {};
    ok(::fstat(fd.get(), &st), "fstat");
    expect_eq(static_cast<std::int64_t>(st.st_size), static_cast<std::int64_t>(five_gib + (1 << 20)), "fstat st_size");
    expect_data(pread_n(fd.get(), block.size(), five_gib, "pread at 5 GiB"), block, "1 MiB at 5 GiB, same fd");
    fd.close("close");
  }
  expect_eq(static_cast<std::int64_t>(stat_ok(f).st_size), static_cast<std::int64_t>(five_gib + (1 << 20)), "stat st_size");
  Fd fd = open_ok(f, O_RDONLY);
  expect_data(pread_n(fd.get(), block.size(), five_gib, "pread at 5 GiB"), block, "1 MiB at 5 GiB, new open");
  expect_data(pread_n(fd.get(), 6, four_gib - 3, "pread across 4 GiB"), "ACROSS", "bytes across 4 GiB");
  expect_data(pread_n(fd.get(), 4096, four_gib + 3, "pread of the hole after 4 GiB"), std::string(4096, '\0'),
              "hole after 4 GiB");
  expect_data(pread_n(fd.get(), 4096, 1LL << 30, "pread of the hole at 1 GiB"), std::string(4096, '\0'), "hole at 1 GiB");
  expect_data(pread_n(fd.get(), 100, five_gib + (1 << 20) - 50, "pread at the end"), block.substr(block.size() - 50),
              "last 50 bytes (short read at EOF)");
  expect_eq(::lseek(fd.get(), 0, SEEK_END), five_gib + (1 << 20), "lseek SEEK_END");
}

void case_sparse_hole(const std::string& d) {
  const std::string f = d + "/sparse";
  {
    Fd fd = open_ok(f, O_RDWR | O_CREAT, 0644);
    pwrite_all(fd.get(), "head", 0, "write at 0");
    pwrite_all(fd.get(), "tail", 3 << 20, "write at 3 MiB");
    fd.close("close");
  }
  std::string want = "head" + std::string((3 << 20) - 4, '\0') + "tail";
  expect_data(read_file(f), want, "sparse file contents (hole reads zeros)");
  // A hole made by lseek past the end and write.
  Fd fd = open_ok(f, O_RDWR);
  ok(::lseek(fd.get(), (5 << 20) + 1, SEEK_SET), "lseek past the end");
  write_all(fd.get(), "z", "write past the end");
  expect_data(pread_n(fd.get(), (2 << 20) - 2, (3 << 20) + 4, "read the second hole"),
              std::string((2 << 20) - 3, '\0') + "z", "second hole then byte");
}

void case_enospc(const std::string& d) {
  if (options.small_fs_bytes == 0) {
    skip("only with --small-fs BYTES (fills the file system)");
  }
  const std::string f = d + "/fill";
  const std::string chunk = pattern(1 << 20, 8);
  const std::uint64_t limit = options.small_fs_bytes + (64ULL << 20);
  std::uint64_t written = 0;
  int error = 0;
  std::string where;
  {
    int fd = ::open(f.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    ok(fd, "open");
    while (written < limit) {
      ssize_t n = ::write(fd, chunk.data(), chunk.size());
      if (n < 0) {
        error = errno;
        where = "write";
        break;
      }
      written += static_cast<std::uint64_t>(n);
    }
    // Written-back data may report the error only at fsync or close.
    if (error == 0 && ::fsync(fd) != 0) {
      error = errno;
      where = "fsync";
    }
    if (::close(fd) != 0 && error == 0) {
      error = errno;
      where = "close";
    }
  }
  if (error == 0) {
    fail("filling a " + std::to_string(options.small_fs_bytes) + "-byte file system: expected ENOSPC, got " +
         std::to_string(written) + " bytes written without an error");
  }
  if (error != ENOSPC) {
    fail("filling the file system: expected ENOSPC, got " + errno_name(error) + " from " + where);
  }
  // How much write() accepted before the error is not checked: a write-back
  // cache may take more than fits and report ENOSPC at a later write, fsync
  // or close, which POSIX allows.
  ok(::unlink(f.c_str()), "unlink the filling file");
  // The space comes back (a server may free it a moment after the close).
  std::string last;
  for (int attempt = 0; attempt < 30; ++attempt) {
    int fd = ::open((d + "/after").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ok(fd, "open after freeing");
    bool good = ::write(fd, chunk.data(), chunk.size()) == static_cast<ssize_t>(chunk.size()) && ::fsync(fd) == 0;
    int e = errno;
    good = ::close(fd) == 0 && good;
    if (good) {
      expect_data(read_file(d + "/after"), chunk, "1 MiB written after freeing space");
      return;
    }
    last = errno_name(e);
    std::this_thread::sleep_for(100ms);
  }
  fail("writing 1 MiB after unlinking the filling file: expected success within 3 s, got " + last);
}

void case_eacces(const std::string& d) {
  const std::string f = d + "/ro";
  write_file(f, "read only");
  // A mount may keep showing its fixed file_mode/dir_mode after chmod (cifs
  // without unix extensions does), so the modes are not checked: only that
  // a user who may not write is refused.
  ok(::chmod(f.c_str(), 0444), "chmod 0444");
  ok(::mkdir((d + "/rodir").c_str(), 0555), "mkdir 0555");
  ok(::chmod((d + "/rodir").c_str(), 0555), "chmod 0555");
  if (::geteuid() != 0) {
    expect_errno(::open(f.c_str(), O_WRONLY), {EACCES}, "open O_WRONLY of a 0444 file by its owner");
    return;
  }
  in_second_process([&] {
    become_nobody();
    struct stat st {};
    if (::stat(d.c_str(), &st) != 0 && errno == EACCES) {
      skip("uid 65534 cannot reach " + d + " (a parent directory is not searchable)");
    }
    Fd r = open_ok(f, O_RDONLY);  // control: the file is reachable and readable
    expect_errno(::open(f.c_str(), O_WRONLY), {EACCES}, "open O_WRONLY of a 0444 file as uid 65534");
    expect_errno(::open(f.c_str(), O_RDWR | O_TRUNC), {EACCES}, "open O_RDWR|O_TRUNC of a 0444 file as uid 65534");
    expect_errno(::open((d + "/rodir/new").c_str(), O_WRONLY | O_CREAT, 0644), {EACCES},
                 "create in a 0555 directory as uid 65534");
    expect_errno(::unlink(f.c_str()), {EACCES}, "unlink in a directory uid 65534 may not write");
  });
  expect_eq(read_file(f), std::string("read only"), "contents after the denied opens");
  // Root is not bound by the mode bits on a local file system; but the
  // owner can still make it writable again.
  ok(::chmod(f.c_str(), 0644), "chmod 0644");
  Fd w = open_ok(f, O_WRONLY);
}

struct timespec ts(std::time_t sec, long nsec) {
  struct timespec t {};
  t.tv_sec = sec;
  t.tv_nsec = nsec;
  return t;
}

void expect_time(const struct timespec& got, const struct timespec& want, const std::string& what) {
  std::int64_t g = static_cast<std::int64_t>(got.tv_sec) * 1000000000 + got.tv_nsec;
  std::int64_t w = static_cast<std::int64_t>(want.tv_sec) * 1000000000 + want.tv_nsec;
  if (std::llabs(g - w) >= options.time_granularity_ns) {
    char buf[160];
    std::snprintf(buf, sizeof buf, ": expected %lld.%09ld (within %lld ns), got %lld.%09ld",
                  static_cast<long long>(want.tv_sec), want.tv_nsec, static_cast<long long>(options.time_granularity_ns),
                  static_cast<long long>(got.tv_sec), got.tv_nsec);
    fail(what + buf);
  }
}

void case_utimens(const std::string& d) {
  const std::string f = d + "/f";
  write_file(f, "x");
  struct timespec times[2] = {ts(1600000000, 123456789), ts(1500000000, 987654321)};
  ok(::utimensat(AT_FDCWD, f.c_str(), times, 0), "utimensat");
  struct stat st = stat_ok(f);
  expect_time(st.st_atim, times[0], "atime after utimensat");
  expect_time(st.st_mtim, times[1], "mtime after utimensat");
  // UTIME_OMIT leaves one, futimens on an fd sets the other.
  struct timespec second[2] = {ts(0, UTIME_OMIT), ts(1400000000, 500000000)};
  Fd fd = open_ok(f, O_RDWR);
  ok(::futimens(fd.get(), second), "futimens with UTIME_OMIT atime");
  fd.close("close");
  st = stat_ok(f);
  expect_time(st.st_atim, times[0], "atime after UTIME_OMIT");
  expect_time(st.st_mtim, second[1], "mtime after futimens");
  // Whole seconds and times before 1970... are not portable; times after 2038 are.
  struct timespec late[2] = {ts(4102444800, 0), ts(4102444800, 0)};  // 2100-01-01
  ok(::utimensat(AT_FDCWD, f.c_str(), late, 0), "utimensat to 2100");
  st = stat_ok(f);
  expect_time(st.st_mtim, late[1], "mtime in 2100 (past 2038)");
  ok(::mkdir((d + "/dir").c_str(), 0755), "mkdir");
  ok(::utimensat(AT_FDCWD, (d + "/dir").c_str(), times, 0), "utimensat on a directory");
  expect_time(stat_ok(d + "/dir").st_mtim, times[1], "directory mtime after utimensat");
  // UTIME_NOW.
  struct timespec now[2] = {ts(0, UTIME_NOW), ts(0, UTIME_NOW)};
  ok(::utimensat(AT_FDCWD, f.c_str(), now, 0), "utimensat UTIME_NOW");
  std::time_t t = std::time(nullptr);
  st = stat_ok(f);
  expect(std::llabs(static_cast<long long>(st.st_mtim.tv_sec - t)) <= 5,
         "mtime after UTIME_NOW: expected within 5 s of now (" + std::to_string(t) + "), got " +
             std::to_string(st.st_mtim.tv_sec));
}

// A write makes mtime current (what make, rsync and backups rely on).
void case_mtime_on_write(const std::string& d) {
  const std::string f = d + "/f";
  write_file(f, "x");
  struct timespec old[2] = {ts(1500000000, 0), ts(1500000000, 0)};
  ok(::utimensat(AT_FDCWD, f.c_str(), old, 0), "utimensat to 2017");
  expect_time(stat_ok(f).st_mtim, old[1], "mtime after utimensat");
  {
    Fd fd = open_ok(f, O_WRONLY | O_APPEND);
    write_all(fd.get(), "more", "write");
    fd.close("close");
  }
  std::time_t t = std::time(nullptr);
  struct stat st = stat_ok(f);
  expect(std::llabs(static_cast<long long>(st.st_mtim.tv_sec - t)) <= 5,
         "mtime after write+close: expected within 5 s of now (" + std::to_string(t) + "), got " +
             std::to_string(st.st_mtim.tv_sec));
  expect_eq(static_cast<std::int64_t>(st.st_size), std::int64_t{5}, "st_size after append");
}

// Creating, renaming and removing entries update the directory's mtime.
void case_dir_mtime(const std::string& d) {
  struct timespec old[2] = {ts(1500000000, 0), ts(1500000000, 0)};
  const std::string sub = d + "/sub";
  ok(::mkdir(sub.c_str(), 0755), "mkdir");
  auto check = [&](const std::string& what) {
    std::time_t t = std::time(nullptr);
    struct stat st = stat_ok(sub);
    expect(std::llabs(static_cast<long long>(st.st_mtim.tv_sec - t)) <= 5,
           "directory mtime after " + what + ": expected within 5 s of now (" + std::to_string(t) + "), got " +
               std::to_string(st.st_mtim.tv_sec));
    ok(::utimensat(AT_FDCWD, sub.c_str(), old, 0), "utimensat on the directory");
    expect_time(stat_ok(sub).st_mtim, old[1], "directory mtime after utimensat");
  };
  ok(::utimensat(AT_FDCWD, sub.c_str(), old, 0), "utimensat on the directory");
  expect_time(stat_ok(sub).st_mtim, old[1], "directory mtime after utimensat");
  write_file(sub + "/f", "y");
  check("creating a file in it");
  ok(::rename((sub + "/f").c_str(), (sub + "/g").c_str()), "rename in the directory");
  check("renaming an entry");
  ok(::unlink((sub + "/g").c_str()), "unlink in the directory");
  check("removing an entry");
}

void case_symlink(const std::string& d) {
  write_file(d + "/target", "target contents");
  const std::string l = d + "/link";
  ok(::symlink("target", l.c_str()), "symlink");
  char buf[4096];
  ssize_t n = ok(::readlink(l.c_str(), buf, sizeof buf), "readlink");
  expect_eq(std::string(buf, static_cast<std::size_t>(n)), std::string("target"), "readlink");
  struct stat st = lstat_ok(l);
  expect(S_ISLNK(st.st_mode), "lstat of a symlink: expected S_IFLNK, got mode " + std::to_string(st.st_mode));
  expect_eq(static_cast<std::int64_t>(st.st_size), std::int64_t{6}, "lstat st_size of a symlink (target length)");
  st = stat_ok(l);
  expect(S_ISREG(st.st_mode), "stat through a symlink: expected S_IFREG");
  expect_eq(read_file(l), std::string("target contents"), "read through a symlink");
  // Dangling and absolute targets are stored as written.
  const std::string targets[] = {"no/such/file", "/an/absolute/target", "../up/and/over", "with space and ünïcode"};
  int i = 0;
  for (const auto& target : targets) {
    const std::string li = d + "/l" + std::to_string(i++);
    ok(::symlink(target.c_str(), li.c_str()), "symlink to " + target);
    n = ok(::readlink(li.c_str(), buf, sizeof buf), "readlink of " + li);
    expect_eq(std::string(buf, static_cast<std::size_t>(n)), target, "readlink of a symlink to " + target);
    expect(S_ISLNK(lstat_ok(li).st_mode), "lstat of a symlink to " + target + ": expected S_IFLNK");
  }
  struct stat dangling {};
  expect_errno(::stat((d + "/l0").c_str(), &dangling), {ENOENT}, "stat through a dangling symlink");
  expect_errno(::symlink("x", l.c_str()), {EEXIST}, "symlink over an existing name");
  expect_errno(::readlink((d + "/target").c_str(), buf, sizeof buf), {EINVAL}, "readlink of a regular file");
  // Symlink to a directory: path lookup goes through it.
  ok(::mkdir((d + "/dir").c_str(), 0755), "mkdir");
  write_file(d + "/dir/inside", "inside");
  ok(::symlink("dir", (d + "/dirlink").c_str()), "symlink to a directory");
  expect_eq(read_file(d + "/dirlink/inside"), std::string("inside"), "read through a directory symlink");
  ok(::unlink(l.c_str()), "unlink the symlink");
  expect_eq(read_file(d + "/target"), std::string("target contents"), "target after unlinking the symlink");
  // A rename moves the link, not the target.
  ok(::rename((d + "/dirlink").c_str(), (d + "/dirlink2").c_str()), "rename a symlink");
  n = ok(::readlink((d + "/dirlink2").c_str(), buf, sizeof buf), "readlink after rename");
  expect_eq(std::string(buf, static_cast<std::size_t>(n)), std::string("dir"), "readlink after rename");
}

void case_hardlink(const std::string& d) {
  const std::string a = d + "/a", b = d + "/b";
  write_file(a, "shared");
  ok(::link(a.c_str(), b.c_str()), "link");
  struct stat sa = stat_ok(a), sb = stat_ok(b);
  expect_eq(static_cast<std::uint64_t>(sa.st_nlink), std::uint64_t{2}, "st_nlink of the first name");
  expect_eq(static_cast<std::uint64_t>(sb.st_nlink), std::uint64_t{2}, "st_nlink of the second name");
  expect_eq(static_cast<std::uint64_t>(sb.st_ino), static_cast<std::uint64_t>(sa.st_ino), "st_ino of both names");
  {
    Fd fd = open_ok(b, O_WRONLY | O_APPEND);
    write_all(fd.get(), " data", "append through the second name");
    fd.close("close");
  }
  expect_eq(read_file(a), std::string("shared data"), "contents through the first name");
  expect_errno(::link(a.c_str(), b.c_str()), {EEXIST}, "link onto an existing name");
  // What `ls -l`, find and tar see: a directory listing, then lstat of each
  // name (the attributes may come from the listing, READDIRPLUS).
  ok(::mkdir((d + "/sub").c_str(), 0755), "mkdir sub");
  write_file(d + "/sub/x", "x");
  ok(::link((d + "/sub/x").c_str(), (d + "/sub/y").c_str()), "link sub/x sub/y");
  ok(::link((d + "/sub/x").c_str(), (d + "/sub/z").c_str()), "link sub/x sub/z");
  for (const auto& name : list_dir(d + "/sub")) {
    expect_eq(static_cast<std::uint64_t>(lstat_ok(d + "/sub/" + name).st_nlink), std::uint64_t{3},
              "st_nlink of sub/" + name + " after a directory listing");
  }
  ok(::unlink(a.c_str()), "unlink the first name");
  sb = stat_ok(b);
  expect_eq(static_cast<std::uint64_t>(sb.st_nlink), std::uint64_t{1}, "st_nlink after unlinking the other name");
  expect_eq(read_file(b), std::string("shared data"), "contents after unlinking the other name");
  ok(::mkdir((d + "/dir").c_str(), 0755), "mkdir");
  expect_errno(::link((d + "/dir").c_str(), (d + "/dirlink").c_str()), {EPERM}, "link of a directory");
}

void case_rename_noreplace(const std::string& d) {
  const std::string a = d + "/a", b = d + "/b", c = d + "/c";
  write_file(a, "a");
  write_file(b, "b");
  expect_errno(::renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_NOREPLACE), {EEXIST},
               "renameat2 RENAME_NOREPLACE onto an existing file");
  expect_eq(read_file(a), std::string("a"), "source after the refused rename");
  expect_eq(read_file(b), std::string("b"), "target after the refused rename");
  ok(::renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, c.c_str(), RENAME_NOREPLACE), "renameat2 RENAME_NOREPLACE to a new name");
  expect_eq(read_file(c), std::string("a"), "contents after RENAME_NOREPLACE");
  expect_errno(::access(a.c_str(), F_OK), {ENOENT}, "source after RENAME_NOREPLACE");
}

void case_xattr(const std::string& d) {
  const std::string f = d + "/f";
  write_file(f, "x");
  const std::string name = "user.smbx_test";
  std::string value = "value\x01\x02 with bytes";
  ok(::setxattr(f.c_str(), name.c_str(), value.data(), value.size(), 0), "setxattr " + name);
  ssize_t size = ok(::getxattr(f.c_str(), name.c_str(), nullptr, 0), "getxattr size query");
  expect_eq(static_cast<std::int64_t>(size), static_cast<std::int64_t>(value.size()), "getxattr size");
  std::string buf(256, '\0');
  ssize_t n = ok(::getxattr(f.c_str(), name.c_str(), buf.data(), buf.size()), "getxattr");
  expect_data(buf.substr(0, static_cast<std::size_t>(n)), value, "getxattr value");
  ssize_t list_size = ok(::listxattr(f.c_str(), buf.data(), buf.size()), "listxattr");
  std::vector<std::string> names;
  for (std::size_t at = 0; at < static_cast<std::size_t>(list_size);) {
    std::string one(buf.c_str() + at);
    at += one.size() + 1;
    names.push_back(one);
  }
  expect(std::find(names.begin(), names.end(), name) != names.end(), "listxattr: expected " + name + " in the list");
  expect_errno(::setxattr(f.c_str(), name.c_str(), "v", 1, XATTR_CREATE), {EEXIST}, "setxattr XATTR_CREATE on an existing name");
  expect_errno(::setxattr(f.c_str(), "user.smbx_other", "v", 1, XATTR_REPLACE), {ENODATA}, "setxattr XATTR_REPLACE on a missing name");
  ok(::setxattr(f.c_str(), name.c_str(), "second", 6, XATTR_REPLACE), "setxattr XATTR_REPLACE");
  n = ok(::getxattr(f.c_str(), name.c_str(), buf.data(), buf.size()), "getxattr after replace");
  expect_data(buf.substr(0, static_cast<std::size_t>(n)), "second", "getxattr value after replace");
  expect_errno(::getxattr(f.c_str(), name.c_str(), buf.data(), 2), {ERANGE}, "getxattr into a too small buffer");
  ok(::removexattr(f.c_str(), name.c_str()), "removexattr");
  expect_errno(::getxattr(f.c_str(), name.c_str(), buf.data(), buf.size()), {ENODATA}, "getxattr after removexattr");
  expect_errno(::removexattr(f.c_str(), name.c_str()), {ENODATA}, "removexattr of a missing name");
}

void case_fsync(const std::string& d) {
  const std::string f = d + "/f";
  const std::string data = pattern(3 << 20, 9);
  Fd fd = open_ok(f, O_RDWR | O_CREAT, 0644);
  write_all(fd.get(), data, "write 3 MiB");
  ok(::fsync(fd.get()), "fsync");
  pwrite_all(fd.get(), "patch", 1000, "pwrite");
  ok(::fdatasync(fd.get()), "fdatasync");
  fd.close("close");
  std::string want = data;
  want.replace(1000, 5, "patch");
  expect_data(read_file(f), want, "contents after fsync");
  Fd ro = open_ok(f, O_RDONLY);
  ok(::fsync(ro.get()), "fsync on an O_RDONLY fd");
  Fd dir = open_ok(d, O_RDONLY | O_DIRECTORY);
  if (::fsync(dir.get()) != 0 && errno != EINVAL) {
    fail("fsync on a directory: expected success or EINVAL, got " + errno_name(errno));
  }
  Fd sync_fd = open_ok(d + "/o_sync", O_WRONLY | O_CREAT | O_SYNC, 0644);
  write_all(sync_fd.get(), data.substr(0, 100000), "O_SYNC write");
  sync_fd.close("close O_SYNC");
  expect_data(read_file(d + "/o_sync"), data.substr(0, 100000), "contents written with O_SYNC");
}

void* map_or_skip(std::size_t size, int prot, int fd, const std::string& what) {
  void* p = ::mmap(nullptr, size, prot, MAP_SHARED, fd, 0);
  if (p == reinterpret_cast<void*>(-1)) {  // MAP_FAILED, without its C cast
    if (errno == ENODEV) {
      skip("the file system does not support shared mappings (" + what + ": ENODEV)");
    }
    fail(what + ": expected success, got " + errno_name(errno));
  }
  return p;
}

void case_mmap_shared(const std::string& d) {
  const std::string f = d + "/f";
  const std::size_t size = 256 * 1024 + 100;
  const std::string data = pattern(size, 10);
  {
    Fd fd = open_ok(f, O_RDWR | O_CREAT, 0644);
    ok(::ftruncate(fd.get(), static_cast<off_t>(size)), "ftruncate");
    void* p = map_or_skip(size, PROT_READ | PROT_WRITE, fd.get(), "mmap MAP_SHARED read/write");
    std::memcpy(p, data.data(), size);
    ok(::msync(p, size, MS_SYNC), "msync");
    ok(::munmap(p, size), "munmap");
    fd.close("close");
  }
  expect_data(read_file(f), data, "contents written through a shared mapping, read with read()");
  {
    Fd fd = open_ok(f, O_RDWR);
    void* p = map_or_skip(size, PROT_READ, fd.get(), "mmap MAP_SHARED read");
    pwrite_all(fd.get(), "written", 4096 * 3 + 5, "pwrite while mapped");
    std::string seen(static_cast<const char*>(p) + 4096 * 3 + 5, 7);
    ok(::munmap(p, size), "munmap");
    expect_eq(seen, std::string("written"), "a pwrite seen through an existing shared mapping");
  }
  // Dirty pages written back on munmap+close without msync.
  {
    Fd fd = open_ok(f, O_RDWR);
    void* p = map_or_skip(size, PROT_READ | PROT_WRITE, fd.get(), "mmap MAP_SHARED read/write");
    std::memcpy(static_cast<char*>(p) + 10, "NOSYNC", 6);
    ok(::munmap(p, size), "munmap");
    fd.close("close");
  }
  Fd fd = open_ok(f, O_RDONLY);
  expect_data(pread_n(fd.get(), 6, 10, "pread"), "NOSYNC", "mapped write without msync, after munmap and close");
}

// A file changed through a write-only descriptor while another descriptor
// has the file's pages cached and mapped: its reads and its mapping see the
// change at once, and so does its fstat once the file grew. Then pages left
// cached by a descriptor already closed: a new descriptor's mapping sees
// what a write-only descriptor wrote since. (mount.smbx writes a write-only
// descriptor's data around the page cache.)
void case_write_only_coherent(const std::string& d) {
  const std::string f = d + "/f";
  const std::size_t size = 64 * 1024 - 100;  // the last page is part used: the append lands in it
  const std::string before = pattern(size, 11);
  write_file(f, before);
  // The writer first: opening a file drops its cached pages on some systems.
  Fd writer = open_ok(f, O_WRONLY);
  Fd reader = open_ok(f, O_RDONLY);
  expect_data(pread_n(reader.get(), size, 0, "pread"), before, "the file read whole (its pages cached)");
  const void* map = map_or_skip(size, PROT_READ, reader.get(), "mmap MAP_SHARED read");
  const char* mapped = static_cast<const char*>(map);
  expect_eq(std::string(mapped + 8192, 8), before.substr(8192, 8), "the mapping before the write");
  pwrite_all(writer.get(), "NEW DATA", 8192 + 10, "pwrite through a write-only descriptor");
  // The mapping first: a read may make the system look at the file again.
  expect_eq(std::string(mapped + 8192 + 10, 8), std::string("NEW DATA"),
            "the reader's mapping after a write-only descriptor's pwrite");
  expect_data(pread_n(reader.get(), 8, 8192 + 10, "pread"), "NEW DATA",
              "the reader's pread after a write-only descriptor's pwrite");
  writer.close("close");
  {
    Fd appender = open_ok(f, O_WRONLY | O_APPEND);
    write_all(appender.get(), "TAIL", "write through an O_WRONLY | O_APPEND descriptor");
    appender.close("close");
  }
  struct stat st {};
  ok(::fstat(reader.get(), &st), "fstat");
  expect_eq(st.st_size, static_cast<off_t>(size + 4), "the reader's fstat size after the append");
  expect_data(pread_n(reader.get(), 4, static_cast<off_t>(size), "pread"), "TAIL", "the appended bytes");
  ok(::munmap(const_cast<void*>(map), size), "munmap");
  reader.close("close");
  std::string after = before;
  after.replace(8192 + 10, 8, "NEW DATA");
  after += "TAIL";
  expect_data(read_file(f), after, "the file read again through a new descriptor");

  Fd later_writer = open_ok(f, O_WRONLY);
  {
    Fd cacher = open_ok(f, O_RDONLY);
    expect_data(pread_n(cacher.get(), after.size(), 0, "pread"), after, "the file read whole again");
    cacher.close("close");
  }
  pwrite_all(later_writer.get(), "LATER", 100, "pwrite through a write-only descriptor, no reader open");
  later_writer.close("close");
  Fd fresh = open_ok(f, O_RDONLY);
  const void* map2 = map_or_skip(after.size(), PROT_READ, fresh.get(), "mmap MAP_SHARED read");
  const std::string seen(static_cast<const char*>(map2) + 100, 5);
  ok(::munmap(const_cast<void*>(map2), after.size()), "munmap");
  expect_eq(seen, std::string("LATER"),
            "a new mapping after a write-only descriptor's pwrite over pages a closed one cached");
  fresh.close("close");
  after.replace(100, 5, "LATER");

  // A page dirtied through a shared mapping, then written elsewhere in it by
  // a write-only descriptor: the write-back of the page must not undo the write.
  Fd last_writer = open_ok(f, O_WRONLY);
  {
    Fd mapper = open_ok(f, O_RDWR);
    void* map3 =
        map_or_skip(after.size(), PROT_READ | PROT_WRITE, mapper.get(), "mmap MAP_SHARED read/write");
    std::memcpy(static_cast<char*>(map3) + 20, "DIRTY", 5);
    pwrite_all(last_writer.get(), "CLEAN", 200, "write-only pwrite into a dirty mapped page");
    ok(::msync(map3, after.size(), MS_SYNC), "msync");
    ok(::munmap(map3, after.size()), "munmap");
    mapper.close("close");
  }
  last_writer.close("close");
  after.replace(20, 5, "DIRTY");
  after.replace(200, 5, "CLEAN");
  expect_data(read_file(f), after,
              "a mapping's dirty page and a write-only descriptor's pwrite into it, both kept");
}

struct Case {
  const char* name;
  void (*run)(const std::string&);
};

const Case cases[] = {
    {"create_read_write", case_create_read_write},
    {"truncate", case_truncate},
    {"ftruncate", case_ftruncate},
    {"append", case_append},
    {"rename_replace", case_rename_replace},
    {"rename_replace_open", case_rename_replace_open},
    {"rename_replace_atomic", case_rename_replace_atomic},
    {"rename_dir", case_rename_dir},
    {"rename_dir_over_empty", case_rename_dir_over_empty},
    {"rename_noreplace", case_rename_noreplace},
    {"unlink_open", case_unlink_open},
    {"unlink_open_recreate", case_unlink_open_recreate},
    {"mkdir", case_mkdir},
    {"rmdir_nonempty", case_rmdir_nonempty},
    {"rmdir_file", case_rmdir_file},
    {"unlink_dir", case_unlink_dir},
    {"open_missing", case_open_missing},
    {"creat_excl", case_creat_excl},
    {"readdir_mutation", case_readdir_mutation},
    {"readdir_many", case_readdir_many},
    {"flock", case_flock},
    {"fcntl_lock", case_fcntl_lock},
    {"fcntl_lock_convert", case_fcntl_lock_convert},
    {"fcntl_lock_downgrade", case_fcntl_lock_downgrade},
    {"fcntl_lock_interrupt", case_fcntl_lock_interrupt},
    {"flock_interrupt", case_flock_interrupt},
    {"statfs", case_statfs},
    {"large_file", case_large_file},
    {"sparse_hole", case_sparse_hole},
    {"enospc", case_enospc},
    {"eacces", case_eacces},
    {"utimens", case_utimens},
    {"mtime_on_write", case_mtime_on_write},
    {"dir_mtime", case_dir_mtime},
    {"symlink", case_symlink},
    {"hardlink", case_hardlink},
    {"xattr", case_xattr},
    {"fsync", case_fsync},
    {"mmap_shared", case_mmap_shared},
    {"write_only_coherent", case_write_only_coherent},
};

enum class Outcome { pass, fail, skip };

// Runs one case in a child process: its directory is made fresh, and kept
// only when it failed.
Outcome run_case(const Case& c, const std::string& root) {
  const std::string dir = root + "/" + c.name;
  struct stat st {};
  if (::lstat(dir.c_str(), &st) == 0 && !remove_tree(dir)) {
    std::printf("FAIL %s: cannot remove the leftover %s\n", c.name, dir.c_str());
    return Outcome::fail;
  }
  if (::mkdir(dir.c_str(), 0755) != 0 || ::chmod(dir.c_str(), 0755) != 0) {
    std::printf("FAIL %s: mkdir %s: expected success, got %s\n", c.name, dir.c_str(), errno_name(errno).c_str());
    return Outcome::fail;
  }
  std::string message;
  bool skipped = false;
  auto started = std::chrono::steady_clock::now();
  try {
    message = in_child([&] { c.run(dir); }, options.timeout_seconds);
  } catch (const CaseSkipped& s) {
    skipped = true;
    message = s.reason;
  } catch (const CaseFailed& f) {
    message = f.message;
  }
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  if (skipped) {
    std::printf("SKIP %s: %s\n", c.name, message.c_str());
  } else if (message.empty()) {
    std::printf("PASS %s (%lld ms)\n", c.name, static_cast<long long>(ms));
  } else {
    std::printf("FAIL %s: %s\n", c.name, message.c_str());
  }
  std::fflush(stdout);
  bool failed = !skipped && !message.empty();
  if (!failed || !options.keep) {
    remove_tree(dir);
  }
  return skipped ? Outcome::skip : failed ? Outcome::fail : Outcome::pass;
}

int usage() {
  std::fprintf(stderr,
               "usage: posix_suite DIR [--only NAME]... [--skip NAME]... [--list] [--keep]\n"
               "                   [--small-fs BYTES] [--time-granularity NS] [--timeout SECONDS]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string root;
  std::set<std::string> only, skipped;
  bool list = false;
  if (const char* env = std::getenv("SMBX_POSIX_SMALL_FS_BYTES"); env != nullptr && *env != '\0') {
    options.small_fs_bytes = std::strtoull(env, nullptr, 10);
  }
  std::set<std::string> known;
  for (const auto& c : cases) {
    known.insert(c.name);
  }
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= argc) {
        return std::nullopt;
      }
      return std::string(argv[++i]);
    };
    if (arg == "--only" || arg == "--skip") {
      auto v = value();
      if (!v) {
        return usage();
      }
      // Comma-separated lists are accepted too.
      std::size_t start = 0;
      while (start <= v->size()) {
        std::size_t end = v->find(',', start);
        std::string name = v->substr(start, end == std::string::npos ? std::string::npos : end - start);
        if (!name.empty()) {
          if (known.count(name) == 0) {
            std::fprintf(stderr, "posix_suite: no case named %s (see --list)\n", name.c_str());
            return 2;
          }
          (arg == "--only" ? only : skipped).insert(name);
        }
        if (end == std::string::npos) {
          break;
        }
        start = end + 1;
      }
    } else if (arg == "--small-fs") {
      auto v = value();
      if (!v) {
        return usage();
      }
      options.small_fs_bytes = std::strtoull(v->c_str(), nullptr, 10);
    } else if (arg == "--time-granularity") {
      auto v = value();
      if (!v) {
        return usage();
      }
      options.time_granularity_ns = std::max(1LL, std::strtoll(v->c_str(), nullptr, 10));
    } else if (arg == "--timeout") {
      auto v = value();
      if (!v) {
        return usage();
      }
      options.timeout_seconds = std::max(1, std::atoi(v->c_str()));
    } else if (arg == "--keep") {
      options.keep = true;
    } else if (arg == "--list") {
      list = true;
    } else if (!arg.empty() && arg[0] == '-') {
      return usage();
    } else if (root.empty()) {
      root = arg;
    } else {
      return usage();
    }
  }
  if (list) {
    for (const auto& c : cases) {
      std::printf("%s\n", c.name);
    }
    return 0;
  }
  if (root.empty()) {
    return usage();
  }
  struct stat st {};
  if (::stat(root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    std::fprintf(stderr, "posix_suite: %s is not a directory\n", root.c_str());
    return 2;
  }
  // A broken pipe to a reader process must not kill the suite.
  ::signal(SIGPIPE, SIG_IGN);
  int passed = 0, failed = 0, skips = 0;
  for (const auto& c : cases) {
    if ((!only.empty() && only.count(c.name) == 0) || skipped.count(c.name) != 0) {
      continue;
    }
    switch (run_case(c, root)) {
      case Outcome::pass: ++passed; break;
      case Outcome::fail: ++failed; break;
      case Outcome::skip: ++skips; break;
    }
  }
  std::printf("posix_suite: %d passed, %d failed, %d skipped\n", passed, failed, skips);
  return failed == 0 ? 0 : 1;
}
