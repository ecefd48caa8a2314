// Server-side copy FSCTLs: FSCTL_SRV_REQUEST_RESUME_KEY and
// FSCTL_SRV_COPYCHUNK(_WRITE) (MS-SMB2 3.3.5.15.5, 3.3.5.15.6), and ODX
// FSCTL_OFFLOAD_READ / FSCTL_OFFLOAD_WRITE (pass-through FSCTLs, MS-SMB2
// 3.3.5.15.8, with smbxd as the object store: MS-FSA 2.1.5.10.20/.21).
// Data moves on the host (offload.hpp), never through the connection.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <ctime>

#include "crypto/random.hpp"
#include "server/connection.hpp"
#include "server/log.hpp"
#include "server/offload.hpp"
#include "server/share_path.hpp"
#include "wire/fsctl.hpp"

namespace smbx::server {

namespace st = wire::status;
namespace acc = wire::access;

namespace {

// MS-SMB2 3.3.1.5 ServerSideCopyMaxNumberofChunks, ...MaxChunkSize,
// ...MaxDataSize: Windows' values (notes <222>-<224>), also Samba's.
constexpr std::uint32_t kMaxChunks = 256;
constexpr std::uint32_t kMaxChunkSize = 1u << 20;
constexpr std::uint32_t kMaxChunkData = 16u << 20;
constexpr std::size_t kCopychunkHeader = 32;  // SourceKey, ChunkCount, Reserved
constexpr std::size_t kChunkSize = 24;
constexpr std::uint64_t kMaxOffset = static_cast<std::uint64_t>(INT64_MAX);

// An IOCTL response carrying `output`, whatever the status (MS-SMB2 2.2.32;
// copychunk's limits and failure responses, 3.3.5.15.6.1 / .6.2).
Reply ioctl_reply(const wire::IoctlRequest& req, const Open& open, wire::NtStatus status, Bytes output) {
  Reply reply;
  reply.status = status;
  reply.storage = std::move(output);
  reply.file_id = wire::FileId{open.id, open.id};
  wire::IoctlResponse rsp;
  rsp.ctl_code = req.ctl_code;
  rsp.file_id = *reply.file_id;
  rsp.output = reply.storage;
  reply.body = rsp;
  return reply;
}

// A plain error response that still names the open (related compounds).
Reply fail_on(const Open& open, wire::NtStatus status) {
  Reply reply = fail(status);
  reply.file_id = wire::FileId{open.id, open.id};
  return reply;
}

struct Identity {
  std::uint64_t device = 0;  // as FileKey has it (statx major << 32 | minor)
  std::uint64_t inode = 0;
  std::uint64_t ctime_ns = 0;
  std::uint64_t size = 0;
  bool regular = false;
};

std::optional<Identity> identity_of(int fd) {
  struct statx sx{};
  if (::statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx) != 0) return std::nullopt;
  Identity id;
  id.device = (std::uint64_t{sx.stx_dev_major} << 32) | sx.stx_dev_minor;
  id.inode = sx.stx_ino;
  id.ctime_ns = static_cast<std::uint64_t>(sx.stx_ctime.tv_sec) * 1'000'000'000ull + sx.stx_ctime.tv_nsec;
  id.size = sx.stx_size;
  id.regular = S_ISREG(sx.stx_mode);
  return id;
}

// The kernel stamps ctime from a clock that ticks every few milliseconds, so
// a write in the same tick as the one that set the ctime we record could
// leave it unchanged and a stale token valid. Wait (a tick at most) until the
// coarse clock has passed the recorded ctime: every later change then gets a
// later ctime. (Kernels with multigrain timestamps need no wait.)
void wait_past_ctime(std::uint64_t ctime_ns) {
  for (int i = 0; i < 50; ++i) {
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME_COARSE, &now);
    const auto now_ns = static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000ull + now.tv_nsec;
    if (now_ns > ctime_ns) return;
    const timespec pause{0, 1'000'000};
    ::nanosleep(&pause, nullptr);
  }
}

std::uint64_t align_up(std::uint64_t v) {
  return (v + offload::kSectorSize - 1) / offload::kSectorSize * offload::kSectorSize;
}

// The offload-cap fault (faults.hpp) as a length: whole sectors, at least one.
std::uint64_t capped(std::uint64_t length, std::uint64_t cap) {
  if (cap == 0) return length;
  return std::min(length, std::max(offload::kSectorSize, cap / offload::kSectorSize * offload::kSectorSize));
}

struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

Open* Connection::find_by_resume_key(const wire::ResumeKey& key) {
  const auto it = opens_.find(load_le64(key.data()));
  if (it == opens_.end() || !it->second->resume_key || *it->second->resume_key != key) return nullptr;
  return it->second.get();
}

// MS-SMB2 3.3.5.15.5
Reply Connection::handle_resume_key(const wire::IoctlRequest& req, Open& open) {
  if (req.max_output_response < 32) return fail_on(open, st::INVALID_PARAMETER);
  if (!open.resume_key) {
    // Unique per open: the open's id (never reused, server.hpp), and random
    // bytes so a key cannot be guessed from a FileId.
    wire::ResumeKey key{};
    store_le64(key.data(), open.id);
    crypto::random_bytes(std::span<std::uint8_t>{key}.subspan(8));
    open.resume_key = key;
  }
  return ioctl_reply(req, open, st::SUCCESS, wire::fsctl_payload(wire::SrvRequestResumeKey{*open.resume_key}));
}

// MS-SMB2 3.3.5.15.6
Reply Connection::handle_copychunk(Request& r, const wire::IoctlRequest& req, Open& target) {
  const auto limits = [&] {
    // MS-SMB2 3.3.5.15.6.2: the limits, so the client can re-issue.
    return ioctl_reply(req, target, st::INVALID_PARAMETER,
                       wire::fsctl_payload(wire::SrvCopychunkResponse{kMaxChunks, kMaxChunkSize, kMaxChunkData}));
  };
  std::uint32_t chunks_written = 0;
  std::uint32_t total_written = 0;
  const auto failed = [&](wire::NtStatus status, std::uint32_t partial) {
    // MS-SMB2 3.3.5.15.6.1: what was written before the failure.
    return ioctl_reply(req, target, status,
                       wire::fsctl_payload(wire::SrvCopychunkResponse{chunks_written, partial, total_written}));
  };
  const ByteView in = req.input;
  if (in.size() < kCopychunkHeader)
    return req.max_output_response < 12 ? fail_on(target, st::INVALID_PARAMETER) : limits();
  wire::ResumeKey key{};
  std::copy_n(in.begin(), key.size(), key.begin());
  // The source must be an open of this session (Session.OpenTable), in any
  // of its tree connects (smb2.ioctl.copy_chunk_across_shares).
  Open* source = find_by_resume_key(key);
  if (source == nullptr || source->session_id != r.header.session_id) return fail_on(target, st::OBJECT_NAME_NOT_FOUND);
  if (req.max_output_response < 12) return fail_on(target, st::INVALID_PARAMETER);
  const std::uint32_t count = load_le32(in.data() + 24);
  if (count > kMaxChunks || in.size() < kCopychunkHeader + kChunkSize * count) return limits();
  auto copy = wire::decode_srv_copychunk_copy(in);
  if (!copy) return limits();
  std::uint64_t sum = 0;
  for (const auto& c : copy->chunks) {
    if (c.length == 0 || c.length > kMaxChunkSize) return limits();
    if (c.target_offset > kMaxOffset && c.target_offset != ~std::uint64_t{0}) return limits();
    sum += c.length;
  }
  if (sum > kMaxChunkData) return limits();
  // Access (MS-SMB2 3.3.5.15.6): COPYCHUNK also wants read access to the
  // target; COPYCHUNK_WRITE is for targets opened write-only. A source opened
  // for execute may be read too, as by READ (Windows and Samba;
  // smb2.ioctl.copy_chunk_bad_access).
  if ((source->granted_access & (acc::read_data | acc::execute)) == 0) return fail_on(target, st::ACCESS_DENIED);
  if ((target.granted_access & (acc::write_data | acc::append_data)) == 0) return fail_on(target, st::ACCESS_DENIED);
  if (req.ctl_code == wire::fsctl::srv_copychunk && (target.granted_access & acc::read_data) == 0)
    return fail_on(target, st::ACCESS_DENIED);
  if (source->is_directory() || target.is_directory()) return fail_on(target, st::INVALID_DEVICE_REQUEST);

  bool broke = false;
  for (const auto& c : copy->chunks) {
    std::uint64_t dst = c.target_offset;
    if (dst == ~std::uint64_t{0}) {  // at the end of file, as WRITE's 0xFFFFFFFFFFFFFFFF (MS-FSA 2.1.5.3)
      const auto t = identity_of(target.fd);
      if (!t) return failed(status_from_errno(errno), 0);
      dst = t->size;
    }
    if (c.source_offset > kMaxOffset - c.length || dst > kMaxOffset - c.length) return failed(st::INVALID_PARAMETER, 0);
    // The byte-range locks a READ of the source and a WRITE of the target
    // would meet (3.3.5.15.6; Windows 2012 and Samba check them).
    if (read_conflicts(*source, c.source_offset, c.length) || write_conflicts(target, dst, c.length))
      return failed(st::FILE_LOCK_CONFLICT, 0);
    // A chunk past the source's end of file is STATUS_INVALID_VIEW_SIZE, as
    // Windows and Samba answer (smb2.ioctl.copy_chunk_src_exceed).
    const auto s = identity_of(source->fd);
    if (!s) return failed(status_from_errno(errno), 0);
    if (c.source_offset + c.length > s->size) return failed(st::INVALID_VIEW_SIZE, 0);
    if (!broke) {
      break_read_caching(target);
      broke = true;
    }
    std::uint64_t copied = 0;
    auto status = offload::copy_data(source->fd, c.source_offset, target.fd, dst, c.length, copied);
    if (status == st::SUCCESS && copied < c.length) status = st::INVALID_VIEW_SIZE;  // the source shrank
    if (status != st::SUCCESS) return failed(status, static_cast<std::uint32_t>(copied));
    ++chunks_written;
    total_written += c.length;
  }
  // ChunkCount 0 ends here too: success, all counters 0 (offload-copy.md §3.4).
  return ioctl_reply(req, target, st::SUCCESS,
                     wire::fsctl_payload(wire::SrvCopychunkResponse{chunks_written, 0, total_written}));
}

// MS-FSA 2.1.5.10.20: a token for [FileOffset, FileOffset + TransferLength)
// of the open's file as it is now.
Reply Connection::handle_offload_read(const wire::IoctlRequest& req, Open& open) {
  auto in = wire::decode_offload_read_input(req.input);
  if (!in || req.max_output_response < 528) return fail_on(open, st::INVALID_PARAMETER);
  if (open.is_directory()) return fail_on(open, st::INVALID_PARAMETER);
  if ((open.granted_access & acc::read_data) == 0) return fail_on(open, st::ACCESS_DENIED);
  const std::uint64_t offset = in->file_offset;
  const std::uint64_t length = in->copy_length;
  if (offset % offload::kSectorSize != 0 || length == 0 || offset > kMaxOffset - length)
    return fail_on(open, st::INVALID_PARAMETER);
  auto id = identity_of(open.fd);
  if (!id) return fail_on(open, status_from_errno(errno));
  if (!id->regular) return fail_on(open, st::OFFLOAD_READ_FILE_NOT_SUPPORTED);
  // CopyLength is sector aligned except where the range reaches the end of
  // file (ntifs FSCTL_OFFLOAD_READ_INPUT).
  if (length % offload::kSectorSize != 0 && offset + length < id->size) return fail_on(open, st::INVALID_PARAMETER);
  if (offset >= id->size) return fail_on(open, st::END_OF_FILE);
  // TransferLength: up to the end of file rounded up to a sector (the bytes
  // past it are logically zero), at most kMaxTransferLength, and at most the
  // offload-cap fault.
  std::uint64_t transfer = std::min({align_up(length), align_up(id->size) - offset, offload::kMaxTransferLength});
  transfer = capped(transfer, server_.faults().offload_cap());
  if (read_conflicts(open, offset, transfer)) return fail_on(open, st::FILE_LOCK_CONFLICT);
  wait_past_ctime(id->ctime_ns);

  offload::TokenData data;
  data.nonce = crypto::random_array<8>();
  data.offset = offset;
  data.length = transfer;
  data.device = id->device;
  data.inode = id->inode;
  data.ctime_ns = id->ctime_ns;
  data.size = id->size;
  const std::uint32_t ttl = in->token_time_to_live == 0 ? offload::kDefaultTtlMs
                                                        : std::min(in->token_time_to_live, offload::kMaxTtlMs);
  data.expiry_ms = offload::now_ms() + ttl;
  data.share = open.file->share->config.name;
  data.path = open.file->path;
  auto token = offload::make_token(server_.offload_key(), data);
  // A path too long for the 504-byte TokenId: this file cannot be offloaded
  // (the client falls back to copy chunks).
  if (!token) return fail_on(open, st::OFFLOAD_READ_FILE_NOT_SUPPORTED);
  wire::OffloadReadOutput out;
  out.flags = 0;  // offload-copy.md §2.2: the flag values are disputed; none is needed
  out.transfer_length = transfer;
  out.token = *token;
  return ioctl_reply(req, open, st::SUCCESS, wire::fsctl_payload(out));
}

// MS-FSA 2.1.5.10.21: makes [FileOffset, +LengthWritten) of the target equal
// to the token's data from TransferOffset on.
Reply Connection::handle_offload_write(Request& r, const wire::IoctlRequest& req, Open& target) {
  auto in = wire::decode_offload_write_input(req.input);
  if (!in || req.max_output_response < 16) return fail_on(target, st::INVALID_PARAMETER);
  if (target.is_directory()) return fail_on(target, st::INVALID_PARAMETER);
  if ((target.granted_access & acc::write_data) == 0) return fail_on(target, st::ACCESS_DENIED);
  const std::uint64_t dst = in->file_offset;
  const std::uint64_t length = in->copy_length;
  if (dst % offload::kSectorSize != 0 || in->transfer_offset % offload::kSectorSize != 0 ||
      dst > kMaxOffset - length)
    return fail_on(target, st::INVALID_PARAMETER);
  const auto written = [&](std::uint64_t n) {
    wire::OffloadWriteOutput out;
    out.length_written = n;
    return ioctl_reply(req, target, st::SUCCESS, wire::fsctl_payload(out));
  };
  if (length == 0) return written(0);
  // What one request writes: the rest is a partial write the client continues.
  const std::uint64_t limit = capped(offload::kMaxWriteLength, server_.faults().offload_cap());

  if (in->token.token_type == wire::offload_token_type::zero_data) {
    // MS-FSCC 2.1.11: the well-known token for zeros; its TokenId means nothing.
    const auto t = identity_of(target.fd);
    if (!t) return fail_on(target, status_from_errno(errno));
    if (length % offload::kSectorSize != 0 && dst + length < t->size) return fail_on(target, st::INVALID_PARAMETER);
    const std::uint64_t n = std::min(length, limit);
    if (write_conflicts(target, dst, n)) return fail_on(target, st::FILE_LOCK_CONFLICT);
    break_read_caching(target);
    if (const auto status = offload::write_zeros(target.fd, dst, n); status != st::SUCCESS)
      return fail_on(target, status);
    return written(n);
  }

  auto data = offload::verify_token(server_.offload_key(), in->token);
  if (!data || offload::now_ms() > data->expiry_ms) return fail_on(target, st::INVALID_TOKEN);
  if (in->transfer_offset >= data->length) return fail_on(target, st::INVALID_PARAMETER);
  const std::uint64_t src = data->offset + in->transfer_offset;
  // Unaligned only when the range reaches the source's end of file.
  if (length % offload::kSectorSize != 0 && src < data->size && length < data->size - src)
    return fail_on(target, st::INVALID_PARAMETER);
  const std::uint64_t n = std::min({length, data->length - in->transfer_offset, limit});
  // The token's share must be one this user may use (users=, config.hpp):
  // a token does not carry access from one user to another.
  const Share* share = server_.find_share(wire::utf16_from_utf8(data->share));
  if (share == nullptr || share->config.name != data->share) return fail_on(target, st::INVALID_TOKEN);
  if (!share->config.allows(r.session->user)) {
    log_info("connection from " + peer_ + ": user " + r.session->user + " used an ODX token of share " +
             data->share + ", which it may not use");
    return fail_on(target, st::ACCESS_DENIED);
  }
  const FdCloser source{open_beneath(share->root_fd, data->path, O_RDONLY | O_CLOEXEC)};
  if (source.fd < 0) return fail_on(target, st::INVALID_TOKEN);
  // The generation: the same file (not another one at that path), unchanged
  // since OFFLOAD_READ. A changed source invalidates the token; its new data
  // is never copied (offload-copy.md §2.6).
  const auto s = identity_of(source.fd);
  if (!s || s->device != data->device || s->inode != data->inode || s->ctime_ns != data->ctime_ns ||
      s->size != data->size)
    return fail_on(target, st::INVALID_TOKEN);
  // Bytes of the range past the source's end of file are zeros.
  const std::uint64_t real = src < data->size ? std::min(n, data->size - src) : 0;
  if (auto file = server_.find_file_state(FileKey{s->device, s->inode})) {
    for (const auto& l : file->locks)
      if (l.exclusive && l.length != 0 && real != 0 && l.offset < src + real && src < l.offset + l.length)
        return fail_on(target, st::FILE_LOCK_CONFLICT);
  }
  if (write_conflicts(target, dst, n)) return fail_on(target, st::FILE_LOCK_CONFLICT);
  const auto t = identity_of(target.fd);
  if (!t) return fail_on(target, status_from_errno(errno));
  const bool same_file = t->device == s->device && t->inode == s->inode;
  break_read_caching(target);
  std::uint64_t copied = 0;
  auto status = offload::copy_data(source.fd, src, target.fd, dst, real, copied);
  if (status == st::SUCCESS && copied < real) status = st::INVALID_TOKEN;  // the source shrank meanwhile
  if (status != st::SUCCESS) return fail_on(target, status);
  // The zeros past the source's end are written only over existing target
  // data: they do not make the target longer than the copied data does.
  if (n > real && dst + real < t->size) {
    status = offload::write_zeros(target.fd, dst + real, std::min(n - real, t->size - (dst + real)));
    if (status != st::SUCCESS) return fail_on(target, status);
  }
  // Another node (or process) may have written the source while we copied:
  // then the target holds a mix, and the client must not believe the copy.
  if (!same_file) {
    const auto after = identity_of(source.fd);
    if (!after || after->ctime_ns != data->ctime_ns || after->size != data->size)
      return fail_on(target, st::INVALID_TOKEN);
  }
  return written(n);
}

}  // namespace smbx::server
