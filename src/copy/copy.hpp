// The offload copy engine (DESIGN.md: src/copy): copies a byte range from one
// open file to another without moving the data through the client when the
// server can do it. It tries, in order,
//   1. ODX: FSCTL_OFFLOAD_READ on the source for a token, FSCTL_OFFLOAD_WRITE on
//      the target with it (MS-FSCC 2.3.41-2.3.44; offload-copy.md §2);
//   2. server-side copy chunks: FSCTL_SRV_REQUEST_RESUME_KEY on the source,
//      FSCTL_SRV_COPYCHUNK(_WRITE) on the target (MS-SMB2 3.2.4.20.2; §3);
//   3. a pipelined READ/WRITE stream through the client,
// and remembers per server what refused, so the next copy starts with what works.
//
// Everything runs on the engine's io_context thread (DESIGN.md, Concurrency).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "smbx/client.hpp"
#include "smbx/expected.hpp"
#include "smbx/file.hpp"

namespace smbx::copy {

enum class Method : std::uint8_t { automatic, odx, copychunk, stream };

// "auto", "odx", "copychunk", "stream".
std::string_view method_name(Method method) noexcept;
std::optional<Method> parse_method(std::string_view name) noexcept;

// What each server refused so far, keyed by server (host:port, File::server_key).
// A method that failed with "not supported" (INVALID_DEVICE_REQUEST,
// NOT_SUPPORTED, OFFLOAD_*_NOT_SUPPORTED, DEVICE_FEATURE_NOT_SUPPORTED) is not
// tried again on that server; a transient failure (INVALID_TOKEN, a lock
// conflict, any other status) is not remembered. Not thread-safe: one per
// engine thread (a mount keeps one for its life, cp-offload one per run).
class MethodMemory {
 public:
  bool refused(const std::string& server, Method method) const;
  void note_refused(const std::string& server, Method method);

 private:
  std::map<std::string, unsigned> refused_;  // server -> bit per Method
};

struct CopyOptions {
  // automatic: ODX -> copychunk -> stream. A method that fails with any
  // status (or an answer that makes no sense) hands the rest of the copy,
  // from exactly where it stopped, to the next; only a transport/session
  // failure ends the copy. ODX is tried only when both offsets are multiples
  // of 4096 (its unaligned tail goes to the next method unless it ends at the
  // source's end of file). odx / copychunk: only that method, every failure
  // is returned (ErrorKind::status with the server's NTSTATUS). stream:
  // READ/WRITE only.
  Method method = Method::automatic;
  unsigned depth = 4;                        // requests (ODX ranges, copychunk requests, 1 MiB READ+WRITE pieces) in flight; 0 counts as 1
  std::uint64_t odx_range = 256ull << 20;    // CopyLength per FSCTL_OFFLOAD_READ (rounded down to 4096)
  ProgressFn progress;                       // bytes copied so far, total; after each completed request
};

struct CopyStats {
  // The method that copied the most bytes (ties: odx, copychunk, stream);
  // when nothing was copied, the first one the copy would have tried.
  Method method = Method::stream;
  std::uint64_t bytes_copied = 0;
  std::uint64_t bytes_through_client = 0; // READ + WRITE payload the copy moved itself
  std::uint64_t odx_bytes = 0;
  std::uint64_t copychunk_bytes = 0;
  std::uint64_t stream_bytes = 0;
  std::chrono::nanoseconds elapsed{};
};

// Copies `length` bytes from `source` at `source_offset` to `target` at
// `target_offset` (a short source copies up to its end of file; bytes_copied
// says how many). ODX and copychunk need both files on the same server (ODX)
// or the same session (copychunk); otherwise automatic goes straight to the
// stream and odx/copychunk fail with ErrorKind::usage. The target grows as
// written; it is never truncated.
boost::asio::awaitable<Expected<CopyStats>> copy_range(File& source, File& target, std::uint64_t source_offset,
                                                       std::uint64_t target_offset, std::uint64_t length,
                                                       CopyOptions options, MethodMemory& memory);

// The whole source onto the target from offset 0; the target's size is set to
// the source's afterwards (so an existing longer target is cut; to
// bytes_copied if the source shrank meanwhile). With ODX the target gets that
// size before the first OFFLOAD_WRITE (Windows refuses one past the end of file).
boost::asio::awaitable<Expected<CopyStats>> copy_file(File& source, File& target, CopyOptions options,
                                                      MethodMemory& memory);

}  // namespace smbx::copy
