// A one-line progress bar on stderr for get and put, drawn only when stderr
// is a terminal and at most ten times a second.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace smbx::cli {

class ProgressBar {
 public:
  ProgressBar(std::string label, bool enabled);
  void update(std::uint64_t done, std::uint64_t total);
  void finish();

 private:
  void draw(std::uint64_t done, std::uint64_t total);
  std::string label_;
  bool enabled_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_;
  std::uint64_t done_ = 0;
  std::uint64_t total_ = 0;
};

}  // namespace smbx::cli
