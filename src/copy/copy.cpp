// The offload copy engine (copy.hpp). Each method is a stage that takes the
// ranges still to copy, copies what it can with up to `depth` workers (one
// request each in flight) and hands what it left to the next stage:
// ODX -> copy chunks -> stream (offload-copy.md §2.7). The arithmetic lives in
// plan.cpp.
#include "copy/copy.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>
#include <exception>
#include <utility>
#include <vector>

#include "copy/plan.hpp"
#include "wire/create.hpp"
#include "wire/fsctl.hpp"
#include "wire/ioctl.hpp"
#include "wire/ntstatus.hpp"

// g++ 12 at -O2 reports -Wmismatched-new-delete for asio::awaitable frames, which
// pair awaitable_frame_base's own operator new and delete: a false positive, so
// it is off in the files that define coroutines.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace smbx::copy {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

std::string_view method_name(Method method) noexcept {
  switch (method) {
    case Method::automatic:
      return "auto";
    case Method::odx:
      return "odx";
    case Method::copychunk:
      return "copychunk";
    case Method::stream:
      return "stream";
  }
  return "auto";
}

std::optional<Method> parse_method(std::string_view name) noexcept {
  for (auto m : {Method::automatic, Method::odx, Method::copychunk, Method::stream})
    if (name == method_name(m)) return m;
  return std::nullopt;
}

namespace {
unsigned method_bit(Method method) noexcept { return 1u << static_cast<unsigned>(method); }
}  // namespace

bool MethodMemory::refused(const std::string& server, Method method) const {
  const auto found = refused_.find(server);
  return found != refused_.end() && (found->second & method_bit(method)) != 0;
}

void MethodMemory::note_refused(const std::string& server, Method method) {
  refused_[server] |= method_bit(method);
}

namespace {

// OFFLOAD_READ again after STATUS_INVALID_TOKEN (the source changed or the
// token expired between read and write, offload-copy.md §2.6), per piece.
constexpr unsigned kTokenRetries = 2;
// Limits responses believed per copy: each one shrinks the limits, so a
// server that keeps answering with them is not retried forever.
constexpr unsigned kLimitAdoptions = 8;
// A stream piece: one READ and one WRITE at the usual 1 MiB (fewer bytes
// when the server's MaxRead/WriteSize is smaller: File splits them).
constexpr std::size_t kStreamPiece = 1 << 20;
// MaxOutputResponse of each FSCTL: the size of its output structure
// (offload-copy.md §1, "SMB2 IOCTL carriage").
constexpr std::uint32_t kOffloadReadOutput = 528;
constexpr std::uint32_t kOffloadWriteOutput = 16;
constexpr std::uint32_t kResumeKeyOutput = 32;
constexpr std::uint32_t kCopychunkOutput = 12;

Error usage_error(std::string action, std::string detail) {
  return Error{.kind = ErrorKind::usage,
               .wire = WireError::none,
               .status = 0,
               .action = std::move(action),
               .detail = std::move(detail)};
}

Error status_error(std::uint32_t status, std::string action, std::string detail = {}) {
  return Error{.kind = ErrorKind::status,
               .wire = WireError::none,
               .status = status,
               .action = std::move(action),
               .detail = std::move(detail)};
}

// An answer that decodes but makes no sense (no progress): the method is
// abandoned for this copy, as for an undecodable one.
Error bad_answer(std::string action, std::string detail) {
  auto e = wire_error(WireError::bad_value, std::move(detail));
  e.action = std::move(action);
  return e;
}

Error with_action(Error error, std::string action) {
  error.action = std::move(action);
  return error;
}

std::string bytes_text(std::uint64_t offset, std::uint64_t length) {
  return " bytes " + std::to_string(offset) + "+" + std::to_string(length);
}

// What one stage left.
struct Outcome {
  std::vector<Range> left;       // not copied by this method
  std::optional<Error> failure;  // why the method stopped early, if it did
};

// The work of one stage, shared by its workers (all on the engine's thread).
struct Pool {
  std::deque<Range> queue;  // not started
  std::vector<Range> left;  // given up by a worker
  std::optional<Error> failure;
  bool stop = false;  // take no more from the queue

  void fail(const Range& rest, Error error) {
    if (rest.length > 0) left.push_back(rest);
    if (!failure) failure = std::move(error);
    stop = true;
  }
  Outcome outcome() {
    left.insert(left.end(), queue.begin(), queue.end());
    queue.clear();
    return Outcome{coalesce(std::move(left)), std::move(failure)};
  }
};

struct Engine {
  File& source;
  File& target;
  const CopyOptions& options;
  MethodMemory& memory;
  std::string server;  // the source's host:port (MethodMemory's key)
  std::uint64_t source_size = 0;
  std::uint64_t total = 0;       // bytes to copy (the range, cut at the source's end)
  std::uint64_t target_end = 0;  // where the range ends in the target
  bool whole_file = false;       // copy_file: the target's size becomes source_size
  bool target_sized = false;
  CopyStats stats;

  bool strict() const noexcept { return options.method != Method::automatic; }
  unsigned depth() const noexcept { return std::max(1u, options.depth); }

  // After each completed piece.
  void credit(Method method, std::uint64_t n) {
    if (n == 0) return;
    stats.bytes_copied += n;
    if (method == Method::odx) stats.odx_bytes += n;
    if (method == Method::copychunk) stats.copychunk_bytes += n;
    if (method == Method::stream) stats.stream_bytes += n;
    if (options.progress) options.progress(stats.bytes_copied, total);
  }
};

// Runs `workers` coroutines made by `make()` at once on this executor and
// returns when all have finished (an exception in one is rethrown here).
template <class Make>
asio::awaitable<void> run_workers(unsigned workers, Make make) {
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer done{executor, asio::steady_timer::time_point::max()};
  unsigned running = workers;
  std::exception_ptr thrown;
  for (unsigned i = 0; i < workers; ++i) {
    // The handler runs on this thread; `done`, `running` and `thrown` live in
    // this frame, which waits below until the last worker has reported.
    asio::co_spawn(executor, make(), [&](std::exception_ptr e) {
      if (e && !thrown) thrown = e;
      if (--running == 0) done.cancel();
    });
  }
  while (running > 0) co_await done.async_wait(asio::as_tuple(asio::use_awaitable));
  if (thrown) std::rethrow_exception(thrown);
}

// ---- ODX (offload-copy.md §2, MS-FSCC 2.3.41-2.3.44) ----

// Windows refuses an OFFLOAD_WRITE that starts past the target's end of file
// (STATUS_END_OF_FILE, ntifs FSCTL_OFFLOAD_WRITE), so the target is given its
// final size first, once the source has shown that it offloads.
asio::awaitable<Expected<void>> size_target(Engine& e) {
  e.target_sized = true;
  if (!e.whole_file) {
    auto info = co_await e.target.query();
    if (!info) co_return Unexpected{info.error()};
    if (info->size >= e.target_end) co_return Expected<void>{};
  }
  const auto size = e.whole_file ? e.source_size : e.target_end;
  co_return co_await e.target.set_size(size);
}

asio::awaitable<void> odx_piece(Engine& e, Pool& pool, Range rest) {
  unsigned token_retries = 0;
  while (rest.length > 0) {
    const std::string read_action =
        "FSCTL_OFFLOAD_READ on " + e.source.path() + bytes_text(rest.source, rest.length);
    const wire::OffloadReadInput input{
        .flags = 0, .token_time_to_live = 0, .file_offset = rest.source, .copy_length = rest.length};
    const auto input_bytes = wire::fsctl_payload(input);
    auto r = co_await e.source.ioctl(wire::fsctl::offload_read, input_bytes, kOffloadReadOutput);
    if (!r) {
      pool.fail(rest, with_action(r.error(), read_action));
      co_return;
    }
    auto read = wire::decode_offload_read_output(*r);
    if (!read) {
      pool.fail(rest, with_action(read.error(), read_action));
      co_return;
    }
    // §2.6: the token may stand for less than asked; the rest is read again below.
    const auto transfer = std::min(read->transfer_length, rest.length);
    if (transfer == 0) {
      pool.fail(rest, bad_answer(read_action, "TransferLength 0"));
      co_return;
    }
    if (!e.target_sized) {
      auto sized = co_await size_target(e);
      if (!sized) {
        pool.fail(rest, sized.error());
        co_return;
      }
    }
    std::uint64_t written = 0;
    bool read_again = false;
    while (written < transfer) {
      const auto at = advance(rest, written);
      const std::string write_action =
          "FSCTL_OFFLOAD_WRITE on " + e.target.path() + bytes_text(at.target, transfer - written);
      // §2.6: a partial write goes on with the same token from where it stopped.
      const wire::OffloadWriteInput write{.flags = 0,
                                          .file_offset = at.target,
                                          .copy_length = transfer - written,
                                          .transfer_offset = written,
                                          .token = read->token};
      const auto write_bytes = wire::fsctl_payload(write);
      auto w = co_await e.target.ioctl(wire::fsctl::offload_write, write_bytes, kOffloadWriteOutput);
      if (!w) {
        if (w.error().kind == ErrorKind::status && w.error().status == wire::status::INVALID_TOKEN &&
            token_retries < kTokenRetries) {
          ++token_retries;
          read_again = true;
          break;
        }
        pool.fail(at, with_action(w.error(), write_action));
        co_return;
      }
      auto out = wire::decode_offload_write_output(*w);
      if (!out) {
        pool.fail(at, with_action(out.error(), write_action));
        co_return;
      }
      const auto n = std::min(out->length_written, transfer - written);
      if (n == 0) {
        pool.fail(at, bad_answer(write_action, "LengthWritten 0"));
        co_return;
      }
      written += n;
      e.credit(Method::odx, n);
    }
    rest = advance(rest, written);
    if (read_again) continue;
    // §2.2: MS-FSCC and ntifs.h disagree on the flag values, so any flag
    // means "do not offload past this range" (unless ODX was demanded: then
    // the server gets to refuse the next range itself).
    if (read->flags != 0 && !e.strict()) {
      if (rest.length > 0) pool.left.push_back(rest);
      pool.stop = true;
      co_return;
    }
  }
}

asio::awaitable<void> odx_worker(Engine& e, Pool& pool) {
  while (!pool.stop && !pool.queue.empty()) {
    const Range piece = pool.queue.front();
    pool.queue.pop_front();
    co_await odx_piece(e, pool, piece);
  }
}

asio::awaitable<Outcome> run_odx(Engine& e, const std::vector<Range>& work) {
  Pool pool;
  // Pieces of odx_range bytes (kept a multiple of the alignment so that
  // every piece starts aligned).
  const auto piece = std::max(kOdxAlignment, e.options.odx_range - e.options.odx_range % kOdxAlignment);
  for (const auto& r : split(work, piece)) pool.queue.push_back(r);
  // The first piece alone: a server that refuses costs one request, and the
  // target is sized before several OFFLOAD_WRITEs go out.
  if (!pool.queue.empty()) {
    const Range first = pool.queue.front();
    pool.queue.pop_front();
    co_await odx_piece(e, pool, first);
  }
  // Named: g++ 12 and temporaries passed to coroutine by-value parameters.
  auto worker = [&] { return odx_worker(e, pool); };
  if (!pool.stop && !pool.queue.empty()) co_await run_workers(e.depth(), worker);
  co_return pool.outcome();
}

// ---- Server-side copy (offload-copy.md §3, MS-SMB2 3.2.4.20.2) ----

struct ChunkState {
  wire::ResumeKey key{};
  ChunkLimits limits;
  std::uint32_t ctl_code = wire::fsctl::srv_copychunk;
  bool switched = false;  // to COPYCHUNK_WRITE after ACCESS_DENIED
  unsigned adoptions = 0;
};

// MS-SMB2 3.3.5.15.6: FSCTL_SRV_COPYCHUNK also needs read access on the
// target; COPYCHUNK_WRITE is for targets opened without it (3.2.4.20.2.2).
bool target_can_read(const File& target) {
  namespace a = wire::access;
  const auto desired = target.desired_access();
  if ((desired & (a::read_data | a::generic_read | a::generic_all)) != 0) return true;
  return (desired & a::maximum_allowed) != 0 && (target.reply().maximal_access & a::read_data) != 0;
}

asio::awaitable<void> copychunk_request(Engine& e, Pool& pool, ChunkState& s, Range piece,
                                        std::vector<wire::SrvCopychunk> chunks) {
  const auto code = s.ctl_code;
  const std::string action =
      std::string{code == wire::fsctl::srv_copychunk ? "FSCTL_SRV_COPYCHUNK" : "FSCTL_SRV_COPYCHUNK_WRITE"} +
      " to " + e.target.path() + bytes_text(piece.target, piece.length);
  const wire::SrvCopychunkCopy copy{.source_key = s.key, .chunks = chunks};
  const auto input = wire::fsctl_payload(copy);
  auto r = co_await e.target.ioctl_with_status(code, input, kCopychunkOutput);
  if (!r) {
    pool.fail(piece, with_action(r.error(), action));
    co_return;
  }
  std::optional<wire::SrvCopychunkResponse> response;
  if (auto decoded = wire::decode_srv_copychunk_response(r->output)) response = *decoded;
  if (r->status == wire::status::SUCCESS) {
    if (!response) {
      pool.fail(piece, bad_answer(action, "no SRV_COPYCHUNK_RESPONSE"));
      co_return;
    }
    const auto done = std::min<std::uint64_t>(response->total_bytes_written, piece.length);
    e.credit(Method::copychunk, done);
    if (done == 0) {
      pool.fail(piece, bad_answer(action, "the server copied 0 bytes"));
    } else if (done < piece.length) {
      pool.queue.push_front(advance(piece, done));
    }
    co_return;
  }
  if (r->status == wire::status::INVALID_PARAMETER && response) {
    // 3.3.5.15.6.2: the server's limits; 3.2.4.20.2.2: send again within them.
    if (auto adopted = adopt_limits(s.limits, *response, chunks); adopted && s.adoptions < kLimitAdoptions) {
      ++s.adoptions;
      s.limits = *adopted;
      pool.queue.push_front(piece);
      co_return;
    }
    pool.fail(piece,
              status_error(r->status, action,
                           "refused within the server's limits (" + std::to_string(response->chunks_written) +
                               " chunks of " + std::to_string(response->chunk_bytes_written) + " bytes, " +
                               std::to_string(response->total_bytes_written) + " in all)"));
    co_return;
  }
  if (r->status == wire::status::ACCESS_DENIED && code == wire::fsctl::srv_copychunk && !s.switched) {
    s.switched = true;
    s.ctl_code = wire::fsctl::srv_copychunk_write;
    pool.queue.push_front(piece);
    co_return;
  }
  // 3.3.5.15.6.1: what was written before the failure counts; the rest goes
  // to the next method from exactly there.
  const auto done = response ? copychunk_written(chunks, *response) : 0;
  e.credit(Method::copychunk, done);
  pool.fail(advance(piece, done), status_error(r->status, action));
}

asio::awaitable<void> copychunk_worker(Engine& e, Pool& pool, ChunkState& s) {
  while (!pool.stop && !pool.queue.empty()) {
    // Planned when sent, with the limits known then.
    auto chunks = plan_copychunk(pool.queue.front(), s.limits);
    const Range piece = front(pool.queue.front(), total_length(std::span<const wire::SrvCopychunk>{chunks}));
    pool.queue.front() = advance(pool.queue.front(), piece.length);
    if (pool.queue.front().length == 0) pool.queue.pop_front();
    co_await copychunk_request(e, pool, s, piece, std::move(chunks));
  }
}

asio::awaitable<Outcome> run_copychunk(Engine& e, const std::vector<Range>& work) {
  Pool pool;
  for (const auto& r : work) pool.queue.push_back(r);
  ChunkState state;
  state.ctl_code = target_can_read(e.target) ? wire::fsctl::srv_copychunk : wire::fsctl::srv_copychunk_write;
  // 3.2.4.20.2.1: the source's resume key, once.
  const std::string action = "FSCTL_SRV_REQUEST_RESUME_KEY on " + e.source.path();
  auto r = co_await e.source.ioctl(wire::fsctl::srv_request_resume_key, {}, kResumeKeyOutput);
  if (!r) {
    pool.fail({}, with_action(r.error(), action));
    co_return pool.outcome();
  }
  auto key = wire::decode_srv_request_resume_key(*r);
  if (!key) {
    pool.fail({}, with_action(key.error(), action));
    co_return pool.outcome();
  }
  state.key = key->resume_key;
  auto worker = [&] { return copychunk_worker(e, pool, state); };
  co_await run_workers(e.depth(), worker);
  co_return pool.outcome();
}

// ---- Stream: READ and WRITE through the client ----

asio::awaitable<void> stream_worker(Engine& e, Pool& pool) {
  std::vector<std::uint8_t> buffer(kStreamPiece);
  while (!pool.stop && !pool.queue.empty()) {
    const Range piece = pool.queue.front();
    pool.queue.pop_front();
    const auto out = std::span<std::uint8_t>{buffer}.first(static_cast<std::size_t>(piece.length));
    auto n = co_await e.source.read_all(piece.source, out, 2);
    if (!n) {
      pool.fail(piece, n.error());
      co_return;
    }
    e.stats.bytes_through_client += *n;
    if (*n > 0) {
      const std::span<const std::uint8_t> data = out.first(*n);
      auto w = co_await e.target.write(piece.target, data);
      if (!w) {
        pool.fail(piece, w.error());
        co_return;
      }
      e.stats.bytes_through_client += *w;
      e.credit(Method::stream, *w);
    }
    if (*n < piece.length) {
      // The source ended early (it shrank during the copy): nothing past
      // its end is copied, and that is no error.
      pool.stop = true;
      co_return;
    }
  }
}

asio::awaitable<Outcome> run_stream(Engine& e, const std::vector<Range>& work) {
  Pool pool;
  for (const auto& r : split(work, kStreamPiece)) pool.queue.push_back(r);
  auto worker = [&] { return stream_worker(e, pool); };
  co_await run_workers(e.depth(), worker);
  if (!pool.failure) {
    // Stopped at the source's end: nothing is left to copy.
    pool.left.clear();
    pool.queue.clear();
  }
  co_return pool.outcome();
}

asio::awaitable<Outcome> run_stage(Engine& e, Method method, const std::vector<Range>& work) {
  if (method == Method::odx) co_return co_await run_odx(e, work);
  if (method == Method::copychunk) co_return co_await run_copychunk(e, work);
  co_return co_await run_stream(e, work);
}

// The method that copied the most; with nothing copied, the first planned.
Method main_method(const CopyStats& s, Method first) {
  if (s.bytes_copied == 0) return first;
  if (s.odx_bytes >= s.copychunk_bytes && s.odx_bytes >= s.stream_bytes) return Method::odx;
  if (s.copychunk_bytes >= s.stream_bytes) return Method::copychunk;
  return Method::stream;
}

struct Job {
  std::uint64_t source_offset = 0;
  std::uint64_t target_offset = 0;
  std::uint64_t length = 0;
  std::optional<std::uint64_t> source_size;  // known already (copy_file)
  bool whole_file = false;
};

asio::awaitable<Expected<CopyStats>> run(File& source, File& target, const Job& job,
                                         const CopyOptions& options, MethodMemory& memory) {
  const auto start = Clock::now();
  const std::string action = "copy " + source.path() + " to " + target.path();
  if (!source.is_open() || !target.is_open()) co_return Unexpected{usage_error(action, "a handle is closed")};
  Engine e{.source = source,
           .target = target,
           .options = options,
           .memory = memory,
           .server = source.server_key(),
           .source_size = 0,
           .total = 0,
           .target_end = 0,
           .whole_file = job.whole_file,
           .target_sized = false,
           .stats = {}};
  if (job.source_size) {
    e.source_size = *job.source_size;
  } else {
    auto info = co_await source.query();
    if (!info) co_return Unexpected{info.error()};
    e.source_size = info->size;
  }
  e.total = job.source_offset >= e.source_size ? 0 : std::min(job.length, e.source_size - job.source_offset);
  e.target_end = job.target_offset + e.total;

  // Which methods, in order (offload-copy.md §2.7).
  const bool same_server = source.server_key() == target.server_key();
  const bool same_session = source.session_identity() == target.session_identity();
  std::vector<Method> plan;
  switch (options.method) {
    case Method::odx:
      if (!same_server) co_return Unexpected{usage_error(action, "ODX needs both files on the same server")};
      plan = {Method::odx};
      break;
    case Method::copychunk:
      if (!same_session)
        co_return Unexpected{usage_error(action, "server-side copy needs both files in the same session")};
      plan = {Method::copychunk};
      break;
    case Method::stream:
      plan = {Method::stream};
      break;
    case Method::automatic:
      if (same_server && !memory.refused(e.server, Method::odx)) plan.push_back(Method::odx);
      if (same_session && !memory.refused(e.server, Method::copychunk)) plan.push_back(Method::copychunk);
      plan.push_back(Method::stream);
      break;
  }

  std::vector<Range> work;
  if (e.total > 0)
    work.push_back(Range{.source = job.source_offset, .target = job.target_offset, .length = e.total});
  for (const auto method : plan) {
    if (work.empty()) break;
    std::vector<Range> input;
    std::vector<Range> bypass;  // what this method is not asked to copy
    if (method == Method::odx && !e.strict()) {
      for (const auto& r : work) {
        const auto part = odx_part(r, e.source_size);
        if (part.odx) input.push_back(*part.odx);
        if (part.rest) bypass.push_back(*part.rest);
      }
    } else {
      input = work;
    }
    if (input.empty()) continue;
    auto outcome = co_await run_stage(e, method, input);
    if (outcome.failure) {
      const auto failure = classify(*outcome.failure);
      // No method after the stream, none after a demanded one, and none does
      // better on a connection that failed.
      if (e.strict() || method == Method::stream || failure == Failure::fatal)
        co_return Unexpected{*outcome.failure};
      if (failure == Failure::refused) memory.note_refused(e.server, method);
    }
    bypass.insert(bypass.end(), outcome.left.begin(), outcome.left.end());
    work = coalesce(std::move(bypass));
  }
  e.stats.method = main_method(e.stats, plan.front());
  e.stats.elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start);
  co_return e.stats;
}

}  // namespace

asio::awaitable<Expected<CopyStats>> copy_range(File& source, File& target, std::uint64_t source_offset,
                                                std::uint64_t target_offset, std::uint64_t length,
                                                CopyOptions options, MethodMemory& memory) {
  const Job job{.source_offset = source_offset,
                .target_offset = target_offset,
                .length = length,
                .source_size = std::nullopt,
                .whole_file = false};
  co_return co_await run(source, target, job, options, memory);
}

asio::awaitable<Expected<CopyStats>> copy_file(File& source, File& target, CopyOptions options,
                                               MethodMemory& memory) {
  const auto start = Clock::now();
  if (!source.is_open() || !target.is_open())
    co_return Unexpected{usage_error("copy " + source.path() + " to " + target.path(), "a handle is closed")};
  auto info = co_await source.query();
  if (!info) co_return Unexpected{info.error()};
  const Job job{.source_offset = 0,
                .target_offset = 0,
                .length = info->size,
                .source_size = info->size,
                .whole_file = true};
  auto stats = co_await run(source, target, job, options, memory);
  if (!stats) co_return Unexpected{stats.error()};
  // The target ends where the source did (bytes_copied is short of the size
  // queried only when the source shrank meanwhile).
  auto sized = co_await target.set_size(stats->bytes_copied);
  if (!sized) co_return Unexpected{sized.error()};
  stats->elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start);
  co_return stats;
}

}  // namespace smbx::copy
