// Building blocks shared by the path-level API (client.cpp, Share) and the
// handle-level API (file.cpp, Files/File): names, opens, SET_INFO, pipelined
// submits and the FileInfo conversions. Private to libsmbx.
#pragma once

#include <array>
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

#include "client/connection.hpp"
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

struct Opened {
  wire::FileId id;
  wire::CreateResponse info;
};

struct OpenParams {
  std::uint32_t access = 0;
  std::uint32_t disposition = wire::disposition::open;
  std::uint32_t options = 0;
  std::uint32_t attributes = 0;
};

wire::CreateRequest create_request(std::string_view path, const OpenParams& p);

// CREATE; a failure status becomes status_error(status, "<verb> //host/share/path").
boost::asio::awaitable<Expected<Opened>> open_file(Tree& tree, std::string_view path, OpenParams p,
                                                   std::string_view verb);
// CLOSE, ignoring the outcome (the handle is gone either way).
boost::asio::awaitable<void> close_file(Tree& tree, wire::FileId id);
// SET_INFO InfoType file of `info_class` with `buffer`.
boost::asio::awaitable<Expected<void>> set_info(Tree& tree, wire::FileId id, std::uint8_t info_class,
                                                const Bytes& buffer, std::string action);

FileInfo info_from_entry(const wire::fscc::DirectoryEntry& e);
FileInfo info_from_all(std::string name, const wire::fscc::FileAllInformation& all);

// Submits one request without waiting for its response.
boost::asio::awaitable<Expected<Ticket>> submit_one(Tree& tree, Request request);

struct InFlight {
  Ticket ticket;
  std::uint64_t offset = 0;
  std::uint32_t length = 0;
};

// Waits for what is still in flight after an error, so no response arrives
// for a handle that is being closed.
boost::asio::awaitable<void> drain(Tree& tree, std::deque<InFlight>& queue);

// What Client::info() and Files::info() report.
ConnectionInfo connection_info(Session& session);

}  // namespace smbx::client
