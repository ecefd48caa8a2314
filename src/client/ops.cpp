#include "client/ops.hpp"

#include "wire/ntstatus.hpp"

// g++ 12 at -O2 reports -Wmismatched-new-delete for asio::awaitable frames, which
// pair awaitable_frame_base's own operator new and delete: a false positive, so
// it is off in the files that define coroutines.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace smbx::client {

std::u16string smb_path(std::string_view path) {
  std::string out;
  for (char c : path) {
    const char s = c == '/' ? '\\' : c;
    if (s == '\\' && (out.empty() || out.back() == '\\')) continue;
    out += s;
  }
  while (!out.empty() && out.back() == '\\') out.pop_back();
  return wire::utf16_from_utf8(out);
}

std::string base_name(std::string_view path) {
  while (!path.empty() && (path.back() == '/' || path.back() == '\\')) path.remove_suffix(1);
  const auto slash = path.find_last_of("/\\");
  return std::string{slash == std::string_view::npos ? path : path.substr(slash + 1)};
}

std::string where(Tree& tree, std::string_view path) {
  return "//" + tree.connection().options().host + "/" + tree.share() + "/" + std::string{path};
}

std::array<std::uint8_t, 16> file_id_bytes(const wire::FileId& id) noexcept {
  std::array<std::uint8_t, 16> out{};
  for (std::size_t i = 0; i < 8; ++i) {
    out[i] = static_cast<std::uint8_t>(id.persistent >> (8 * i));
    out[8 + i] = static_cast<std::uint8_t>(id.volatile_id >> (8 * i));
  }
  return out;
}

wire::FileId file_id_from_bytes(const std::array<std::uint8_t, 16>& bytes) noexcept {
  wire::FileId id;
  for (std::size_t i = 0; i < 8; ++i) {
    id.persistent |= std::uint64_t{bytes[i]} << (8 * i);
    id.volatile_id |= std::uint64_t{bytes[8 + i]} << (8 * i);
  }
  return id;
}

wire::CreateRequest create_request(std::string_view path, const OpenParams& p) {
  wire::CreateRequest req;
  req.desired_access = p.access;
  req.file_attributes = p.attributes;
  req.share_access = wire::share_access::all;
  req.create_disposition = p.disposition;
  req.create_options = p.options;
  req.name = smb_path(path);
  return req;
}

std::shared_ptr<Open> make_open_record(std::string_view path, const wire::CreateRequest& req) {
  auto open = std::make_shared<Open>();
  open->path = std::string{path};
  open->name = req.name;
  open->desired_access = req.desired_access;
  open->share_access = req.share_access;
  open->disposition = req.create_disposition;
  open->create_options = req.create_options;
  open->attributes = req.file_attributes;
  return open;
}

asio::awaitable<Expected<Opened>> open_file(Tree& tree, std::string_view path, OpenParams p, std::string_view verb) {
  auto req = create_request(path, p);
  auto open = make_open_record(path, req);
  auto r = co_await tree.call(tree.request(wire::Command::create, req));
  if (!r) co_return Unexpected{r.error()};
  if (r->status() != wire::status::SUCCESS)
    co_return Unexpected{status_error(r->status(), std::string{verb} + " " + where(tree, path))};
  auto rsp = wire::decode_create_response(r->bytes);
  if (!rsp) co_return Unexpected{rsp.error()};
  record_create_response(*open, *rsp, false);
  tree.add_open(open);
  co_return Opened{std::move(open), std::move(*rsp)};
}

asio::awaitable<void> close_file(Tree& tree, std::shared_ptr<Open> open) {
  (void)co_await tree.call(tree.request(wire::Command::close, wire::CloseRequest{.flags = 0, .file_id = open->file_id}),
                           open);
  open->closed = true;
}

asio::awaitable<Expected<void>> set_info(Tree& tree, std::shared_ptr<Open> open, std::uint8_t info_class,
                                         const Bytes& buffer, std::string action) {
  wire::SetInfoRequest req{.info_type = wire::info_type::file, .file_info_class = info_class, .buffer = buffer,
                           .additional_information = 0, .file_id = open->file_id};
  auto r = co_await tree.call(tree.request(wire::Command::set_info, req), open);
  if (!r) co_return Unexpected{r.error()};
  if (r->status() != wire::status::SUCCESS) co_return Unexpected{status_error(r->status(), std::move(action))};
  co_return Expected<void>{};
}

FileInfo info_from_entry(const wire::fscc::DirectoryEntry& e) {
  return FileInfo{.name = wire::utf8_from_utf16(e.file_name), .size = e.end_of_file,
                  .allocation_size = e.allocation_size, .attributes = e.file_attributes,
                  .creation_time = e.creation_time, .last_access_time = e.last_access_time,
                  .last_write_time = e.last_write_time, .change_time = e.change_time, .file_index = e.file_id,
                  .links = 0};
}

FileInfo info_from_all(std::string name, const wire::fscc::FileAllInformation& all) {
  const auto& b = all.basic_information;
  const auto& s = all.standard_information;
  return FileInfo{.name = std::move(name), .size = s.end_of_file, .allocation_size = s.allocation_size,
                  .attributes = b.file_attributes, .creation_time = b.creation_time,
                  .last_access_time = b.last_access_time, .last_write_time = b.last_write_time,
                  .change_time = b.change_time, .file_index = all.internal_information.index_number,
                  .links = s.number_of_links};
}

asio::awaitable<void> send(Tree& tree, const std::shared_ptr<Open>& open, InFlight& f) {
  auto& session = tree.session();
  f.ticket = nullptr;
  f.error.reset();
  if (!f.data.empty()) f.request.write_data = ByteView{f.data};
  // While recovering, the request goes out later, through Tree::call.
  if (session.state() != SessionState::up || (open && open->lost)) co_return;
  Request r = f.request;
  tree.prepare(r, open.get(), false);
  f.connection = session.connection_ptr();
  f.generation = session.generation();
  std::vector<Request> chain;
  chain.push_back(std::move(r));
  auto tickets = co_await f.connection->submit(std::move(chain), tree.submit_options());
  if (tickets) {
    f.ticket = tickets->front();
  } else if (tickets.error().kind == ErrorKind::transport && f.connection->is_dead() && session.recovery().enabled) {
    session.connection_lost(f.generation);  // finish() sends it once the session is back
  } else {
    f.error = tickets.error();
  }
}

asio::awaitable<Expected<Response>> finish(Tree& tree, const std::shared_ptr<Open>& open, InFlight& f) {
  if (f.error) co_return Unexpected{*f.error};
  if (!f.data.empty()) f.request.write_data = ByteView{f.data};  // the InFlight may have moved
  bool resent = false;
  if (f.ticket) {
    auto r = co_await f.connection->wait(f.ticket);
    f.ticket = nullptr;
    auto& session = tree.session();
    if (r || !(r.error().kind == ErrorKind::transport && f.connection->is_dead() && session.recovery().enabled))
      co_return r;
    session.connection_lost(f.generation);
    ++session.counters().requests_replayed;
    resent = true;
  }
  co_return co_await tree.call(f.request, open, resent);
}

asio::awaitable<void> drain(std::deque<InFlight>& queue) {
  for (auto& f : queue)
    if (f.ticket) (void)co_await f.connection->wait(f.ticket);
  queue.clear();
}

ConnectionInfo connection_info(Session& session) {
  const auto& n = session.connection().negotiated();
  const auto& s = session.security();
  return ConnectionInfo{.dialect = std::string{wire::to_string(n.dialect)},
                        .signing = s.sign ? std::string{crypto::to_string(n.signing)} : std::string{},
                        .cipher = n.cipher == crypto::Cipher::none ? std::string{} : std::string{crypto::to_string(n.cipher)},
                        .session_encrypted = s.encrypt,
                        .max_read_size = n.max_read_size, .max_write_size = n.max_write_size,
                        .bytes_sent = session.connection().traffic().bytes_sent,
                        .bytes_received = session.connection().traffic().bytes_received};
}

}  // namespace smbx::client
