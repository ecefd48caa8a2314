#include "report.hpp"

#include <unistd.h>

#include <algorithm>

namespace smbx::cpo {

namespace {

double mib(std::uint64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

double seconds(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

std::string format_rate(std::uint64_t bytes, std::chrono::nanoseconds elapsed) {
  const double s = seconds(elapsed);
  char buf[48];
  if (s <= 0) {
    std::snprintf(buf, sizeof buf, "-");
  } else {
    std::snprintf(buf, sizeof buf, "%.1f MiB/s", mib(bytes) / s);
  }
  return buf;
}

Progress::Progress(bool enabled) : enabled_{enabled}, tty_{::isatty(STDERR_FILENO) == 1} {}

void Progress::start(std::string label) {
  label_ = std::move(label);
  start_ = std::chrono::steady_clock::now();
  last_ = start_;
  done_ = 0;
  total_ = 0;
  drawn_ = false;
}

void Progress::update(std::uint64_t done, std::uint64_t total) {
  done_ = done;
  total_ = total;
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ < (tty_ ? std::chrono::milliseconds{100} : std::chrono::milliseconds{1000})) return;
  last_ = now;
  draw(false);
}

void Progress::finish() {
  if (!enabled_) return;
  draw(true);
}

void Progress::draw(bool final_line) {
  const auto elapsed = std::chrono::steady_clock::now() - start_;
  const int percent = total_ == 0 ? (final_line ? 100 : 0)
                                  : static_cast<int>(static_cast<double>(done_) * 100.0 / static_cast<double>(total_));
  const std::string rate = format_rate(done_, std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed));
  if (tty_) {
    constexpr int kWidth = 30;
    std::string bar(kWidth, ' ');
    std::fill_n(bar.begin(), std::clamp(percent * kWidth / 100, 0, kWidth), '#');
    // \033[K: clear what a longer previous line left.
    std::fprintf(stderr, "\r%s [%s] %3d%% %9.1f MiB %12s\033[K", label_.c_str(), bar.c_str(), percent, mib(done_),
                 rate.c_str());
    if (final_line) std::fputc('\n', stderr);
  } else {
    std::fprintf(stderr, "cp-offload: %s: %.1f of %.1f MiB (%d%%), %s%s\n", label_.c_str(), mib(done_), mib(total_),
                 percent, rate.c_str(), final_line ? ", done" : "");
  }
  std::fflush(stderr);
  drawn_ = true;
}

void print_file_stats(std::FILE* out, const std::string& source, const std::string& target, const FileResult& r) {
  std::fprintf(out, "%s -> %s\n", source.c_str(), target.c_str());
  std::fprintf(out, "  method: %s\n", r.method.c_str());
  std::fprintf(out, "  bytes copied: %llu\n", static_cast<unsigned long long>(r.bytes_copied));
  std::fprintf(out, "  bytes through client: %llu\n", static_cast<unsigned long long>(r.bytes_through_client));
  if (r.wire_sent && r.wire_received)
    std::fprintf(out, "  wire bytes: %llu (sent %llu, received %llu)\n",
                 static_cast<unsigned long long>(*r.wire_sent + *r.wire_received),
                 static_cast<unsigned long long>(*r.wire_sent), static_cast<unsigned long long>(*r.wire_received));
  else
    std::fprintf(out, "  wire bytes: unknown\n");
  std::fprintf(out, "  elapsed: %.3f s\n", seconds(r.elapsed));
  std::fprintf(out, "  rate: %s\n", format_rate(r.bytes_copied, r.elapsed).c_str());
  std::fflush(out);
}

void Totals::add(const FileResult& r) {
  ++files_;
  sum_.bytes_copied += r.bytes_copied;
  sum_.bytes_through_client += r.bytes_through_client;
  if (r.wire_sent && r.wire_received) {
    sum_.wire_sent = sum_.wire_sent.value_or(0) + *r.wire_sent;
    sum_.wire_received = sum_.wire_received.value_or(0) + *r.wire_received;
  } else {
    wire_known_ = false;
  }
  bytes_by_method_[r.method] += r.bytes_copied;
}

void Totals::print(std::FILE* out, std::chrono::nanoseconds elapsed) const {
  std::string methods;
  for (const auto& [name, bytes] : bytes_by_method_)
    methods += (methods.empty() ? "" : ", ") + name + " " + std::to_string(bytes);
  std::fprintf(out, "total: %llu files\n", static_cast<unsigned long long>(files_));
  std::fprintf(out, "  bytes by method: %s\n", methods.empty() ? "none" : methods.c_str());
  std::fprintf(out, "  bytes copied: %llu\n", static_cast<unsigned long long>(sum_.bytes_copied));
  std::fprintf(out, "  bytes through client: %llu\n", static_cast<unsigned long long>(sum_.bytes_through_client));
  if (wire_known_ && sum_.wire_sent && sum_.wire_received)
    std::fprintf(out, "  wire bytes: %llu (sent %llu, received %llu)\n",
                 static_cast<unsigned long long>(*sum_.wire_sent + *sum_.wire_received),
                 static_cast<unsigned long long>(*sum_.wire_sent), static_cast<unsigned long long>(*sum_.wire_received));
  else
    std::fprintf(out, "  wire bytes: unknown\n");
  std::fprintf(out, "  elapsed: %.3f s\n", seconds(elapsed));
  std::fprintf(out, "  rate: %s\n", format_rate(sum_.bytes_copied, elapsed).c_str());
  std::fflush(out);
}

}  // namespace smbx::cpo
