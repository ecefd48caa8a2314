#include "capture/frames_file.hpp"

#include <fstream>
#include <sstream>

namespace smbx::capture {

namespace {
Error bad_line(std::size_t line, std::string why) {
  return Error{.kind = ErrorKind::local, .wire = WireError::none, .status = 0,
               .action = "read frames", .detail = "line " + std::to_string(line) + ": " + std::move(why)};
}
}  // namespace

Expected<std::vector<Frame>> parse_frames(std::string_view text) {
  std::vector<Frame> frames;
  std::size_t line_no = 0;
  while (!text.empty()) {
    const auto eol = text.find('\n');
    auto line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    if (line.size() < 3 || (line[0] != 'C' && line[0] != 'S') || line[1] != ' ')
      return bad_line(line_no, "expected 'C <hex>' or 'S <hex>'");
    auto bytes = from_hex(line.substr(2));
    if (!bytes) return bad_line(line_no, "invalid hex");
    frames.push_back({static_cast<Direction>(line[0]), std::move(*bytes), line_no});
  }
  return frames;
}

Expected<std::vector<Frame>> load_frames_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return Error{.kind = ErrorKind::local, .wire = WireError::none, .status = 0,
                 .action = "open " + path, .detail = "cannot read the file"};
  std::ostringstream text;
  text << in.rdbuf();
  return parse_frames(text.str());
}

}  // namespace smbx::capture
