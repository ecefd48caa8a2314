// The Offset/Length + Buffer shape shared by the QUERY_DIRECTORY, CHANGE_NOTIFY
// and QUERY_INFO responses (MS-SMB2 2.2.34, 2.2.36, 2.2.38: StructureSize 9,
// OutputBufferOffset 2 bytes, OutputBufferLength 4 bytes, Buffer), and the
// opening of a body these messages and SET_INFO share. Internal to src/wire.
#pragma once

#include <cstdint>
#include <string_view>

#include "smbx/expected.hpp"
#include "wire/bytes.hpp"
#include "wire/reader.hpp"
#include "wire/writer.hpp"

namespace smbx::wire::output_buffer {

// body_buffer() for a pair named <field>Offset and <field>Length, as in
// InputBufferOffset/InputBufferLength; the buffer may start at `fixed_end`.
Expected<ByteView> locate(ByteView message, std::uint64_t offset, std::uint64_t length, std::size_t fixed_end,
                          std::string_view field);

// Reads the StructureSize of the body at kHeaderSize and checks that the
// message holds the whole of it (for an odd size, the fixed part and the one
// byte of Buffer a sender must always write, MS-SMB2 2.2).
Expected<Reader> open_body(ByteView message, std::uint16_t structure_size, std::string_view what);

// Decodes the StructureSize 9 response body; `what` names the message in errors.
Expected<ByteView> decode_response(ByteView message, std::string_view what);
// Writes it with the buffer right after the fixed part (offset 0x48), and the
// one padding byte when the buffer is empty.
void encode_response(Writer& w, ByteView buffer);

}  // namespace smbx::wire::output_buffer
