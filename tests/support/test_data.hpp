// Test fixtures: paths into tests/data and hex helpers.
#pragma once

#include <string>
#include <string_view>

#include "wire/bytes.hpp"

namespace smbx::test {

// Absolute path of a file under tests/data, e.g. data_path("captures/hello.txt").
std::string data_path(std::string_view relative);
// Reads a whole file; fails the current test (and returns empty) if it cannot.
Bytes read_file(const std::string& path);
// Hex literal to bytes; whitespace allowed. Fails the current test on bad hex.
Bytes hex(std::string_view text);

}  // namespace smbx::test
