// CREATE, CLOSE, FLUSH, READ, WRITE (MS-SMB2 3.3.5.9 - 3.3.5.13) on the
// confined share backend.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "server/connection.hpp"
#include "server/file_info.hpp"
#include "server/log.hpp"
#include "server/share_path.hpp"

namespace smbx::server {

namespace st = wire::status;
namespace acc = wire::access;
namespace opt = wire::create_options;
namespace disp = wire::disposition;

namespace {

// MS-DTYP 2.4.3 generic rights mapped to file rights (MS-SMB2 3.3.5.9 via MS-FSA).
std::uint32_t map_generic(std::uint32_t mask) {
  if (mask & acc::generic_read) mask |= 0x00120089u;
  if (mask & acc::generic_write) mask |= 0x00120116u;
  if (mask & acc::generic_execute) mask |= 0x001200A0u;
  if (mask & acc::generic_all) mask |= 0x001F01FFu;
  return mask & ~(acc::generic_read | acc::generic_write | acc::generic_execute | acc::generic_all);
}

constexpr std::uint32_t kWriteRights = acc::write_data | acc::append_data | acc::write_ea | acc::write_attributes |
                                       acc::delete_ | acc::delete_child | acc::write_dac | acc::write_owner;

bool wants_write(std::uint32_t granted) { return (granted & (acc::write_data | acc::append_data)) != 0; }

struct Created {
  int fd = -1;
  std::uint32_t action = wire::create_action::opened;
};

}  // namespace

// MS-FSA 2.1.5.1.2.1: an open that reads, writes or deletes must be allowed
// by every other open's ShareAccess, and must itself share what they use.
// Opens for attributes only take part in neither direction.
bool sharing_violation(const FileState& file, std::uint32_t access, std::uint32_t share) {
  constexpr std::uint32_t kRead = acc::read_data | acc::execute;
  constexpr std::uint32_t kWrite = acc::write_data | acc::append_data;
  constexpr std::uint32_t kDelete = acc::delete_;
  namespace sa = wire::share_access;
  if ((access & (kRead | kWrite | kDelete)) == 0) return false;
  for (const Open* other : file.opens) {
    const std::uint32_t theirs = other->granted_access;
    if ((theirs & (kRead | kWrite | kDelete)) == 0) continue;
    if (((theirs & kRead) && !(share & sa::read)) || ((theirs & kWrite) && !(share & sa::write)) ||
        ((theirs & kDelete) && !(share & sa::delete_)) || ((access & kRead) && !(other->share_access & sa::read)) ||
        ((access & kWrite) && !(other->share_access & sa::write)) ||
        ((access & kDelete) && !(other->share_access & sa::delete_)))
      return true;
  }
  return false;
}

// What the new `open` may cache (Windows' rules, as Samba's grant_fsp_oplock_type):
// a lease needs R; W only without other opens; no H beside an oplock, and
// no oplock beside a handle lease. Fills the response's oplock level and lease.
void Connection::grant_caching(Open& open, const wire::CreateRequest& req, const wire::Lease* lease_request,
                               std::shared_ptr<Lease> existing, wire::CreateResponse& rsp) {
  namespace ls = wire::lease_state;
  std::uint32_t want = 0;
  if (lease_request) {
    want = lease_request->lease_state & (ls::read_caching | ls::write_caching | ls::handle_caching);
    if ((want & ls::read_caching) == 0) want = 0;
  } else if (req.requested_oplock_level == wire::oplock::batch) {
    want = ls::read_caching | ls::write_caching | ls::handle_caching;
  } else if (req.requested_oplock_level == wire::oplock::exclusive) {
    want = ls::read_caching | ls::write_caching;
  } else if (req.requested_oplock_level == wire::oplock::level_ii) {
    want = ls::read_caching;
  }
  // Directories get no lease or oplock (no directory leasing).
  if (open.is_directory()) {
    open.oplock_level = wire::oplock::none;
    rsp.oplock_level = wire::oplock::none;
    return;
  }
  bool others = false;
  bool got_oplock = false;
  bool got_handle_lease = false;
  for (const Open* o : open.file->opens) {
    if (o == &open || (existing && o->lease == existing)) continue;
    // A stat open counts only when it holds caching (smb2.lease.statopen).
    if (!is_stat_open(o->granted_access, false) || caching_of(*o) != 0) others = true;
    if (!o->lease && o->oplock_level != wire::oplock::none) got_oplock = true;
    if (o->lease && (o->lease->state & ls::handle_caching)) got_handle_lease = true;
  }
  // No read caching while byte-range locks are held (smb2.lease.lock1).
  if (!open.file->locks.empty()) want = 0;
  const std::uint32_t requested = want;
  if (others) want &= ~ls::write_caching;
  if (!lease_request) {
    if (got_handle_lease) want = 0;
    open.oplock_level = (want & ls::write_caching)
                            ? ((want & ls::handle_caching) ? wire::oplock::batch : wire::oplock::exclusive)
                            : ((want & ls::read_caching) ? wire::oplock::level_ii : wire::oplock::none);
    rsp.oplock_level = open.oplock_level;
    return;
  }
  if (got_oplock) want &= ~ls::handle_caching;
  std::shared_ptr<Lease> lease = std::move(existing);
  if (!lease) {
    lease = std::make_shared<Lease>();
    lease->client_guid = client_guid_;
    lease->key = lease_request->lease_key;
    lease->file = open.file->key;
    lease->v2 = lease_request->version == wire::Lease::Version::v2;
    lease->has_parent_key = lease->v2 && (lease_request->flags & wire::lease_flags::parent_lease_key_set) != 0;
    if (lease->has_parent_key) lease->parent_key = lease_request->parent_lease_key;
    lease->state = want;
    // MS-SMB2 3.3.5.9.11: the epoch moves on with every change of state.
    lease->epoch = static_cast<std::uint16_t>(lease_request->epoch + 1);
    server_.register_lease(lease);
  } else if (!lease->breaking && want == requested && (want & ~lease->state) != 0 &&
             (want & lease->state) == lease->state) {
    // An upgrade: only to a strict superset that can be held as asked
    // (smb2.lease.upgrade2/upgrade3).
    lease->state = want;
    if (lease->v2) ++lease->epoch;
  }
  lease->path = open.file->path;
  lease->connection = weak_from_this();
  lease->session_id = open.session_id;
  lease->tree_id = open.tree_id;
  open.lease = lease;
  rsp.oplock_level = wire::oplock::lease;
  wire::Lease out;
  out.version = lease->v2 ? wire::Lease::Version::v2 : wire::Lease::Version::v1;
  out.lease_key = lease->key;
  out.lease_state = lease->state;
  out.flags = (lease->breaking ? wire::lease_flags::break_in_progress : 0u) |
              (lease->has_parent_key ? wire::lease_flags::parent_lease_key_set : 0u);
  out.parent_lease_key = lease->parent_key;
  out.epoch = lease->v2 ? lease->epoch : 0;
  rsp.contexts.push_back(out);
}

Reply Connection::handle_create(Request& r) {
  const auto& req = std::get<wire::CreateRequest>(r.body);
  const Share& share = *r.tree->share;
  const std::uint32_t options = req.create_options;
  // MS-SMB2 3.3.5.9 parameter checks.
  if (req.create_disposition > disp::overwrite_if || req.impersonation_level > wire::impersonation::delegate)
    return fail(st::INVALID_PARAMETER);
  if ((options & opt::directory_file) && (options & opt::non_directory_file)) return fail(st::INVALID_PARAMETER);
  if ((options & opt::directory_file) && req.create_disposition != disp::open &&
      req.create_disposition != disp::create && req.create_disposition != disp::open_if)
    return fail(st::INVALID_PARAMETER);
  if (options & opt::open_by_file_id) return fail(st::NOT_SUPPORTED);
  if (req.desired_access == 0 || (req.desired_access & acc::access_system_security)) return fail(st::ACCESS_DENIED);

  auto path = map_wire_path(req.name);
  if (!path) return fail(path.error().status);

  std::uint32_t granted = map_generic(req.desired_access & ~acc::maximum_allowed);
  const bool maximum_allowed = (req.desired_access & acc::maximum_allowed) != 0;
  if (share.config.readonly && (granted & kWriteRights)) return fail(st::ACCESS_DENIED);
  if (maximum_allowed) granted |= r.tree->maximal_access;
  // MS-FSA 2.1.5.1: delete-on-close needs DELETE access.
  if ((options & opt::delete_on_close) && !(granted & acc::delete_)) return fail(st::ACCESS_DENIED);

  // MS-SMB2 3.3.5.9.8 / 3.3.5.9.11: a lease request (2.1 and later).
  const wire::Lease* lease_request = nullptr;
  if (req.requested_oplock_level == wire::oplock::lease && dialect_ != wire::Dialect::smb202)
    lease_request = wire::find_context<wire::Lease>(req.contexts);
  std::shared_ptr<Lease> existing_lease =
      lease_request ? server_.find_lease(client_guid_, lease_request->lease_key) : nullptr;

  Created made;
  const int probe = open_beneath(share.root_fd, *path, O_PATH);
  bool exists = probe >= 0;
  FileStat before;
  if (exists) {
    auto sx = stat_fd(probe);
    ::close(probe);
    if (!sx) return fail(sx.error().status);
    before = *sx;
  } else if (probe != -ENOENT) {
    return fail(status_from_errno(-probe, true));
  } else {
    // Missing: is it the name or a directory on the way (OBJECT_PATH_NOT_FOUND)?
    const int parent = open_beneath(share.root_fd, parent_of(*path), O_PATH | O_DIRECTORY);
    if (parent < 0) return fail(status_from_errno(-parent, true));
    ::close(parent);
  }

  if (exists) {
    if (req.create_disposition == disp::create) return fail(st::OBJECT_NAME_COLLISION);
    if (before.is_directory && (options & opt::non_directory_file)) return fail(st::FILE_IS_A_DIRECTORY);
    if (!before.is_directory && (options & opt::directory_file)) return fail(st::NOT_A_DIRECTORY);
    const bool overwrite = req.create_disposition == disp::overwrite ||
                           req.create_disposition == disp::overwrite_if || req.create_disposition == disp::supersede;
    if (before.is_directory && overwrite) return fail(st::FILE_IS_A_DIRECTORY);
    if (lease_request && existing_lease && existing_lease->file != FileKey{before.device, before.inode})
      return fail(st::INVALID_PARAMETER);  // MS-SMB2 3.3.5.9.8: one lease key, one file
    if (auto fs = server_.find_file_state({before.device, before.inode})) {
      if (fs->delete_pending) return fail(st::DELETE_PENDING);
      // MS-SMB2 3.3.5.9 / MS-FSA 2.1.5.17: break the oplocks and leases this
      // open conflicts with; answer once the holders have acknowledged.
      const bool sharing = sharing_violation(*fs, granted, req.share_access);
      if (break_for_create(*fs, existing_lease.get(), granted, sharing, overwrite)) {
        Reply wait;
        wait.async = AsyncWork{AsyncWork::Kind::create, 0, {}, Bytes(r.message.begin(), r.message.end()), fs->key};
        return wait;
      }
      if (sharing) return fail(st::SHARING_VIOLATION);
    }
    if (overwrite && share.config.readonly) return fail(st::ACCESS_DENIED);
    if (before.is_directory) {
      made.fd = open_beneath(share.root_fd, *path, O_RDONLY | O_DIRECTORY);
    } else {
      const bool rw = overwrite || wants_write(granted) || (granted & (acc::write_attributes | acc::write_ea));
      made.fd = open_beneath(share.root_fd, *path, rw && !share.config.readonly ? O_RDWR : O_RDONLY);
      if (made.fd == -EACCES && maximum_allowed && !overwrite) {
        granted &= ~kWriteRights;
        made.fd = open_beneath(share.root_fd, *path, O_RDONLY);
      }
    }
    if (made.fd < 0) return fail(status_from_errno(-made.fd));
    if (overwrite) {
      if (::ftruncate(made.fd, 0) != 0) {
        const int e = errno;
        ::close(made.fd);
        return fail(status_from_errno(e));
      }
      made.action = req.create_disposition == disp::supersede ? wire::create_action::superseded
                                                               : wire::create_action::overwritten;
    }
  } else {
    if (req.create_disposition == disp::open || req.create_disposition == disp::overwrite)
      return fail(st::OBJECT_NAME_NOT_FOUND);
    if (existing_lease) return fail(st::INVALID_PARAMETER);  // the key names another file
    if (share.config.readonly) return fail(st::ACCESS_DENIED);
    if (options & opt::directory_file) {
      const int parent = open_beneath(share.root_fd, parent_of(*path), O_PATH | O_DIRECTORY);
      if (parent < 0) return fail(status_from_errno(-parent, true));
      const int rc = ::mkdirat(parent, leaf_of(*path).c_str(), 0777);
      const int e = errno;
      ::close(parent);
      if (rc != 0) return fail(status_from_errno(e));
      made.fd = open_beneath(share.root_fd, *path, O_RDONLY | O_DIRECTORY);
    } else {
      made.fd = open_beneath(share.root_fd, *path, O_RDWR | O_CREAT | O_EXCL, 0666);
    }
    if (made.fd < 0) return fail(status_from_errno(-made.fd));
    made.action = wire::create_action::created;
  }

  auto after = stat_fd(made.fd);
  if (!after) {
    ::close(made.fd);
    return fail(after.error().status);
  }
  auto open = std::make_unique<Open>();
  open->fd = made.fd;
  open->id = server_.allocate_file_id();
  open->session_id = r.session->id;
  open->tree_id = r.tree->id;
  open->granted_access = granted;
  open->share_access = req.share_access;
  open->delete_on_close = (options & opt::delete_on_close) != 0;
  open->file = server_.file_state({after->device, after->inode}, &share, *path, after->is_directory);
  open->file->opens.push_back(open.get());

  Reply reply;
  wire::CreateResponse rsp;
  open->connection = weak_from_this();
  grant_caching(*open, req, lease_request, existing_lease, rsp);
  rsp.create_action = made.action;
  rsp.creation_time = after->creation_time;
  rsp.last_access_time = after->last_access_time;
  rsp.last_write_time = after->last_write_time;
  rsp.change_time = after->change_time;
  rsp.allocation_size = after->allocation_size;
  rsp.end_of_file = after->end_of_file;
  rsp.file_attributes = after->file_attributes;
  rsp.file_id = {open->id, open->id};
  // MS-SMB2 3.3.5.9.5 / 3.3.5.9.9: MxAc and QFid; other contexts are not granted.
  if (wire::find_context<wire::QueryMaximalAccessRequest>(req.contexts))
    rsp.contexts.push_back(wire::QueryMaximalAccessResponse{st::SUCCESS, r.tree->maximal_access});
  if (wire::find_context<wire::QueryOnDiskIdRequest>(req.contexts))
    rsp.contexts.push_back(wire::QueryOnDiskIdResponse{after->inode, after->device, {}});
  reply.file_id = rsp.file_id;
  log_debug("open " + share.config.name + ":/" + *path + " as " + std::to_string(open->id));
  opens_[open->id] = std::move(open);
  reply.body = std::move(rsp);
  return reply;
}

void Connection::close_open(std::uint64_t id) {
  end_pending_for_open(id);
  const auto it = opens_.find(id);
  if (it == opens_.end()) return;
  std::unique_ptr<Open> open = std::move(it->second);
  opens_.erase(it);
  std::shared_ptr<FileState> file = open->file;
  if (open->delete_on_close) file->delete_pending = true;
  const auto removed = std::erase_if(file->locks, [&](const ByteRangeLock& l) { return l.owner == open.get(); });
  open.reset();  // closes the fd, drops its share of the lease
  if (removed > 0) wake_lock_waiters(*file);
  if (!file->create_waiters.empty()) wake_create_waiters(*file);
  // MS-FSA 2.1.5.4: the last close of a file with a pending delete removes it.
  if (!file->delete_pending || file.use_count() > 1 || file->path.empty()) return;
  const int parent = open_beneath(file->share->root_fd, parent_of(file->path), O_PATH | O_DIRECTORY);
  if (parent < 0) return;
  if (::unlinkat(parent, leaf_of(file->path).c_str(), file->is_directory ? AT_REMOVEDIR : 0) != 0)
    log_warn("delete " + file->share->config.name + ":/" + file->path + " on close: " + std::strerror(errno));
  ::close(parent);
}

void Connection::close_tree_opens(std::uint64_t session_id, std::optional<std::uint32_t> tree_id) {
  std::vector<std::uint64_t> ids;
  for (const auto& [id, open] : opens_)
    if ((session_id == 0 || open->session_id == session_id) && (!tree_id || open->tree_id == *tree_id))
      ids.push_back(id);
  for (const auto id : ids) close_open(id);
}

Reply Connection::handle_close(Request& r) {
  const auto& req = std::get<wire::CloseRequest>(r.body);
  Open* open = find_open(r, req.file_id);
  if (open == nullptr) return fail(open_error_);
  wire::CloseResponse rsp;
  if (req.flags & wire::close_flags::postquery_attrib) {
    if (auto sx = stat_fd(open->fd)) {
      rsp.flags = wire::close_flags::postquery_attrib;
      rsp.creation_time = sx->creation_time;
      rsp.last_access_time = sx->last_access_time;
      rsp.last_write_time = sx->last_write_time;
      rsp.change_time = sx->change_time;
      rsp.allocation_size = sx->allocation_size;
      rsp.end_of_file = sx->end_of_file;
      rsp.file_attributes = sx->file_attributes;
    }
  }
  close_open(open->id);
  Reply reply;
  reply.body = rsp;
  return reply;
}

Reply Connection::handle_flush(Request& r) {
  const auto& req = std::get<wire::FlushRequest>(r.body);
  Open* open = find_open(r, req.file_id);
  if (open == nullptr) return fail(open_error_);
  if (!open->is_directory()) {
    if (!wants_write(open->granted_access)) return fail(st::ACCESS_DENIED);
    if (::fsync(open->fd) != 0) return fail(status_from_errno(errno));
  }
  Reply reply;
  reply.body = wire::FlushResponse{};
  return reply;
}

Reply Connection::handle_read(Request& r) {
  const auto& req = std::get<wire::ReadRequest>(r.body);
  Open* open = find_open(r, req.file_id);
  if (open == nullptr) return fail(open_error_);
  if (open->is_directory()) return fail(st::INVALID_DEVICE_REQUEST);
  if (!(open->granted_access & (acc::read_data | acc::execute))) return fail(st::ACCESS_DENIED);
  if (req.length > server_.config().max_io_size) return fail(st::INVALID_PARAMETER);
  if (req.offset > static_cast<std::uint64_t>(INT64_MAX) - req.length) return fail(st::INVALID_PARAMETER);
  if (read_conflicts(*open, req.offset, req.length)) return fail(st::FILE_LOCK_CONFLICT);
  Reply reply;
  reply.storage.resize(req.length);
  std::size_t done = 0;
  while (done < req.length) {
    const auto n = ::pread(open->fd, reply.storage.data() + done, req.length - done,
                           static_cast<off_t>(req.offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(status_from_errno(errno));
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  if ((done == 0 && req.length > 0) || done < req.minimum_count) return fail(st::END_OF_FILE);
  open->position = req.offset + done;  // FilePositionInformation follows reads (Samba does the same)
  wire::ReadResponse rsp;
  rsp.data = ByteView{reply.storage}.first(done);
  reply.body = rsp;
  return reply;
}

Reply Connection::handle_write(Request& r) {
  const auto& req = std::get<wire::WriteRequest>(r.body);
  Open* open = find_open(r, req.file_id);
  if (open == nullptr) return fail(open_error_);
  if (open->is_directory()) return fail(st::INVALID_DEVICE_REQUEST);
  if (!wants_write(open->granted_access)) return fail(st::ACCESS_DENIED);
  if (req.data.size() > server_.config().max_io_size) return fail(st::INVALID_PARAMETER);
  std::uint64_t offset = req.offset;
  if (offset == ~std::uint64_t{0}) {  // MS-FSA 2.1.5.3: write at end of file
    auto sx = stat_fd(open->fd);
    if (!sx) return fail(sx.error().status);
    offset = sx->end_of_file;
  }
  if (offset > static_cast<std::uint64_t>(INT64_MAX) - req.data.size()) return fail(st::INVALID_PARAMETER);
  if (write_conflicts(*open, offset, req.data.size())) return fail(st::FILE_LOCK_CONFLICT);
  break_read_caching(*open);
  std::size_t done = 0;
  while (done < req.data.size()) {
    const auto n = ::pwrite(open->fd, req.data.data() + done, req.data.size() - done,
                            static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(status_from_errno(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  if (req.flags & wire::write_flags::write_through) ::fdatasync(open->fd);
  Reply reply;
  wire::WriteResponse rsp;
  rsp.count = static_cast<std::uint32_t>(done);
  reply.body = rsp;
  return reply;
}

}  // namespace smbx::server
