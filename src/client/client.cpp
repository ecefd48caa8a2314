// The public API of include/smbx/client.hpp on top of Connection, Session and
// Tree: opens, directory listings, metadata changes and pipelined transfers.
#include "smbx/client.hpp"

#include <algorithm>
#include <deque>

#include "client/connection.hpp"
#include "client/ops.hpp"
#include "client/session.hpp"
#include "wire/fscc.hpp"
#include "wire/ntstatus.hpp"

// g++ 12 at -O2 reports -Wmismatched-new-delete for asio::awaitable frames, which
// pair awaitable_frame_base's own operator new and delete: a false positive, so
// it is off in the files that define coroutines.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace smbx {

namespace asio = boost::asio;
using client::Request;
using client::Tree;

using client::base_name;
using client::close_file;
using client::create_request;
using client::drain;
using client::InFlight;
using client::info_from_all;
using client::info_from_entry;
using client::open_file;
using client::OpenParams;
using client::set_info;
using client::smb_path;
using client::send;
using client::finish;
using client::where;

namespace {

// Opens `path` with DELETE access and marks it delete-pending (MS-FSCC
// FileDispositionInformation); the server deletes it on CLOSE.
asio::awaitable<Expected<void>> delete_path(Tree& tree, std::string_view path, std::uint32_t options,
                                            std::string_view verb) {
  auto opened = co_await open_file(tree, path, OpenParams{.access = wire::access::delete_ | wire::access::read_attributes,
                                                          .disposition = wire::disposition::open,
                                                          .options = options, .attributes = 0},
                                   verb);
  if (!opened) co_return Unexpected{opened.error()};
  Bytes buffer;
  wire::Writer w{buffer};
  wire::fscc::encode(w, wire::fscc::FileDispositionInformation{.delete_pending = true});
  std::string action = std::string{verb} + " " + where(tree, path);
  auto done = co_await set_info(tree, opened->open, wire::fscc::file_info_class::file_disposition_information, buffer,
                                std::move(action));
  co_await close_file(tree, opened->open);
  co_return done;
}

}  // namespace

Share::Share(std::shared_ptr<client::Tree> tree, const ClientOptions& options)
    : tree_{std::move(tree)}, io_depth_{std::max(1u, options.io_depth)}, io_size_{std::max(4096u, options.io_size)} {}

const std::string& Share::name() const noexcept { return tree_->share(); }
bool Share::is_encrypted() const noexcept { return tree_->encrypts(); }

asio::awaitable<Expected<std::vector<FileInfo>>> Share::list(std::string directory) {
  auto& tree = *tree_;
  auto opened = co_await open_file(tree, directory,
                                   OpenParams{.access = wire::access::list_directory | wire::access::read_attributes |
                                                        wire::access::synchronize,
                                              .disposition = wire::disposition::open,
                                              .options = wire::create_options::directory_file, .attributes = 0},
                                   "list");
  if (!opened) co_return Unexpected{opened.error()};
  const auto& n = tree.connection().negotiated();
  const std::uint32_t buffer_size = std::min<std::uint32_t>(n.max_transact_size, 1 << 20);
  std::vector<FileInfo> out;
  std::optional<Error> failure;
  for (bool first = true;; first = false) {
    wire::QueryDirectoryRequest req{
        .file_information_class = wire::fscc::file_info_class::file_id_full_directory_information,
        .flags = first ? wire::query_directory_flags::restart_scans : std::uint8_t{0}, .file_index = 0,
        .file_id = opened->open->file_id, .file_name = u"*", .output_buffer_length = buffer_size};
    auto r = co_await tree.call(tree.request(wire::Command::query_directory, req, buffer_size), opened->open);
    if (!r) {
      failure = r.error();
      break;
    }
    if (r->status() == wire::status::NO_MORE_FILES) break;
    if (r->status() != wire::status::SUCCESS) {
      failure = client::status_error(r->status(), "list " + where(tree, directory));
      break;
    }
    auto rsp = wire::decode_query_directory_response(r->bytes);
    if (!rsp) {
      failure = rsp.error();
      break;
    }
    auto entries = wire::fscc::decode_directory_entries(req.file_information_class, rsp->output_buffer);
    if (!entries) {
      failure = entries.error();
      break;
    }
    for (const auto& e : *entries) {
      if (e.file_name == u"." || e.file_name == u"..") continue;
      out.push_back(info_from_entry(e));
    }
  }
  co_await close_file(tree, opened->open);
  if (failure) co_return Unexpected{*failure};
  co_return out;
}

asio::awaitable<Expected<FileInfo>> Share::stat(std::string path) {
  auto& tree = *tree_;
  const auto related = wire::FileId::related();
  std::vector<Request> chain;
  chain.push_back(tree.request(wire::Command::create,
                               create_request(path, OpenParams{.access = wire::access::read_attributes,
                                                               .disposition = wire::disposition::open,
                                                               .options = 0, .attributes = 0})));
  chain.push_back(tree.request(wire::Command::query_info,
                               wire::QueryInfoRequest{.info_type = wire::info_type::file,
                                                      .file_info_class = wire::fscc::file_info_class::file_all_information,
                                                      .output_buffer_length = 4096, .input_buffer = {},
                                                      .additional_information = 0, .flags = 0, .file_id = related}));
  chain.push_back(tree.request(wire::Command::close, wire::CloseRequest{.flags = 0, .file_id = related}));
  // MS-SMB2 3.2.4.1.4: the later members act on the FileId the CREATE returns.
  chain[1].header.flags |= wire::flags::related_operations;
  chain[2].header.flags |= wire::flags::related_operations;
  // Read-only: sent again as a whole after a reconnect.
  auto answered = co_await tree.call_chain(std::move(chain));
  if (!answered) co_return Unexpected{answered.error()};
  auto& responses = *answered;
  for (auto& r : responses) {
    if (!r) co_return Unexpected{r.error()};
    if (r->status() != wire::status::SUCCESS)
      co_return Unexpected{client::status_error(r->status(), "stat " + where(tree, path))};
  }
  auto q = wire::decode_query_info_response(responses[1]->bytes);
  if (!q) co_return Unexpected{q.error()};
  auto all = wire::fscc::decode_file_all_information(q->output_buffer);
  if (!all) co_return Unexpected{all.error()};
  co_return info_from_all(base_name(path), *all);
}

asio::awaitable<Expected<void>> Share::mkdir(std::string path) {
  auto opened = co_await open_file(*tree_, path,
                                   OpenParams{.access = wire::access::read_attributes,
                                              .disposition = wire::disposition::create,
                                              .options = wire::create_options::directory_file,
                                              .attributes = wire::file_attributes::directory},
                                   "create directory");
  if (!opened) co_return Unexpected{opened.error()};
  co_await close_file(*tree_, opened->open);
  co_return Expected<void>{};
}

asio::awaitable<Expected<void>> Share::rmdir(std::string path) {
  co_return co_await delete_path(*tree_, path, wire::create_options::directory_file, "remove directory");
}

asio::awaitable<Expected<void>> Share::remove(std::string path) {
  co_return co_await delete_path(*tree_, path, wire::create_options::non_directory_file, "remove");
}

asio::awaitable<Expected<void>> Share::rename(std::string from, std::string to, bool replace_if_exists) {
  auto& tree = *tree_;
  auto opened = co_await open_file(tree, from,
                                   OpenParams{.access = wire::access::delete_ | wire::access::read_attributes |
                                                        wire::access::synchronize,
                                              .disposition = wire::disposition::open, .options = 0, .attributes = 0},
                                   "rename");
  if (!opened) co_return Unexpected{opened.error()};
  Bytes buffer;
  wire::Writer w{buffer};
  // MS-FSCC 2.4.42 (SMB2 form): the new name is relative to the share root.
  wire::fscc::encode(w, wire::fscc::FileRenameInformation{.replace_if_exists = replace_if_exists, .root_directory = 0,
                                                          .file_name = smb_path(to)});
  std::string action = "rename " + where(tree, from) + " to " + to;
  auto done = co_await set_info(tree, opened->open, wire::fscc::file_info_class::file_rename_information, buffer,
                                std::move(action));
  co_await close_file(tree, opened->open);
  co_return done;
}

asio::awaitable<Expected<std::uint64_t>> Share::download(std::string path, SinkFn sink, ProgressFn progress) {
  auto& tree = *tree_;
  auto opened = co_await open_file(tree, path,
                                   OpenParams{.access = wire::access::read_data | wire::access::read_attributes |
                                                        wire::access::synchronize,
                                              .disposition = wire::disposition::open,
                                              .options = wire::create_options::non_directory_file, .attributes = 0},
                                   "read");
  if (!opened) co_return Unexpected{opened.error()};
  auto open = opened->open;
  const std::uint32_t chunk = std::min(io_size_, tree.connection().negotiated().max_read_size);
  std::uint64_t size = opened->info.end_of_file;
  std::uint64_t next = 0;
  std::uint64_t done = 0;
  std::deque<InFlight> queue;
  std::optional<Error> failure;
  const std::string action = "read " + where(tree, path);

  auto read_at = [&](std::uint64_t offset, std::uint32_t length) {
    wire::ReadRequest req{.padding = static_cast<std::uint8_t>(wire::kReadResponseDataOffset), .flags = 0,
                          .length = length, .offset = offset, .file_id = open->file_id, .minimum_count = 0,
                          .channel = wire::io_channel::none, .remaining_bytes = 0, .read_channel_info = {}};
    return client::in_flight(tree.request(wire::Command::read, req, length), offset, length);
  };

  while (!failure) {
    // MS-SMB2 3.2.4.1.5: keep up to io_depth READs in flight; the credit
    // window makes submit() wait when the server has granted too few.
    while (queue.size() < io_depth_ && next < size) {
      const auto length = static_cast<std::uint32_t>(std::min<std::uint64_t>(chunk, size - next));
      queue.push_back(read_at(next, length));
      co_await send(tree, open, queue.back());
      next += length;
    }
    if (queue.empty()) break;
    InFlight f = std::move(queue.front());
    queue.pop_front();
    auto r = co_await finish(tree, open, f);
    for (std::uint64_t retries = 0; r && r->status() == wire::status::SUCCESS; ++retries) {
      auto rsp = wire::decode_read_response(r->bytes);
      if (!rsp) {
        failure = rsp.error();
        break;
      }
      if (auto fed = sink(rsp->data); !fed) {
        failure = fed.error();
        break;
      }
      done += rsp->data.size();
      if (progress) progress(done, size);
      if (rsp->data.size() >= f.length || rsp->data.empty() || retries > 64) break;
      // A short read (the file shrank, or the server caps reads): read the
      // rest of this range now, before the ranges after it reach the sink.
      f = read_at(f.offset + rsp->data.size(), static_cast<std::uint32_t>(f.length - rsp->data.size()));
      r = co_await tree.call(f.request, open);
    }
    if (failure) break;
    if (!r) {
      failure = r.error();
    } else if (r->status() == wire::status::END_OF_FILE) {
      size = f.offset;  // the file shrank while we read: stop at its new end
    } else if (r->status() != wire::status::SUCCESS) {
      failure = client::status_error(r->status(), action);
    }
  }
  co_await drain(queue);
  co_await close_file(tree, open);
  if (failure) co_return Unexpected{*failure};
  co_return done;
}

asio::awaitable<Expected<std::uint64_t>> Share::upload(std::string path, SourceFn source, std::uint64_t size_hint,
                                                       ProgressFn progress) {
  auto& tree = *tree_;
  auto opened = co_await open_file(tree, path,
                                   OpenParams{.access = wire::access::write_data | wire::access::read_attributes |
                                                        wire::access::write_attributes | wire::access::synchronize,
                                              .disposition = wire::disposition::overwrite_if,
                                              .options = wire::create_options::non_directory_file,
                                              .attributes = wire::file_attributes::archive},
                                   "write");
  if (!opened) co_return Unexpected{opened.error()};
  auto open = opened->open;
  const std::uint32_t chunk = std::min(io_size_, tree.connection().negotiated().max_write_size);
  std::uint64_t next = 0;
  std::uint64_t done = 0;
  bool at_end = false;
  std::deque<InFlight> queue;
  std::optional<Error> failure;
  const std::string action = "write " + where(tree, path);

  while (!failure) {
    while (!at_end && queue.size() < io_depth_) {
      // Each WRITE owns its data until its final answer: it may be sent again
      // after a reconnect.
      Bytes buffer(chunk);
      std::size_t filled = 0;
      while (filled < chunk) {
        auto n = source(std::span<std::uint8_t>{buffer.data() + filled, chunk - filled});
        if (!n) {
          failure = n.error();
          break;
        }
        if (*n == 0) {
          at_end = true;
          break;
        }
        filled += *n;
      }
      if (failure || filled == 0) break;
      buffer.resize(filled);
      wire::WriteRequest req{.offset = next, .file_id = open->file_id, .channel = wire::io_channel::none,
                             .remaining_bytes = 0, .write_channel_info = {}, .flags = 0, .data = {}};
      queue.push_back(client::in_flight(tree.request(wire::Command::write, req, filled), next,
                                        static_cast<std::uint32_t>(filled), std::move(buffer)));
      co_await send(tree, open, queue.back());
      next += filled;
    }
    if (failure || queue.empty()) break;
    InFlight f = std::move(queue.front());
    queue.pop_front();
    auto r = co_await finish(tree, open, f);
    if (!r) {
      failure = r.error();
      break;
    }
    if (r->status() != wire::status::SUCCESS) {
      failure = client::status_error(r->status(), action);
      break;
    }
    auto rsp = wire::decode_write_response(r->bytes);
    if (!rsp) {
      failure = rsp.error();
      break;
    }
    if (rsp->count != f.length) {
      failure = Error{.kind = ErrorKind::status, .wire = WireError::none, .status = wire::status::DISK_FULL,
                      .action = action,
                      .detail = "the server wrote " + std::to_string(rsp->count) + " of " + std::to_string(f.length) +
                                " bytes at offset " + std::to_string(f.offset)};
      break;
    }
    done += f.length;
    if (progress) progress(done, std::max(size_hint, done));
  }
  co_await drain(queue);
  co_await close_file(tree, open);
  if (failure) co_return Unexpected{*failure};
  co_return done;
}

asio::awaitable<Expected<void>> Share::disconnect() { co_return co_await tree_->disconnect(); }

Client::Client(std::shared_ptr<client::Session> session, ClientOptions options)
    : session_{std::move(session)}, options_{std::move(options)} {}

Client::~Client() {
  if (session_) session_->shutdown();
}

asio::awaitable<Expected<std::unique_ptr<Client>>> Client::connect(ClientOptions options) {
  client::ConnectionOptions co;
  co.host = options.host;
  co.port = options.port;
  for (auto d : options.dialects) co.dialects.push_back(static_cast<wire::Dialect>(d));
  co.connect_timeout = options.connect_timeout;
  co.request_timeout = options.request_timeout;
  auto connection = co_await client::Connection::connect(co);
  if (!connection) co_return Unexpected{connection.error()};
  // Named, not a temporary inside the co_await: g++ 12 mishandles nested
  // aggregate temporaries in a co_await expression (a double free under ASan).
  client::SessionOptions session_options;
  session_options.credentials = auth::Credentials{options.user, options.domain, options.password};
  session_options.seal = options.seal;
  client::RecoveryOptions recovery;
  recovery.enabled = options.recover;
  recovery.hard = options.hard;
  recovery.timeout = options.recovery_timeout;
  recovery.handle_timeout = options.handle_timeout;
  recovery.persistent = options.persistent_handles;
  recovery.echo_interval = options.echo_interval;
  recovery.log = options.failover_log;
  auto session = co_await client::Session::setup(*connection, std::move(session_options), recovery);
  if (!session) {
    (*connection)->close();
    co_return Unexpected{session.error()};
  }
  co_return std::unique_ptr<Client>{new Client{std::move(*session), std::move(options)}};
}

asio::awaitable<Expected<Share>> Client::share(std::string name) {
  auto tree = co_await client::Tree::connect(session_, std::move(name));
  if (!tree) co_return Unexpected{tree.error()};
  co_return Share{std::move(*tree), options_};
}

asio::awaitable<Expected<void>> Client::logoff() { co_return co_await session_->logoff(); }

ConnectionInfo Client::info() const { return client::connection_info(*session_); }

}  // namespace smbx
