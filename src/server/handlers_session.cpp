// NEGOTIATE (also the SMB1 multi-protocol form), SESSION_SETUP, LOGOFF,
// TREE_CONNECT, TREE_DISCONNECT, ECHO and IOCTL (MS-SMB2 3.3.5.3 - 3.3.5.8,
// 3.3.5.15).
#include <algorithm>
#include <array>

#include "crypto/random.hpp"
#include "server/connection.hpp"
#include "server/file_info.hpp"
#include "server/log.hpp"
#include "wire/bytes.hpp"
#include "wire/fsctl.hpp"

namespace smbx::server {

namespace st = wire::status;
using wire::Dialect;

namespace {

constexpr std::array<Dialect, 5> kDialects = {Dialect::smb311, Dialect::smb302, Dialect::smb300, Dialect::smb210,
                                              Dialect::smb202};

std::uint64_t now_filetime() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return wire::fscc::filetime_from_timespec(ts);
}

const Bytes& negotiate_hint() {
  static const Bytes hint = auth::SpnegoServer::negotiate_hint();
  return hint;
}

// MS-SMB2 2.2.4, the fields every dialect shares.
wire::NegotiateResponse base_response(const Server& server, Dialect dialect, std::uint16_t security_mode,
                                      std::uint32_t capabilities) {
  wire::NegotiateResponse rsp;
  rsp.security_mode = security_mode;
  rsp.dialect_revision = static_cast<std::uint16_t>(dialect);
  rsp.server_guid = server.server_guid();
  rsp.capabilities = capabilities;
  rsp.max_transact_size = rsp.max_read_size = rsp.max_write_size = server.config().max_io_size;
  rsp.system_time = now_filetime();
  rsp.server_start_time = 0;
  rsp.security_buffer = negotiate_hint();
  return rsp;
}

}  // namespace

// MS-SMB2 3.3.5.3.1: an SMB1 NEGOTIATE that offers "SMB 2.???" is answered
// with an SMB2 NEGOTIATE response for the wildcard dialect 0x02FF, and the
// client then negotiates again in SMB2; one that offers only "SMB 2.002" gets
// 2.0.2 straight away.
bool Connection::process_smb1_negotiate(ByteView frame, Bytes& response) {
  constexpr std::size_t kSmb1HeaderSize = 32;
  if (frame.size() < kSmb1HeaderSize + 3 || frame[4] != 0x72) return false;
  if (!credits_.consume(0, 1)) return false;
  const std::size_t byte_count = load_le16(frame.data() + kSmb1HeaderSize + 1);
  ByteView dialects = frame.subspan(kSmb1HeaderSize + 3);
  if (byte_count < dialects.size()) dialects = dialects.first(byte_count);
  bool wildcard = false;
  bool smb2002 = false;
  std::size_t pos = 0;
  while (pos < dialects.size()) {
    if (dialects[pos] != 0x02) return false;  // BufferFormat: dialect string
    const auto* begin = reinterpret_cast<const char*>(dialects.data() + pos + 1);
    const std::size_t max = dialects.size() - pos - 1;
    const std::size_t len = ::strnlen(begin, max);
    if (len == max) return false;  // no terminating NUL
    const std::string_view name{begin, len};
    wildcard = wildcard || name == "SMB 2.???";
    smb2002 = smb2002 || name == "SMB 2.002";
    pos += len + 2;
  }
  if (!wildcard && !smb2002) {
    log_info("connection from " + peer_ + " offers no SMB2 dialect");
    return false;
  }
  server_security_mode_ = wire::negotiate_signing::enabled;
  const Dialect dialect = wildcard ? Dialect::wildcard : Dialect::smb202;
  auto rsp = base_response(server_, dialect, server_security_mode_, 0);
  wire::Header h;
  h.command = wire::Command::negotiate;
  h.flags = wire::flags::server_to_redir;
  h.credits = 1;
  credits_.grant(1);
  response = wire::encode_message(h, rsp);
  if (wildcard) {
    smb1_negotiated_wildcard_ = true;
  } else {
    negotiated_ = true;
    dialect_ = Dialect::smb202;
    signing_algorithm_ = crypto::SigningAlgorithm::hmac_sha256;
  }
  return true;
}

Reply Connection::handle_negotiate(Request& r) {
  // MS-SMB2 3.3.5.4: a second NEGOTIATE ends the connection.
  if (negotiated_) {
    Reply d;
    d.disconnect = true;
    return d;
  }
  const auto& req = std::get<wire::NegotiateRequest>(r.body);
  if (req.dialects.empty()) return fail(st::INVALID_PARAMETER);
  std::optional<Dialect> chosen;
  for (const Dialect d : kDialects)
    if (req.offers(d)) {
      chosen = d;
      break;
    }
  if (!chosen) return fail(st::NOT_SUPPORTED);

  Reply reply;
  std::vector<wire::NegotiateContext> contexts;
  cipher_ = crypto::Cipher::none;
  if (*chosen == Dialect::smb311) {
    const auto* preauth = wire::find_context<wire::PreauthIntegrityCapabilities>(req.negotiate_contexts);
    if (preauth == nullptr) return fail(st::INVALID_PARAMETER);
    if (std::find(preauth->hash_algorithms.begin(), preauth->hash_algorithms.end(), wire::preauth_hash::sha512) ==
        preauth->hash_algorithms.end())
      return fail(st::SMB_NO_PREAUTH_INTEGRITY_HASH_OVERLAP);
    reply.storage.resize(32);
    crypto::random_bytes(reply.storage);
    contexts.push_back(wire::PreauthIntegrityCapabilities{{wire::preauth_hash::sha512}, reply.storage});
    // The client lists its choices most preferred first; take the first one we have.
    if (const auto* enc = wire::find_context<wire::EncryptionCapabilities>(req.negotiate_contexts)) {
      for (const auto id : enc->ciphers)
        if (auto c = crypto::cipher_from_id(id)) {
          cipher_ = *c;
          break;
        }
      contexts.push_back(wire::EncryptionCapabilities{{static_cast<std::uint16_t>(cipher_)}});
    }
    signing_algorithm_ = crypto::SigningAlgorithm::aes_cmac;
    if (const auto* sig = wire::find_context<wire::SigningCapabilities>(req.negotiate_contexts)) {
      for (const auto id : sig->signing_algorithms)
        if (auto a = crypto::signing_algorithm_from_id(id)) {
          signing_algorithm_ = *a;
          break;
        }
      contexts.push_back(wire::SigningCapabilities{{static_cast<std::uint16_t>(signing_algorithm_)}});
    }
  } else {
    signing_algorithm_ = crypto::default_signing_algorithm(*chosen);
    if (wire::is_smb3(*chosen) && (req.capabilities & wire::global_caps::encryption) != 0)
      cipher_ = crypto::Cipher::aes128_ccm;  // the only 3.0/3.0.2 cipher
  }

  dialect_ = *chosen;
  negotiated_ = true;
  supports_multi_credit_ = dialect_ != Dialect::smb202;
  client_guid_ = req.client_guid;
  client_security_mode_ = req.security_mode;
  client_capabilities_ = req.capabilities;
  client_dialects_ = req.dialects;
  server_security_mode_ = wire::negotiate_signing::enabled;
  server_capabilities_ = 0;
  // MS-SMB2 3.3.5.4: leasing from 2.1 on (file leases; no directory leasing).
  if (dialect_ != Dialect::smb202) server_capabilities_ |= wire::global_caps::large_mtu | wire::global_caps::leasing;
  if (wire::is_smb3(dialect_) && dialect_ != Dialect::smb311 && cipher_ != crypto::Cipher::none)
    server_capabilities_ |= wire::global_caps::encryption;
  // MS-SMB2 3.3.5.4: multichannel (session binding, 3.3.5.5.2) on 3.x, to
  // a client that offers it.
  if (wire::is_smb3(dialect_) && (req.capabilities & wire::global_caps::multi_channel) != 0)
    server_capabilities_ |= wire::global_caps::multi_channel;
  // MS-SMB2 3.3.5.4: persistent handles when the client offers them and a
  // share is continuously available.
  if (wire::is_smb3(dialect_) && (req.capabilities & wire::global_caps::persistent_handles) != 0 &&
      server_.any_continuously_available_share())
    server_capabilities_ |= wire::global_caps::persistent_handles;

  auto rsp = base_response(server_, dialect_, server_security_mode_, server_capabilities_);
  rsp.negotiate_contexts = std::move(contexts);
  reply.body = std::move(rsp);
  log_debug("connection from " + peer_ + " negotiated " + std::string{wire::to_string(dialect_)} +
            (cipher_ != crypto::Cipher::none ? ", cipher " + std::string{crypto::to_string(cipher_)} : "") +
            ", signing " + std::string{crypto::to_string(signing_algorithm_)});
  return reply;
}

namespace {

std::unique_ptr<auth::SpnegoServer> make_authenticator(Server& server) {
  auth::NtlmServerConfig config;
  config.nb_computer_name = "SMBXD";
  config.nb_domain_name = "WORKGROUP";
  config.lookup = [&server](std::u16string_view user, std::u16string_view) { return server.nt_hash(user); };
  return std::make_unique<auth::SpnegoServer>(auth::NtlmServer{std::move(config)});
}

constexpr wire::NtStatus kRequestOutOfSequence = 0xC000042A;  // STATUS_REQUEST_OUT_OF_SEQUENCE

// Puts the step's token in the reply; true when authentication goes on: the
// reply is then MORE_PROCESSING_REQUIRED, ready to send (MS-SMB2 3.3.5.5.3).
bool more_processing(Reply& reply, auth::SpnegoServer::StepResult& step) {
  reply.storage = std::move(step.token);
  if (step.complete) return false;
  reply.status = st::MORE_PROCESSING_REQUIRED;
  reply.body = wire::SessionSetupResponse{0, reply.storage};
  return true;
}

}  // namespace

Reply Connection::handle_session_setup(Request& r) {
  const auto& req = std::get<wire::SessionSetupRequest>(r.body);
  if ((req.flags & wire::session_setup_flags::binding) != 0) return bind_session(r);
  Session* session = nullptr;
  if (r.header.session_id == 0) {
    auto fresh = std::make_shared<Session>();
    fresh->id = server_.allocate_session_id();
    fresh->preauth = crypto::PreauthHash{preauth_.value()};  // MS-SMB2 3.3.5.5.1
    fresh->dialect = dialect_;
    fresh->client_guid = client_guid_;
    fresh->cipher = cipher_;
    fresh->signing_algorithm = signing_algorithm_;
    session = fresh.get();
    server_.register_session(fresh);
    sessions_[fresh->id] = std::move(fresh);
  } else {
    session = find_session(r.header.session_id);
    if (session == nullptr) return fail(st::USER_SESSION_DELETED);
  }
  if (!session->auth) session->auth = make_authenticator(server_);
  if (dialect_ == Dialect::smb311) session->preauth.update(r.message);

  Reply reply;
  reply.session_id = session->id;
  auto step = session->auth->step(req.security_buffer);
  if (!step) {
    reply.status = step.error().status != 0 ? step.error().status : st::LOGON_FAILURE;
    log_info("connection from " + peer_ + ": authentication failed: " + describe(step.error()));
    if (session->state == Session::State::in_progress) {
      server_.unregister_session(session->id);
      sessions_.erase(session->id);
    } else {
      // A failed reauthentication ends the session, on every channel, once
      // this response is out (MS-SMB2 3.3.5.5.3; Samba, smbtorture's
      // smb2.session.bind_invalid_auth).
      session->auth.reset();
      reply.end_session = true;
    }
    return reply;
  }
  if (more_processing(reply, *step)) return reply;
  session->auth.reset();
  if (session->state == Session::State::in_progress) {
    // MS-SMB2 3.3.5.5.3: keys from the session key and, in 3.1.1, the hash
    // of every SESSION_SETUP up to this request.
    const auto& key = step->auth->exported_session_key;
    session->keys = crypto::derive_session_keys(dialect_, key, cipher_,
                                                dialect_ == Dialect::smb311 ? ByteView{session->preauth.value()}
                                                                            : ByteView{});
    session->has_keys = true;
    session->user = step->auth->user;
    session->is_anonymous = step->auth->is_anonymous;
    session->signing_required = (req.security_mode & wire::negotiate_signing::required) != 0;
    if (cipher_ != crypto::Cipher::none) session->nonces.emplace(cipher_);
    session->state = Session::State::valid;
    // The first channel: this connection, Channel.SigningKey = Session.SigningKey.
    session->channels.push_back(Channel{this, weak_from_this(), session->keys.signing, signing_algorithm_});
    if (req.previous_session_id != 0 && req.previous_session_id != session->id)
      expire_session(req.previous_session_id, session->user);
    log_info("connection from " + peer_ + ": user " + session->user + " logged on" +
             (session->signing_required ? " (signing required)" : ""));
  }
  reply.sign_with_new_key = true;
  reply.body = wire::SessionSetupResponse{0, reply.storage};
  return reply;
}

// MS-SMB2 3.3.5.5 step 4 and 3.3.5.5.2: this connection becomes another
// channel of an existing session. The checks run in Samba's order, whose
// statuses smbtorture's smb2.session.bind_negative_* expect; a new
// authentication of the same user follows, and its session key makes
// Channel.SigningKey (3.3.5.5.3).
Reply Connection::bind_session(Request& r) {
  const auto& req = std::get<wire::SessionSetupRequest>(r.body);
  const std::uint64_t id = r.header.session_id;
  if (id == 0) return fail(st::INVALID_PARAMETER);
  std::shared_ptr<Session> session = server_.find_session(id);
  if (!session) return fail(st::USER_SESSION_DELETED);
  constexpr auto gmac = crypto::SigningAlgorithm::aes_gmac;
  // A GMAC session binds only GMAC channels and the other way round.
  if (session->signing_algorithm == gmac && signing_algorithm_ != gmac) return fail(kRequestOutOfSequence);
  if (signing_algorithm_ == gmac && session->signing_algorithm != gmac) return fail(st::NOT_SUPPORTED);
  if (!wire::is_smb3(dialect_)) return fail(st::REQUEST_NOT_ACCEPTED);  // no multichannel before 3.0
  if (!r.signature_verified) return fail(st::INVALID_PARAMETER);
  if (session->dialect != dialect_ || session->cipher != cipher_) return fail(st::INVALID_PARAMETER);
  // MS-SMB2 3.3.5.5.2 lets a server refuse another client's binding (Samba does).
  if (session->client_guid != client_guid_) return fail(st::USER_SESSION_DELETED);
  if (session->state != Session::State::valid) return fail(st::REQUEST_NOT_ACCEPTED);
  Channel* channel = session->find_channel(this);
  if (channel != nullptr && !channel->signing_key.empty()) return fail(st::REQUEST_NOT_ACCEPTED);  // bound already
  if (session->is_anonymous) return fail(st::NOT_SUPPORTED);
  auto binding = bindings_.find(id);
  if (channel == nullptr || binding == bindings_.end()) {
    if (channel == nullptr && session->channels.size() >= kMaxChannels) return fail(st::INSUFFICIENT_RESOURCES);
    if (channel == nullptr) session->channels.push_back(Channel{this, weak_from_this(), {}, signing_algorithm_});
    Binding fresh;
    fresh.session = session;
    fresh.auth = make_authenticator(server_);
    fresh.preauth = crypto::PreauthHash{preauth_.value()};  // MS-SMB2 3.3.5.5.2: a PreauthSession
    binding = bindings_.insert_or_assign(id, std::move(fresh)).first;
  }
  if (dialect_ == Dialect::smb311) binding->second.preauth.update(r.message);

  // A failed binding leaves the session as it was (Samba removes the channel).
  auto drop = [this, id, &session] {
    bindings_.erase(id);
    std::erase_if(session->channels,
                  [this](const Channel& c) { return c.connection == this && c.signing_key.empty(); });
  };
  Reply reply;
  reply.session_id = id;
  auto step = binding->second.auth->step(req.security_buffer);
  if (!step) {
    reply.status = step.error().status != 0 ? step.error().status : st::LOGON_FAILURE;
    log_info("connection from " + peer_ + ": binding to session " + std::to_string(id) +
             " failed: " + describe(step.error()));
    drop();
    return reply;
  }
  if (more_processing(reply, *step)) return reply;
  // MS-SMB2 3.3.5.5.2: the same user, or ACCESS_DENIED (Samba).
  if (step->auth->is_anonymous || !equal_ascii_ci(step->auth->user, session->user)) {
    log_info("connection from " + peer_ + ": user " + step->auth->user + " may not bind session " +
             std::to_string(id) + " of " + session->user);
    drop();
    return fail(st::ACCESS_DENIED);
  }
  channel = session->find_channel(this);
  if (channel == nullptr) {
    drop();
    return fail(st::USER_SESSION_DELETED);
  }
  channel->signing_key = crypto::derive_channel_signing_key(
      dialect_, step->auth->exported_session_key,
      dialect_ == Dialect::smb311 ? ByteView{binding->second.preauth.value()} : ByteView{});
  channel->signing_algorithm = signing_algorithm_;
  sessions_[id] = session;
  bindings_.erase(binding);
  log_info("connection from " + peer_ + ": bound to session " + std::to_string(id) + " of " + session->user +
           " (channel " + std::to_string(session->channels.size()) + ")");
  reply.sign_with_new_key = true;  // with the new Channel.SigningKey (3.3.5.5.3)
  reply.body = wire::SessionSetupResponse{0, reply.storage};
  return reply;
}

void Connection::expire_session(std::uint64_t session_id, const std::string& user) {
  const auto session = server_.find_session(session_id);
  if (!session || session->state != Session::State::valid || session->user != user) return;
  log_info("connection from " + peer_ + ": session " + std::to_string(session_id) +
           " replaced by a reconnect of " + user);
  // MS-SMB2 3.3.5.5.3 -> 3.3.7.1: its durable opens wait, detached, for the
  // new session's DHnC/DH2C; the others close.
  end_session(session_id);
}

void Connection::end_session(std::uint64_t session_id) {
  const auto session = server_.find_session(session_id);
  release_opens(session_id);
  if (session) {
    for (const auto& c : session->channels)
      if (auto connection = c.weak.lock()) {
        connection->bindings_.erase(session_id);
        connection->sessions_.erase(session_id);
      }
    session->channels.clear();
    server_.unregister_session(session_id);
  }
  bindings_.erase(session_id);
  sessions_.erase(session_id);
}

Reply Connection::handle_logoff(Request& r) {
  // Durable opens survive a LOGOFF, detached, for a DHnC/DH2C from a new
  // session (Samba; smb2.durable-open.reopen4); the others close.
  release_opens(r.session->id);
  Reply reply;
  reply.body = wire::LogoffResponse{};
  return reply;
}

Reply Connection::handle_tree_connect(Request& r) {
  const auto& req = std::get<wire::TreeConnectRequest>(r.body);
  // MS-SMB2 3.3.5.7: on 3.1.1 a TREE_CONNECT of a session that is neither
  // anonymous nor guest must be signed or encrypted (it protects the
  // negotiation's integrity); otherwise the server disconnects. A bad
  // signature never gets here (3.3.5.2.4 already failed it).
  if (dialect_ == Dialect::smb311 && !r.session->is_anonymous && !r.encrypted && !r.header.is_signed()) {
    log_warn("connection from " + peer_ + ": unsigned TREE_CONNECT on 3.1.1; disconnecting");
    Reply drop;
    drop.disconnect = true;
    return drop;
  }
  // \\server\share: the share is what follows the server part.
  std::u16string_view path = req.path;
  if (path.size() < 3 || path.substr(0, 2) != u"\\\\") return fail(st::BAD_NETWORK_NAME);
  path.remove_prefix(2);
  const auto sep = path.find(u'\\');
  if (sep == std::u16string_view::npos) return fail(st::BAD_NETWORK_NAME);
  const auto name = path.substr(sep + 1);
  const Share* share = server_.find_share(name);
  if (share == nullptr) {
    log_info("connection from " + peer_ + ": no share '" + wire::utf8_from_utf16(name) + "'");
    return fail(st::BAD_NETWORK_NAME);
  }
  // users= (config.hpp): smbxd's stand-in for a share's security descriptor.
  if (!share->config.allows(r.session->user)) {
    log_info("connection from " + peer_ + ": user " + r.session->user + " may not use share " + share->config.name);
    return fail(st::ACCESS_DENIED);
  }
  // A share that must be encrypted cannot be used by a client that cannot encrypt (MS-SMB2 3.3.5.7).
  if (share->config.encrypt && (!wire::is_smb3(dialect_) || cipher_ == crypto::Cipher::none))
    return fail(st::ACCESS_DENIED);
  TreeConnect tree;
  tree.id = r.session->next_tree_id++;
  tree.share = share;
  tree.encrypt_data = share->config.encrypt;
  tree.maximal_access = share->config.readonly ? 0x001200A9u : 0x001F01FFu;
  r.session->trees[tree.id] = tree;
  Reply reply;
  reply.tree_id = tree.id;
  wire::TreeConnectResponse rsp;
  rsp.share_type = wire::share_type::disk;
  rsp.share_flags = wire::share_flags::manual_caching | (tree.encrypt_data ? wire::share_flags::encrypt_data : 0u);
  // MS-SMB2 3.3.5.7: a CA share says so (3.x), and clients then ask for
  // persistent handles on it.
  rsp.capabilities = share->config.continuously_available && wire::is_smb3(dialect_)
                         ? wire::share_caps::continuous_availability
                         : 0u;
  rsp.maximal_access = tree.maximal_access;
  reply.body = rsp;
  return reply;
}

Reply Connection::handle_tree_disconnect(Request& r) {
  close_tree_opens(r.session->id, r.tree->id);
  r.session->trees.erase(r.tree->id);
  Reply reply;
  reply.body = wire::TreeDisconnectResponse{};
  return reply;
}

Reply Connection::handle_echo(Request&) {
  Reply reply;
  reply.body = wire::EchoResponse{};
  return reply;
}

Reply Connection::handle_ioctl(Request& r) {
  const auto& req = std::get<wire::IoctlRequest>(r.body);
  if (req.flags != wire::ioctl_flags::is_fsctl) return fail(st::NOT_SUPPORTED);
  Reply reply;
  wire::Writer w{reply.storage};
  switch (req.ctl_code) {
    case wire::fsctl::validate_negotiate_info: {
      // MS-SMB2 3.3.5.15.12: any mismatch means a downgrade: end the connection.
      Reply drop;
      drop.disconnect = true;
      if (dialect_ == Dialect::smb311 || req.max_output_response < 24) return drop;
      auto in = wire::decode_validate_negotiate_info_request(req.input);
      if (!in) return drop;
      std::vector<std::uint16_t> dialects;
      for (const auto d : in->dialects) dialects.push_back(static_cast<std::uint16_t>(d));
      if (dialects != client_dialects_ || in->guid != client_guid_ || in->security_mode != client_security_mode_ ||
          in->capabilities != client_capabilities_)
        return drop;
      wire::encode(w, wire::ValidateNegotiateInfoResponse{server_capabilities_, server_.server_guid(),
                                                          server_security_mode_, dialect_});
      break;
    }
    case wire::fsctl::query_network_interface_info: {
      boost::system::error_code ec;
      const auto local = socket_.local_endpoint(ec);
      wire::NetworkInterfaceInfo info;
      info.if_index = 1;
      info.link_speed = 10'000'000'000ull;
      info.port = 0;
      if (!ec && local.address().is_v4()) {
        const auto b = local.address().to_v4().to_bytes();
        std::copy(b.begin(), b.end(), info.address.begin());
      } else if (!ec) {
        info.family = wire::address_family::inet6;
        const auto b = local.address().to_v6().to_bytes();
        std::copy(b.begin(), b.end(), info.address.begin());
      }
      const std::array<wire::NetworkInterfaceInfo, 1> list{info};
      wire::encode_network_interface_info(w, list);
      if (reply.storage.size() > req.max_output_response) return fail(st::BUFFER_TOO_SMALL);
      break;
    }
    case wire::fsctl::dfs_get_referrals:
    case wire::fsctl::dfs_get_referrals_ex:
      return fail(st::FS_DRIVER_REQUIRED);  // MS-SMB2 3.3.5.15.2: not a DFS share
    default: {
      // The rest act on an open: a missing one is FILE_CLOSED (smb2.compound.related5).
      Open* open = find_open(r, req.file_id);
      if (open == nullptr) return fail(open_error_);
      reply.file_id = wire::FileId{open->id, open->id};
      switch (req.ctl_code) {
        case wire::fsctl::srv_request_resume_key: return handle_resume_key(req, *open);
        case wire::fsctl::srv_copychunk:
        case wire::fsctl::srv_copychunk_write: return handle_copychunk(r, req, *open);
        case wire::fsctl::offload_read: return handle_offload_read(req, *open);
        case wire::fsctl::offload_write: return handle_offload_write(r, req, *open);
        default: break;
      }
      constexpr std::uint32_t kGetObjectId = 0x0009009C;
      constexpr std::uint32_t kCreateOrGetObjectId = 0x000900C0;
      if (req.ctl_code != kGetObjectId && req.ctl_code != kCreateOrGetObjectId) {
        Reply unsupported = fail(st::INVALID_DEVICE_REQUEST);
        unsupported.file_id = reply.file_id;
        return unsupported;
      }
      // MS-FSCC 2.1.3 FILE_OBJECTID_BUFFER: ObjectId, BirthVolumeId,
      // BirthObjectId, DomainId; made from the inode and device.
      auto sx = stat_fd(open->fd);
      if (!sx) return fail(sx.error().status);
      if (req.max_output_response < 64) return fail(st::BUFFER_TOO_SMALL);
      for (int k = 0; k < 2; ++k) {
        w.u64(sx->inode);
        w.u64(sx->device);
      }
      w.u64(sx->inode);
      w.u64(sx->device);
      w.zeros(16);
      break;
    }
  }
  wire::IoctlResponse rsp;
  rsp.ctl_code = req.ctl_code;
  rsp.file_id = req.file_id;
  rsp.output = reply.storage;
  reply.body = rsp;
  return reply;
}

}  // namespace smbx::server
