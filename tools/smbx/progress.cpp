#include "progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace smbx::cli {

ProgressBar::ProgressBar(std::string label, bool enabled)
    : label_{std::move(label)}, enabled_{enabled && ::isatty(STDERR_FILENO) == 1},
      start_{std::chrono::steady_clock::now()}, last_{} {}

void ProgressBar::update(std::uint64_t done, std::uint64_t total) {
  done_ = done;
  total_ = total;
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds{100}) return;
  last_ = now;
  draw(done, total);
}

void ProgressBar::draw(std::uint64_t done, std::uint64_t total) {
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double mib = static_cast<double>(done) / (1024.0 * 1024.0);
  const double rate = seconds > 0 ? mib / seconds : 0.0;
  constexpr int kWidth = 30;
  const int filled = total == 0 ? 0 : static_cast<int>(static_cast<double>(done) * kWidth / static_cast<double>(total));
  std::string bar(static_cast<std::size_t>(kWidth), ' ');
  for (int i = 0; i < filled && i < kWidth; ++i) bar[static_cast<std::size_t>(i)] = '#';
  const int percent = total == 0 ? 0 : static_cast<int>(static_cast<double>(done) * 100.0 / static_cast<double>(total));
  std::fprintf(stderr, "\r%s [%s] %3d%% %9.1f MiB %8.1f MiB/s", label_.c_str(), bar.c_str(), percent, mib, rate);
  std::fflush(stderr);
}

void ProgressBar::finish() {
  if (!enabled_) return;
  draw(done_, total_);
  std::fputc('\n', stderr);
}

}  // namespace smbx::cli
