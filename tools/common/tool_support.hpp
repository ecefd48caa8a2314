// What the command-line tools (smbx, cp-offload) share: their error values,
// the --vers spellings, the local user name and the connection flags.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "smbx/client.hpp"
#include "smbx/error.hpp"
#include "smbx/expected.hpp"

namespace smbx::cli {

Error usage_error(std::string action, std::string detail = {});
Error local_error(std::string action, int err);  // detail: strerror(err)

// --vers: 3.1.1, 3.0.2, 3.0, 2.1, 2.0.2 and mount.cifs' 3.11, 3.02, 3, 2.0.
std::optional<std::uint16_t> dialect_from_vers(const std::string& vers);

// $USER, else $LOGNAME, else the password database; "" when none is known.
std::string local_user_name();

// --vers, --seal and --timeout onto a connection's options (the connect
// timeout is the request timeout, at most 30 s).
void apply_connection_flags(ClientOptions& options, const std::string& vers, bool seal, int timeout_seconds);

// One connection per server and user, made on first use.
class ClientPool {
 public:
  // "host:port|domain\user": which connection `options` use (tools key their
  // shares by it too).
  static std::string key_of(const ClientOptions& options);
  // The client for `options`, connecting when there is none yet.
  boost::asio::awaitable<Expected<Client*>> connect(const ClientOptions& options);
  // Closes every connection (their receive loops keep the io_context busy).
  void clear() { clients_.clear(); }

 private:
  std::map<std::string, std::unique_ptr<Client>> clients_;
};

// Runs `work` (its result is the exit code) on `io` until the io_context runs
// out of work; `shutdown` runs when `work` ends and must close the
// connections (their receive loops keep `io` busy). An exception escaping
// `work` is reported as "PROGRAM: internal error: ..." and gives exit code 1.
int run_to_exit_code(boost::asio::io_context& io, boost::asio::awaitable<int> work, const std::function<void()>& shutdown,
                     const char* program);

}  // namespace smbx::cli
