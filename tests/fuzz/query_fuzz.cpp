// libFuzzer target for QUERY_DIRECTORY, CHANGE_NOTIFY, QUERY_INFO and SET_INFO
// requests and responses, and the FILE_NOTIFY_INFORMATION chain. The input is
// tried as a body behind a fixed header and, when it is one, as a whole
// message (the seeds are captured frames). Whatever decodes must re-encode to
// something that decodes to the same value.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "wire/change_notify.hpp"
#include "wire/header.hpp"
#include "wire/query_directory.hpp"
#include "wire/query_info.hpp"
#include "wire/set_info.hpp"
#include "wire_round_trip.hpp"

using namespace smbx;
using namespace smbx::wire;

namespace {

bool same(ByteView a, ByteView b) { return std::ranges::equal(a, b); }

bool same(const QueryDirectoryRequest& a, const QueryDirectoryRequest& b) {
  return a.file_information_class == b.file_information_class && a.flags == b.flags &&
         a.file_index == b.file_index && a.file_id == b.file_id && a.file_name == b.file_name &&
         a.output_buffer_length == b.output_buffer_length;
}
bool same(const QueryDirectoryResponse& a, const QueryDirectoryResponse& b) {
  return same(a.output_buffer, b.output_buffer);
}
bool same(const ChangeNotifyRequest& a, const ChangeNotifyRequest& b) {
  return a.flags == b.flags && a.output_buffer_length == b.output_buffer_length && a.file_id == b.file_id &&
         a.completion_filter == b.completion_filter;
}
bool same(const ChangeNotifyResponse& a, const ChangeNotifyResponse& b) {
  return same(a.output_buffer, b.output_buffer);
}
bool same(const QueryInfoRequest& a, const QueryInfoRequest& b) {
  return a.info_type == b.info_type && a.file_info_class == b.file_info_class &&
         a.output_buffer_length == b.output_buffer_length && same(a.input_buffer, b.input_buffer) &&
         a.additional_information == b.additional_information && a.flags == b.flags && a.file_id == b.file_id;
}
bool same(const QueryInfoResponse& a, const QueryInfoResponse& b) { return same(a.output_buffer, b.output_buffer); }
bool same(const SetInfoRequest& a, const SetInfoRequest& b) {
  return a.info_type == b.info_type && a.file_info_class == b.file_info_class && same(a.buffer, b.buffer) &&
         a.additional_information == b.additional_information && a.file_id == b.file_id;
}
bool same(const SetInfoResponse&, const SetInfoResponse&) { return true; }

void notify_round_trip(ByteView chain) {
  auto first = decode_file_notify_information(chain);
  if (!first) return;
  Bytes again;
  Writer w{again};
  encode_file_notify_information(w, *first);
  auto second = decode_file_notify_information(again);
  if (!second || *second != *first) __builtin_trap();
}

// Decodes `message`; on success encodes the result behind a fresh header and
// decodes that, which must give the same value and encode to the same bytes.
template <typename Decode>
void round_trip(ByteView message, Decode decode) {
  auto first = decode(message);
  if (!first) return;
  const Bytes encoded = fuzz::encode_whole(*first);
  auto second = decode(ByteView{encoded});
  if (!second || !same(*first, *second)) __builtin_trap();
  if (fuzz::encode_whole(*second) != encoded) __builtin_trap();
}

void all_messages(ByteView message) {
  round_trip(message, decode_query_directory_request);
  round_trip(message, decode_query_directory_response);
  round_trip(message, decode_change_notify_request);
  round_trip(message, decode_change_notify_response);
  round_trip(message, decode_query_info_request);
  round_trip(message, decode_query_info_response);
  round_trip(message, decode_set_info_request);
  round_trip(message, decode_set_info_response);
  if (auto notify = decode_change_notify_response(message)) notify_round_trip(notify->output_buffer);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView input{data, size};
  all_messages(fuzz::with_header(input));
  if (decode_header(input)) all_messages(input);
  notify_round_trip(input);
  return 0;
}
