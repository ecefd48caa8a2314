#include "support/test_data.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <iterator>

namespace smbx::test {

std::string data_path(std::string_view relative) {
  return std::string{SMBX_TEST_DATA_DIR} + "/" + std::string{relative};
}

Bytes read_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  REQUIRE_MESSAGE(in.good(), "cannot open " << path);
  return Bytes{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

Bytes hex(std::string_view text) {
  auto bytes = from_hex(text);
  REQUIRE_MESSAGE(bytes.has_value(), "bad hex literal in test: " << text);
  return *bytes;
}

}  // namespace smbx::test
