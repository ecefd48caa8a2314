#include <doctest/doctest.h>

#include "fs/inode_table.hpp"

using smbx::fs::InodeTable;
using smbx::fs::kRootId;

TEST_CASE("inode table: paths of children and parents") {
  CHECK(InodeTable::child_path("", "a") == "a");
  CHECK(InodeTable::child_path("a", "b") == "a/b");
  CHECK(InodeTable::child_path("a/b", "c d") == "a/b/c d");
  CHECK(InodeTable::parent_path("a/b/c") == "a/b");
  CHECK(InodeTable::parent_path("a") == "");
}

TEST_CASE("inode table: lookup counts and forget") {
  InodeTable t;
  REQUIRE(t.find(kRootId));
  CHECK(t.find(kRootId)->path.empty());
  auto& a = t.lookup("a");
  const auto id = a.id;
  CHECK(id != kRootId);
  CHECK(t.lookup("a").id == id);  // same path, same inode
  CHECK(t.find(id)->lookups == 2);
  t.forget(id, 1);
  REQUIRE(t.find(id));
  t.forget(id, 1);
  CHECK_FALSE(t.find(id));
  CHECK_FALSE(t.find_path("a"));
  // A new lookup makes a new id.
  CHECK(t.lookup("a").id != id);
  // The root stays whatever the kernel forgets.
  t.forget(kRootId, 10);
  CHECK(t.find(kRootId));
}

TEST_CASE("inode table: an open handle keeps a forgotten inode") {
  InodeTable t;
  auto& f = t.lookup("f");
  const auto id = f.id;
  f.open_handles = 1;
  t.forget(id, 1);
  REQUIRE(t.find(id));
  t.find(id)->open_handles = 0;
  t.drop_if_unused(id);
  CHECK_FALSE(t.find(id));
}

TEST_CASE("inode table: lease keys are distinct and find their inode") {
  InodeTable t;
  auto& a = t.lookup("a");
  auto& b = t.lookup("b");
  CHECK(a.lease_key != b.lease_key);
  const auto key = a.lease_key;
  const auto id = a.id;
  REQUIRE(t.find_lease(key));
  CHECK(t.find_lease(key)->id == id);
  t.forget(id, 1);
  CHECK_FALSE(t.find_lease(key));
}

TEST_CASE("inode table: rename moves the whole subtree") {
  InodeTable t;
  const auto d = t.lookup("d").id;
  const auto f = t.lookup("d/f").id;
  const auto g = t.lookup("d/sub/g").id;
  const auto sibling = t.lookup("d-x").id;  // sorts between "d" and "d/..."
  const auto other = t.lookup("dd/f").id;
  t.rename("d", "e/new");
  CHECK(t.find(d)->path == "e/new");
  CHECK(t.find(f)->path == "e/new/f");
  CHECK(t.find(g)->path == "e/new/sub/g");
  CHECK(t.find(sibling)->path == "d-x");
  CHECK(t.find(other)->path == "dd/f");
  CHECK(t.find_path("e/new/sub/g")->id == g);
  CHECK_FALSE(t.find_path("d"));
  CHECK_FALSE(t.find_path("d/f"));
}

TEST_CASE("inode table: rename over an existing name detaches the old inode") {
  InodeTable t;
  const auto src = t.lookup("src").id;
  auto& dst = t.lookup("dst");
  const auto old = dst.id;
  dst.open_handles = 1;
  t.rename("src", "dst");
  CHECK(t.find_path("dst")->id == src);
  REQUIRE(t.find(old));  // still referenced by the kernel and a handle
  CHECK(t.find(old)->detached);
  t.forget(old, 1);
  t.find(old)->open_handles = 0;
  t.drop_if_unused(old);
  CHECK_FALSE(t.find(old));
  // Dropping the detached inode must not unmap the new owner of the path.
  CHECK(t.find_path("dst")->id == src);
}

TEST_CASE("inode table: unlink detaches, a new file at the same path is a new inode") {
  InodeTable t;
  const auto a = t.lookup("a").id;
  t.detach_path("a");
  REQUIRE(t.find(a));
  CHECK(t.find(a)->detached);
  CHECK_FALSE(t.find_path("a"));
  const auto a2 = t.lookup("a").id;
  CHECK(a2 != a);
  t.forget(a, 1);
  CHECK_FALSE(t.find(a));
  CHECK(t.find_path("a")->id == a2);
}

TEST_CASE("inode table: an unreferenced inode goes on detach") {
  InodeTable t;
  const auto id = t.ensure("x").id;
  CHECK(t.find(id));
  t.detach_path("x");
  CHECK_FALSE(t.find(id));
  CHECK(t.size() == 1);
}

TEST_CASE("inode table: the names of one server file (hard links)") {
  InodeTable t;
  auto& a = t.lookup("a");
  auto& b = t.lookup("b");
  auto& c = t.lookup("c");
  const auto ia = a.id, ib = b.id, ic = c.id;
  CHECK(t.same_file(ia).empty());  // st_ino unknown: nothing matches
  t.find(ia)->st_ino = 77;
  t.find(ib)->st_ino = 77;
  t.find(ic)->st_ino = 78;
  REQUIRE(t.same_file(ia).size() == 1);
  CHECK(t.same_file(ia).front() == ib);
  CHECK(t.same_file(ib).front() == ia);
  CHECK(t.same_file(ic).empty());
  CHECK(t.same_file(12345).empty());  // no such inode
}

TEST_CASE("inode table: a silly-renamed file keeps its inode under the hidden name") {
  InodeTable t;
  auto& f = t.lookup("d/f");
  const auto id = f.id;
  f.open_handles = 1;
  t.rename("d/f", "d/.smbx-deleted-0123456789abcdef");
  t.detach_path("d/.smbx-deleted-0123456789abcdef");
  REQUIRE(t.find(id));
  CHECK(t.find(id)->detached);
  CHECK_FALSE(t.find_path("d/f"));
  CHECK(t.ensure("d/f").id != id);  // the name is free for a new file
}
