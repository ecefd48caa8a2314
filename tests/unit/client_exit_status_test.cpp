#include <doctest/doctest.h>

#include <string>

#include "smbx/exit_status.hpp"
#include "wire/ntstatus.hpp"

using namespace smbx;
namespace st = smbx::wire::status;

namespace {
Error status_error(std::uint32_t status, ErrorKind kind = ErrorKind::status) {
  return Error{.kind = kind, .wire = WireError::none, .status = status, .action = "open //h/s/f", .detail = {}};
}
}  // namespace

TEST_CASE("each NTSTATUS family maps to its own exit code") {
  struct Row {
    std::uint32_t status;
    ExitCode code;
  };
  for (const Row& r : {Row{st::LOGON_FAILURE, ExitCode::authentication},
                       Row{st::WRONG_PASSWORD, ExitCode::authentication},
                       Row{st::ACCOUNT_DISABLED, ExitCode::authentication},
                       Row{st::ACCOUNT_LOCKED_OUT, ExitCode::authentication},
                       Row{st::PASSWORD_EXPIRED, ExitCode::authentication},
                       Row{st::OBJECT_NAME_NOT_FOUND, ExitCode::not_found},
                       Row{st::OBJECT_PATH_NOT_FOUND, ExitCode::not_found},
                       Row{st::NO_SUCH_FILE, ExitCode::not_found},
                       Row{st::BAD_NETWORK_NAME, ExitCode::not_found},  // a missing share
                       Row{st::ACCESS_DENIED, ExitCode::access_denied},
                       Row{st::NETWORK_ACCESS_DENIED, ExitCode::access_denied},
                       Row{st::CONNECTION_RESET, ExitCode::network},
                       Row{st::USER_SESSION_DELETED, ExitCode::network},
                       Row{st::DIRECTORY_NOT_EMPTY, ExitCode::other},
                       Row{st::OBJECT_NAME_COLLISION, ExitCode::other}}) {
    CAPTURE(wire::status_name(r.status));
    CHECK(exit_code_for(status_error(r.status)) == r.code);
  }
}

TEST_CASE("the error kind decides when there is no status") {
  CHECK(exit_code_for(status_error(0, ErrorKind::usage)) == ExitCode::usage);
  CHECK(exit_code_for(status_error(0, ErrorKind::transport)) == ExitCode::network);
  CHECK(exit_code_for(status_error(0, ErrorKind::auth)) == ExitCode::authentication);
  CHECK(exit_code_for(status_error(0, ErrorKind::crypto)) == ExitCode::other);
  CHECK(exit_code_for(status_error(0, ErrorKind::wire)) == ExitCode::other);
  CHECK(exit_code_for(status_error(0, ErrorKind::local)) == ExitCode::other);
}

TEST_CASE("the exit codes are the documented numbers") {
  CHECK(static_cast<int>(ExitCode::ok) == 0);
  CHECK(static_cast<int>(ExitCode::other) == 1);
  CHECK(static_cast<int>(ExitCode::usage) == 2);
  CHECK(static_cast<int>(ExitCode::authentication) == 3);
  CHECK(static_cast<int>(ExitCode::not_found) == 4);
  CHECK(static_cast<int>(ExitCode::access_denied) == 5);
  CHECK(static_cast<int>(ExitCode::network) == 6);
}

TEST_CASE("a logon failure names the principal and the status") {
  CHECK(user_message(status_error(st::LOGON_FAILURE, ErrorKind::auth), "TESTDOM\\alice") ==
        "logon failure for TESTDOM\\alice (STATUS_LOGON_FAILURE)");
}

TEST_CASE("a failed operation names the action, the cause and the status") {
  CHECK(user_message(status_error(st::OBJECT_NAME_NOT_FOUND)) ==
        "open //h/s/f: no such file or directory (STATUS_OBJECT_NAME_NOT_FOUND)");
  CHECK(user_message(status_error(st::ACCESS_DENIED)) == "open //h/s/f: access denied (STATUS_ACCESS_DENIED)");
}

TEST_CASE("an error without a status reads as action and detail") {
  Error e{.kind = ErrorKind::transport, .wire = WireError::none, .status = 0, .action = "connect to h:445",
          .detail = "Connection refused"};
  CHECK(user_message(e) == "connect to h:445: Connection refused");
}
