// The byte pipe under an SMB2 connection: whole frames in, whole frames out
// (MS-SMB2 2.1). Direct TCP today (tcp_transport.hpp); SMB Direct later.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <span>

#include "smbx/expected.hpp"
#include "wire/bytes.hpp"

namespace smbx::transport {

// Largest SMB2 message smbx accepts: the Direct-TCP length is 24 bits
// (MS-SMB2 2.1), and no peer sends more than 8 MiB of data plus headers.
inline constexpr std::size_t kMaxFrameSize = 0x00FFFFFF;

// One connection's frames. All calls run on the engine thread. send() may be
// called by several coroutines at once: frames go out whole and in call order.
class Transport {
 public:
  virtual ~Transport() = default;

  // Writes one frame (without the transport's own framing) and returns once
  // it is on the wire or the transport failed.
  virtual boost::asio::awaitable<Expected<void>> send(Bytes frame) = 0;
  // The next whole frame; an error once the peer closed or the pipe broke.
  virtual boost::asio::awaitable<Expected<Bytes>> receive() = 0;
  // Ends the connection; pending send/receive calls complete with an error.
  virtual void close() noexcept = 0;
  virtual bool is_open() const noexcept = 0;
};

}  // namespace smbx::transport
