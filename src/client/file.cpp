// The handle-level API of include/smbx/file.hpp: one SMB2 command per call on
// an open FileId, with READs and WRITEs pipelined like Share::download/upload.
#include "smbx/file.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cctype>
#include <cstring>
#include <deque>
#include <optional>
#include <utility>

#include "client/connection.hpp"
#include "client/ops.hpp"
#include "client/session.hpp"
#include "wire/fscc.hpp"
#include "wire/message.hpp"
#include "wire/ntstatus.hpp"

// g++ 12 at -O2 reports -Wmismatched-new-delete for asio::awaitable frames, which
// pair awaitable_frame_base's own operator new and delete: a false positive, so
// it is off in the files that define coroutines.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace smbx {

namespace asio = boost::asio;
using client::InFlight;
using client::Request;
using client::Tree;
using client::where;

namespace {

// QUERY_INFO and QUERY_DIRECTORY output buffers: 64 KiB, what Windows asks
// for, one credit each. A directory batch of that size holds a few hundred
// entries, so FUSE readdir gets them in steps instead of all at once.
constexpr std::uint32_t kInfoBufferSize = 64 * 1024;

bool dialect_at_least(Tree& tree, wire::Dialect d) {
  return static_cast<std::uint16_t>(tree.connection().negotiated().dialect) >= static_cast<std::uint16_t>(d);
}

Error usage_error(std::string action, std::string detail) {
  return Error{.kind = ErrorKind::usage, .wire = WireError::none, .status = 0, .action = std::move(action),
               .detail = std::move(detail)};
}

// One request; anything but STATUS_SUCCESS is an error naming `action`.
asio::awaitable<Expected<client::Response>> call_ok(Tree& tree, Request request, std::shared_ptr<client::Open> open,
                                                   std::string action) {
  auto r = co_await tree.call(std::move(request), std::move(open));
  if (!r) co_return Unexpected{r.error()};
  if (r->status() != wire::status::SUCCESS) co_return Unexpected{client::status_error(r->status(), std::move(action))};
  co_return std::move(*r);
}

// A File that was closed or moved from: nothing is sent, and its Tree may be gone.
Error closed_handle(std::string_view verb, const std::string& path) {
  return usage_error(std::string{verb} + " " + path, "the handle is closed");
}

// MS-SMB2 3.2.4.19 / 3.3.5.14: on a durable handle (2.1+) each LOCK takes
// the next of 64 buckets and bumps its 4-bit number; a resent LOCK keeps the
// pair (it is in the body Tree::call sends again), so the server applies it once.
void set_lock_sequence(Tree& tree, client::Open& open, wire::LockRequest& req) {
  if (!open.durable || !dialect_at_least(tree, wire::Dialect::smb210)) return;
  const auto bucket = open.next_lock_bucket;
  open.next_lock_bucket = (bucket + 1) % 64;
  open.lock_sequence[bucket] = static_cast<std::uint8_t>((open.lock_sequence[bucket] + 1) & 0x0F);
  req.lock_sequence_index = bucket + 1;
  req.lock_sequence_number = open.lock_sequence[bucket];
}

// A LOCK of one range (MS-SMB2 2.2.26; `flags`: lock_flags, unlock
// included), numbered in the open's lock sequence.
client::Request lock_request(Tree& tree, client::Open& open, std::uint64_t offset, std::uint64_t length,
                             std::uint32_t flags) {
  wire::LockRequest req{.lock_sequence_number = 0, .lock_sequence_index = 0, .file_id = open.file_id,
                        .locks = {wire::LockElement{.offset = offset, .length = length, .flags = flags}}};
  set_lock_sequence(tree, open, req);
  return tree.request(wire::Command::lock, req);
}

std::string range(std::uint64_t offset, std::uint64_t length) {
  return " bytes " + std::to_string(offset) + "+" + std::to_string(length);
}

// The SET_INFO requests of `change` and a QUERY_INFO FileAllInformation on
// `handle` (the related 0xFF.. FileId after a CREATE), appended to `chain`.
// The requests point into `buffers` (SetInfoRequest holds a view): the caller
// keeps it until the chain is answered.
void append_update(Tree& tree, std::vector<Request>& chain, const InfoUpdate& change, std::deque<Bytes>& buffers,
                   const wire::FileId& handle) {
  auto file_id = [&] { return handle; };
  auto set = [&](std::uint8_t info_class, const Bytes& buffer) {
    chain.push_back(tree.request(wire::Command::set_info,
                                 wire::SetInfoRequest{.info_type = wire::info_type::file, .file_info_class = info_class,
                                                      .buffer = buffer, .additional_information = 0,
                                                      .file_id = file_id()}));
  };
  if (change.size) {
    auto& buffer = buffers.emplace_back();
    wire::Writer w{buffer};
    wire::fscc::encode(w, wire::fscc::FileEndOfFileInformation{.end_of_file = *change.size});
    set(wire::fscc::file_info_class::file_end_of_file_information, buffer);
  }
  if (change.basic) {
    const auto& b = *change.basic;
    auto& buffer = buffers.emplace_back();
    wire::Writer w{buffer};
    // MS-FSCC FileBasicInformation: 0 leaves a time or the attributes unchanged.
    wire::fscc::encode(w, wire::fscc::FileBasicInformation{
                              .creation_time = b.creation_time, .last_access_time = b.last_access_time,
                              .last_write_time = b.last_write_time, .change_time = b.change_time,
                              .file_attributes = b.attributes});
    set(wire::fscc::file_info_class::file_basic_information, buffer);
  }
  chain.push_back(tree.request(wire::Command::query_info,
                               wire::QueryInfoRequest{.info_type = wire::info_type::file,
                                                      .file_info_class = wire::fscc::file_info_class::file_all_information,
                                                      .output_buffer_length = 4096, .input_buffer = {},
                                                      .additional_information = 0, .flags = 0, .file_id = file_id()}));
}

// The first failure of a compound's members, else the decoded FileAllInformation
// of member `query`.
Expected<FileInfo> update_result(std::vector<Expected<client::Response>>& responses, std::size_t query,
                                 const std::string& path, const std::string& action) {
  for (auto& r : responses) {
    if (!r) return Unexpected{r.error()};
    if (r->status() != wire::status::SUCCESS) return Unexpected{client::status_error(r->status(), action)};
  }
  if (query >= responses.size()) return Unexpected{usage_error(action, "no QUERY_INFO response")};
  auto q = wire::decode_query_info_response(responses[query]->bytes);
  if (!q) return Unexpected{q.error()};
  auto all = wire::fscc::decode_file_all_information(q->output_buffer);
  if (!all) return Unexpected{all.error()};
  return client::info_from_all(client::base_name(path), *all);
}

}  // namespace

// ---- File --------------------------------------------------------------------

File::File(std::shared_ptr<client::Tree> tree, std::shared_ptr<client::Open> open, OpenReply reply)
    : tree_{std::move(tree)}, path_{open->path}, open_record_{std::move(open)}, reply_{std::move(reply)}, open_{true} {}

File::File(File&& o) noexcept
    : tree_{std::move(o.tree_)},
      path_{std::move(o.path_)},
      open_record_{std::move(o.open_record_)},
      reply_{std::move(o.reply_)},
      open_{std::exchange(o.open_, false)},
      io_size_{o.io_size_},
      io_depth_{o.io_depth_} {}

File& File::operator=(File&& o) noexcept {
  if (this != &o) {
    close_in_background();
    tree_ = std::move(o.tree_);
    path_ = std::move(o.path_);
    open_record_ = std::move(o.open_record_);
    reply_ = std::move(o.reply_);
    open_ = std::exchange(o.open_, false);
    io_size_ = o.io_size_;
    io_depth_ = o.io_depth_;
  }
  return *this;
}

File::~File() { close_in_background(); }

namespace {
asio::awaitable<void> close_detached(std::shared_ptr<client::Tree> tree, std::shared_ptr<client::Open> open) {
  co_await client::close_file(*tree, std::move(open));
}
}  // namespace

void File::close_in_background() noexcept {
  if (!open_ || !tree_) return;
  open_ = false;
  if (tree_->session().state() == client::SessionState::closed || !tree_->executor()) {
    open_record_->closed = true;  // the server closed it with the session
    return;
  }
  try {
    // Detached, holding the Tree (and so the session) until the CLOSE is
    // answered (after a reconnect if need be); the engine's thread runs it.
    // Named arguments: g++ 12 and coroutine by-value parameters.
    auto tree = tree_;
    auto open = open_record_;
    asio::co_spawn(tree_->executor(), close_detached(tree, open), asio::detached);
  } catch (...) {
    // Out of memory: the handle leaks until the session ends, which closes it.
  }
}

asio::awaitable<Expected<std::size_t>> File::read(std::uint64_t offset, std::span<std::uint8_t> out) {
  if (!open_) co_return Unexpected{closed_handle("read", path_)};
  auto& tree = *tree_;
  const std::string action = "read " + where(tree, path_);
  if (out.empty()) co_return std::size_t{0};
  const auto length =
      static_cast<std::uint32_t>(std::min<std::size_t>(out.size(), tree.connection().negotiated().max_read_size));
  wire::ReadRequest req{.padding = static_cast<std::uint8_t>(wire::kReadResponseDataOffset), .flags = 0,
                        .length = length, .offset = offset, .file_id = open_record_->file_id,
                        .minimum_count = 0, .channel = wire::io_channel::none, .remaining_bytes = 0,
                        .read_channel_info = {}};
  auto r = co_await tree.call(tree.request(wire::Command::read, req, length), open_record_);
  if (!r) co_return Unexpected{r.error()};
  if (r->status() == wire::status::END_OF_FILE) co_return std::size_t{0};
  if (r->status() != wire::status::SUCCESS) co_return Unexpected{client::status_error(r->status(), action)};
  auto rsp = wire::decode_read_response(r->bytes);
  if (!rsp) co_return Unexpected{rsp.error()};
  const auto n = std::min<std::size_t>(rsp->data.size(), length);
  std::memcpy(out.data(), rsp->data.data(), n);
  co_return n;
}

namespace {

// The pipelined READ loop of read_all and read_frames (MS-SMB2 3.2.4.1.5): up
// to `depth` READs of at most `chunk` bytes in flight over [offset, offset +
// length). The data of each answer goes, in order, to sink(at, data, response)
// with `at` relative to `offset`. A short read is the end of the file, or a
// server that caps reads: the rest of that range is read before the ones after
// it count. Ends at the end of the file, when all is read, or at the first
// failure.
template <class Sink>
asio::awaitable<Expected<void>> pipelined_read(client::Tree& tree, std::shared_ptr<client::Open> open,
                                               std::string action, std::uint64_t offset, std::size_t length,
                                               std::uint32_t chunk, unsigned depth, Sink& sink) {
  auto read_at = [&](std::uint64_t at, std::uint32_t size) {
    wire::ReadRequest req{.padding = static_cast<std::uint8_t>(wire::kReadResponseDataOffset), .flags = 0,
                          .length = size, .offset = offset + at, .file_id = open->file_id, .minimum_count = 0,
                          .channel = wire::io_channel::none, .remaining_bytes = 0, .read_channel_info = {}};
    return client::in_flight(tree.request(wire::Command::read, req, size), at, size);
  };
  std::size_t next = 0;
  bool at_end = false;
  std::deque<InFlight> queue;
  std::optional<Error> failure;
  while (!failure && !at_end) {
    // submit() waits for credits.
    while (queue.size() < depth && next < length) {
      const auto size = static_cast<std::uint32_t>(std::min<std::size_t>(chunk, length - next));
      queue.push_back(read_at(next, size));
      co_await client::send(tree, open, queue.back());
      next += size;
    }
    if (queue.empty()) break;
    InFlight f = std::move(queue.front());
    queue.pop_front();
    auto r = co_await client::finish(tree, open, f);
    while (true) {
      if (!r) {
        failure = r.error();
        break;
      }
      if (r->status() == wire::status::END_OF_FILE) {
        at_end = true;
        break;
      }
      if (r->status() != wire::status::SUCCESS) {
        failure = client::status_error(r->status(), action);
        break;
      }
      auto rsp = wire::decode_read_response(r->bytes);
      if (!rsp) {
        failure = rsp.error();
        break;
      }
      const auto n = std::min<std::size_t>(rsp->data.size(), f.length);
      sink(static_cast<std::size_t>(f.offset), rsp->data.first(n), *r);
      if (n == f.length) break;
      if (n == 0) {
        at_end = true;
        break;
      }
      f = read_at(f.offset + n, static_cast<std::uint32_t>(f.length - n));
      r = co_await tree.call(f.request, open);
    }
  }
  co_await client::drain(queue);
  if (failure) co_return Unexpected{*failure};
  co_return Expected<void>{};
}

}  // namespace

asio::awaitable<Expected<std::size_t>> File::read_all(std::uint64_t offset, std::span<std::uint8_t> out,
                                                      unsigned depth) {
  if (!open_) co_return Unexpected{closed_handle("read", path_)};
  auto& tree = *tree_;
  std::string action = "read " + where(tree, path_);
  const std::uint32_t chunk = std::max(1u, std::min(io_size_, tree.connection().negotiated().max_read_size));
  std::size_t done = 0;  // bytes of `out` filled from its start, without a gap
  auto copy = [&](std::size_t at, ByteView data, const auto&) {
    std::memcpy(out.data() + at, data.data(), data.size());
    done = at + data.size();
  };
  auto r = co_await pipelined_read(tree, open_record_, std::move(action), offset, out.size(), chunk,
                                   std::max(1u, depth), copy);
  if (!r) co_return Unexpected{r.error()};
  co_return done;
}

// As read_all, but the data stays in the received frames (no copy, no buffer
// of the caller's): the pieces point into `frames`, which keep them alive.
asio::awaitable<Expected<ReadData>> File::read_frames(std::uint64_t offset, std::size_t length, unsigned depth) {
  if (!open_) co_return Unexpected{closed_handle("read", path_)};
  auto& tree = *tree_;
  std::string action = "read " + where(tree, path_);
  const std::uint32_t chunk = std::max(1u, std::min(io_size_, tree.connection().negotiated().max_read_size));
  ReadData out;
  auto keep = [&](std::size_t, ByteView data, const auto& response) {
    if (data.empty()) return;
    out.frames.push_back(response.frame);
    out.pieces.emplace_back(data.data(), data.size());
    out.size += data.size();
  };
  auto r = co_await pipelined_read(tree, open_record_, std::move(action), offset, length, chunk,
                                   std::max(1u, depth), keep);
  if (!r) co_return Unexpected{r.error()};
  co_return out;
}

asio::awaitable<Expected<std::size_t>> File::write(std::uint64_t offset, std::span<const std::uint8_t> data,
                                                   bool write_through) {
  if (!open_) co_return Unexpected{closed_handle("write", path_)};
  auto& tree = *tree_;
  const std::string action = "write " + where(tree, path_);
  if (data.empty()) co_return std::size_t{0};
  const std::uint32_t chunk = std::max(1u, std::min(io_size_, tree.connection().negotiated().max_write_size));
  auto open = open_record_;
  // MS-SMB2 2.2.21: SMB2_WRITEFLAG_WRITE_THROUGH exists from 2.1 on.
  const std::uint32_t flags =
      write_through && dialect_at_least(tree, wire::Dialect::smb210) ? wire::write_flags::write_through : 0;
  // `data` outlives every WRITE of this call, resends included: no copies.
  auto write_at = [&](std::size_t at, std::uint32_t length) {
    wire::WriteRequest req{.offset = offset + at, .file_id = open->file_id, .channel = wire::io_channel::none,
                           .remaining_bytes = 0, .write_channel_info = {}, .flags = flags, .data = {}};
    auto f = client::in_flight(tree.request(wire::Command::write, req, length), at, length);
    f.request.write_data = data.subspan(at, length);
    return f;
  };
  std::size_t next = 0;
  std::size_t written = 0;
  std::deque<InFlight> queue;
  std::optional<Error> failure;
  while (!failure) {
    while (queue.size() < std::max(1u, io_depth_) && next < data.size()) {
      const auto length = static_cast<std::uint32_t>(std::min<std::size_t>(chunk, data.size() - next));
      queue.push_back(write_at(next, length));
      co_await client::send(tree, open, queue.back());
      next += length;
    }
    if (queue.empty()) break;
    InFlight f = std::move(queue.front());
    queue.pop_front();
    auto r = co_await client::finish(tree, open, f);
    while (true) {
      if (!r) {
        failure = r.error();
        break;
      }
      if (r->status() != wire::status::SUCCESS) {
        failure = client::status_error(r->status(), action);
        break;
      }
      auto rsp = wire::decode_write_response(r->bytes);
      if (!rsp) {
        failure = rsp.error();
        break;
      }
      const auto n = std::min(rsp->count, f.length);
      written += n;
      if (n == f.length) break;
      if (n == 0) {
        failure = Error{.kind = ErrorKind::status, .wire = WireError::none, .status = wire::status::DISK_FULL,
                        .action = action,
                        .detail = "the server wrote 0 of " + std::to_string(f.length) + " bytes at offset " +
                                  std::to_string(offset + f.offset)};
        break;
      }
      // A short write: send the rest of this range again.
      f = write_at(static_cast<std::size_t>(f.offset + n), f.length - n);
      r = co_await tree.call(f.request, open);
    }
  }
  co_await client::drain(queue);
  if (failure) co_return Unexpected{*failure};
  co_return written;
}

asio::awaitable<Expected<void>> File::flush() {
  if (!open_) co_return Unexpected{closed_handle("flush", path_)};
  auto& tree = *tree_;
  auto r = co_await call_ok(tree, tree.request(wire::Command::flush,
                                         wire::FlushRequest{.file_id = open_record_->file_id}),
                            open_record_, "flush " + where(tree, path_));
  if (!r) co_return Unexpected{r.error()};
  co_return Expected<void>{};
}

asio::awaitable<Expected<FileInfo>> File::query() {
  if (!open_) co_return Unexpected{closed_handle("stat", path_)};
  auto& tree = *tree_;
  const auto length = std::min(kInfoBufferSize, tree.connection().negotiated().max_transact_size);
  wire::QueryInfoRequest req{.info_type = wire::info_type::file,
                             .file_info_class = wire::fscc::file_info_class::file_all_information,
                             .output_buffer_length = length, .input_buffer = {}, .additional_information = 0,
                             .flags = 0, .file_id = open_record_->file_id};
  auto r = co_await call_ok(tree, tree.request(wire::Command::query_info, req, length), open_record_, "stat " + where(tree, path_));
  if (!r) co_return Unexpected{r.error()};
  auto q = wire::decode_query_info_response(r->bytes);
  if (!q) co_return Unexpected{q.error()};
  auto all = wire::fscc::decode_file_all_information(q->output_buffer);
  if (!all) co_return Unexpected{all.error()};
  co_return client::info_from_all(client::base_name(path_), *all);
}

asio::awaitable<Expected<void>> File::set_size(std::uint64_t size) {
  if (!open_) co_return Unexpected{closed_handle("truncate", path_)};
  Bytes buffer;
  wire::Writer w{buffer};
  wire::fscc::encode(w, wire::fscc::FileEndOfFileInformation{.end_of_file = size});
  co_return co_await client::set_info(*tree_, open_record_,
                                      wire::fscc::file_info_class::file_end_of_file_information, buffer,
                                      "truncate " + where(*tree_, path_) + " to " + std::to_string(size));
}

asio::awaitable<Expected<void>> File::set_allocation(std::uint64_t size) {
  if (!open_) co_return Unexpected{closed_handle("allocate", path_)};
  Bytes buffer;
  wire::Writer w{buffer};
  wire::fscc::encode(w, wire::fscc::FileAllocationInformation{.allocation_size = size});
  co_return co_await client::set_info(*tree_, open_record_,
                                      wire::fscc::file_info_class::file_allocation_information, buffer,
                                      "allocate " + std::to_string(size) + " bytes for " + where(*tree_, path_));
}

asio::awaitable<Expected<void>> File::set_basic(BasicInfoChange change) {
  if (!open_) co_return Unexpected{closed_handle("set times of", path_)};
  Bytes buffer;
  wire::Writer w{buffer};
  // MS-FSCC FileBasicInformation: 0 leaves a time or the attributes unchanged.
  wire::fscc::encode(w, wire::fscc::FileBasicInformation{
                            .creation_time = change.creation_time, .last_access_time = change.last_access_time,
                            .last_write_time = change.last_write_time, .change_time = change.change_time,
                            .file_attributes = change.attributes});
  co_return co_await client::set_info(*tree_, open_record_,
                                      wire::fscc::file_info_class::file_basic_information, buffer,
                                      "set times and attributes of " + where(*tree_, path_));
}

asio::awaitable<Expected<FileInfo>> File::update(InfoUpdate change) {
  if (!open_) co_return Unexpected{closed_handle("change", path_)};
  auto& tree = *tree_;
  std::vector<Request> chain;
  std::deque<Bytes> buffers;
  append_update(tree, chain, change, buffers, open_record_->file_id);
  // Unrelated members, each naming the handle (Tree::call_chain keeps its FileId
  // current): servers run a compound's members in order, and some (smbxd)
  // take a related FileId only from a CREATE before it.
  auto answered = co_await tree.call_chain(std::move(chain), open_record_);
  if (!answered) co_return Unexpected{answered.error()};
  co_return update_result(*answered, answered->size() - 1, path_, "change " + where(tree, path_));
}

asio::awaitable<Expected<void>> File::rename(std::string to, bool replace_if_exists) {
  if (!open_) co_return Unexpected{closed_handle("rename", path_)};
  Bytes buffer;
  wire::Writer w{buffer};
  // MS-FSCC FileRenameInformation (SMB2 form): RootDirectory 0, the name relative to the share root.
  wire::fscc::encode(w, wire::fscc::FileRenameInformation{.replace_if_exists = replace_if_exists,
                                                          .root_directory = 0, .file_name = client::smb_path(to)});
  auto done = co_await client::set_info(*tree_, open_record_,
                                        wire::fscc::file_info_class::file_rename_information, buffer,
                                        "rename " + where(*tree_, path_) + " to " + to);
  if (!done) co_return done;
  // The handle now names the new path (a reclaim or reopen uses it).
  open_record_->name = client::smb_path(to);
  open_record_->path = to;
  path_ = std::move(to);
  co_return Expected<void>{};
}

asio::awaitable<Expected<void>> File::link(std::string to, bool replace_if_exists) {
  if (!open_) co_return Unexpected{closed_handle("link", path_)};
  Bytes buffer;
  wire::Writer w{buffer};
  wire::fscc::encode(w, wire::fscc::FileLinkInformation{.replace_if_exists = replace_if_exists, .root_directory = 0,
                                                        .file_name = client::smb_path(to)});
  co_return co_await client::set_info(*tree_, open_record_,
                                      wire::fscc::file_info_class::file_link_information, buffer,
                                      "link " + where(*tree_, to) + " to " + where(*tree_, path_));
}

asio::awaitable<Expected<void>> File::set_delete_pending(bool pending) {
  if (!open_) co_return Unexpected{closed_handle("delete", path_)};
  Bytes buffer;
  wire::Writer w{buffer};
  wire::fscc::encode(w, wire::fscc::FileDispositionInformation{.delete_pending = pending});
  co_return co_await client::set_info(*tree_, open_record_,
                                      wire::fscc::file_info_class::file_disposition_information, buffer,
                                      std::string{pending ? "delete " : "undelete "} + where(*tree_, path_));
}

asio::awaitable<Expected<void>> File::lock(std::uint64_t offset, std::uint64_t length, LockKind kind, bool wait) {
  if (!open_) co_return Unexpected{closed_handle("lock", path_)};
  auto& tree = *tree_;
  std::uint32_t flags = kind == LockKind::shared ? wire::lock_flags::shared_lock : wire::lock_flags::exclusive_lock;
  if (!wait) flags |= wire::lock_flags::fail_immediately;
  // MS-SMB2 2.2.26: a blocking lock is answered STATUS_PENDING first; the
  // Connection keeps waiting for the final response.
  auto r = co_await call_ok(tree, lock_request(tree, *open_record_, offset, length, flags), open_record_,
                            "lock " + where(tree, path_) + range(offset, length));
  if (!r) co_return Unexpected{r.error()};
  ++open_record_->locks_held;
  co_return Expected<void>{};
}

// ---- a blocking lock that can be withdrawn ----

namespace {

// How long a withdrawn LOCK waits for the server to answer (STATUS_CANCELLED,
// or the grant that crossed the CANCEL) before its caller is told it was
// cancelled anyway: MS-SMB2 3.3.5.16 lets a server leave a request it cannot
// cancel running, and a process must not stay in F_SETLKW after a signal
// until the lock is free. The LOCK is then followed in the background.
constexpr auto kCancelAnswerWait = std::chrono::seconds{2};

// A LOCK's outcome, shared by the caller and the coroutine that sends it.
struct LockOutcome {
  explicit LockOutcome(const asio::any_io_executor& ex) : wake{ex, asio::steady_timer::time_point::max()} {}
  asio::steady_timer wake;  // cancelled when the outcome comes and on LockCancel::cancel
  std::optional<Expected<client::Response>> result;
  bool abandoned = false;  // the caller was told STATUS_CANCELLED and is gone
};

}  // namespace

struct LockCancel::State : client::CallCancel {
  std::weak_ptr<LockOutcome> waiting;
};

LockCancel::LockCancel() : state_{std::make_shared<State>()} {}

void LockCancel::cancel() {
  if (!state_) return;
  state_->cancel();
  if (auto outcome = state_->waiting.lock()) outcome->wake.cancel();
}

bool LockCancel::cancelled() const noexcept { return state_ && state_->cancelled; }

namespace {

// UNLOCK of a range a withdrawn lock may hold; RANGE_NOT_LOCKED is success.
asio::awaitable<Expected<void>> give_back_lock(std::shared_ptr<Tree> tree, std::shared_ptr<client::Open> open,
                                               std::uint64_t offset, std::uint64_t length, std::string action) {
  auto r = co_await tree->call(lock_request(*tree, *open, offset, length, wire::lock_flags::unlock), open);
  if (!r) co_return Unexpected{r.error()};
  if (r->status() == wire::status::RANGE_NOT_LOCKED) co_return Expected<void>{};
  if (r->status() != wire::status::SUCCESS) co_return Unexpected{client::status_error(r->status(), std::move(action))};
  if (open->locks_held > 0) --open->locks_held;
  co_return Expected<void>{};
}

asio::awaitable<void> give_back_in_background(std::shared_ptr<Tree> tree, std::shared_ptr<client::Open> open,
                                              std::uint64_t offset, std::uint64_t length, std::string action) {
  (void)co_await give_back_lock(std::move(tree), std::move(open), offset, length, std::move(action));
}

// Sends the LOCK (Tree::call) and hands its outcome to the caller, or, once
// the caller has given up on it, gives back whatever it got.
asio::awaitable<void> run_lock(std::shared_ptr<Tree> tree, std::shared_ptr<client::Open> open,
                               client::Request request, std::shared_ptr<client::CallCancel> watch,
                               std::shared_ptr<LockOutcome> outcome, std::uint64_t offset, std::uint64_t length,
                               std::string action) {
  auto r = co_await tree->call(std::move(request), open, false, watch);
  if (!outcome->abandoned) {
    outcome->result = std::move(r);
    outcome->wake.cancel();
    co_return;
  }
  const bool granted = r && r->status() == wire::status::SUCCESS;
  // A LOCK lost with its connection may have been granted (its answer lost).
  const bool maybe = !r && watch->maybe_executed;
  if (granted) ++open->locks_held;
  if (granted || maybe) (void)co_await give_back_lock(tree, open, offset, length, action);
}

}  // namespace

// A blocking LOCK (MS-SMB2 3.3.5.14) through Tree::call, which sends its
// CANCEL when `cancel` fires while it waits and does not send it again once
// cancelled (a reconnect must not bring back a lock the caller gave up on).
asio::awaitable<Expected<void>> File::lock(std::uint64_t offset, std::uint64_t length, LockKind kind,
                                           LockCancel cancel) {
  if (!open_) co_return Unexpected{closed_handle("lock", path_)};
  if (!cancel.state_) co_return Unexpected{usage_error("lock " + path_, "a moved-from LockCancel")};
  auto tree = tree_;  // both stay alive across the waits, whatever happens to this File
  auto open = open_record_;
  std::string action = "lock " + where(*tree, path_) + range(offset, length);
  const std::uint32_t flags =
      kind == LockKind::shared ? wire::lock_flags::shared_lock : wire::lock_flags::exclusive_lock;
  // One sequence for every send of this LOCK: a resend the server already
  // applied is answered from its LockSequenceArray (3.3.5.14).
  auto request = lock_request(*tree, *open, offset, length, flags);
  std::shared_ptr<client::CallCancel> watch = cancel.state_;
  auto outcome = std::make_shared<LockOutcome>(tree->executor());
  cancel.state_->waiting = outcome;
  asio::co_spawn(tree->executor(), run_lock(tree, open, std::move(request), watch, outcome, offset, length, action),
                 asio::detached);
  std::optional<std::chrono::steady_clock::time_point> give_up;
  while (!outcome->result) {
    if (watch->cancelled && !give_up) give_up = std::chrono::steady_clock::now() + kCancelAnswerWait;
    if (give_up && std::chrono::steady_clock::now() >= *give_up) {
      // No answer to the CANCEL: the caller goes; run_lock gives back a late grant.
      outcome->abandoned = true;
      co_return Unexpected{client::status_error(wire::status::CANCELLED, std::move(action))};
    }
    outcome->wake.expires_at(give_up ? *give_up : asio::steady_timer::time_point::max());
    boost::system::error_code ec;
    co_await outcome->wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  auto r = std::move(*outcome->result);
  if (!r) {
    Error e = std::move(r).error();
    if (e.kind == ErrorKind::status && e.status == wire::status::CANCELLED) {
      // Withdrawn between sends. A LOCK lost with its connection may have been
      // granted (its answer lost): unlock the range once the session is back.
      if (watch->maybe_executed)
        asio::co_spawn(tree->executor(), give_back_in_background(tree, open, offset, length, action),
                       asio::detached);
      e.action = std::move(action);
    }
    co_return Unexpected{std::move(e)};
  }
  if (r->status() != wire::status::SUCCESS) co_return Unexpected{client::status_error(r->status(), std::move(action))};
  ++open->locks_held;
  if (!watch->cancelled) co_return Expected<void>{};
  // Granted before the CANCEL reached the server: give it back. If that
  // fails the range stays locked, and the caller is told it got the lock.
  auto back = co_await give_back_lock(tree, open, offset, length, action);
  if (!back) co_return Expected<void>{};
  co_return Unexpected{client::status_error(wire::status::CANCELLED, std::move(action))};
}

asio::awaitable<Expected<void>> File::unlock(std::uint64_t offset, std::uint64_t length) {
  if (!open_) co_return Unexpected{closed_handle("unlock", path_)};
  auto& tree = *tree_;
  auto request = lock_request(tree, *open_record_, offset, length, wire::lock_flags::unlock);
  auto r = co_await call_ok(tree, std::move(request), open_record_,
                            "unlock " + where(tree, path_) + range(offset, length));
  if (!r) co_return Unexpected{r.error()};
  if (open_record_->locks_held > 0) --open_record_->locks_held;
  co_return Expected<void>{};
}

asio::awaitable<Expected<std::vector<FileInfo>>> File::read_directory(bool restart, std::string pattern) {
  if (!open_) co_return Unexpected{closed_handle("list", path_)};
  auto& tree = *tree_;
  const std::string action = "list " + where(tree, path_);
  const std::uint32_t length = std::min(kInfoBufferSize, tree.connection().negotiated().max_transact_size);
  std::vector<FileInfo> out;
  // A handle opened again by path after a reconnect (a directory is never
  // durable) starts its enumeration over: skip what was already returned so
  // the caller sees no entry twice.
  std::uint64_t skip = 0;
  if (restart) {
    listed_ = 0;
  } else if (open_record_->reopened_by_path != listing_reopens_) {
    restart = true;
    skip = listed_;
  }
  listing_reopens_ = open_record_->reopened_by_path;
  for (bool first = true;; first = false) {
    wire::QueryDirectoryRequest req{
        .file_information_class = wire::fscc::file_info_class::file_id_both_directory_information,
        .flags = restart && first ? wire::query_directory_flags::restart_scans : std::uint8_t{0}, .file_index = 0,
        .file_id = open_record_->file_id, .file_name = wire::utf16_from_utf8(pattern),
        .output_buffer_length = length};
    auto r = co_await tree.call(tree.request(wire::Command::query_directory, req, length), open_record_);
    if (!r) co_return Unexpected{r.error()};
    if (r->status() == wire::status::NO_MORE_FILES) co_return out;
    if (r->status() != wire::status::SUCCESS) co_return Unexpected{client::status_error(r->status(), action)};
    auto rsp = wire::decode_query_directory_response(r->bytes);
    if (!rsp) co_return Unexpected{rsp.error()};
    auto entries = wire::fscc::decode_directory_entries(req.file_information_class, rsp->output_buffer);
    if (!entries) co_return Unexpected{entries.error()};
    for (const auto& e : *entries) {
      if (e.file_name == u"." || e.file_name == u"..") continue;
      if (skip > 0) {
        --skip;
        continue;
      }
      out.push_back(client::info_from_entry(e));
    }
    // A batch of only "." and ".." (or of entries already returned) is not
    // the end: ask for the next one.
    if (!out.empty()) {
      listed_ += out.size();
      co_return out;
    }
  }
}

asio::awaitable<Expected<std::vector<ExtendedAttribute>>> File::query_eas() {
  if (!open_) co_return Unexpected{closed_handle("list extended attributes of", path_)};
  auto& tree = *tree_;
  const std::uint32_t length = std::min(kInfoBufferSize, tree.connection().negotiated().max_transact_size);
  wire::QueryInfoRequest req{.info_type = wire::info_type::file,
                             .file_info_class = wire::fscc::file_info_class::file_full_ea_information,
                             .output_buffer_length = length, .input_buffer = {}, .additional_information = 0,
                             .flags = wire::query_info_flags::restart_scan,
                             .file_id = open_record_->file_id};
  auto r = co_await tree.call(tree.request(wire::Command::query_info, req, length), open_record_);
  if (!r) co_return Unexpected{r.error()};
  std::vector<ExtendedAttribute> out;
  if (r->status() == wire::status::NO_EAS_ON_FILE) co_return out;
  if (r->status() != wire::status::SUCCESS)
    co_return Unexpected{client::status_error(r->status(), "list extended attributes of " + where(tree, path_))};
  auto q = wire::decode_query_info_response(r->bytes);
  if (!q) co_return Unexpected{q.error()};
  auto eas = wire::fscc::decode_file_full_ea_information(q->output_buffer);
  if (!eas) co_return Unexpected{eas.error()};
  for (const auto& e : eas->entries)
    out.push_back(ExtendedAttribute{.name = e.ea_name, .value = {e.ea_value.begin(), e.ea_value.end()}});
  co_return out;
}

asio::awaitable<Expected<void>> File::set_ea(ExtendedAttribute ea) {
  if (!open_) co_return Unexpected{closed_handle("set an extended attribute of", path_)};
  const std::string action = "set extended attribute " + ea.name + " of " + where(*tree_, path_);
  // MS-FSCC FILE_FULL_EA_INFORMATION: EaNameLength is 8 bits, EaValueLength 16.
  if (ea.name.empty() || ea.name.size() > 255 || ea.value.size() > 65535)
    co_return Unexpected{usage_error(action, "the name must be 1-255 bytes and the value at most 65535")};
  wire::fscc::FileFullEaInformation info;
  info.entries.push_back(wire::fscc::FullEaEntry{.flags = 0, .ea_name = ea.name, .ea_value = ea.value});
  Bytes buffer;
  wire::Writer w{buffer};
  wire::fscc::encode(w, info);
  co_return co_await client::set_info(*tree_, open_record_,
                                      wire::fscc::file_info_class::file_full_ea_information, buffer, action);
}

asio::awaitable<Expected<std::vector<std::uint8_t>>> File::ioctl(std::uint32_t ctl_code,
                                                                 std::span<const std::uint8_t> input,
                                                                 std::uint32_t max_output) {
  auto r = co_await ioctl_with_status(ctl_code, input, max_output);
  if (!r) co_return Unexpected{r.error()};
  if (r->status != wire::status::SUCCESS)
    co_return Unexpected{
        client::status_error(r->status, "FSCTL " + std::to_string(ctl_code) + " on " + where(*tree_, path_))};
  co_return std::move(r->output);
}

asio::awaitable<Expected<IoctlResult>> File::ioctl_with_status(std::uint32_t ctl_code,
                                                              std::span<const std::uint8_t> input,
                                                              std::uint32_t max_output) {
  if (!open_) co_return Unexpected{closed_handle("FSCTL on", path_)};
  auto& tree = *tree_;
  wire::IoctlRequest req{.ctl_code = ctl_code, .file_id = open_record_->file_id, .input = input,
                         .max_input_response = 0, .output = {}, .max_output_response = max_output,
                         .flags = wire::ioctl_flags::is_fsctl};
  auto r = co_await tree.call(tree.request(wire::Command::ioctl, req, std::max<std::uint64_t>(input.size(), max_output)),
                              open_record_);
  if (!r) co_return Unexpected{r.error()};
  IoctlResult result{.status = r->status(), .output = {}};
  // MS-SMB2 3.2.5.1.7 / 3.3.4.4: a failure comes as an ERROR response
  // (StructureSize 9) unless the FSCTL defines output for it, which then
  // comes in an IOCTL response (StructureSize 49). A success must be the latter.
  const bool ioctl_body = r->bytes.size() >= wire::kHeaderSize + 2 &&
                          (r->bytes[wire::kHeaderSize] | (r->bytes[wire::kHeaderSize + 1] << 8)) ==
                              wire::kIoctlResponseStructureSize;
  if (result.status == wire::status::SUCCESS || ioctl_body) {
    auto rsp = wire::decode_ioctl_response(r->bytes);
    // A failure keeps its status even when what came with it is malformed.
    if (!rsp && result.status == wire::status::SUCCESS) co_return Unexpected{rsp.error()};
    if (rsp) result.output.assign(rsp->output.begin(), rsp->output.end());
  }
  co_return result;
}

std::uint32_t File::desired_access() const noexcept { return open_record_ ? open_record_->desired_access : 0; }

std::string File::server_key() const {
  if (!tree_) return {};
  const auto& o = tree_->connection().options();
  // Host names compare without case (RFC 4343).
  std::string host = o.host;
  std::transform(host.begin(), host.end(), host.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return host + ":" + std::to_string(o.port);
}

const void* File::session_identity() const noexcept { return tree_ ? tree_->session_ptr().get() : nullptr; }

asio::awaitable<Expected<void>> File::close() {
  if (!open_) co_return Expected<void>{};
  open_ = false;  // the FileId is not used again, whatever the answer
  auto& tree = *tree_;
  // A CLOSE out when the connection died is sent again on the reclaimed
  // handle; a handle the reconnect could not reclaim is closed already
  // (failover.md 6.4).
  auto r = co_await call_ok(tree, tree.request(wire::Command::close, wire::CloseRequest{
                                                                   .flags = 0,
                                                                   .file_id = open_record_->file_id}),
                            open_record_, "close " + where(tree, path_));
  open_record_->closed = true;
  if (!r && !client::is_lost_handle_error(r.error())) co_return Unexpected{r.error()};
  co_return Expected<void>{};
}

// ---- Files -------------------------------------------------------------------

namespace {

// The CREATE an OpenRequest asks for, before its create contexts.
wire::CreateRequest create_request_of(const OpenRequest& request) {
  wire::CreateRequest req;
  req.desired_access = request.desired_access;
  req.file_attributes = request.attributes;
  req.share_access = request.share_access;
  req.create_disposition = request.disposition;
  req.create_options = request.create_options;
  req.name = client::smb_path(request.path);
  return req;
}

}  // namespace

Files::Files(const Share& share) : tree_{share.tree_}, io_size_{share.io_size_}, io_depth_{share.io_depth_} {}

asio::awaitable<Expected<File>> Files::open(OpenRequest request) {
  auto& tree = *tree_;
  const auto& n = tree.connection().negotiated();
  wire::CreateRequest req = create_request_of(request);
  // MS-SMB2 2.2.13.2.5, 2.2.13.2.9: the maximal access (for access(2) and
  // permission bits) and the on-disk id (the inode number) come with the open.
  req.contexts.emplace_back(wire::QueryMaximalAccessRequest{});
  req.contexts.emplace_back(wire::QueryOnDiskIdRequest{});
  // MS-SMB2 3.2.4.3.8: leases need 2.1+ and a server with SMB2_GLOBAL_CAP_LEASING;
  // 3.x uses the v2 context (epochs, parent key), 2.1 the v1 one.
  const bool lease = request.lease_key && dialect_at_least(tree, wire::Dialect::smb210) &&
                     (n.server_capabilities & wire::global_caps::leasing) != 0;
  auto open = client::make_open_record(request.path, req);
  if (lease) {
    req.requested_oplock_level = wire::oplock::lease;
    open->lease_key = *request.lease_key;
    open->lease_version = wire::is_smb3(n.dialect) ? wire::Lease::Version::v2 : wire::Lease::Version::v1;
    open->lease_state = request.lease_state;
    req.contexts.emplace_back(wire::Lease{.version = open->lease_version, .lease_key = *request.lease_key,
                                          .lease_state = request.lease_state, .flags = 0, .lease_duration = 0,
                                          .parent_lease_key = {}, .epoch = 0});
  }
  // Durable (MS-SMB2 3.2.4.3.5): DH2Q with a new CreateGuid, made before the
  // first send; a replay of this CREATE (Tree::call) carries the same one.
  client::add_durable_request(req, *open, tree, tree.session());
  auto r = co_await tree.call(tree.request(wire::Command::create, req));
  if (!r) co_return Unexpected{r.error()};
  if (r->status() != wire::status::SUCCESS)
    co_return Unexpected{client::status_error(r->status(), "open " + where(tree, request.path))};
  auto rsp = wire::decode_create_response(r->bytes);
  if (!rsp) co_return Unexpected{rsp.error()};
  OpenReply reply;
  reply.info = FileInfo{.name = client::base_name(request.path), .size = rsp->end_of_file,
                        .allocation_size = rsp->allocation_size, .attributes = rsp->file_attributes,
                        .creation_time = rsp->creation_time, .last_access_time = rsp->last_access_time,
                        .last_write_time = rsp->last_write_time, .change_time = rsp->change_time, .file_index = 0,
                        .links = 0};
  reply.create_action = rsp->create_action;
  if (const auto* id = wire::find_context<wire::QueryOnDiskIdResponse>(rsp->contexts)) reply.info.file_index = id->disk_file_id;
  if (const auto* mx = wire::find_context<wire::QueryMaximalAccessResponse>(rsp->contexts);
      mx != nullptr && mx->query_status == wire::status::SUCCESS)
    reply.maximal_access = mx->maximal_access;
  if (const auto* granted = wire::find_context<wire::Lease>(rsp->contexts);
      lease && granted != nullptr && rsp->oplock_level == wire::oplock::lease)
    reply.lease_state = granted->lease_state;
  client::record_create_response(*open, *rsp, lease);
  tree.add_open(open);
  File file{tree_, std::move(open), std::move(reply)};
  file.io_size_ = io_size_;
  file.io_depth_ = io_depth_;
  co_return std::move(file);
}

asio::awaitable<Expected<FileInfo>> Files::update(OpenRequest request, InfoUpdate change) {
  auto& tree = *tree_;
  const auto& n = tree.connection().negotiated();
  wire::CreateRequest req = create_request_of(request);
  // The same lease key as the handles open on the file: none of them is broken.
  if (request.lease_key && dialect_at_least(tree, wire::Dialect::smb210) &&
      (n.server_capabilities & wire::global_caps::leasing) != 0) {
    req.requested_oplock_level = wire::oplock::lease;
    req.contexts.emplace_back(wire::Lease{
        .version = wire::is_smb3(n.dialect) ? wire::Lease::Version::v2 : wire::Lease::Version::v1,
        .lease_key = *request.lease_key, .lease_state = request.lease_state, .flags = 0, .lease_duration = 0,
        .parent_lease_key = {}, .epoch = 0});
  }
  std::vector<Request> chain;
  chain.push_back(tree.request(wire::Command::create, std::move(req)));
  std::deque<Bytes> buffers;
  append_update(tree, chain, change, buffers, wire::FileId::related());
  chain.push_back(tree.request(wire::Command::close, wire::CloseRequest{.flags = 0, .file_id = wire::FileId::related()}));
  for (std::size_t i = 1; i < chain.size(); ++i) chain[i].header.flags |= wire::flags::related_operations;
  auto answered = co_await tree.call_chain(std::move(chain));
  if (!answered) co_return Unexpected{answered.error()};
  co_return update_result(*answered, answered->size() - 2, request.path,
                          (change.size || change.basic ? "change " : "open ") + where(tree, request.path));
}

asio::awaitable<Expected<FsInfo>> Files::fs_info() {
  auto& tree = *tree_;
  const auto related = wire::FileId::related();
  // MS-SMB2 3.2.4.1.4: open the root, query both classes and close it in one
  // related compound (one round trip).
  std::vector<Request> chain;
  chain.push_back(tree.request(wire::Command::create,
                               client::create_request("", client::OpenParams{
                                                              .access = wire::access::read_attributes |
                                                                        wire::access::synchronize,
                                                              .disposition = wire::disposition::open,
                                                              .options = wire::create_options::directory_file,
                                                              .attributes = 0})));
  for (auto cls : {wire::fscc::fs_info_class::file_fs_full_size_information,
                   wire::fscc::fs_info_class::file_fs_attribute_information})
    chain.push_back(tree.request(wire::Command::query_info,
                                 wire::QueryInfoRequest{.info_type = wire::info_type::filesystem,
                                                        .file_info_class = cls, .output_buffer_length = 1024,
                                                        .input_buffer = {}, .additional_information = 0, .flags = 0,
                                                        .file_id = related}));
  chain.push_back(tree.request(wire::Command::close, wire::CloseRequest{.flags = 0, .file_id = related}));
  for (std::size_t i = 1; i < chain.size(); ++i) chain[i].header.flags |= wire::flags::related_operations;
  // Read-only: sent again as a whole after a reconnect.
  auto answered = co_await tree.call_chain(std::move(chain));
  if (!answered) co_return Unexpected{answered.error()};
  auto& responses = *answered;
  for (auto& r : responses) {
    if (!r) co_return Unexpected{r.error()};
    if (r->status() != wire::status::SUCCESS)
      co_return Unexpected{client::status_error(r->status(), "query the file system of " + where(tree, ""))};
  }
  auto size_rsp = wire::decode_query_info_response(responses[1]->bytes);
  if (!size_rsp) co_return Unexpected{size_rsp.error()};
  auto size = wire::fscc::decode_file_fs_full_size_information(size_rsp->output_buffer);
  if (!size) co_return Unexpected{size.error()};
  auto attr_rsp = wire::decode_query_info_response(responses[2]->bytes);
  if (!attr_rsp) co_return Unexpected{attr_rsp.error()};
  auto attr = wire::fscc::decode_file_fs_attribute_information(attr_rsp->output_buffer);
  if (!attr) co_return Unexpected{attr.error()};
  const std::uint64_t unit = std::uint64_t{size->sectors_per_allocation_unit} * size->bytes_per_sector;
  FsInfo info;
  info.total_bytes = size->total_allocation_units * unit;
  info.free_bytes = size->caller_available_allocation_units * unit;
  if (unit != 0 && unit <= 0xFFFF'FFFF) info.block_size = static_cast<std::uint32_t>(unit);
  if (attr->maximum_component_name_length != 0) info.max_name_length = attr->maximum_component_name_length;
  co_return info;
}

void Files::on_lease_break(std::function<void(const LeaseBreak&)> handler) {
  // Kept by the Session, which decodes the notifications of every connection
  // it uses (recovery replaces the connection) and adds the synthetic breaks
  // of leases that a reconnect gave back weaker.
  tree_->session().set_lease_handler(std::move(handler));
}

asio::awaitable<Expected<void>> Files::acknowledge_break(LeaseKey key, std::uint32_t state) {
  auto& tree = *tree_;
  // MS-SMB2 2.2.24.2 / 3.2.4.25: the state is a subset of the NewLeaseState.
  wire::LeaseBreakAck ack{.flags = 0, .lease_key = key, .lease_state = state, .lease_duration = 0};
  auto r = co_await tree.call(tree.request(wire::Command::oplock_break, ack));
  if (!r) co_return Unexpected{r.error()};
  const auto status = r->status();
  // MS-SMB2 3.3.5.22.2: the lease is gone (its last open closed) or no break
  // is in progress any more (it timed out): nothing is left to acknowledge.
  if (status == wire::status::SUCCESS || status == wire::status::OBJECT_NAME_NOT_FOUND ||
      status == wire::status::UNSUCCESSFUL)
    co_return Expected<void>{};
  co_return Unexpected{client::status_error(status, "acknowledge a lease break on " + where(tree, ""))};
}

ConnectionInfo Files::info() const { return client::connection_info(tree_->session()); }

FailoverStats Files::failover() const {
  const auto& s = tree_->session();
  const auto& c = s.counters();
  return FailoverStats{.reconnects = c.reconnects, .handles_reopened = c.handles_reopened,
                       .handles_lost = c.handles_lost, .requests_replayed = c.requests_replayed,
                       .recovering = s.state() == client::SessionState::recovering};
}

}  // namespace smbx
