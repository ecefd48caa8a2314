// LOCK (MS-SMB2 3.3.5.14) with byte-range locks kept per file (MS-FSA
// 2.1.5.8), blocking locks that go async and wait for an unlock or a close,
// lock sequence replay detection (3.3.5.14, failover.md §11), and
// CHANGE_NOTIFY (3.3.5.19), which waits until cancelled or closed: no change
// events are produced yet.
#include "server/connection.hpp"
#include "server/log.hpp"

namespace smbx::server {

namespace st = wire::status;
namespace lf = wire::lock_flags;

namespace {

constexpr wire::NtStatus kInvalidLockRange = 0xC00001A1;  // STATUS_INVALID_LOCK_RANGE

// Open.LockSequenceArray entries (state.hpp): 0 unused, else Valid | number.
constexpr std::uint16_t kSequenceValid = 0x100;
constexpr std::size_t kLockSequenceEntries = 64;

// Whether two lock ranges collide. A zero-length range is the point at its
// offset and collides with a range that starts before the point and reaches
// it (what Windows does, smbtorture smb2.lock.zerobytelength); two
// zero-length ranges never collide.
bool overlaps(std::uint64_t a_offset, std::uint64_t a_length, std::uint64_t b_offset, std::uint64_t b_length) {
  if (a_length == 0 && b_length == 0) return false;
  if (a_length == 0) return b_offset < a_offset && a_offset <= b_offset + (b_length - 1);
  if (b_length == 0) return a_offset < b_offset && b_offset <= a_offset + (a_length - 1);
  const std::uint64_t a_last = a_offset + (a_length - 1);
  const std::uint64_t b_last = b_offset + (b_length - 1);
  return a_offset <= b_last && b_offset <= a_last;
}

// MS-FSA 2.1.5.8 and 2.1.4.10: an exclusive lock conflicts with every
// overlapping lock; a shared one only with exclusive locks, except the
// requester's own (a handle may stack a shared lock on its exclusive one).
// Zero-length locks conflict with nothing but are still taken and must be
// unlocked.
bool lock_conflicts(const FileState& file, const Open* owner, const wire::LockElement& e) {
  const bool exclusive = (e.flags & lf::exclusive_lock) != 0;
  for (const auto& l : file.locks) {
    if (!overlaps(l.offset, l.length, e.offset, e.length)) continue;
    if (exclusive) return true;
    if (l.exclusive && l.owner != owner) return true;
  }
  return false;
}

// MS-SMB2 3.3.5.14: which opens keep a LockSequenceArray. Not on 2.0.2
// (the field is reserved there); on durable and persistent opens (and
// resilient ones, which smbxd does not grant yet); on every open of a 3.x
// connection when the server offers multichannel.
// (Windows checks only resilient and persistent opens, note <314>; smbtorture's
// smb2.lock.replay_smb3_specification_durable checks the spec's rule, as Samba
// does.)
bool lock_sequence_checked(const Open& open, wire::Dialect dialect, std::uint32_t server_capabilities) {
  if (dialect == wire::Dialect::smb202) return false;
  if (open.is_durable || open.is_persistent) return true;
  return wire::is_smb3(dialect) && (server_capabilities & wire::global_caps::multi_channel) != 0;
}

}  // namespace

bool read_conflicts(const Open& open, std::uint64_t offset, std::uint64_t length) {
  if (length == 0) return false;
  for (const auto& l : open.file->locks)
    if (l.exclusive && l.owner != &open && overlaps(l.offset, l.length, offset, length)) return true;
  return false;
}

bool write_conflicts(const Open& open, std::uint64_t offset, std::uint64_t length) {
  if (length == 0) return false;
  for (const auto& l : open.file->locks)
    if ((l.owner != &open || !l.exclusive) && overlaps(l.offset, l.length, offset, length)) return true;
  return false;
}

void lock_succeeded(Server& server, Open& open, std::uint32_t sequence_index, std::uint8_t sequence_number) {
  if (sequence_index >= 1 && sequence_index <= kLockSequenceEntries)
    open.lock_sequences[sequence_index - 1] = static_cast<std::uint16_t>(kSequenceValid | (sequence_number & 0xF));
  if (open.is_persistent) server.persist(open);
}

void wake_lock_waiters(FileState& file) {
  auto waiters = std::move(file.lock_waiters);
  file.lock_waiters.clear();
  for (const auto& [connection, async_id] : waiters)
    if (auto c = connection.lock()) c->retry_lock(async_id);
}

// All or nothing: on a conflict the locks this request already took are
// given back. `would_block`: the conflict may go away and the element
// allows waiting for it.
bool Connection::try_lock(Open& open, const std::vector<wire::LockElement>& locks, wire::NtStatus& status,
                          bool& would_block) {
  auto& file = *open.file;
  const std::size_t first_new = file.locks.size();
  would_block = false;
  for (const auto& e : locks) {
    if (lock_conflicts(file, &open, e)) {
      file.locks.resize(first_new);
      would_block = (e.flags & lf::fail_immediately) == 0;
      status = st::LOCK_NOT_GRANTED;
      return false;
    }
    file.locks.push_back({&open, e.offset, e.length, (e.flags & lf::exclusive_lock) != 0});
  }
  // A byte-range lock ends other opens' read caching without write caching
  // (Samba's contend_level2_oplocks_begin; smb2.lease.lock1).
  for (Open* o : std::vector<Open*>{file.opens.begin(), file.opens.end()}) {
    if (o == &open || (o->lease != nullptr && o->lease == open.lease)) continue;
    const std::uint32_t caching = caching_of(*o);
    if ((caching & wire::lease_state::read_caching) && !(caching & wire::lease_state::write_caching))
      break_caching(*o, 0);
  }
  return true;
}

Reply Connection::handle_lock(Request& r) {
  const auto& req = std::get<wire::LockRequest>(r.body);
  Open* open = find_open(r, req.file_id);
  if (open == nullptr) return fail(open_error_);
  if (open->is_directory()) return fail(st::INVALID_PARAMETER);
  // MS-SMB2 3.3.5.14 lock sequence verification: LockSequenceIndex 1..64
  // names an entry; a valid entry with the same LockSequenceNumber means this
  // request already ran (a replay after a lost response) and succeeds
  // without running again. Otherwise the entry is invalidated now and set
  // again only when this request succeeds, so a request that failed, or
  // never finished, runs again when it is replayed.
  std::uint32_t sequence_index = 0;  // the entry this request records when it succeeds
  if (req.lock_sequence_index >= 1 && req.lock_sequence_index <= kLockSequenceEntries &&
      lock_sequence_checked(*open, dialect_, server_capabilities_)) {
    sequence_index = req.lock_sequence_index;
    std::uint16_t* sequence = &open->lock_sequences[sequence_index - 1];
    const auto wanted = static_cast<std::uint16_t>(kSequenceValid | (req.lock_sequence_number & 0xF));
    if (*sequence == wanted) {
      log_debug("LOCK on " + std::to_string(open->id) + ": sequence " + std::to_string(req.lock_sequence_index) +
                "/" + std::to_string(req.lock_sequence_number) + " already done (replay)");
      Reply done;
      done.body = wire::LockResponse{};
      return done;
    }
    *sequence = 0;
  }
  const bool unlocking = (req.locks.front().flags & lf::unlock) != 0;
  if (log_enabled(LogLevel::debug)) {
    std::string text = "LOCK on " + std::to_string(open->id) + ":";
    for (const auto& e : req.locks)
      text += " [" + std::to_string(e.offset) + "+" + std::to_string(e.length) + " flags " + std::to_string(e.flags) + "]";
    log_debug(text);
  }
  // MS-SMB2 3.3.5.14 with Samba's and Windows' details: a request either
  // unlocks or locks. Locking: every element SHARED or EXCLUSIVE, and only the
  // first may block (no FAIL_IMMEDIATELY). Unlocking: the UNLOCK elements
  // before the first malformed one are still done, then INVALID_PARAMETER.
  std::size_t valid = req.locks.size();
  for (std::size_t i = 0; i < req.locks.size(); ++i) {
    const auto& e = req.locks[i];
    if (unlocking) {
      if (e.flags != lf::unlock) {
        valid = i;
        break;
      }
      continue;
    }
    const std::uint32_t mode = e.flags & ~lf::fail_immediately;
    if (mode != lf::shared_lock && mode != lf::exclusive_lock) return fail(st::INVALID_PARAMETER);
    if (i > 0 && !(e.flags & lf::fail_immediately)) return fail(st::INVALID_PARAMETER);
    if (e.length > 0 && e.offset + (e.length - 1) < e.offset) return fail(kInvalidLockRange);
  }
  Reply ok;
  ok.body = wire::LockResponse{};
  if (unlocking) {
    auto& locks = open->file->locks;
    wire::NtStatus status = valid < req.locks.size() ? st::INVALID_PARAMETER : st::SUCCESS;
    for (std::size_t i = 0; i < valid; ++i) {
      const auto& e = req.locks[i];
      // MS-FSA 2.1.5.9: of the owner's locks of exactly this range, the
      // exclusive one goes first (a shared one may be stacked on it), else
      // the last shared one.
      auto it = locks.end();
      for (auto l = locks.begin(); l != locks.end(); ++l) {
        if (l->owner != open || l->offset != e.offset || l->length != e.length) continue;
        it = l;
        if (l->exclusive) break;
      }
      if (it == locks.end()) {
        status = st::RANGE_NOT_LOCKED;
        break;
      }
      locks.erase(it);
    }
    if (status == st::SUCCESS) {
      lock_succeeded(server_, *open, sequence_index, req.lock_sequence_number);
    } else if (open->is_persistent && valid > 0) {
      server_.persist(*open);  // some of the locks went before the failure
    }
    wake_lock_waiters(*open->file);
    return status == st::SUCCESS ? ok : fail(status);
  }
  wire::NtStatus status = st::SUCCESS;
  bool would_block = false;
  if (try_lock(*open, req.locks, status, would_block)) {
    lock_succeeded(server_, *open, sequence_index, req.lock_sequence_number);
    return ok;
  }
  if (!would_block) return fail(status);
  // Blocked: retry_lock records the sequence entry when the lock is granted.
  Reply wait;
  wait.async = AsyncWork{AsyncWork::Kind::lock, open->id, req.locks, {}, {}};
  wait.async->lock_sequence_index = sequence_index;
  wait.async->lock_sequence_number = req.lock_sequence_number;
  return wait;
}

Reply Connection::handle_change_notify(Request& r) {
  const auto& req = std::get<wire::ChangeNotifyRequest>(r.body);
  Open* open = find_open(r, req.file_id);
  if (open == nullptr) return fail(open_error_);
  if (!open->is_directory()) return fail(st::INVALID_PARAMETER);
  if (!(open->granted_access & wire::access::list_directory)) return fail(st::ACCESS_DENIED);
  Reply wait;
  wait.async = AsyncWork{AsyncWork::Kind::change_notify, open->id, {}, {}, {}};
  wait.file_id = wire::FileId{open->id, open->id};
  return wait;
}

}  // namespace smbx::server
