// Reads the text capture format of ../shared/captures/*.frames: one Direct-TCP
// frame per line, "C <hex>" client to server or "S <hex>" server to client,
// with the 4-byte length prefix removed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "smbx/expected.hpp"
#include "wire/bytes.hpp"

namespace smbx::capture {

enum class Direction : char { client_to_server = 'C', server_to_client = 'S' };

struct Frame {
  Direction direction;
  Bytes bytes;
  std::size_t line;  // 1-based, for messages
};

Expected<std::vector<Frame>> parse_frames(std::string_view text);
Expected<std::vector<Frame>> load_frames_file(const std::string& path);

}  // namespace smbx::capture
