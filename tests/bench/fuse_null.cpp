// fuse_null MOUNTPOINT: a FUSE filesystem that keeps no data, for
// tests/bench/mount.sh's "FUSE floor" column. Files have names and sizes
// only: a WRITE is answered at once and its bytes dropped, a READ returns
// zeros. So fio or dd through it pays what the kernel's FUSE path costs
// (the copy into the page cache, the request round trip, the daemon's read
// from /dev/fuse) and nothing else: the fastest a FUSE client set up as
// mount.smbx sets up its own session (one thread, 1 MiB requests, no
// splice) can be on this machine. Stays in the foreground;
// `umount MOUNTPOINT` ends it. One flat directory, not listed: no mkdir,
// rename nor readdir.
#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace {

constexpr unsigned kMaxIo = 1u << 20;  // as mount.smbx: FUSE's largest request

struct File {
  fuse_ino_t ino = 0;
  off_t size = 0;
};

struct Tree {
  std::map<std::string, File> by_name;
  std::map<fuse_ino_t, std::string> by_ino;
  fuse_ino_t next_ino = FUSE_ROOT_ID + 1;
  std::vector<char> zeros = std::vector<char>(kMaxIo, 0);

  File* find(fuse_ino_t ino) {
    auto it = by_ino.find(ino);
    if (it == by_ino.end()) return nullptr;
    auto file = by_name.find(it->second);
    return file == by_name.end() ? nullptr : &file->second;
  }
};

Tree& tree(fuse_req_t req) { return *static_cast<Tree*>(fuse_req_userdata(req)); }

struct stat attributes(fuse_ino_t ino, const File* file) {
  struct stat st {};
  st.st_ino = ino;
  if (file == nullptr) {
    st.st_mode = S_IFDIR | 0777;
    st.st_nlink = 2;
  } else {
    st.st_mode = S_IFREG | 0666;
    st.st_nlink = 1;
    st.st_size = file->size;
    st.st_blocks = (file->size + 511) / 512;
  }
  return st;
}

void reply_entry(fuse_req_t req, const File& file, fuse_file_info* fi) {
  fuse_entry_param e{};
  e.ino = file.ino;
  e.attr = attributes(file.ino, &file);
  e.attr_timeout = 1.0;
  e.entry_timeout = 1.0;
  if (fi != nullptr)
    fuse_reply_create(req, &e, fi);
  else
    fuse_reply_entry(req, &e);
}

void ll_init(void*, fuse_conn_info* conn) {
  conn->want &= ~static_cast<unsigned>(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE);
  if ((conn->capable & FUSE_CAP_ASYNC_READ) != 0) conn->want |= FUSE_CAP_ASYNC_READ;
  if ((conn->capable & FUSE_CAP_ATOMIC_O_TRUNC) != 0) conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
  conn->max_write = kMaxIo;
  conn->max_background = 64;
  conn->congestion_threshold = 48;
}

void ll_lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  auto& t = tree(req);
  auto it = t.by_name.find(name);
  if (parent != FUSE_ROOT_ID || it == t.by_name.end()) {
    fuse_reply_err(req, ENOENT);
    return;
  }
  reply_entry(req, it->second, nullptr);
}

void ll_getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
  auto* file = tree(req).find(ino);
  if (ino != FUSE_ROOT_ID && file == nullptr) {
    fuse_reply_err(req, ENOENT);
    return;
  }
  const auto st = attributes(ino, file);
  fuse_reply_attr(req, &st, 1.0);
}

void ll_setattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set, fuse_file_info*) {
  auto* file = tree(req).find(ino);
  if (file == nullptr) {
    fuse_reply_err(req, ino == FUSE_ROOT_ID ? EPERM : ENOENT);
    return;
  }
  if ((to_set & FUSE_SET_ATTR_SIZE) != 0) file->size = attr->st_size;
  const auto st = attributes(ino, file);
  fuse_reply_attr(req, &st, 1.0);
}

void ll_create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t, fuse_file_info* fi) {
  auto& t = tree(req);
  if (parent != FUSE_ROOT_ID) {
    fuse_reply_err(req, ENOENT);
    return;
  }
  auto [it, made] = t.by_name.try_emplace(name);
  if (made) {
    it->second.ino = t.next_ino++;
    t.by_ino[it->second.ino] = name;
  } else if ((fi->flags & O_EXCL) != 0) {
    fuse_reply_err(req, EEXIST);
    return;
  }
  if ((fi->flags & O_TRUNC) != 0) it->second.size = 0;
  reply_entry(req, it->second, fi);
}

void ll_open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  auto* file = tree(req).find(ino);
  if (file == nullptr) {
    fuse_reply_err(req, ino == FUSE_ROOT_ID ? EISDIR : ENOENT);
    return;
  }
  if ((fi->flags & O_TRUNC) != 0) file->size = 0;
  fuse_reply_open(req, fi);
}

void ll_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info*) {
  auto& t = tree(req);
  auto* file = t.find(ino);
  if (file == nullptr) {
    fuse_reply_err(req, EBADF);
    return;
  }
  const off_t left = std::max<off_t>(0, file->size - off);
  fuse_reply_buf(req, t.zeros.data(), std::min({size, static_cast<size_t>(left), t.zeros.size()}));
}

void ll_write(fuse_req_t req, fuse_ino_t ino, const char*, size_t size, off_t off, fuse_file_info*) {
  auto* file = tree(req).find(ino);
  if (file == nullptr) {
    fuse_reply_err(req, EBADF);
    return;
  }
  file->size = std::max(file->size, off + static_cast<off_t>(size));
  fuse_reply_write(req, size);
}

void ll_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t length, fuse_file_info*) {
  auto* file = tree(req).find(ino);
  if (file == nullptr) {
    fuse_reply_err(req, EBADF);
    return;
  }
  if ((mode & FALLOC_FL_KEEP_SIZE) == 0) file->size = std::max(file->size, off + length);
  fuse_reply_err(req, 0);
}

void ll_unlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
  auto& t = tree(req);
  auto it = t.by_name.find(name);
  if (parent != FUSE_ROOT_ID || it == t.by_name.end()) {
    fuse_reply_err(req, ENOENT);
    return;
  }
  t.by_ino.erase(it->second.ino);
  t.by_name.erase(it);
  fuse_reply_err(req, 0);
}

void ll_nothing(fuse_req_t req, fuse_ino_t, fuse_file_info*) { fuse_reply_err(req, 0); }
void ll_fsync(fuse_req_t req, fuse_ino_t, int, fuse_file_info*) { fuse_reply_err(req, 0); }

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuse_null MOUNTPOINT\n");
    return 2;
  }
  fuse_lowlevel_ops ops{};
  ops.init = ll_init;
  ops.lookup = ll_lookup;
  ops.getattr = ll_getattr;
  ops.setattr = ll_setattr;
  ops.create = ll_create;
  ops.open = ll_open;
  ops.read = ll_read;
  ops.write = ll_write;
  ops.fallocate = ll_fallocate;
  ops.unlink = ll_unlink;
  ops.flush = ll_nothing;
  ops.release = ll_nothing;
  ops.fsync = ll_fsync;
  Tree t;
  char program[] = "fuse_null";
  char* args_v[] = {program};
  fuse_args args = FUSE_ARGS_INIT(1, args_v);
  fuse_session* se = fuse_session_new(&args, &ops, sizeof ops, &t);
  fuse_opt_free_args(&args);
  if (se == nullptr) return 1;
  if (fuse_session_mount(se, argv[1]) != 0) {
    fuse_session_destroy(se);
    return 1;
  }
  const int result = fuse_session_loop(se);
  fuse_session_unmount(se);
  fuse_session_destroy(se);
  return result == 0 ? 0 : 1;
}
