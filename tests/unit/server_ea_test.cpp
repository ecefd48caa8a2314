// smbxd's extended attributes (server/ea.cpp) on a real file: EAs are
// user.* xattrs (what Samba's smbd reads and writes), names compare without
// regard to case, an empty value removes, and bad names or sizes are refused
// with the NTSTATUS Windows uses.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "server/ea.hpp"

using namespace smbx;
using namespace smbx::server;
namespace st = smbx::wire::status;
namespace fscc = smbx::wire::fscc;

namespace {

// A scratch file in /tmp (a file system with user xattrs), removed when done.
class TempFile {
 public:
  TempFile() {
    char pattern[] = "/tmp/smbx-ea-test-XXXXXX";
    fd_ = ::mkstemp(pattern);
    REQUIRE(fd_ >= 0);
    path_ = pattern;
  }
  ~TempFile() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  bool supported() const {
    if (::fsetxattr(fd_, "user.smbx_probe", "1", 1, 0) != 0) return false;
    ::fremovexattr(fd_, "user.smbx_probe");
    return true;
  }

 private:
  int fd_ = -1;
  std::string path_;
};

fscc::FileFullEaInformation one(const std::string& name, const Bytes& value) {
  fscc::FileFullEaInformation m;
  m.entries.push_back(fscc::FullEaEntry{0, name, ByteView{value}});
  return m;
}

std::string xattr(const std::string& path, const std::string& name) {
  char buf[256];
  const ssize_t n = ::getxattr(path.c_str(), name.c_str(), buf, sizeof buf);
  return n < 0 ? std::string{"<none>"} : std::string(buf, static_cast<std::size_t>(n));
}

}  // namespace

TEST_CASE("EAs are user.* xattrs, listed without the prefix, and Samba's private xattrs are hidden") {
  TempFile f;
  if (!f.supported()) return;  // no user xattrs on this /tmp
  CHECK(ea::list(f.fd())->empty());
  CHECK(ea::size_of(f.fd()) == 0);
  const Bytes v1{'V', 'A', 'L', 'U', 'E', '1'};
  REQUIRE(ea::apply(f.fd(), one("EAONE", v1)) == st::SUCCESS);
  CHECK(xattr(f.path(), "user.EAONE") == "VALUE1");
  REQUIRE(::setxattr(f.path().c_str(), "user.DOSATTRIB", "x", 1, 0) == 0);
  REQUIRE(::setxattr(f.path().c_str(), "user.DosStream.s:$DATA", "x", 1, 0) == 0);
  auto eas = ea::list(f.fd());
  REQUIRE(eas);
  REQUIRE(eas->size() == 1);
  CHECK((*eas)[0].name == "EAONE");
  CHECK((*eas)[0].value == v1);
  CHECK(ea::size_of(f.fd()) == 8 + 5 + 1 + 6);
  // An O_PATH fd reads the same EAs (through /proc), and so does a name under a directory.
  const int opath = ::open(f.path().c_str(), O_PATH);
  REQUIRE(opath >= 0);
  CHECK(ea::list(opath)->size() == 1);
  ::close(opath);
  const int tmp = ::open("/tmp", O_RDONLY | O_DIRECTORY);
  REQUIRE(tmp >= 0);
  CHECK(ea::size_at(tmp, f.path().substr(5)) == 20);
  ::close(tmp);
  // A private name cannot be set through SMB (Samba answers the same).
  const Bytes x{'x'};
  CHECK(ea::apply(f.fd(), one("dosattrib", x)) == st::ACCESS_DENIED);
}

TEST_CASE("EA names are case-insensitive: a set in another case replaces, an empty value removes") {
  TempFile f;
  if (!f.supported()) return;
  const Bytes a{'a'}, b{'b', 'b'}, none{};
  REQUIRE(ea::apply(f.fd(), one("MixedCase", a)) == st::SUCCESS);
  REQUIRE(ea::apply(f.fd(), one("MIXEDCASE", b)) == st::SUCCESS);
  auto eas = ea::list(f.fd());
  REQUIRE(eas->size() == 1);
  CHECK((*eas)[0].name == "MixedCase");  // the case first stored stays
  CHECK((*eas)[0].value == b);
  REQUIRE(ea::apply(f.fd(), one("mixedcase", none)) == st::SUCCESS);
  CHECK(ea::list(f.fd())->empty());
  CHECK(xattr(f.path(), "user.MixedCase") == "<none>");
  // Removing an EA that is not there succeeds (MS-FSA, and Samba).
  CHECK(ea::apply(f.fd(), one("absent", none)) == st::SUCCESS);
}

TEST_CASE("a bad EA name changes nothing; too much EA data is EA_TOO_LARGE") {
  TempFile f;
  if (!f.supported()) return;
  const Bytes v{'v'};
  fscc::FileFullEaInformation two = one("GOOD", v);
  two.entries.push_back(fscc::FullEaEntry{0, "bad:name", ByteView{v}});
  CHECK(ea::apply(f.fd(), two) == st::INVALID_EA_NAME);
  CHECK(ea::list(f.fd())->empty());  // checked before anything was set
  // Two 40000-byte values: more than the 64 KiB Windows allows a file, so
  // refused before the file system is asked (which may refuse less, ext4 4 KiB).
  const Bytes big(40000, 'x');
  fscc::FileFullEaInformation large = one("BIG1", big);
  large.entries.push_back(fscc::FullEaEntry{0, "BIG2", ByteView{big}});
  CHECK(ea::apply(f.fd(), large) == st::EA_TOO_LARGE);
  CHECK(ea::list(f.fd())->empty());
  const auto single = ea::apply(f.fd(), one("BIG1", big));
  CHECK((single == st::SUCCESS || single == st::EA_TOO_LARGE));
  CHECK(ea::same_name("abc", "ABC"));
  CHECK_FALSE(ea::same_name("abc", "abd"));
}
