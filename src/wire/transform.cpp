#include "wire/transform.hpp"

#include "wire/header.hpp"

namespace smbx::wire {

Expected<TransformMessage> decode_transform(ByteView frame) {
  Reader r{frame};
  if (SMBX_TRY(r.u32()) != kTransformProtocolId)
    return wire_error(WireError::bad_protocol_id, "not a TRANSFORM_HEADER");
  TransformMessage m;
  m.header.signature = SMBX_TRY(r.array<16>());
  m.header.nonce = SMBX_TRY(r.array<16>());
  m.header.original_message_size = SMBX_TRY(r.u32());
  SMBX_TRY(r.u16());  // Reserved
  m.header.flags = SMBX_TRY(r.u16());
  m.header.session_id = SMBX_TRY(r.u64());
  if (m.header.flags != kTransformFlagEncrypted)
    return wire_error(WireError::bad_value, "TRANSFORM_HEADER Flags " + std::to_string(m.header.flags));
  if (m.header.original_message_size != r.remaining())
    return wire_error(WireError::bad_length, "OriginalMessageSize " + std::to_string(m.header.original_message_size) +
                                                 " but " + std::to_string(r.remaining()) + " bytes follow");
  m.aad = frame.subspan(kTransformAadOffset, kTransformAadSize);
  m.ciphertext = r.rest();
  return m;
}

void encode_transform_header(Writer& w, const TransformHeader& h) {
  w.u32(kTransformProtocolId);
  w.bytes(h.signature);
  w.bytes(h.nonce);
  w.u32(h.original_message_size);
  w.u16(0);
  w.u16(h.flags);
  w.u64(h.session_id);
}

}  // namespace smbx::wire
