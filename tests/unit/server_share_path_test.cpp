// The share backend's confinement and name mapping, on real directories:
// names from the wire become POSIX paths under the share root or a precise
// NTSTATUS, and openat2(RESOLVE_BENEATH) refuses every way out of the root.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>

#include "server/file_info.hpp"
#include "server/share_path.hpp"

using namespace smbx;
using namespace smbx::server;
namespace st = smbx::wire::status;
namespace fs = std::filesystem;

namespace {

// A share root with a file, a subdirectory, and links in and out, beside a
// sibling directory the share must never reach. Removed when done.
class TempShare {
 public:
  TempShare() {
    char pattern[] = "/tmp/smbx-share-test-XXXXXX";
    REQUIRE(::mkdtemp(pattern) != nullptr);
    base_ = pattern;
    fs::create_directories(base_ / "root" / "sub");
    fs::create_directories(base_ / "outside");
    std::ofstream{base_ / "outside" / "secret.txt"} << "secret";
    std::ofstream{base_ / "root" / "sub" / "inside.txt"} << "inside";
    fs::create_symlink("/etc", base_ / "root" / "etc_link");
    fs::create_symlink("../outside/secret.txt", base_ / "root" / "rel_out");
    fs::create_symlink(base_ / "outside", base_ / "root" / "abs_dir_out");
    fs::create_symlink("sub/inside.txt", base_ / "root" / "link_in");
    root_fd_ = ::open((base_ / "root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(root_fd_ >= 0);
  }
  ~TempShare() {
    ::close(root_fd_);
    std::error_code ec;
    fs::remove_all(base_, ec);
  }
  int root() const { return root_fd_; }

  // Opens for reading; returns the fd (closed here) or -errno.
  int try_open(const std::string& path) const {
    const int fd = open_beneath(root_fd_, path, O_RDONLY);
    if (fd >= 0) ::close(fd);
    return fd >= 0 ? 0 : fd;
  }

 private:
  fs::path base_;
  int root_fd_ = -1;
};

wire::NtStatus status_of(std::u16string_view name) {
  auto mapped = map_wire_path(name);
  return mapped ? st::SUCCESS : mapped.error().status;
}

}  // namespace

TEST_CASE("a backslash path from the wire becomes a POSIX path under the root") {
  CHECK(*map_wire_path(u"") == "");
  CHECK(*map_wire_path(u"a.txt") == "a.txt");
  CHECK(*map_wire_path(u"dir\\sub\\file") == "dir/sub/file");
  CHECK(*map_wire_path(u"file.txt::$DATA") == "file.txt");  // the default stream is the file
  CHECK(*map_wire_path(u"caf\u00e9\\\u65e5\u672c") == "caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac");
  CHECK(*map_wire_path(u"\\d1\\h.txt", true) == "d1/h.txt");  // rename targets may lead with '\'
}

TEST_CASE("names that could leave the share or that Windows forbids are refused with the right status") {
  const struct {
    std::u16string name;
    wire::NtStatus status;
    const char* why;
  } cases[] = {
      {u"..", st::OBJECT_PATH_SYNTAX_BAD, "parent of the root"},
      {u"..\\outside\\secret.txt", st::OBJECT_PATH_SYNTAX_BAD, "climbs out"},
      {u"sub\\..\\..\\outside", st::OBJECT_PATH_SYNTAX_BAD, "climbs out from below"},
      {u"\\etc\\passwd", st::INVALID_PARAMETER, "leading separator (MS-SMB2 3.3.5.9)"},
      {u"/etc/passwd", st::OBJECT_NAME_INVALID, "POSIX absolute path: '/' is not a separator"},
      {u"a/b", st::OBJECT_NAME_INVALID, "'/' inside a name"},
      {u"a\\\\b", st::OBJECT_NAME_INVALID, "empty component"},
      {u"dir\\", st::OBJECT_NAME_INVALID, "trailing separator"},
      {u".", st::OBJECT_NAME_INVALID, "dot"},
      {u"a:b", st::OBJECT_NAME_INVALID, "named stream"},
      {u"a*b", st::OBJECT_NAME_INVALID, "wildcard"},
      {u"a?b", st::OBJECT_NAME_INVALID, "wildcard"},
      {u"a\"b", st::OBJECT_NAME_INVALID, "quote"},
      {u"a<b", st::OBJECT_NAME_INVALID, "less-than"},
      {u"a>b", st::OBJECT_NAME_INVALID, "greater-than"},
      {u"a|b", st::OBJECT_NAME_INVALID, "pipe"},
      {std::u16string{u"a\u0001b"}, st::OBJECT_NAME_INVALID, "control character"},
      {std::u16string(1, u'\0'), st::OBJECT_NAME_INVALID, "NUL"},
      {std::u16string(256, u'x'), st::OBJECT_NAME_INVALID, "256 UTF-16 units"},
      {std::u16string(100, u'\u65e5'), st::OBJECT_NAME_INVALID, "300 bytes of UTF-8, over NAME_MAX"},
      {std::u16string{u"a\xD800"}, st::OBJECT_NAME_INVALID, "unpaired high surrogate"},
      {std::u16string{u"\xDC00z"}, st::OBJECT_NAME_INVALID, "unpaired low surrogate"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.why);
    CHECK(status_of(c.name) == c.status);
  }
  CHECK(status_of(std::u16string(255, u'x')) == st::SUCCESS);  // the longest allowed component
}

TEST_CASE("openat2 confinement refuses symlinks, .. and absolute paths that leave the share") {
  TempShare share;
  CHECK(share.try_open("sub/inside.txt") == 0);
  CHECK(share.try_open("link_in") == 0);  // a link that stays inside is served
  CHECK(share.try_open("") == 0);         // the root itself
  CHECK(share.try_open("etc_link/passwd") == -EXDEV);
  CHECK(share.try_open("etc_link") == -EXDEV);
  CHECK(share.try_open("rel_out") == -EXDEV);
  CHECK(share.try_open("abs_dir_out/secret.txt") == -EXDEV);
  CHECK(share.try_open("../outside/secret.txt") == -EXDEV);
  CHECK(share.try_open("sub/../../outside/secret.txt") == -EXDEV);
  CHECK(share.try_open("/etc/passwd") == -EXDEV);
  CHECK(share.try_open("/proc/self/root/etc/passwd") == -EXDEV);
  CHECK(share.try_open("missing") == -ENOENT);
  CHECK(share.try_open("sub/inside.txt/x") == -ENOTDIR);
  // And how each refusal reaches the client.
  CHECK(status_from_errno(EXDEV) == st::ACCESS_DENIED);
  CHECK(status_from_errno(ENOENT) == st::OBJECT_NAME_NOT_FOUND);
  CHECK(status_from_errno(ENOENT, true) == st::OBJECT_PATH_NOT_FOUND);
  CHECK(status_from_errno(ENOTDIR) == st::OBJECT_PATH_NOT_FOUND);
}

TEST_CASE("a directory listing hides links that lead out of the share") {
  TempShare share;
  const int dir = open_beneath(share.root(), "", O_RDONLY | O_DIRECTORY);
  REQUIRE(dir >= 0);
  auto entries = list_directory(share.root(), "", dir);
  ::close(dir);
  REQUIRE(entries);
  std::vector<std::u16string> names;
  for (const auto& e : *entries) names.push_back(e.file_name);
  CHECK(names == std::vector<std::u16string>{u".", u"..", u"link_in", u"sub"});
}

TEST_CASE("parent_of and leaf_of split a relative path") {
  CHECK(parent_of("a/b/c") == "a/b");
  CHECK(leaf_of("a/b/c") == "c");
  CHECK(parent_of("top") == "");
  CHECK(leaf_of("top") == "top");
}

TEST_CASE("search patterns match like Windows: case-insensitive, * ? and the DOS wildcards") {
  CHECK(wildcard_match(u"*", u"anything"));
  CHECK(wildcard_match(u"", u"anything"));
  CHECK(wildcard_match(u"*.TXT", u"notes.txt"));
  CHECK(wildcard_match(u"a?c", u"abc"));
  CHECK_FALSE(wildcard_match(u"a?c", u"abbc"));
  CHECK(wildcard_match(u"File.Txt", u"file.txt"));
  CHECK_FALSE(wildcard_match(u"file.txt", u"file.txt2"));
  CHECK(wildcard_match(u"a*b*c", u"axxbyyc"));
  CHECK_FALSE(wildcard_match(u"a*b*c", u"axxbyy"));
  CHECK(wildcard_match(u"<.txt", u"x.txt"));  // DOS_STAR
  CHECK(has_wildcards(u"a*"));
  CHECK_FALSE(has_wildcards(u"plain.txt"));
}
