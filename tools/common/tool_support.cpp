#include "tool_support.hpp"

#include "smbx/exit_status.hpp"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <cstdio>
#include <exception>
#include <chrono>
#include <cstdlib>
#include <cstring>

namespace smbx::cli {

Error usage_error(std::string action, std::string detail) {
  return Error{.kind = ErrorKind::usage, .wire = WireError::none, .status = 0, .action = std::move(action),
               .detail = std::move(detail)};
}

Error local_error(std::string action, int err) {
  return Error{.kind = ErrorKind::local, .wire = WireError::none, .status = 0, .action = std::move(action),
               .detail = std::strerror(err)};
}

std::optional<std::uint16_t> dialect_from_vers(const std::string& vers) {
  if (vers == "3.1.1" || vers == "3.11") return 0x0311;
  if (vers == "3.0.2" || vers == "3.02") return 0x0302;
  if (vers == "3.0" || vers == "3") return 0x0300;
  if (vers == "2.1") return 0x0210;
  if (vers == "2.0.2" || vers == "2.0") return 0x0202;
  return std::nullopt;
}

std::string local_user_name() {
  const char* name = std::getenv("USER");
  if (name == nullptr) name = std::getenv("LOGNAME");
  if (name == nullptr)
    if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr) name = pw->pw_name;
  return name == nullptr ? std::string{} : std::string{name};
}

void apply_connection_flags(ClientOptions& options, const std::string& vers, bool seal, int timeout_seconds) {
  if (auto d = dialect_from_vers(vers)) options.dialects = {*d};
  options.seal = seal;
  options.request_timeout = std::chrono::seconds{timeout_seconds};
  options.connect_timeout = std::chrono::seconds{std::min(timeout_seconds, 30)};
}

std::string ClientPool::key_of(const ClientOptions& options) {
  return options.host + ":" + std::to_string(options.port) + "|" + options.domain + "\\" + options.user;
}

boost::asio::awaitable<Expected<Client*>> ClientPool::connect(const ClientOptions& options) {
  const std::string key = key_of(options);
  auto found = clients_.find(key);
  if (found == clients_.end()) {
    auto connected = co_await Client::connect(options);
    if (!connected) co_return Unexpected{connected.error()};
    found = clients_.emplace(key, std::move(*connected)).first;
  }
  co_return found->second.get();
}

int run_to_exit_code(boost::asio::io_context& io, boost::asio::awaitable<int> work, const std::function<void()>& shutdown,
                     const char* program) {
  int status = static_cast<int>(ExitCode::other);
  boost::asio::co_spawn(io, std::move(work), [&](std::exception_ptr e, int code) {
    shutdown();
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        std::fprintf(stderr, "%s: internal error: %s\n", program, ex.what());
      }
      return;
    }
    status = code;
  });
  io.run();
  return status;
}

}  // namespace smbx::cli
