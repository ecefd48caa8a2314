// Fault injection for failover tests (DESIGN.md, Reference server cluster).
// The control protocol line is "fault ARGS"; see faults.hpp for the faults.
#include "server/faults.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <csignal>
#include <type_traits>

#include "server/log.hpp"
#include "wire/fscc.hpp"
#include "wire/types.hpp"

namespace smbx::server {

namespace asio = boost::asio;

namespace {

constexpr std::uint64_t kMaxDropCount = 1'000'000;
// A freeze longer than a connection's idle timeout (900 s) would let the
// watchdog end the connections, which is a different fault.
constexpr double kMaxFreezeSeconds = 600;
constexpr std::uint64_t kMaxDelayMs = 60'000;

const char* const kUsage =
    "error usage: fault crash | freeze SECONDS | drop-connections | drop-responses N [COMMAND|any [NAME]] | "
    "delay MS | offload-cap BYTES | ignore-cancels | clear | status";

std::vector<std::string_view> split_words(std::string_view text) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    const std::size_t start = i;
    while (i < text.size() && text[i] != ' ') ++i;
    if (i > start) words.push_back(text.substr(start, i - start));
  }
  return words;
}

std::optional<std::uint64_t> parse_count(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<double> parse_seconds(std::string_view text) {
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || !(value >= 0)) return std::nullopt;
  return value;
}

std::string lower(std::string_view text) {
  std::string out{text};
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "create", "set_info", ... (wire::to_string's names, lower-cased; '-' may stand for '_').
std::optional<wire::Command> parse_command(std::string_view text) {
  std::string want = lower(text);
  std::replace(want.begin(), want.end(), '-', '_');
  for (std::uint16_t code = 0; code < wire::kCommandCount; ++code) {
    const auto command = static_cast<wire::Command>(code);
    if (lower(wire::to_string(command)) == want) return command;
  }
  return std::nullopt;
}

bool set_info_class(const wire::Body& body, std::initializer_list<std::uint8_t> classes) {
  const auto* s = std::get_if<wire::SetInfoRequest>(&body);
  if (s == nullptr || s->info_type != wire::info_type::file) return false;
  return std::find(classes.begin(), classes.end(), s->file_info_class) != classes.end();
}

std::string command_names() {
  std::string out = "create-new, rename, delete, set-eof";
  for (std::uint16_t code = 0; code < wire::kCommandCount; ++code) {
    const auto name = lower(wire::to_string(static_cast<wire::Command>(code)));
    if (name == "unknown" || name == "server_to_client_notification") continue;
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

}  // namespace

Faults::Faults(asio::io_context& io) : io_{io}, thaw_{io} {}

Faults::Watch Faults::watch(const void* connection, Socket& socket) {
  Watched fresh;
  fresh.socket = &socket;
  connections_[connection] = std::move(fresh);
  return Watch{*this, connection};
}

std::vector<std::string> Faults::control(std::string_view args) {
  const auto words = split_words(args);
  if (words.empty()) return {kUsage};
  const std::string verb = lower(words[0]);
  const std::size_t extra = words.size() - 1;

  if (verb == "crash") {
    if (extra != 0) return {"error fault crash takes no argument"};
    log_warn("fault: crash (SIGKILL) requested on the control socket");
    // After this reply went out (the control session writes it before it
    // next yields), die like kill -9: no destructors, no state flushed.
    asio::post(io_, [] { ::raise(SIGKILL); });
    return {"ok"};
  }
  if (verb == "freeze") {
    if (extra != 1) return {"error usage: fault freeze SECONDS"};
    const auto seconds = parse_seconds(words[1]);
    if (!seconds || *seconds <= 0 || *seconds > kMaxFreezeSeconds)
      return {"error fault freeze: SECONDS must be a number above 0 and at most 600, not '" +
              std::string{words[1]} + "'"};
    return {set_freeze(std::chrono::milliseconds{static_cast<std::int64_t>(*seconds * 1000)})};
  }
  if (verb == "drop-connections") {
    if (extra != 0) return {"error fault drop-connections takes no argument"};
    drop_connections();
    return {"ok"};
  }
  if (verb == "drop-responses") {
    if (extra < 1 || extra > 3) return {"error usage: fault drop-responses N [COMMAND|any [NAME]]"};
    const auto count = parse_count(words[1]);
    if (!count || *count == 0 || *count > kMaxDropCount)
      return {"error fault drop-responses: N must be a whole number from 1 to 1000000, not '" +
              std::string{words[1]} + "'"};
    std::optional<Filter> command;
    if (extra >= 2 && lower(words[2]) != "any") {
      command = parse_filter(words[2]);
      if (!command)
        return {"error fault drop-responses: unknown command '" + std::string{words[2]} + "' (any, " +
                command_names() + ")"};
    }
    drop_remaining_ = *count;
    drop_command_ = command;
    drop_name_ = extra == 3 ? std::string{words[3]} : std::string{};
    for (auto& [c, w] : connections_) {
      w.frame_matched = false;
      w.matched.clear();
    }
    log_warn("fault: the next " + std::to_string(*count) + " response(s)" +
             (command ? " to " + command->name : std::string{}) +
             (drop_name_.empty() ? std::string{} : " naming '" + drop_name_ + "'") +
             " will be dropped, then the connection");
    return {"ok"};
  }
  if (verb == "delay") {
    if (extra != 1) return {"error usage: fault delay MS"};
    const auto ms = parse_count(words[1]);
    if (!ms || *ms > kMaxDelayMs)
      return {"error fault delay: MS must be a whole number from 0 to 60000, not '" + std::string{words[1]} + "'"};
    delay_ = std::chrono::milliseconds{*ms};
    log_warn("fault: responses delayed by " + std::to_string(*ms) + " ms");
    return {"ok"};
  }
  if (verb == "offload-cap") {
    if (extra != 1) return {"error usage: fault offload-cap BYTES"};
    const auto bytes = parse_count(words[1]);
    if (!bytes) return {"error fault offload-cap: BYTES must be a whole number (0 ends the cap), not '" +
                        std::string{words[1]} + "'"};
    offload_cap_ = *bytes;
    log_warn(*bytes == 0 ? std::string{"fault: offload cap cleared"}
                         : "fault: ODX transfers capped at " + std::to_string(*bytes) + " bytes");
    return {"ok"};
  }
  if (verb == "ignore-cancels") {
    if (extra != 0) return {"error fault ignore-cancels takes no argument"};
    ignore_cancels_ = true;
    log_warn("fault: SMB2 CANCEL requests will be ignored");
    return {"ok"};
  }
  if (verb == "clear") {
    if (extra != 0) return {"error fault clear takes no argument"};
    offload_cap_ = 0;
    ignore_cancels_ = false;
    frozen_until_ = {};
    drop_remaining_ = 0;
    drop_command_.reset();
    drop_name_.clear();
    delay_ = std::chrono::milliseconds{0};
    wake_waiters();
    log_warn("fault: cleared");
    return {"ok"};
  }
  if (verb == "status") {
    if (extra != 0) return {"error fault status takes no argument"};
    std::vector<std::string> out{"ok"};
    const auto now = Clock::now();
    const auto left = now < frozen_until_
                          ? std::chrono::duration_cast<std::chrono::milliseconds>(frozen_until_ - now).count()
                          : 0;
    out.push_back("freeze: " + (left > 0 ? std::to_string(left) + " ms left" : std::string{"none"}));
    out.push_back("drop-responses: " +
                  (drop_remaining_ == 0
                       ? std::string{"none"}
                       : std::to_string(drop_remaining_) + " left" +
                             (drop_command_ ? " command " + drop_command_->name : std::string{}) +
                             (drop_name_.empty() ? std::string{} : " name " + drop_name_)));
    out.push_back("delay: " + std::to_string(delay_.count()) + " ms");
    out.push_back("connections: " + std::to_string(connections_.size()));
    out.push_back("offload-cap: " +
                  (offload_cap_ == 0 ? std::string{"none"} : std::to_string(offload_cap_) + " bytes"));
    out.push_back(std::string{"ignore-cancels: "} + (ignore_cancels_ ? "yes" : "no"));
    return out;
  }
  return {std::string{kUsage} + " (unknown fault '" + std::string{words[0]} + "')"};
}

std::string Faults::set_freeze(std::chrono::milliseconds length) {
  frozen_until_ = Clock::now() + length;
  // Re-arming the timer wakes the current waiters (operation_aborted); they
  // look at frozen_until_ again and wait for the new end.
  thaw_.expires_at(frozen_until_);
  log_warn("fault: SMB connections frozen for " + std::to_string(length.count()) + " ms");
  return "ok";
}

void Faults::wake_waiters() { thaw_.cancel(); }

void Faults::drop_connections() {
  std::size_t n = 0;
  for (auto& [c, w] : connections_) {
    if (w.dropped || w.socket == nullptr) continue;
    w.dropped = true;
    boost::system::error_code ignored;
    // A RST, as when a server process or its host goes away: the client's
    // next read fails at once.
    w.socket->set_option(asio::socket_base::linger(true, 0), ignored);
    w.socket->close(ignored);
    ++n;
  }
  wake_waiters();  // connections held by a freeze end too
  log_warn("fault: dropped " + std::to_string(n) + " connection(s)");
}

asio::awaitable<bool> Faults::hold(const void* connection) {
  for (;;) {
    const auto it = connections_.find(connection);
    if (it != connections_.end() && it->second.dropped) co_return false;
    if (Clock::now() >= frozen_until_) co_return true;
    co_await thaw_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

asio::awaitable<bool> Faults::before_send(const void* connection) {
  if (!co_await hold(connection)) co_return false;
  if (delay_.count() > 0) {
    asio::steady_timer timer{io_};
    timer.expires_after(delay_);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (!co_await hold(connection)) co_return false;
  }
  co_return true;
}

std::optional<Faults::Filter> Faults::parse_filter(std::string_view text) {
  Filter f;
  f.name = lower(text);
  if (f.name == "create-new") f.kind = Filter::Kind::create_new;
  else if (f.name == "rename") f.kind = Filter::Kind::rename;
  else if (f.name == "delete") f.kind = Filter::Kind::delete_;
  else if (f.name == "set-eof") f.kind = Filter::Kind::set_eof;
  else if (const auto c = parse_command(text)) f.command = *c;
  else return std::nullopt;
  return f;
}

bool Faults::Filter::matches(wire::Command c, const wire::Body& body) const {
  namespace fic = wire::fscc::file_info_class;
  switch (kind) {
    case Kind::command: return c == command;
    case Kind::create_new: {
      // A lookup or a plain open (OPEN, OVERWRITE) never makes the file.
      const auto* create = std::get_if<wire::CreateRequest>(&body);
      return create != nullptr && create->create_disposition != wire::disposition::open &&
             create->create_disposition != wire::disposition::overwrite;
    }
    case Kind::rename: return set_info_class(body, {fic::file_rename_information});
    case Kind::delete_:
      return set_info_class(body, {fic::file_disposition_information, fic::file_disposition_information_ex});
    case Kind::set_eof: return set_info_class(body, {fic::file_end_of_file_information});
  }
  return false;
}

std::optional<wire::FileId> Faults::file_id_of(const wire::Body& body) {
  return std::visit(
      [](const auto& b) -> std::optional<wire::FileId> {
        using T = std::decay_t<decltype(b)>;
        if constexpr (requires { b.file_id; }) {
          if constexpr (std::is_same_v<std::decay_t<decltype(b.file_id)>, wire::FileId> &&
                        !std::is_same_v<T, wire::CreateResponse>)
            return b.file_id;
        }
        return std::nullopt;
      },
      body);
}

void Faults::note_request(const void* connection, wire::Command command, const wire::Body& body,
                          const std::string* open_path) {
  if (drop_remaining_ == 0) return;
  const auto it = connections_.find(connection);
  if (it == connections_.end()) return;
  if (drop_command_ && !drop_command_->matches(command, body)) return;
  std::string name;
  if (const auto* create = std::get_if<wire::CreateRequest>(&body)) {
    name = wire::utf8_from_utf16(create->name);
    std::replace(name.begin(), name.end(), '\\', '/');
  } else if (open_path != nullptr) {
    name = *open_path;
  }
  if (!drop_name_.empty() && name.find(drop_name_) == std::string::npos) return;
  auto& w = it->second;
  w.frame_matched = true;
  if (!w.matched.empty()) w.matched += ", ";
  w.matched += std::string{wire::to_string(command)} + " '" + name + "'";
}

Faults::Verdict Faults::after_frame(const void* connection) {
  const auto it = connections_.find(connection);
  if (it == connections_.end() || !it->second.frame_matched) return Verdict::answer;
  it->second.frame_matched = false;
  const std::string what = std::move(it->second.matched);
  it->second.matched.clear();
  if (drop_remaining_ == 0) return Verdict::answer;  // cleared while the frame ran
  --drop_remaining_;
  if (drop_remaining_ > 0) {
    log_warn("fault: dropped the response to " + what + " (" + std::to_string(drop_remaining_) + " more to drop)");
    return Verdict::drop;
  }
  drop_command_.reset();
  drop_name_.clear();
  log_warn("fault: dropped the response to " + what + ", and the connection");
  return Verdict::drop_and_disconnect;
}

}  // namespace smbx::server
