// `smbx dissect` on arbitrary conversations: the input is cut into frames
// (a direction bit and a 16-bit length before each) and dissected with a
// password, so key recovery, signature checks and decryption all run on
// hostile bytes. It must never crash.
#include <cstddef>
#include <cstdint>

#include "capture/dissector.hpp"

using namespace smbx;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<capture::Frame> frames;
  std::size_t pos = 0;
  while (pos + 3 <= size && frames.size() < 64) {
    const auto direction = (data[pos] & 1) ? capture::Direction::server_to_client : capture::Direction::client_to_server;
    std::size_t length = static_cast<std::size_t>(data[pos + 1]) | (static_cast<std::size_t>(data[pos + 2]) << 8);
    pos += 3;
    if (length > size - pos) length = size - pos;
    frames.push_back({direction, Bytes{data + pos, data + pos + length}, frames.size() + 1});
    pos += length;
  }
  capture::DissectOptions options;
  options.password = "Passw0rd!";
  const auto report = capture::dissect(frames, options);
  for (const auto& m : report.messages) (void)capture::format_line(m);
  return 0;
}
