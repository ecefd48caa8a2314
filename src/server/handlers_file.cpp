// CREATE, CLOSE, FLUSH, READ, WRITE (MS-SMB2 3.3.5.9 - 3.3.5.13) on the
// confined share backend.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "server/connection.hpp"
#include "server/ea.hpp"
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
bool sharing_violation(const Open& other, std::uint32_t access, std::uint32_t share) {
  constexpr std::uint32_t kRead = acc::read_data | acc::execute;
  constexpr std::uint32_t kWrite = acc::write_data | acc::append_data;
  constexpr std::uint32_t kDelete = acc::delete_;
  namespace sa = wire::share_access;
  if ((access & (kRead | kWrite | kDelete)) == 0) return false;
  const std::uint32_t theirs = other.granted_access;
  if ((theirs & (kRead | kWrite | kDelete)) == 0) return false;
  return ((theirs & kRead) && !(share & sa::read)) || ((theirs & kWrite) && !(share & sa::write)) ||
         ((theirs & kDelete) && !(share & sa::delete_)) || ((access & kRead) && !(other.share_access & sa::read)) ||
         ((access & kWrite) && !(other.share_access & sa::write)) ||
         ((access & kDelete) && !(other.share_access & sa::delete_));
}

bool sharing_violation(const FileState& file, std::uint32_t access, std::uint32_t share) {
  for (const Open* other : file.opens)
    if (sharing_violation(*other, access, share)) return true;
  return false;
}

wire::Lease lease_context(const Lease& lease) {
  wire::Lease out;
  out.version = lease.v2 ? wire::Lease::Version::v2 : wire::Lease::Version::v1;
  out.lease_key = lease.key;
  out.lease_state = lease.state;
  out.flags = (lease.breaking ? wire::lease_flags::break_in_progress : 0u) |
              (lease.has_parent_key ? wire::lease_flags::parent_lease_key_set : 0u);
  out.parent_lease_key = lease.parent_key;
  out.epoch = lease.v2 ? lease.epoch : 0;
  return out;
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
    server_.persist_lease(*lease);
  }
  lease->path = open.file->path;
  lease->connection = weak_from_this();
  lease->session_id = open.session_id;
  lease->tree_id = open.tree_id;
  open.lease = lease;
  rsp.oplock_level = wire::oplock::lease;
  rsp.contexts.push_back(lease_context(*lease));
}

Reply Connection::handle_create(Request& r) {
  const auto& req = std::get<wire::CreateRequest>(r.body);
  const Share& share = *r.tree->share;
  const std::uint32_t options = req.create_options;

  // Durable handle contexts (MS-SMB2 3.3.5.9.6, .7, .10, .12). DH2Q and DH2C
  // mean something from 3.0 on; on 2.x they are ignored (as Samba does).
  const bool smb3 = wire::is_smb3(dialect_);
  const auto* dhnq = wire::find_context<wire::DurableHandleRequest>(req.contexts);
  const auto* dhnc = wire::find_context<wire::DurableHandleReconnect>(req.contexts);
  const auto* dh2q = smb3 ? wire::find_context<wire::DurableHandleRequestV2>(req.contexts) : nullptr;
  const auto* dh2c = smb3 ? wire::find_context<wire::DurableHandleReconnectV2>(req.contexts) : nullptr;
  if (dh2q && (dhnq || dhnc || dh2c)) return fail(st::INVALID_PARAMETER);  // 3.3.5.9.10
  if (dh2c && (dhnq || dhnc)) return fail(st::INVALID_PARAMETER);          // 3.3.5.9.12
  if (dhnc) return reconnect_durable(r, req, dhnc->file_id.persistent, nullptr);  // DHnQ beside it is ignored
  if (dh2c) return reconnect_durable(r, req, dh2c->file_id.persistent, dh2c);

  // MS-SMB2 3.3.5.9 (replay) and 3.3.5.9.10: a create whose CreateGuid is
  // known for this client is not executed twice.
  if (dh2q) {
    // The original create still waits for a break (Samba's replay cache).
    if (!retrying_create_ && server_.create_in_progress(client_guid_, dh2q->create_guid))
      return fail(r.header.is_replay() ? st::FILE_NOT_AVAILABLE : st::DUPLICATE_OBJECTID);
    if (Open* prior = server_.find_by_create_guid(client_guid_, dh2q->create_guid);
        prior != nullptr && (prior->replay_eligible || prior->is_persistent)) {
      if (!r.header.is_replay()) return fail(st::DUPLICATE_OBJECTID);
      if (prior->durable_owner != r.session->user) return fail(st::ACCESS_DENIED);
      // The replay must ask for the same kind of caching with the same key.
      const auto* lr = req.requested_oplock_level == wire::oplock::lease
                           ? wire::find_context<wire::Lease>(req.contexts)
                           : nullptr;
      if (prior->lease ? (lr == nullptr || lr->lease_key != prior->lease->key) : lr != nullptr)
        return fail(st::ACCESS_DENIED);
      if (prior->is_persistent && (dh2q->flags & wire::durable_flags::persistent) == 0)
        return fail(st::INVALID_PARAMETER);
      if (prior->file->share != &share) return fail(st::DUPLICATE_OBJECTID);
      if (prior->detached) {
        // Samba's reading (smb2_create.c, replay of a create whose
        // response was lost with its connection): the replay reconnects the
        // disconnected open. For a persistent open 3.3.5.9.10 asks the same
        // parameters of the replay.
        constexpr wire::NtStatus kContextMismatch = 0xC0000719;  // STATUS_CONTEXT_MISMATCH
        if (prior->is_persistent && (prior->create_options != options || prior->desired_access != req.desired_access ||
                                     prior->share_access != req.share_access))
          return fail(kContextMismatch);
        Open& open = attach_open(prior->id, r);
        log_debug("replayed create reconnects open " + std::to_string(open.id));
        return answer_from_open(open, open.create_action, true);
      }
      if (prior->connection.lock().get() == this && prior->session_id == r.session->id) {
        Reply replayed = answer_from_open(*prior, prior->create_action, true);
        // Without a lease the answer shows the oplock the replay asked for
        // (at most the one held) and durability only if that would have
        // allowed it; the open keeps what it has (smb2.replay.replay-dhv2-oplock2).
        if (auto* rsp = std::get_if<wire::CreateResponse>(&replayed.body); rsp && !prior->lease) {
          rsp->oplock_level = std::min(rsp->oplock_level, req.requested_oplock_level);
          if (rsp->oplock_level != wire::oplock::batch && !prior->is_persistent)
            std::erase_if(rsp->contexts, [](const wire::CreateContext& c) {
              return std::holds_alternative<wire::DurableHandleResponseV2>(c);
            });
        }
        return replayed;
      }
      // Still attached to another connection (whose loss this server has
      // not seen yet) or session: the client tries again later (3.3.5.9).
      return fail(prior->connection.lock().get() == this ? st::DUPLICATE_OBJECTID : st::FILE_NOT_AVAILABLE);
    }
  }
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

  // MS-SMB2 2.2.13.2.1 ExtA: EAs for a new, overwritten or superseded file,
  // checked before anything is created (MS-FSA 2.1.5.1).
  std::optional<wire::fscc::FileFullEaInformation> create_eas;
  if (const auto* exta = wire::find_raw_context(req.contexts, wire::context_name::ea_buffer)) {
    auto eas = wire::fscc::decode_file_full_ea_information(exta->data);
    if (!eas) return fail(st::EA_LIST_INCONSISTENT);
    for (const auto& e : eas->entries)
      if (!wire::fscc::valid_ea_name(e.ea_name)) return fail(st::INVALID_EA_NAME);
    if (!eas->entries.empty()) create_eas = std::move(*eas);
  }

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
      // A closed delete-on-close open may have taken the file with it: start again.
      if (drop_detached_conflicts(*fs, existing_lease.get(), granted, req.share_access, overwrite))
        return handle_create(r);
      const bool sharing = sharing_violation(*fs, granted, req.share_access);
      if (break_for_create(*fs, existing_lease.get(), granted, sharing, overwrite)) {
        Reply wait;
        wait.async = AsyncWork{AsyncWork::Kind::create, 0, {}, Bytes(r.message.begin(), r.message.end()), fs->key};
        if (dh2q) {
          wait.async->has_create_guid = true;
          wait.async->create_guid = dh2q->create_guid;
          if (!retrying_create_) server_.set_create_in_progress(client_guid_, dh2q->create_guid, true);
        }
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
    // MS-FSA 2.1.5.1.1: a new file takes FILE_ATTRIBUTE_READONLY from the
    // request (POSIX: no write bits; this open keeps writing through its fd).
    if (!(options & opt::directory_file) && (req.file_attributes & wire::file_attributes::readonly))
      (void)::fchmod(made.fd, 0444);
  }
  if (create_eas && made.action != wire::create_action::opened) {
    if (const auto status = ea::apply(made.fd, *create_eas); status != st::SUCCESS) {
      ::close(made.fd);
      // A file this CREATE made goes again; an overwritten one stays (emptied).
      if (made.action == wire::create_action::created)
        if (const int parent = open_beneath(share.root_fd, parent_of(*path), O_PATH | O_DIRECTORY); parent >= 0) {
          (void)::unlinkat(parent, leaf_of(*path).c_str(), (options & opt::directory_file) ? AT_REMOVEDIR : 0);
          ::close(parent);
        }
      return fail(status);
    }
  }
  // MS-SMB2 2.2.13.2.6 AlSi: reserve the allocation of a new or overwritten file.
  if (made.action != wire::create_action::opened && !(options & opt::directory_file))
    if (const auto* alsi = wire::find_context<wire::AllocationSize>(req.contexts); alsi && alsi->allocation_size > 0 &&
                                                                                  alsi->allocation_size < (1ull << 40))
      (void)::fallocate(made.fd, FALLOC_FL_KEEP_SIZE, 0, static_cast<off_t>(alsi->allocation_size));

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
  copy_metadata(rsp, *after);
  rsp.file_id = {open->id, open->id};
  // MS-SMB2 3.3.5.9.5 / 3.3.5.9.9: MxAc and QFid; other contexts are not granted.
  if (wire::find_context<wire::QueryMaximalAccessRequest>(req.contexts))
    rsp.contexts.push_back(wire::QueryMaximalAccessResponse{st::SUCCESS, r.tree->maximal_access});
  if (wire::find_context<wire::QueryOnDiskIdRequest>(req.contexts))
    rsp.contexts.push_back(wire::QueryOnDiskIdResponse{after->inode, after->device, {}});
  open->client_guid = client_guid_;
  open->durable_owner = r.session->user;
  open->desired_access = req.desired_access;
  open->create_options = options;
  open->create_action = made.action;
  open->channel_sequence = r.header.channel_sequence();
  namespace ls = wire::lease_state;
  const bool batch_or_handle = open->oplock_level == wire::oplock::batch ||
                               (open->lease != nullptr && (open->lease->state & ls::handle_caching) != 0);
  if (dh2q) {
    // MS-SMB2 3.3.5.9.10, as Windows behaves (note <342>): durable only with
    // a batch oplock or an H lease, unless persistent on a CA share.
    // Departure: 3.3.5.9.10 skips durability for directories; on a CA share
    // a directory open is made persistent too, because smbx's client
    // replays a mkdir (a CREATE of a directory) after a failover and relies
    // on the CreateGuid finding the open it made.
    const bool persistent = (dh2q->flags & wire::durable_flags::persistent) != 0 &&
                            share.config.continuously_available &&
                            (server_capabilities_ & wire::global_caps::persistent_handles) != 0;
    if (persistent || (batch_or_handle && !open->is_directory())) {
      open->is_durable = true;
      open->is_persistent = persistent;
      open->durable_v2 = true;
      // Request non-zero: at most 300 s; zero: 60 s (Samba; Windows 8).
      open->durable_timeout_ms = dh2q->timeout != 0 ? std::min<std::uint32_t>(dh2q->timeout, 300000) : 60000;
      open->create_guid = dh2q->create_guid;
      constexpr std::uint32_t kReplayAccess =
          acc::read_data | acc::execute | acc::write_data | acc::append_data | acc::delete_;
      open->replay_eligible = persistent || (!open->is_directory() && (granted & kReplayAccess) != 0);
      rsp.contexts.push_back(wire::DurableHandleResponseV2{
          open->durable_timeout_ms, persistent ? wire::durable_flags::persistent : 0u});
    }
  } else if (dhnq && batch_or_handle && !open->is_directory()) {
    // MS-SMB2 3.3.5.9.6 (v1 carries no timeout: 60 s, as Samba).
    open->is_durable = true;
    open->durable_timeout_ms = 60000;
    rsp.contexts.push_back(wire::DurableHandleResponse{});
  }
  reply.file_id = rsp.file_id;
  log_debug("open " + share.config.name + ":/" + *path + " as " + std::to_string(open->id) +
            (open->is_persistent ? " (persistent)" : open->is_durable ? " (durable)" : ""));
  Open& made_open = *open;
  opens_[open->id] = std::move(open);
  if (made_open.durable_v2) server_.register_create_guid(made_open);
  if (made_open.is_persistent) server_.persist(made_open);
  reply.body = std::move(rsp);
  return reply;
}

Reply Connection::answer_from_open(Open& open, std::uint32_t create_action, bool durable_context) {
  auto sx = stat_fd(open.fd);
  if (!sx) return fail(sx.error().status);
  Reply reply;
  wire::CreateResponse rsp;
  rsp.create_action = create_action;
  copy_metadata(rsp, *sx);
  rsp.file_id = {open.id, open.id};
  if (open.lease) {
    rsp.oplock_level = wire::oplock::lease;
    rsp.contexts.push_back(lease_context(*open.lease));
  } else {
    rsp.oplock_level = open.oplock_level;
  }
  if (durable_context && open.is_durable) {
    if (open.durable_v2)
      rsp.contexts.push_back(wire::DurableHandleResponseV2{
          open.durable_timeout_ms, open.is_persistent ? wire::durable_flags::persistent : 0u});
    else
      rsp.contexts.push_back(wire::DurableHandleResponse{});
  }
  reply.file_id = rsp.file_id;
  reply.body = std::move(rsp);
  return reply;
}

Open& Connection::attach_open(std::uint64_t id, const Request& r) {
  std::unique_ptr<Open> open = server_.take_detached(id);
  open->detached = false;
  ++open->scavenge_serial;  // the scavenger timer of the disconnect no longer applies
  open->session_id = r.session->id;
  open->tree_id = r.tree->id;
  open->connection = weak_from_this();
  open->channel_sequence = r.header.channel_sequence();
  open->outstanding_requests = open->outstanding_pre_requests = 0;
  if (open->lease) {
    open->lease->connection = weak_from_this();
    open->lease->session_id = open->session_id;
    open->lease->tree_id = open->tree_id;
    open->lease->path = open->file->path;
  }
  Open& ref = *open;
  opens_[id] = std::move(open);
  if (ref.is_persistent) server_.persist(ref);
  return ref;
}

Reply Connection::reconnect_durable(Request& r, const wire::CreateRequest& req, std::uint64_t persistent_id,
                                    const wire::DurableHandleReconnectV2* v2) {
  const bool want_persistent = v2 != nullptr && (v2->flags & wire::durable_flags::persistent) != 0;
  Open* open = server_.find_detached(persistent_id);
  // 3.3.5.9.12: a persistent handle may be found by its CreateGuid.
  if (open == nullptr && want_persistent && r.tree->share->config.continuously_available)
    if (Open* byguid = server_.find_by_create_guid(client_guid_, v2->create_guid);
        byguid != nullptr && byguid->detached && byguid->is_persistent)
      open = byguid;
  if (open == nullptr) {
    // Attached somewhere (3.3.5.9.7: "Open.Session is not NULL") or unknown.
    log_debug("durable reconnect of " + std::to_string(persistent_id) + ": no disconnected open");
    return fail(st::OBJECT_NAME_NOT_FOUND);
  }
  // 3.3.5.9.7 / 3.3.5.9.12 checks. The lease context counts whatever
  // RequestedOplockLevel says (smb2.durable-open.reopen2-lease).
  const auto* lr = wire::find_context<wire::Lease>(req.contexts);
  if (open->lease && open->lease->client_guid != client_guid_) return fail(st::OBJECT_NAME_NOT_FOUND);
  if (open->file->share != r.tree->share) return fail(st::OBJECT_NAME_NOT_FOUND);
  if (v2 != nullptr) {
    if (open->is_persistent && !want_persistent) return fail(st::OBJECT_NAME_NOT_FOUND);
    if (open->create_guid != v2->create_guid) return fail(st::OBJECT_NAME_NOT_FOUND);
  }
  if (!open->is_durable) return fail(st::OBJECT_NAME_NOT_FOUND);
  if (open->lease) {
    if (lr == nullptr || lr->lease_key != open->lease->key) return fail(st::OBJECT_NAME_NOT_FOUND);
    if ((lr->version == wire::Lease::Version::v2) != open->lease->v2) return fail(st::OBJECT_NAME_NOT_FOUND);
    if (!open->is_persistent && (open->lease->state & wire::lease_state::handle_caching) == 0)
      return fail(st::OBJECT_NAME_NOT_FOUND);
    // The name must be the lease's file (it may have been renamed since).
    auto path = map_wire_path(req.name);
    if (!open->delete_on_close && (!path || *path != open->file->path)) return fail(st::INVALID_PARAMETER);
  } else {
    if (lr != nullptr) return fail(st::OBJECT_NAME_NOT_FOUND);
    if (!open->is_persistent && open->oplock_level != wire::oplock::batch) return fail(st::OBJECT_NAME_NOT_FOUND);
  }
  if (v2 != nullptr && !open->is_persistent && want_persistent) return fail(st::INVALID_PARAMETER);
  if (open->durable_owner != r.session->user) return fail(st::ACCESS_DENIED);
  if (open->fd < 0) {
    // Loaded from the state store after a restart: opened again by path,
    // confined to the share like every open.
    const Share& share = *open->file->share;
    open->fd = open_beneath(share.root_fd, open->file->path,
                            open->is_directory() ? O_RDONLY | O_DIRECTORY
                                                 : ((wants_write(open->granted_access) ||
                                                     (open->granted_access & (acc::write_attributes | acc::write_ea))) &&
                                                            !share.config.readonly
                                                        ? O_RDWR
                                                        : O_RDONLY));
    if (open->fd < 0) {
      log_warn("persistent open " + std::to_string(open->id) + " of " + share.config.name + ":/" +
               open->file->path + " cannot be opened again");
      open->fd = -1;
      server_.close_detached(open->id);
      return fail(st::OBJECT_NAME_NOT_FOUND);
    }
  }
  Open& attached = attach_open(open->id, r);
  log_debug("durable reconnect of open " + std::to_string(attached.id));
  // MS-SMB2 3.3.5.9.7 / 3.3.5.9.12 Response Construction: the lease context
  // only (Samba sends no durable context either; smb2.durable-open.reopen2-lease).
  return answer_from_open(attached, wire::create_action::opened, false);
}

void Connection::close_open(std::uint64_t id) {
  end_pending_for_open(id);
  const auto it = opens_.find(id);
  if (it == opens_.end()) return;
  std::unique_ptr<Open> open = std::move(it->second);
  opens_.erase(it);
  release_open(server_, std::move(open));
}

void Connection::release_opens(std::optional<std::uint64_t> session_id) {
  std::vector<std::uint64_t> ids;
  for (const auto& [id, open] : opens_)
    if (!session_id || open->session_id == *session_id) ids.push_back(id);
  for (const auto id : ids) {
    const auto it = opens_.find(id);
    if (it == opens_.end()) continue;
    if (!it->second->is_durable) {
      close_open(id);
      continue;
    }
    end_pending_for_open(id);
    std::unique_ptr<Open> open = std::move(it->second);
    opens_.erase(it);
    server_.detach_open(std::move(open));
  }
}

void release_open(Server& server, std::unique_ptr<Open> open) {
  server.forget_create_guid(*open);
  if (open->is_persistent) server.unpersist(*open);
  std::shared_ptr<FileState> file = open->file;
  if (open->delete_on_close) file->delete_pending = true;
  const auto removed = std::erase_if(file->locks, [&](const ByteRangeLock& l) { return l.owner == open.get(); });
  open.reset();  // closes the fd, drops its share of the lease
  if (removed > 0) wake_lock_waiters(*file);
  if (!file->create_waiters.empty()) wake_create_waiters(*file);
  // MS-FSA 2.1.5.4: the last close of a file with a pending delete removes it.
  if (!file->delete_pending || !file->opens.empty() || file->path.empty()) return;
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
      copy_metadata(rsp, *sx);
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
  // The data is read straight into the buffer its response is sent from,
  // behind room for the headers (process_chain() builds the rest around
  // it): uninitialised, recycled by the server's pool, never copied.
  IoBuffer buffer = server_.io_buffers().take(std::size_t{req.length} + kReadBufferSlack);
  std::uint8_t* const data = buffer.data.get() + read_data_offset(buffer);
  std::size_t done = 0;
  while (done < req.length) {
    const auto n = ::pread(open->fd, data + done, req.length - done, static_cast<off_t>(req.offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      server_.io_buffers().give_back(std::move(buffer));
      return fail(status_from_errno(error));
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  if ((done == 0 && req.length > 0) || done < req.minimum_count) {
    server_.io_buffers().give_back(std::move(buffer));
    return fail(st::END_OF_FILE);
  }
  open->position = req.offset + done;  // FilePositionInformation follows reads (Samba does the same)
  Reply reply;
  wire::ReadResponse rsp;
  rsp.data = ByteView{data, done};
  reply.body = rsp;
  read_buffer_ = std::move(buffer);
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
  // On stable storage before the answer (MS-SMB2 3.3.5.13 WRITE_THROUGH;
  // on a CA share the client counts on it across a crash).
  if ((req.flags & wire::write_flags::write_through) && ::fdatasync(open->fd) != 0 &&
      open->file->share->config.continuously_available)
    return fail(status_from_errno(errno));
  Reply reply;
  wire::WriteResponse rsp;
  rsp.count = static_cast<std::uint32_t>(done);
  reply.body = rsp;
  return reply;
}

}  // namespace smbx::server
