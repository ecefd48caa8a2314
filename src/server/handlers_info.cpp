// QUERY_DIRECTORY, QUERY_INFO and SET_INFO (MS-SMB2 3.3.5.18, 3.3.5.20, 3.3.5.21).
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "server/connection.hpp"
#include "server/ea.hpp"
#include "server/file_info.hpp"
#include "server/log.hpp"
#include "server/share_path.hpp"

namespace smbx::server {

namespace st = wire::status;
namespace acc = wire::access;
namespace fscc = wire::fscc;
namespace fic = wire::fscc::file_info_class;
namespace fsc = wire::fscc::fs_info_class;

namespace {

// MS-DTYP 2.4.2.2: a SID in its binary form.
void write_sid(wire::Writer& w, std::uint8_t authority, std::initializer_list<std::uint32_t> sub_authorities) {
  w.u8(1);
  w.u8(static_cast<std::uint8_t>(sub_authorities.size()));
  w.zeros(5);
  w.u8(authority);
  for (const auto s : sub_authorities) w.u32(s);
}

// A self-relative security descriptor (MS-DTYP 2.4.6) with what the query
// asked for: owner S-1-22-1-uid and group S-1-22-2-gid (Samba's Unix ids) and
// a DACL that lets Everyone do everything the share allows.
Bytes security_descriptor(const FileStat& sx, std::uint32_t additional_information, std::uint32_t access_mask) {
  namespace si = wire::security_information;
  Bytes out;
  wire::Writer w{out};
  w.u8(1);  // Revision
  w.u8(0);
  const bool want_dacl = (additional_information & si::dacl) != 0;
  w.u16(static_cast<std::uint16_t>(0x8000 | (want_dacl ? 0x0004 : 0)));  // SE_SELF_RELATIVE | SE_DACL_PRESENT
  const auto owner_at = w.reserve(4);
  const auto group_at = w.reserve(4);
  w.u32(0);  // no SACL
  const auto dacl_at = w.reserve(4);
  if (additional_information & si::owner) {
    w.patch_u32(owner_at, static_cast<std::uint32_t>(out.size()));
    write_sid(w, 22, {1, sx.uid});
  }
  if (additional_information & si::group) {
    w.patch_u32(group_at, static_cast<std::uint32_t>(out.size()));
    write_sid(w, 22, {2, sx.gid});
  }
  if (want_dacl) {
    w.patch_u32(dacl_at, static_cast<std::uint32_t>(out.size()));
    // ACL header (8) + one ACCESS_ALLOWED_ACE (8 + SID S-1-1-0, 12).
    w.u8(2);
    w.u8(0);
    w.u16(8 + 20);
    w.u16(1);
    w.u16(0);
    w.u8(0);  // ACCESS_ALLOWED_ACE_TYPE
    w.u8(0);
    w.u16(20);
    w.u32(access_mask);
    write_sid(w, 1, {0});
  }
  return out;
}

std::u16string wire_name(const std::string& path) {
  std::u16string out = u"\\" + wire::utf16_from_utf8(path);
  for (auto& c : out)
    if (c == u'/') c = u'\\';
  return out;
}

// The fixed part of a class whose size varies (MS-SMB2 3.3.5.20.1: a buffer
// smaller than that is INFO_LENGTH_MISMATCH, one that holds the fixed part
// but not all gets BUFFER_OVERFLOW and what fits); 0 for fixed-size classes.
std::size_t variable_class_minimum(std::uint8_t info_type, std::uint8_t cls) {
  // The minimums Windows applies (smbtorture getinfo.qfile_buffercheck /
  // qfs_buffercheck tables), a little above the structures' fixed parts.
  if (info_type == wire::info_type::filesystem) {
    if (cls == fsc::file_fs_volume_information) return 24;
    if (cls == fsc::file_fs_attribute_information) return 16;
    return 0;
  }
  if (cls == fic::file_all_information) return 104;
  if (cls == fic::file_name_information || cls == 21 || cls == 48) return 8;  // 21: FileAlternateNameInformation
  if (cls == fic::file_stream_information) return 32;
  return 0;
}

// MS-FSCC FileAlternateNameInformation: an 8.3 name for the file, made the
// way Windows shapes short names (upper case, 6 characters, ~1, 3 of extension).
std::u16string short_name(std::u16string_view leaf) {
  auto upper = [](char16_t c) { return (c >= u'a' && c <= u'z') ? static_cast<char16_t>(c - 32) : c; };
  const auto dot = leaf.rfind(u'.');
  std::u16string base{leaf.substr(0, dot)}, ext{dot == leaf.npos ? u"" : leaf.substr(dot + 1)};
  const bool fits = !base.empty() && base.size() <= 8 && ext.size() <= 3 && base.find(u'.') == base.npos &&
                    leaf.find(u' ') == leaf.npos;
  std::u16string out;
  for (const char16_t c : base) {
    if (!fits && out.size() == 6) break;
    if (c != u' ' && c != u'.') out += upper(c);
  }
  if (!fits) out += u"~1";
  if (!ext.empty()) {
    out += u'.';
    for (const char16_t c : ext.substr(0, 3)) out += upper(c);
  }
  return out;
}

// MS-SMB2 3.3.5.20.1, MS-FSCC FileFullEaInformation: the EAs
// named by the FILE_GET_EA_INFORMATION list (one the file lacks comes back
// with an empty value), else the file's EAs from the open's scan position
// (SL_RESTART_SCAN starts again; SL_INDEX_SPECIFIED is treated as a restart,
// as SMB2 carries no index). Whole entries only: what does not fit makes
// BUFFER_OVERFLOW, and the next query goes on from there.
Reply query_full_ea(Open& open, const wire::QueryInfoRequest& req) {
  namespace qf = wire::query_info_flags;
  auto all = ea::list(open.fd);
  if (!all) return fail(all.error().status);
  auto wanted = fscc::decode_file_get_ea_information(req.input_buffer);
  if (!wanted) return fail(st::EA_LIST_INCONSISTENT);
  std::vector<ea::Attribute> selected;
  const bool by_name = !wanted->names.empty();
  if (by_name) {
    for (const auto& name : wanted->names) {
      if (!fscc::valid_ea_name(name)) return fail(st::INVALID_EA_NAME);
      auto it = std::ranges::find_if(*all, [&](const ea::Attribute& a) { return ea::same_name(a.name, name); });
      selected.push_back(it != all->end() ? *it : ea::Attribute{name, {}});
    }
  } else {
    if (all->empty()) return fail(st::NO_EAS_ON_FILE);
    if (req.flags & (qf::restart_scan | qf::index_specified)) open.ea_index = 0;
    if (open.ea_index >= all->size()) return fail(st::NO_MORE_EAS);
    selected.assign(all->begin() + static_cast<std::ptrdiff_t>(open.ea_index), all->end());
  }
  const std::size_t limit = (req.flags & qf::return_single_entry) ? 1 : selected.size();
  fscc::FileFullEaInformation out;
  std::size_t used = 0;
  for (const auto& a : selected) {
    if (out.entries.size() == limit) break;
    const std::size_t padded = used == 0 ? 0 : (4 - used % 4) % 4;
    const std::size_t entry = fscc::full_ea_entry_size(a.name.size(), a.value.size());
    if (used + padded + entry > req.output_buffer_length) break;
    used += padded + entry;
    out.entries.push_back(fscc::FullEaEntry{0, a.name, ByteView{a.value}});
  }
  if (out.entries.empty()) return fail(st::BUFFER_TOO_SMALL);
  Reply reply;
  wire::Writer w{reply.storage};
  fscc::encode(w, out);
  if (!by_name) open.ea_index += out.entries.size();
  if (out.entries.size() < limit) reply.status = st::BUFFER_OVERFLOW;
  reply.body = wire::QueryInfoResponse{reply.storage};
  return reply;
}

}  // namespace

Reply Connection::handle_query_directory(Request& r) {
  const auto& req = std::get<wire::QueryDirectoryRequest>(r.body);
  Open* open = find_open(r, req.file_id);
  if (open == nullptr) return fail(open_error_);
  if (!open->is_directory()) return fail(st::INVALID_PARAMETER);
  if (!(open->granted_access & acc::list_directory)) return fail(st::ACCESS_DENIED);
  if (!fscc::is_directory_class(req.file_information_class)) return fail(st::INVALID_INFO_CLASS);
  if (req.output_buffer_length == 0 || req.output_buffer_length > server_.config().max_io_size)
    return fail(st::INVALID_PARAMETER);
  auto& cursor = open->directory;
  namespace qf = wire::query_directory_flags;
  if (!cursor.loaded || (req.flags & (qf::restart_scans | qf::reopen))) {
    std::u16string pattern = req.file_name.empty() ? std::u16string{u"*"} : req.file_name;
    if (pattern.find(u'\\') != std::u16string::npos || pattern.find(u'/') != std::u16string::npos)
      return fail(st::OBJECT_NAME_INVALID);
    auto all = list_directory(open->file->share->root_fd, open->file->path, open->fd);
    if (!all) return fail(all.error().status);
    cursor = DirectoryCursor{};
    cursor.loaded = true;
    cursor.pattern = pattern;
    std::uint32_t index = 0;
    for (auto& e : *all) {
      ++index;
      if (!wildcard_match(pattern, e.file_name)) continue;
      e.file_index = index;
      cursor.entries.push_back(std::move(e));
    }
    if (cursor.entries.empty()) {
      cursor.next = 0;
      return fail(st::NO_SUCH_FILE);
    }
  }
  if (cursor.next >= cursor.entries.size()) return fail(st::NO_MORE_FILES);
  // Entries deleted since the listing was read are skipped (smb2.dir.fixed):
  // check each candidate, and stop collecting once the buffer must be full.
  std::vector<fscc::DirectoryEntry> batch;
  std::vector<std::size_t> positions;
  const std::size_t fixed = fscc::directory_entry_fixed_size(req.file_information_class);
  std::size_t estimate = 0;
  const std::size_t limit = (req.flags & qf::return_single_entry) ? 1 : cursor.entries.size();
  for (std::size_t i = cursor.next; i < cursor.entries.size() && batch.size() < limit; ++i) {
    const auto& e = cursor.entries[i];
    if (e.file_name != u"." && e.file_name != u"..") {
      struct stat sb{};
      if (::fstatat(open->fd, wire::utf8_from_utf16(e.file_name).c_str(), &sb, AT_SYMLINK_NOFOLLOW) != 0) continue;
    }
    batch.push_back(e);
    positions.push_back(i);
    estimate += fixed + e.file_name.size() * 2 + 8;
    if (estimate > req.output_buffer_length) break;
  }
  if (batch.empty()) {
    cursor.next = cursor.entries.size();
    return fail(st::NO_MORE_FILES);
  }
  Reply reply;
  wire::Writer w{reply.storage};
  const std::size_t written =
      fscc::encode_directory_entries(w, req.file_information_class, batch, req.output_buffer_length);
  if (written == 0) return fail(st::INFO_LENGTH_MISMATCH);
  cursor.next = positions[written - 1] + 1;
  reply.body = wire::QueryDirectoryResponse{reply.storage};
  return reply;
}

Reply Connection::handle_query_info(Request& r) {
  const auto& req = std::get<wire::QueryInfoRequest>(r.body);
  Open* open = find_open(r, req.file_id);
  if (open == nullptr) return fail(open_error_);
  auto sx = stat_fd(open->fd);
  if (!sx) return fail(sx.error().status);
  Reply reply;
  wire::Writer w{reply.storage};
  const bool can_read_attributes = (open->granted_access & acc::read_attributes) != 0;
  if (req.info_type == wire::info_type::file) {
    fscc::FileBasicInformation basic{sx->creation_time, sx->last_access_time, sx->last_write_time, sx->change_time,
                                     sx->file_attributes};
    fscc::FileStandardInformation standard{sx->allocation_size, sx->end_of_file, sx->number_of_links,
                                           open->file->delete_pending, sx->is_directory};
    switch (req.file_info_class) {
      case fic::file_basic_information:
        if (!can_read_attributes) return fail(st::ACCESS_DENIED);
        fscc::encode(w, basic);
        break;
      case fic::file_standard_information: fscc::encode(w, standard); break;
      case fic::file_internal_information: fscc::encode(w, fscc::FileInternalInformation{sx->inode}); break;
      case fic::file_ea_information: fscc::encode(w, fscc::FileEaInformation{ea::size_of(open->fd)}); break;
      case fic::file_access_information:
        fscc::encode(w, fscc::FileAccessInformation{open->granted_access});
        break;
      case fic::file_position_information:
        fscc::encode(w, fscc::FilePositionInformation{open->position});
        break;
      case fic::file_mode_information: fscc::encode(w, fscc::FileModeInformation{open->mode}); break;
      case fic::file_alignment_information: fscc::encode(w, fscc::FileAlignmentInformation{0}); break;
      case fic::file_name_information:
        fscc::encode(w, fscc::FileNameInformation{wire_name(open->file->path)});
        break;
      case fic::file_all_information: {
        if (!can_read_attributes) return fail(st::ACCESS_DENIED);
        fscc::FileAllInformation all;
        all.basic_information = basic;
        all.standard_information = standard;
        all.internal_information = {sx->inode};
        all.ea_information = {ea::size_of(open->fd)};
        all.access_information = {open->granted_access};
        all.position_information = {open->position};
        all.mode_information = {open->mode};
        all.name_information = {wire_name(open->file->path)};
        fscc::encode(w, all);
        break;
      }
      case fic::file_network_open_information:
        if (!can_read_attributes) return fail(st::ACCESS_DENIED);
        fscc::encode(w, fscc::FileNetworkOpenInformation{sx->creation_time, sx->last_access_time,
                                                         sx->last_write_time, sx->change_time, sx->allocation_size,
                                                         sx->end_of_file, sx->file_attributes});
        break;
      case fic::file_attribute_tag_information:
        if (!can_read_attributes) return fail(st::ACCESS_DENIED);
        fscc::encode(w, fscc::FileAttributeTagInformation{sx->file_attributes, 0});
        break;
      case fic::file_stream_information: {
        fscc::FileStreamInformation streams;
        if (!sx->is_directory) streams.entries.push_back({sx->end_of_file, sx->allocation_size, u"::$DATA"});
        fscc::encode(w, streams);
        break;
      }
      case fic::file_full_ea_information:
        if (!(open->granted_access & acc::read_ea)) return fail(st::ACCESS_DENIED);
        return query_full_ea(*open, req);
      case fic::file_compression_information:
        fscc::encode(w, fscc::FileCompressionInformation{sx->end_of_file, 0, 0, 0, 0});
        break;
      case 48: {  // FileNormalizedNameInformation (3.1.1): the share-relative name, no leading '\'
        if (dialect_ != wire::Dialect::smb311) return fail(st::NOT_SUPPORTED);
        std::u16string name = wire_name(open->file->path).substr(1);
        fscc::encode(w, fscc::FileNameInformation{name});
        break;
      }
      case 21:  // FileAlternateNameInformation: same layout as FileNameInformation
        if (open->file->path.empty()) return fail(st::OBJECT_NAME_NOT_FOUND);
        fscc::encode(w, fscc::FileNameInformation{short_name(wire::utf16_from_utf8(leaf_of(open->file->path)))});
        break;
      default:
        return fail(st::INVALID_INFO_CLASS);
    }
  } else if (req.info_type == wire::info_type::filesystem) {
    struct statvfs vfs{};
    if (::fstatvfs(open->fd, &vfs) != 0) return fail(status_from_errno(errno));
    const std::uint32_t bytes_per_sector = 512;
    const std::uint64_t unit = std::max<std::uint64_t>(vfs.f_frsize, bytes_per_sector);
    const auto sectors_per_unit = static_cast<std::uint32_t>(unit / bytes_per_sector);
    switch (req.file_info_class) {
      case fsc::file_fs_volume_information:
        fscc::encode(w, fscc::FileFsVolumeInformation{0, static_cast<std::uint32_t>(sx->device), false,
                                                      wire::utf16_from_utf8(open->file->share->config.name)});
        break;
      case fsc::file_fs_size_information:
        fscc::encode(w, fscc::FileFsSizeInformation{vfs.f_blocks, vfs.f_bavail, sectors_per_unit, bytes_per_sector});
        break;
      case fsc::file_fs_device_information:
        fscc::encode(w, fscc::FileFsDeviceInformation{0x07, 0x20});  // FILE_DEVICE_DISK, FILE_DEVICE_IS_MOUNTED
        break;
      case fsc::file_fs_attribute_information:
        fscc::encode(w, fscc::FileFsAttributeInformation{fscc::fs_attribute::case_sensitive_search |
                                                             fscc::fs_attribute::case_preserved_names |
                                                             fscc::fs_attribute::supports_hard_links |
                                                             fscc::fs_attribute::supports_extended_attributes |
                                                             fscc::fs_attribute::unicode_on_disk,
                                                         255, u"NTFS"});
        break;
      case fsc::file_fs_full_size_information:
        fscc::encode(w, fscc::FileFsFullSizeInformation{vfs.f_blocks, vfs.f_bavail, vfs.f_bfree, sectors_per_unit,
                                                        bytes_per_sector});
        break;
      case fsc::file_fs_sector_size_information:
        fscc::encode(w, fscc::FileFsSectorSizeInformation{bytes_per_sector, bytes_per_sector, bytes_per_sector,
                                                          bytes_per_sector, 0x3, 0, 0});
        break;
      default:
        return fail(st::INVALID_INFO_CLASS);
    }
  } else if (req.info_type == wire::info_type::security) {
    if (!(open->granted_access & acc::read_control)) return fail(st::ACCESS_DENIED);
    reply.storage = security_descriptor(*sx, req.additional_information, r.tree->maximal_access);
    // MS-SMB2 3.3.5.20.3: too small a buffer gets the size it needs.
    if (reply.storage.size() > req.output_buffer_length) {
      const auto needed = static_cast<std::uint32_t>(reply.storage.size());
      Reply small = fail(st::BUFFER_TOO_SMALL);
      small.storage.resize(4);
      store_le32(small.storage.data(), needed);
      small.body = wire::ErrorResponse{0, small.storage, {}};
      return small;
    }
  } else {
    return fail(st::NOT_SUPPORTED);
  }
  if (reply.storage.size() > req.output_buffer_length) {
    const std::size_t minimum = variable_class_minimum(req.info_type, req.file_info_class);
    if (minimum == 0 || req.output_buffer_length < minimum) return fail(st::INFO_LENGTH_MISMATCH);
    reply.storage.resize(req.output_buffer_length);
    reply.status = st::BUFFER_OVERFLOW;
  }
  reply.body = wire::QueryInfoResponse{reply.storage};
  return reply;
}

namespace {

timespec time_for_set(std::uint64_t filetime) {
  timespec ts{};
  if (filetime == fscc::kFiletimeLeaveUnchanged || filetime == fscc::kFiletimeStopUpdates ||
      filetime == fscc::kFiletimeResumeUpdates) {
    ts.tv_nsec = UTIME_OMIT;
    return ts;
  }
  return fscc::timespec_from_filetime(filetime);
}

// The directories that hold `from` and `to`, opened beneath the share root
// (O_PATH), for renameat2 and linkat: every name stays confined to the share.
class ParentDirs {
 public:
  ParentDirs(int root_fd, const std::string& from, const std::string& to) {
    from_ = open_beneath(root_fd, parent_of(from), O_PATH | O_DIRECTORY);
    if (from_ < 0) {
      status_ = status_from_errno(-from_, true);
      return;
    }
    to_ = open_beneath(root_fd, parent_of(to), O_PATH | O_DIRECTORY);
    if (to_ < 0) status_ = status_from_errno(-to_, true);
  }
  ~ParentDirs() {
    if (from_ >= 0) ::close(from_);
    if (to_ >= 0) ::close(to_);
  }
  ParentDirs(const ParentDirs&) = delete;
  ParentDirs& operator=(const ParentDirs&) = delete;

  wire::NtStatus status() const noexcept { return status_; }
  int from() const noexcept { return from_; }
  int to() const noexcept { return to_; }

 private:
  int from_ = -1;
  int to_ = -1;
  wire::NtStatus status_ = st::SUCCESS;
};

// A rename breaks the handle caching of the file's other opens (not the
// renamer's own lease); true when a break must be acknowledged first.
bool rename_must_wait(Connection& connection, Open& renamer) {
  namespace ls = wire::lease_state;
  bool wait = false;
  for (Open* o : std::vector<Open*>{renamer.file->opens.begin(), renamer.file->opens.end()}) {
    if (o == &renamer || (o->lease != nullptr && o->lease == renamer.lease)) continue;
    const std::uint32_t held = caching_of(*o);
    if ((held & ls::handle_caching) == 0) continue;
    connection.break_caching(*o, held & ~ls::handle_caching);
    if (o->lease ? o->lease->breaking : o->oplock_breaking) wait = true;
  }
  return wait;
}

}  // namespace

Reply Connection::handle_set_info(Request& r) {
  const auto& req = std::get<wire::SetInfoRequest>(r.body);
  Open* open = find_open(r, req.file_id);
  if (open == nullptr) return fail(open_error_);
  const Share& share = *open->file->share;
  Reply ok;
  ok.body = wire::SetInfoResponse{};
  if (req.info_type == wire::info_type::security) {
    if (!(open->granted_access & (acc::write_dac | acc::write_owner))) return fail(st::ACCESS_DENIED);
    return ok;  // POSIX modes stand in for ACLs here; the descriptor is not stored
  }
  if (req.info_type != wire::info_type::file) return fail(st::NOT_SUPPORTED);
  switch (req.file_info_class) {
    case fic::file_basic_information: {
      auto info = fscc::decode_file_basic_information(req.buffer);
      if (!info) return fail(st::INFO_LENGTH_MISMATCH);
      if (!(open->granted_access & acc::write_attributes)) return fail(st::ACCESS_DENIED);
      const timespec times[2] = {time_for_set(info->last_access_time), time_for_set(info->last_write_time)};
      if ((times[0].tv_nsec != UTIME_OMIT || times[1].tv_nsec != UTIME_OMIT) && ::futimens(open->fd, times) != 0)
        return fail(status_from_errno(errno));
      if (info->file_attributes != 0) {
        const bool is_dir_attr = (info->file_attributes & wire::file_attributes::directory) != 0;
        if (is_dir_attr && !open->is_directory()) return fail(st::INVALID_PARAMETER);
        if (!open->is_directory()) {
          struct stat sb{};
          if (::fstat(open->fd, &sb) != 0) return fail(status_from_errno(errno));
          mode_t mode = sb.st_mode & 07777;
          mode = (info->file_attributes & wire::file_attributes::readonly) ? (mode & ~0222u) : (mode | 0200u);
          if (mode != (sb.st_mode & 07777) && ::fchmod(open->fd, mode) != 0) return fail(status_from_errno(errno));
        }
      }
      return ok;
    }
    case fic::file_rename_information: {
      auto info = fscc::decode_file_rename_information(req.buffer);
      if (!info) return fail(st::INFO_LENGTH_MISMATCH);
      if (!(open->granted_access & acc::delete_)) return fail(st::ACCESS_DENIED);
      if (info->root_directory != 0) return fail(st::INVALID_PARAMETER);
      auto target = map_wire_path(info->file_name, true);
      if (!target) return fail(target.error().status);
      if (target->empty() || open->file->path.empty()) return fail(st::ACCESS_DENIED);
      if (*target == open->file->path) return ok;
      const ParentDirs dirs{share.root_fd, open->file->path, *target};
      if (dirs.status() != st::SUCCESS) return fail(dirs.status());
      const int old_parent = dirs.from();
      const int new_parent = dirs.to();
      const std::string new_leaf = leaf_of(*target);
      wire::NtStatus status = st::SUCCESS;
      // Renaming changes the parent directory: Samba opens it for DELETE
      // internally, so an open of the parent that holds DELETE access or
      // does not share DELETE makes the rename a sharing violation.
      if (auto parent_stat = stat_fd(old_parent)) {
        if (auto parent = server_.find_file_state({parent_stat->device, parent_stat->inode});
            parent && sharing_violation(*parent, acc::delete_, wire::share_access::read | wire::share_access::write))
          status = st::SHARING_VIOLATION;
      }
      if (auto existing = stat_at(new_parent, new_leaf); existing && status == st::SUCCESS) {
        // MS-FSA 2.1.5.14.11: no replacing a directory or an open file, nor
        // anything without ReplaceIfExists.
        if (!info->replace_if_exists) status = st::OBJECT_NAME_COLLISION;
        else if (existing->is_directory) status = st::ACCESS_DENIED;
        else if (server_.find_file_state({existing->device, existing->inode}) != nullptr) status = st::ACCESS_DENIED;
      }
      if (status == st::SUCCESS && rename_must_wait(*this, *open)) {
        // MS-SMB2 3.3.4.7 (MS-FSA 2.1.5.14.11): other opens lose handle
        // caching before the name changes, and the rename waits for the
        // acknowledgment (or the break's timeout); retry_create() runs it
        // again then (smb2.lease.rename_wait).
        Reply wait;
        wait.async = AsyncWork{AsyncWork::Kind::create, 0, {}, Bytes(r.message.begin(), r.message.end()),
                               open->file->key};
        return wait;
      }
      if (status == st::SUCCESS &&
          ::renameat2(old_parent, leaf_of(open->file->path).c_str(), new_parent, new_leaf.c_str(),
                      info->replace_if_exists ? 0u : static_cast<unsigned>(RENAME_NOREPLACE)) != 0)
        status = status_from_errno(errno);
      if (status != st::SUCCESS) return fail(status);
      open->file->path = *target;
      // Persistent opens of the file keep their (new) path in the store.
      for (const Open* o : open->file->opens)
        if (o->is_persistent) server_.persist(*o);
      // A rename ends other clients' handle caching (smb2.lease.v2_rename).
      for (Open* o : std::vector<Open*>{open->file->opens.begin(), open->file->opens.end()})
        if (o != open && (o->lease == nullptr || o->lease != open->lease) &&
            (caching_of(*o) & wire::lease_state::handle_caching))
          break_caching(*o, caching_of(*o) & ~wire::lease_state::handle_caching);
      return ok;
    }
    case fic::file_disposition_information:
    case fic::file_disposition_information_ex: {
      bool delete_pending = false;
      if (req.file_info_class == fic::file_disposition_information) {
        auto info = fscc::decode_file_disposition_information(req.buffer);
        if (!info) return fail(st::INFO_LENGTH_MISMATCH);
        delete_pending = info->delete_pending;
      } else {
        auto info = fscc::decode_file_disposition_information_ex(req.buffer);
        if (!info) return fail(st::INFO_LENGTH_MISMATCH);
        delete_pending = (info->flags & fscc::disposition_flags::delete_file) != 0;
      }
      if (!(open->granted_access & acc::delete_)) return fail(st::ACCESS_DENIED);
      if (delete_pending) {
        if (open->file->path.empty()) return fail(st::CANNOT_DELETE);
        auto sx = stat_fd(open->fd);
        if (!sx) return fail(sx.error().status);
        if (sx->file_attributes & wire::file_attributes::readonly) return fail(st::CANNOT_DELETE);
        if (open->is_directory()) {
          auto empty = directory_is_empty(open->fd);
          if (!empty) return fail(empty.error().status);
          if (!*empty) return fail(st::DIRECTORY_NOT_EMPTY);
        }
      }
      open->file->delete_pending = delete_pending;
      return ok;
    }
    case fic::file_end_of_file_information:
    case fic::file_allocation_information: {
      std::uint64_t size = 0;
      bool only_shrink = false;
      if (req.file_info_class == fic::file_end_of_file_information) {
        auto info = fscc::decode_file_end_of_file_information(req.buffer);
        if (!info) return fail(st::INFO_LENGTH_MISMATCH);
        size = info->end_of_file;
      } else {
        auto info = fscc::decode_file_allocation_information(req.buffer);
        if (!info) return fail(st::INFO_LENGTH_MISMATCH);
        size = info->allocation_size;
        only_shrink = true;  // allocation below the end of file truncates (MS-FSA 2.1.5.14.1)
      }
      if (open->is_directory()) return fail(st::INVALID_PARAMETER);
      if (!(open->granted_access & acc::write_data)) return fail(st::ACCESS_DENIED);
      if (size > static_cast<std::uint64_t>(INT64_MAX)) return fail(st::INVALID_PARAMETER);
      if (only_shrink) {
        auto sx = stat_fd(open->fd);
        if (!sx) return fail(sx.error().status);
        if (size >= sx->end_of_file) return ok;
      }
      break_read_caching(*open);
      if (::ftruncate(open->fd, static_cast<off_t>(size)) != 0) return fail(status_from_errno(errno));
      return ok;
    }
    case fic::file_full_ea_information: {
      // MS-SMB2 3.3.5.21.1, MS-FSA 2.1.5.14.2: FILE_WRITE_EA needed; an
      // entry with no value removes that EA.
      if (!(open->granted_access & acc::write_ea)) return fail(st::ACCESS_DENIED);
      if (share.config.readonly) return fail(st::ACCESS_DENIED);
      auto info = fscc::decode_file_full_ea_information(req.buffer);
      if (!info || info->entries.empty()) return fail(st::EA_LIST_INCONSISTENT);
      if (const auto status = ea::apply(open->fd, *info); status != st::SUCCESS) return fail(status);
      return ok;
    }
    case fic::file_position_information: {
      auto info = fscc::decode_file_position_information(req.buffer);
      if (!info) return fail(st::INFO_LENGTH_MISMATCH);
      open->position = info->current_byte_offset;
      return ok;
    }
    case fic::file_mode_information: {
      auto info = fscc::decode_file_mode_information(req.buffer);
      if (!info) return fail(st::INFO_LENGTH_MISMATCH);
      open->mode = info->mode;
      return ok;
    }
    case fic::file_link_information: {
      // MS-FSA 2.1.5.14.6: another name for the open file, in the same
      // share; directories have none.
      auto info = fscc::decode_file_link_information(req.buffer);
      if (!info) return fail(st::INFO_LENGTH_MISMATCH);
      if (info->root_directory != 0) return fail(st::INVALID_PARAMETER);
      if (share.config.readonly) return fail(st::ACCESS_DENIED);  // no name is added to a read-only share
      auto sx = stat_fd(open->fd);
      if (!sx) return fail(sx.error().status);
      if (sx->is_directory) return fail(st::FILE_IS_A_DIRECTORY);
      auto target = map_wire_path(info->file_name, true);
      if (!target) return fail(target.error().status);
      if (target->empty() || open->file->path.empty()) return fail(st::ACCESS_DENIED);
      const ParentDirs dirs{share.root_fd, open->file->path, *target};
      if (dirs.status() != st::SUCCESS) return fail(dirs.status());
      const int old_parent = dirs.from();
      const int new_parent = dirs.to();
      const std::string new_leaf = leaf_of(*target);
      wire::NtStatus status = st::SUCCESS;
      bool already = false;
      if (auto existing = stat_at(new_parent, new_leaf)) {
        // As for a rename (MS-FSA 2.1.5.14.11): no replacing without
        // ReplaceIfExists, nor a directory or an open file.
        if (existing->device == sx->device && existing->inode == sx->inode && info->replace_if_exists)
          already = true;
        else if (!info->replace_if_exists) status = st::OBJECT_NAME_COLLISION;
        else if (existing->is_directory) status = st::ACCESS_DENIED;
        else if (server_.find_file_state({existing->device, existing->inode}) != nullptr) status = st::ACCESS_DENIED;
        else if (::unlinkat(new_parent, new_leaf.c_str(), 0) != 0) status = status_from_errno(errno);
      }
      // By the names, both below the share root (the open's fd may be O_PATH).
      if (status == st::SUCCESS && !already &&
          ::linkat(old_parent, leaf_of(open->file->path).c_str(), new_parent, new_leaf.c_str(), 0) != 0)
        status = status_from_errno(errno);
      if (status != st::SUCCESS) return fail(status);
      return ok;
    }
    default:
      return fail(st::INVALID_INFO_CLASS);
  }
}

}  // namespace smbx::server
