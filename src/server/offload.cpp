// ODX tokens and the host copy primitive (offload.hpp).
#include "server/offload.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <vector>

#include "crypto/random.hpp"
#include "crypto/signing.hpp"
#include "server/share_path.hpp"
#include "wire/bytes.hpp"

namespace smbx::server::offload {

namespace st = wire::status;

namespace {

constexpr std::array<std::uint8_t, 4> kMagic = {'S', 'X', 'O', '1'};
constexpr std::size_t kFixedBody = 4 + 8 + 7 * 8;
constexpr char kKeyFile[] = "smbxd-offload.key";

// TokenType, Reserved and TokenIdLength as they are on the wire.
std::array<std::uint8_t, 8> token_head(const wire::StorageOffloadToken& t) {
  std::array<std::uint8_t, 8> head{};
  head[0] = static_cast<std::uint8_t>(t.token_type >> 24);
  head[1] = static_cast<std::uint8_t>(t.token_type >> 16);
  head[2] = static_cast<std::uint8_t>(t.token_type >> 8);
  head[3] = static_cast<std::uint8_t>(t.token_type);
  head[4] = t.reserved[0];
  head[5] = t.reserved[1];
  head[6] = static_cast<std::uint8_t>(t.token_id_length >> 8);
  head[7] = static_cast<std::uint8_t>(t.token_id_length);
  return head;
}

std::array<std::uint8_t, kMacSize> mac_of(const Key& key, const wire::StorageOffloadToken& t, std::size_t body) {
  const auto head = token_head(t);
  const std::array<ByteView, 2> pieces{ByteView{head}, ByteView{t.token_id.data(), body}};
  return crypto::hmac_sha256(ByteView{key}, pieces);
}

Error local(std::string action, std::string detail) {
  return Error{.kind = ErrorKind::local, .wire = WireError::none, .status = 0, .action = std::move(action),
               .detail = std::move(detail)};
}

}  // namespace

std::optional<wire::StorageOffloadToken> make_token(const Key& key, const TokenData& d) {
  if (d.share.size() > 255 || d.share.size() + d.path.size() > kMaxNameBytes) return std::nullopt;
  wire::StorageOffloadToken t;
  t.token_type = kTokenType;
  std::uint8_t* p = t.token_id.data();
  std::memcpy(p, kMagic.data(), kMagic.size());
  p += kMagic.size();
  std::memcpy(p, d.nonce.data(), d.nonce.size());
  p += d.nonce.size();
  for (const std::uint64_t v : {d.offset, d.length, d.device, d.inode, d.ctime_ns, d.size, d.expiry_ms}) {
    store_le64(p, v);
    p += 8;
  }
  *p++ = static_cast<std::uint8_t>(d.share.size());
  std::memcpy(p, d.share.data(), d.share.size());
  p += d.share.size();
  store_le16(p, static_cast<std::uint16_t>(d.path.size()));
  p += 2;
  std::memcpy(p, d.path.data(), d.path.size());
  p += d.path.size();
  const auto body = static_cast<std::size_t>(p - t.token_id.data());
  t.token_id_length = static_cast<std::uint16_t>(body + kMacSize);
  const auto mac = mac_of(key, t, body);
  std::memcpy(p, mac.data(), mac.size());
  return t;
}

std::optional<TokenData> verify_token(const Key& key, const wire::StorageOffloadToken& t) {
  if (t.token_type != kTokenType || t.reserved != std::array<std::uint8_t, 2>{}) return std::nullopt;
  const std::size_t used = t.token_id_length;
  if (used > t.token_id.size() || used < kFixedBody + 3 + kMacSize) return std::nullopt;
  const std::size_t body = used - kMacSize;
  // The MAC first: nothing of an unauthenticated body is interpreted.
  const auto mac = mac_of(key, t, body);
  if (CRYPTO_memcmp(mac.data(), t.token_id.data() + body, kMacSize) != 0) return std::nullopt;
  if (std::any_of(t.token_id.begin() + static_cast<std::ptrdiff_t>(used), t.token_id.end(),
                  [](std::uint8_t b) { return b != 0; }))
    return std::nullopt;
  const std::uint8_t* p = t.token_id.data();
  if (std::memcmp(p, kMagic.data(), kMagic.size()) != 0) return std::nullopt;
  p += kMagic.size();
  TokenData d;
  std::memcpy(d.nonce.data(), p, d.nonce.size());
  p += d.nonce.size();
  for (std::uint64_t* v : {&d.offset, &d.length, &d.device, &d.inode, &d.ctime_ns, &d.size, &d.expiry_ms}) {
    *v = load_le64(p);
    p += 8;
  }
  const std::uint8_t* end = t.token_id.data() + body;
  const std::size_t share_len = *p++;
  if (static_cast<std::size_t>(end - p) < share_len + 2) return std::nullopt;
  d.share.assign(reinterpret_cast<const char*>(p), share_len);
  p += share_len;
  const std::size_t path_len = load_le16(p);
  p += 2;
  if (static_cast<std::size_t>(end - p) != path_len) return std::nullopt;
  d.path.assign(reinterpret_cast<const char*>(p), path_len);
  return d;
}

Key random_key() { return crypto::random_array<32>(); }

Expected<Key> load_or_create_key(const std::string& state_dir) {
  const std::string path = state_dir + "/" + kKeyFile;
  const std::string action = "offload token key " + path;
  // Two attempts: read; else make a temporary file and link() it into place,
  // which fails with EEXIST when another smbxd was first (then read theirs).
  for (int attempt = 0; attempt < 2; ++attempt) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd >= 0) {
      Key key{};
      std::size_t got = 0;
      while (got < key.size()) {
        const auto n = ::read(fd, key.data() + got, key.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
      }
      std::uint8_t extra = 0;
      const bool longer = ::read(fd, &extra, 1) > 0;
      ::close(fd);
      if (got != key.size() || longer) return local(action, "not a 32-byte key file");
      return key;
    }
    if (errno != ENOENT) return local(action, std::strerror(errno));
    const Key key = random_key();
    const std::string tmp = path + ".tmp." + std::to_string(::getpid());
    const int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (out < 0) return local(action, "create " + tmp + ": " + std::strerror(errno));
    const bool written = ::write(out, key.data(), key.size()) == static_cast<ssize_t>(key.size()) &&
                         ::fsync(out) == 0;
    ::close(out);
    if (!written) {
      ::unlink(tmp.c_str());
      return local(action, "write " + tmp + ": " + std::strerror(errno));
    }
    // link(), not rename(): rename would replace a key another node made
    // meanwhile, and tokens it already gave out would stop verifying.
    const int linked = ::link(tmp.c_str(), path.c_str());
    const int link_errno = errno;
    ::unlink(tmp.c_str());
    if (linked == 0) return key;
    if (link_errno != EEXIST) return local(action, std::string{"link: "} + std::strerror(link_errno));
  }
  return local(action, "cannot read or create it");
}

std::uint64_t now_ms() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000 + static_cast<std::uint64_t>(ts.tv_nsec) / 1'000'000;
}

namespace {

constexpr std::size_t kBufferSize = 1u << 20;

// pread/pwrite in pieces of up to 1 MiB. Overlapping ranges of one file are
// copied from the end when the target lies above the source, so no byte is
// overwritten before it is read (each piece is read whole before it is written).
wire::NtStatus copy_by_buffer(int src_fd, std::uint64_t src_offset, int dst_fd, std::uint64_t dst_offset,
                              std::uint64_t length, std::uint64_t& copied) {
  std::vector<std::uint8_t> buffer(static_cast<std::size_t>(std::min<std::uint64_t>(length, kBufferSize)));
  struct stat a{}, b{};
  const bool same = ::fstat(src_fd, &a) == 0 && ::fstat(dst_fd, &b) == 0 && a.st_dev == b.st_dev &&
                    a.st_ino == b.st_ino;
  const bool backwards = same && dst_offset > src_offset && dst_offset < src_offset + length;
  if (!backwards) {
    while (copied < length) {
      const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(length - copied, buffer.size()));
      ssize_t n = ::pread(src_fd, buffer.data(), want, static_cast<off_t>(src_offset + copied));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return status_from_errno(errno);
      if (n == 0) return st::SUCCESS;  // end of file
      std::size_t done = 0;
      while (done < static_cast<std::size_t>(n)) {
        const auto w = ::pwrite(dst_fd, buffer.data() + done, static_cast<std::size_t>(n) - done,
                                static_cast<off_t>(dst_offset + copied + done));
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
          copied += done;
          return status_from_errno(errno);
        }
        done += static_cast<std::size_t>(w);
      }
      copied += done;
    }
    return st::SUCCESS;
  }
  // Backwards: the source's end of file decides how much there is to copy.
  const std::uint64_t available =
      static_cast<std::uint64_t>(a.st_size) > src_offset ? static_cast<std::uint64_t>(a.st_size) - src_offset : 0;
  const std::uint64_t total = std::min(length, available);
  std::uint64_t end = total;
  while (end > 0) {
    const auto piece = static_cast<std::size_t>(std::min<std::uint64_t>(end, buffer.size()));
    const std::uint64_t at = end - piece;
    std::size_t got = 0;
    while (got < piece) {
      const auto n = ::pread(src_fd, buffer.data() + got, piece - got, static_cast<off_t>(src_offset + at + got));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return status_from_errno(errno);
      if (n == 0) return st::INVALID_VIEW_SIZE;  // the file shrank under us
      got += static_cast<std::size_t>(n);
    }
    std::size_t done = 0;
    while (done < piece) {
      const auto w = ::pwrite(dst_fd, buffer.data() + done, piece - done, static_cast<off_t>(dst_offset + at + done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return status_from_errno(errno);
      done += static_cast<std::size_t>(w);
    }
    end = at;
  }
  copied = total;
  return st::SUCCESS;
}

}  // namespace

wire::NtStatus copy_data(int src_fd, std::uint64_t src_offset, int dst_fd, std::uint64_t dst_offset,
                         std::uint64_t length, std::uint64_t& copied) {
  copied = 0;
  while (copied < length) {
    auto in = static_cast<off_t>(src_offset + copied);
    auto out = static_cast<off_t>(dst_offset + copied);
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(length - copied, 1ull << 30));
    const auto n = ::copy_file_range(src_fd, &in, dst_fd, &out, want, 0);
    if (n > 0) {
      copied += static_cast<std::uint64_t>(n);
      continue;
    }
    if (n == 0) return st::SUCCESS;  // end of file
    if (errno == EINTR) continue;
    // EXDEV (another filesystem on older kernels), EINVAL (overlapping ranges
    // of one file, special files), ENOSYS/EOPNOTSUPP (no support): copy it here.
    if (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP) {
      std::uint64_t rest = 0;
      const auto status =
          copy_by_buffer(src_fd, src_offset + copied, dst_fd, dst_offset + copied, length - copied, rest);
      copied += rest;
      return status;
    }
    return status_from_errno(errno);
  }
  return st::SUCCESS;
}

wire::NtStatus write_zeros(int fd, std::uint64_t offset, std::uint64_t length) {
  if (length == 0) return st::SUCCESS;
  if (::fallocate(fd, FALLOC_FL_ZERO_RANGE, static_cast<off_t>(offset), static_cast<off_t>(length)) == 0)
    return st::SUCCESS;
  if (errno != EOPNOTSUPP && errno != ENOSYS && errno != EINVAL) return status_from_errno(errno);
  const std::vector<std::uint8_t> zeros(static_cast<std::size_t>(std::min<std::uint64_t>(length, kBufferSize)));
  std::uint64_t done = 0;
  while (done < length) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(length - done, zeros.size()));
    const auto w = ::pwrite(fd, zeros.data(), want, static_cast<off_t>(offset + done));
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return status_from_errno(errno);
    done += static_cast<std::uint64_t>(w);
  }
  return st::SUCCESS;
}

}  // namespace smbx::server::offload
