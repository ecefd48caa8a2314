// Building blocks shared by the path-level API (client.cpp, Share) and the
// handle-level API (file.cpp, Files/File): names, opens, SET_INFO, pipelined
// submits and the FileInfo conversions. Private to libsmbx.
#pragma once

#include <array>
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "client/connection.hpp"
#include "client/open.hpp"
#include "client/session.hpp"
#include "smbx/client.hpp"
#include "wire/fscc.hpp"

namespace smbx::client {

// "dir/sub/file" -> u"dir\\sub\\file"; the share root is the empty name (MS-SMB2 2.2.13).
std::u16string smb_path(std::string_view path);
// The last component of a '/' or '\' separated path.
std::string base_name(std::string_view path);
// "//host/share/path", for error messages.
std::string where(Tree& tree, std::string_view path);

// The 16 wire bytes of a FileId (MS-SMB2 2.2.14.1: Persistent then Volatile,
// each little-endian), as the public API carries it.
std::array<std::uint8_t, 16> file_id_bytes(const wire::FileId& id) noexcept;
wire::FileId file_id_from_bytes(const std::array<std::uint8_t, 16>& bytes) noexcept;

// A path-level open (Share): recorded like a File's so that a reconnect
// between its CREATE and CLOSE reopens it (by path: never durable).
struct Opened {
  std::shared_ptr<Open> open;
  wire::CreateResponse info;
};

struct OpenParams {
  std::uint32_t access = 0;
  std::uint32_t disposition = wire::disposition::open;
  std::uint32_t options = 0;
  std::uint32_t attributes = 0;
};

// The record of an open about to be made with `req` (everything a reconnect repeats).
std::shared_ptr<Open> make_open_record(std::string_view path, const wire::CreateRequest& req);
wire::CreateRequest create_request(std::string_view path, const OpenParams& p);

// CREATE; a failure status becomes status_error(status, "<verb> //host/share/path").
boost::asio::awaitable<Expected<Opened>> open_file(Tree& tree, std::string_view path, OpenParams p,
                                                   std::string_view verb);
// CLOSE, ignoring the outcome (the handle is gone either way).
boost::asio::awaitable<void> close_file(Tree& tree, std::shared_ptr<Open> open);
// SET_INFO InfoType file of `info_class` with `buffer`.
boost::asio::awaitable<Expected<void>> set_info(Tree& tree, std::shared_ptr<Open> open, std::uint8_t info_class,
                                                const Bytes& buffer, std::string action);

FileInfo info_from_entry(const wire::fscc::DirectoryEntry& e);
FileInfo info_from_all(std::string name, const wire::fscc::FileAllInformation& all);

// One READ or WRITE of a pipeline (Share::download/upload, File::read_all/
// write). The unsigned request is kept until its final response: if the
// connection dies it is sent again, after recovery, by Tree::call (positional
// READs and WRITEs are idempotent, so a pipeline survives a reconnect mid-transfer).
struct InFlight {
  Request request;
  std::uint64_t offset = 0;
  std::uint32_t length = 0;
  Bytes data;  // a WRITE's own copy of its data, when the caller's buffer is reused
  std::shared_ptr<Connection> connection;  // where it went out
  Ticket ticket;                           // null: not sent (the connection was down)
  std::uint64_t generation = 0;
  std::optional<Error> error;  // a failure that is not a lost connection
};

inline InFlight in_flight(Request request, std::uint64_t offset, std::uint32_t length, Bytes data = {}) {
  InFlight f;
  f.request = std::move(request);
  f.offset = offset;
  f.length = length;
  f.data = std::move(data);
  return f;
}

// Sends f.request for `open` without waiting for the answer.
boost::asio::awaitable<void> send(Tree& tree, const std::shared_ptr<Open>& open, InFlight& f);
// Its final response: waits for it, or, when the connection died, sends it
// again through Tree::call once the session is back.
boost::asio::awaitable<Expected<Response>> finish(Tree& tree, const std::shared_ptr<Open>& open, InFlight& f);

// Waits for what is still in flight after an error, so no response arrives
// for a handle that is being closed.
boost::asio::awaitable<void> drain(std::deque<InFlight>& queue);

// What Client::info() and Files::info() report.
ConnectionInfo connection_info(Session& session);

}  // namespace smbx::client
