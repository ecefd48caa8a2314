// libFuzzer target for every MS-FSCC information class decoder. The input is
// tried as a class buffer and, when it is a QUERY_INFO or QUERY_DIRECTORY
// response (the seeds are captured frames), its output buffer too. Whatever
// decodes must re-encode to something that decodes to the same value.
#include <cstddef>
#include <cstdint>
#include <limits>

#include "wire/fscc.hpp"
#include "wire/query_directory.hpp"
#include "wire/query_info.hpp"

using namespace smbx;
using namespace smbx::wire;
using namespace smbx::wire::fscc;

namespace {

template <typename Decode>
void round_trip(ByteView buffer, Decode decode) {
  auto first = decode(buffer);
  if (!first) return;
  Bytes again;
  Writer w{again};
  encode(w, *first);
  auto second = decode(ByteView{again});
  if (!second || !(*second == *first)) __builtin_trap();
}

void directory_round_trip(ByteView buffer, std::uint8_t file_information_class) {
  auto first = decode_directory_entries(file_information_class, buffer);
  if (!first) return;
  Bytes again;
  Writer w{again};
  if (encode_directory_entries(w, file_information_class, *first, std::numeric_limits<std::size_t>::max()) !=
      first->size())
    __builtin_trap();
  auto second = decode_directory_entries(file_information_class, again);
  if (!second || *second != *first) __builtin_trap();
  // A limit of what the entries took must keep them all; one byte less must drop the last.
  Bytes limited;
  Writer lw{limited};
  if (encode_directory_entries(lw, file_information_class, *first, again.size() - 1) != first->size() - 1)
    __builtin_trap();
}

void all_classes(ByteView b) {
  round_trip(b, decode_file_basic_information);
  round_trip(b, decode_file_standard_information);
  round_trip(b, decode_file_internal_information);
  round_trip(b, decode_file_ea_information);
  round_trip(b, decode_file_access_information);
  round_trip(b, decode_file_position_information);
  round_trip(b, decode_file_mode_information);
  round_trip(b, decode_file_alignment_information);
  round_trip(b, decode_file_name_information);
  round_trip(b, decode_file_all_information);
  round_trip(b, decode_file_network_open_information);
  round_trip(b, decode_file_attribute_tag_information);
  round_trip(b, decode_file_compression_information);
  round_trip(b, decode_file_stream_information);
  round_trip(b, decode_file_rename_information);
  round_trip(b, decode_file_link_information);
  round_trip(b, decode_file_disposition_information);
  round_trip(b, decode_file_disposition_information_ex);
  round_trip(b, decode_file_end_of_file_information);
  round_trip(b, decode_file_allocation_information);
  round_trip(b, decode_file_full_ea_information);
  round_trip(b, decode_file_fs_volume_information);
  round_trip(b, decode_file_fs_size_information);
  round_trip(b, decode_file_fs_device_information);
  round_trip(b, decode_file_fs_attribute_information);
  round_trip(b, decode_file_fs_full_size_information);
  round_trip(b, decode_file_fs_sector_size_information);
  for (std::uint8_t cls : {file_info_class::file_directory_information,
                           file_info_class::file_full_directory_information,
                           file_info_class::file_both_directory_information, file_info_class::file_names_information,
                           file_info_class::file_id_both_directory_information,
                           file_info_class::file_id_full_directory_information})
    directory_round_trip(b, cls);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView input{data, size};
  all_classes(input);
  if (auto listing = decode_query_directory_response(input)) all_classes(listing->output_buffer);
  if (auto info = decode_query_info_response(input)) all_classes(info->output_buffer);
  return 0;
}
