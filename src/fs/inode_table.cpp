#include "fs/inode_table.hpp"

#include <openssl/rand.h>

#include <random>
#include <vector>

namespace smbx::fs {

namespace {

std::array<std::uint8_t, 16> random_key() {
  std::array<std::uint8_t, 16> key{};
  if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) {
    // A lease key only has to be unique among this client's keys.
    static std::mt19937_64 fallback{std::random_device{}()};
    for (auto& b : key) b = static_cast<std::uint8_t>(fallback());
  }
  return key;
}

bool under(std::string_view path, std::string_view dir) {
  if (dir.empty()) return !path.empty();
  return path.size() > dir.size() && path.substr(0, dir.size()) == dir && path[dir.size()] == '/';
}

}  // namespace

InodeTable::InodeTable(std::string root_path) {
  Inode root;
  root.id = kRootId;
  root.lookups = 1;
  root.lease_key = random_key();
  root.path = std::move(root_path);
  by_path_[root.path] = kRootId;
  index_lease(root);
  by_id_.emplace(kRootId, std::move(root));
}

std::string InodeTable::child_path(std::string_view parent, std::string_view name) {
  if (parent.empty()) return std::string{name};
  std::string out{parent};
  out += '/';
  out += name;
  return out;
}

std::string InodeTable::parent_path(std::string_view path) {
  const auto slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string{} : std::string{path.substr(0, slash)};
}

Inode* InodeTable::find(std::uint64_t id) {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &it->second;
}

const Inode* InodeTable::find(std::uint64_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &it->second;
}

Inode* InodeTable::find_path(const std::string& path) {
  auto it = by_path_.find(path);
  return it == by_path_.end() ? nullptr : find(it->second);
}

Inode* InodeTable::find_lease(const std::array<std::uint8_t, 16>& key) {
  auto it = by_lease_.find(key);
  return it == by_lease_.end() ? nullptr : find(it->second);
}

void InodeTable::index_lease(Inode& inode) { by_lease_[inode.lease_key] = inode.id; }

Inode& InodeTable::ensure(const std::string& path) {
  if (auto* existing = find_path(path)) return *existing;
  Inode inode;
  inode.id = next_id_++;
  inode.path = path;
  inode.lease_key = random_key();
  by_path_[path] = inode.id;
  index_lease(inode);
  auto [it, _] = by_id_.emplace(inode.id, std::move(inode));
  return it->second;
}

Inode& InodeTable::lookup(const std::string& path) {
  auto& inode = ensure(path);
  ++inode.lookups;
  return inode;
}

void InodeTable::forget(std::uint64_t id, std::uint64_t n) {
  auto* inode = find(id);
  if (inode == nullptr) return;
  inode->lookups = n >= inode->lookups ? 0 : inode->lookups - n;
  drop_if_unused(id);
}

void InodeTable::drop_if_unused(std::uint64_t id) {
  if (id == kRootId) return;
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  auto& inode = it->second;
  if (inode.lookups != 0 || inode.open_handles != 0) return;
  if (!inode.detached) {
    auto p = by_path_.find(inode.path);
    if (p != by_path_.end() && p->second == id) by_path_.erase(p);
  }
  auto l = by_lease_.find(inode.lease_key);
  if (l != by_lease_.end() && l->second == id) by_lease_.erase(l);
  by_id_.erase(it);
}

std::vector<std::uint64_t> InodeTable::same_file(std::uint64_t id) const {
  std::vector<std::uint64_t> out;
  const auto* self = find(id);
  if (self == nullptr || self->st_ino == 0) return out;
  for (const auto& [other, inode] : by_id_)
    if (other != id && inode.st_ino == self->st_ino) out.push_back(other);
  return out;
}

void InodeTable::detach(Inode& inode) {
  if (inode.id == kRootId || inode.detached) return;
  auto p = by_path_.find(inode.path);
  if (p != by_path_.end() && p->second == inode.id) by_path_.erase(p);
  inode.detached = true;
  inode.info.reset();
  const auto id = inode.id;
  drop_if_unused(id);
}

void InodeTable::detach_path(const std::string& path) {
  if (auto* inode = find_path(path)) detach(*inode);
}

void InodeTable::rename(const std::string& from, const std::string& to) {
  if (from == to) return;
  if (auto* replaced = find_path(to); replaced != nullptr) {
    // A directory replaced by rename must have been empty; its inode and
    // anything the table still has below it are gone from the namespace.
    std::vector<std::uint64_t> below;
    for (auto it = by_path_.lower_bound(to + "/"); it != by_path_.end() && under(it->first, to); ++it)
      below.push_back(it->second);
    for (auto id : below)
      if (auto* i = find(id)) detach(*i);
    if (auto* again = find_path(to)) detach(*again);
  }
  // Collect first: rewriting keys while walking the range would skip entries.
  std::vector<std::pair<std::string, std::uint64_t>> moved;
  if (auto it = by_path_.find(from); it != by_path_.end()) moved.emplace_back(*it);
  // Every path below `from` starts with "from/": one contiguous range of the map.
  for (auto it = by_path_.lower_bound(from + "/"); it != by_path_.end() && under(it->first, from); ++it)
    moved.emplace_back(*it);
  for (const auto& [old_path, id] : moved) by_path_.erase(old_path);
  for (const auto& [old_path, id] : moved) {
    std::string new_path = to + old_path.substr(from.size());
    if (auto* inode = find(id)) inode->path = new_path;
    by_path_[new_path] = id;
  }
}

}  // namespace smbx::fs
