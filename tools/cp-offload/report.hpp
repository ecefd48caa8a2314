// What cp-offload shows while and after copying: a progress line on stderr
// (--progress) and the statistics of each file and of the run (--stats).
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>

namespace smbx::cpo {

// How one file was copied.
struct FileResult {
  std::string method;                          // "odx", "copychunk", "stream"
  std::uint64_t bytes_copied = 0;
  std::uint64_t bytes_through_client = 0;      // READ/WRITE payload the copy moved itself
  std::optional<std::uint64_t> wire_sent;      // SMB bytes sent during the copy (all frames)
  std::optional<std::uint64_t> wire_received;  // and received
  std::chrono::nanoseconds elapsed{};
};

// One line per file on stderr: redrawn in place (at most ten times a second)
// when stderr is a terminal, else a plain line at most once a second and one
// at the end.
class Progress {
 public:
  explicit Progress(bool enabled);
  void start(std::string label);
  void update(std::uint64_t done, std::uint64_t total);
  void finish();

 private:
  void draw(bool final_line);
  bool enabled_;
  bool tty_;
  std::string label_;
  std::chrono::steady_clock::time_point start_{};
  std::chrono::steady_clock::time_point last_{};
  std::uint64_t done_ = 0;
  std::uint64_t total_ = 0;
  bool drawn_ = false;
};

// "12.3 MiB/s"
std::string format_rate(std::uint64_t bytes, std::chrono::nanoseconds elapsed);

// Prints a file's statistics to `out`:
//   SRC -> DST
//     method: odx
//     bytes copied: N
//     bytes through client: N
//     wire bytes: N (sent N, received N)
//     elapsed: S s
//     rate: R MiB/s
void print_file_stats(std::FILE* out, const std::string& source, const std::string& target, const FileResult& r);

// The sums over a run, printed after the last file when more than one was copied.
class Totals {
 public:
  void add(const FileResult& r);
  std::uint64_t files() const noexcept { return files_; }
  void print(std::FILE* out, std::chrono::nanoseconds elapsed) const;

 private:
  std::uint64_t files_ = 0;
  FileResult sum_;
  bool wire_known_ = true;
  std::map<std::string, std::uint64_t> bytes_by_method_;
};

}  // namespace smbx::cpo
