// DER, SPNEGO token codecs (ntlm.md §2) and the SPNEGO client/server contexts.
#include <doctest/doctest.h>

#include <string>

#include "auth/der.hpp"
#include "auth/spnego.hpp"
#include "support/ntlm_capture.hpp"
#include "support/test_data.hpp"
#include "support/wire_errors.hpp"
#include "wire/ntstatus.hpp"

using namespace smbx;
using namespace smbx::auth;
using smbx::test::failed_with;
using smbx::test::hex;

namespace {

using test::ntlm_capture::unhex;

Bytes cat(std::initializer_list<ByteView> parts) {
  Bytes out;
  for (ByteView p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Bytes ascii(std::string_view s) { return Bytes{s.begin(), s.end()}; }

// The NTLM messages of capture smb311-encrypted (ntlm.md §8).
const auto kNegotiate = unhex(test::ntlm_capture::kNegotiate);
const auto kChallenge = unhex(test::ntlm_capture::kChallenge);
const auto kAuthenticateSize = std::size_t{372};
const auto kMechTypeList = unhex(test::ntlm_capture::kMechTypeList);
const auto kClientMic = unhex("0100000008b58d2915d6a43e00000000");
const auto kServerMic = unhex("01000000ed1cbd2199e339ff00000000");

Bytes ntlmssp_oid() { return Bytes{oid::ntlmssp.begin(), oid::ntlmssp.end()}; }

NtlmServerConfig server_config() {
  NtlmServerConfig config;
  config.lookup = [hash = nt_hash_from_password("Passw0rd!")](std::u16string_view user,
                                                              std::u16string_view) -> std::optional<NtHash> {
    if (user == u"alice") return hash;
    return std::nullopt;
  };
  config.nb_computer_name = "FS1";
  config.nb_domain_name = "TESTDOM";
  return config;
}

NtlmClient alice(std::string password = "Passw0rd!") {
  return NtlmClient{Credentials{"alice", "TESTDOM", std::move(password)}, "WS1", "cifs/fs1"};
}

}  // namespace

// ---- DER ----

TEST_CASE("DER refuses an indefinite length") {
  auto r = der::Reader{hex("3080040100 0000")}.read();
  REQUIRE_FALSE(r);
  CHECK(failed_with(r.error(), WireError::bad_length));
}

TEST_CASE("DER refuses a length of more than 4 bytes and accepts 4") {
  const auto five_bytes = hex("048500000000020102");
  auto five = der::Reader{five_bytes}.read();
  REQUIRE_FALSE(five);
  CHECK(failed_with(five.error(), WireError::bad_length));
  const auto four_bytes = hex("0484000000020102");
  auto four = der::Reader{four_bytes}.read();
  REQUIRE(four);
  CHECK(to_hex(four->value) == "0102");
}

TEST_CASE("DER refuses a length that runs past its parent") {
  // The outer SEQUENCE holds 3 bytes; the OCTET STRING inside claims 5.
  const auto bytes = hex("30030405aa");
  auto outer = der::Reader{bytes}.read();
  REQUIRE(outer);
  auto inner = der::Reader{outer->value}.read();
  REQUIRE_FALSE(inner);
  CHECK(failed_with(inner.error(), WireError::truncated));
  // A long-form length of 4 GiB - 1 must not wrap.
  CHECK(failed_with(der::Reader{hex("0484ffffffff00")}.read().error(), WireError::truncated));
  // The length bytes themselves missing.
  CHECK(failed_with(der::Reader{hex("0482ff")}.read().error(), WireError::truncated));
}

TEST_CASE("DER writes short and long form lengths") {
  CHECK(to_hex(ByteView{der::tlv(0x04, Bytes(0x7f, 0))}.first(2)) == "047f");
  CHECK(to_hex(ByteView{der::tlv(0x04, Bytes(0x80, 0))}.first(3)) == "048180");
  CHECK(to_hex(ByteView{der::tlv(0x04, Bytes(0x174, 0))}.first(4)) == "04820174");
  CHECK(to_hex(ByteView{der::tlv(0x04, Bytes(0x10000, 0))}.first(5)) == "0483010000");
}

// ---- Tokens: the templates of ntlm.md §2.3 ----

TEST_CASE("the server's NEGOTIATE hint is the captured NegTokenInit2") {
  const auto expected =
      cat({hex("604806062b0601050502a03e303ca00e300c060a2b06010401823702020aa32a3028a0261b24"),
           ascii("not_defined_in_RFC4178@please_ignore")});
  CHECK(expected.size() == 74);
  CHECK(to_hex(SpnegoServer::negotiate_hint()) == to_hex(expected));
}

TEST_CASE("the client's NegTokenInit is the captured one given the same NEGOTIATE_MESSAGE") {
  const auto expected =
      cat({hex("604806062b0601050502a03e303ca00e300c060a2b06010401823702020aa22a0428"), kNegotiate});
  const ByteView mechs[] = {oid::ntlmssp};
  CHECK(encode_mech_type_list(mechs) == kMechTypeList);
  CHECK(to_hex(encode_neg_token_init(kMechTypeList, ByteView{kNegotiate})) == to_hex(expected));
  SpnegoClient client{alice()};
  CHECK(to_hex(client.initial_token()) == to_hex(expected));
}

TEST_CASE("the NegTokenResp templates of the capture are produced exactly") {
  NegTokenResp challenge_resp;
  challenge_resp.neg_state = NegState::accept_incomplete;
  challenge_resp.supported_mech = ntlmssp_oid();
  challenge_resp.response_token = kChallenge;
  CHECK(to_hex(encode_neg_token_resp(challenge_resp)) ==
        to_hex(cat({hex("a1819c308199a0030a0101a10c060a2b06010401823702020aa281830481 80"), kChallenge})));

  const Bytes authenticate(kAuthenticateSize, 0xAB);
  NegTokenResp auth_resp;
  auth_resp.response_token = authenticate;
  auth_resp.mech_list_mic = kClientMic;
  CHECK(to_hex(encode_neg_token_resp(auth_resp)) ==
        to_hex(cat({hex("a182019430820190a282017804820174"), authenticate, hex("a3120410"), kClientMic})));

  NegTokenResp final_resp;
  final_resp.neg_state = NegState::accept_completed;
  final_resp.mech_list_mic = kServerMic;
  CHECK(to_hex(encode_neg_token_resp(final_resp)) ==
        to_hex(cat({hex("a11b3019a0030a0100a3120410"), kServerMic})));
}

TEST_CASE("parse_spnego reads back every token kind") {
  auto hint = parse_spnego(SpnegoServer::negotiate_hint());
  REQUIRE(hint);
  CHECK(hint->kind == SpnegoKind::neg_token_init);
  CHECK(hint->has_initial_context_token);
  CHECK(hint->hint_name == std::string{kNegHintName});
  CHECK(hint->offers(oid::ntlmssp));
  CHECK_FALSE(hint->mech_token);

  auto init = parse_spnego(encode_neg_token_init(kMechTypeList, ByteView{kNegotiate}, ByteView{kClientMic}));
  REQUIRE(init);
  CHECK(init->mech_type_list == kMechTypeList);
  CHECK(init->mech_types == std::vector<Bytes>{ntlmssp_oid()});
  CHECK(init->mech_token == kNegotiate);
  CHECK(init->mech_list_mic == kClientMic);

  NegTokenResp r;
  r.neg_state = NegState::request_mic;
  r.supported_mech = ntlmssp_oid();
  r.response_token = kChallenge;
  r.mech_list_mic = kServerMic;
  auto resp = parse_spnego(encode_neg_token_resp(r));
  REQUIRE(resp);
  CHECK(resp->kind == SpnegoKind::neg_token_resp);
  CHECK_FALSE(resp->has_initial_context_token);
  CHECK(resp->neg_state == NegState::request_mic);
  CHECK(resp->supported_mech == ntlmssp_oid());
  CHECK(resp->response_token == kChallenge);
  CHECK(resp->mech_list_mic == kServerMic);
}

TEST_CASE("malformed SPNEGO tokens are refused") {
  struct Case {
    const char* hex_token;
    WireError expected;
    const char* why;
  };
  const Case cases[] = {
      {"a180", WireError::bad_length, "indefinite length"},
      {"a1053003a00100", WireError::truncated, "negState [0] holds 1 byte, a TLV needs 2"},
      {"a103300380", WireError::truncated, "SEQUENCE claims 3 bytes with 1 left"},
      {"a10530030a0100", WireError::bad_value, "SEQUENCE element that is not a context tag"},
      {"a10b3009a0070a850000000001", WireError::bad_length, "5-byte length"},
      {"a1073005a0030a0104", WireError::bad_value, "negState 4 is out of range"},
      {"a10c300aa0030a0100a0030a0100", WireError::bad_value, "[0] repeated"},
      {"a102300000", WireError::trailing_data, "a byte after the token"},
      {"60080606040000000000", WireError::bad_value, "InitialContextToken for another mechanism"},
      {"a20100", WireError::bad_value, "neither NegTokenInit nor NegTokenResp"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.why);
    auto r = parse_spnego(hex(c.hex_token));
    REQUIRE_FALSE(r);
    CHECK(failed_with(r.error(), c.expected));
  }
}

TEST_CASE("a real token with an inner length one byte too long is refused") {
  auto token = encode_neg_token_init(kMechTypeList, ByteView{kNegotiate});
  token[33] = 0x29;  // the mechToken OCTET STRING now claims 41 bytes inside a 42-byte [2]
  CHECK(to_hex(ByteView{token}.subspan(30, 4)) == "a22a0429");
  CHECK(failed_with(parse_spnego(token).error(), WireError::truncated));
}

TEST_CASE("extract_ntlm_message finds the NTLM message in each kind of security buffer") {
  auto from_init = extract_ntlm_message(encode_neg_token_init(kMechTypeList, ByteView{kNegotiate}));
  REQUIRE(from_init);
  CHECK(*from_init == kNegotiate);
  NegTokenResp r;
  r.neg_state = NegState::accept_incomplete;
  r.response_token = kChallenge;
  CHECK(*extract_ntlm_message(encode_neg_token_resp(r)) == kChallenge);
  CHECK(*extract_ntlm_message(kChallenge) == kChallenge);  // raw NTLMSSP
  CHECK_FALSE(extract_ntlm_message(SpnegoServer::negotiate_hint())->has_value());
  CHECK_FALSE(extract_ntlm_message(ByteView{})->has_value());
  CHECK_FALSE(extract_ntlm_message(hex("a102300000")).has_value());

  const Bytes buffers[] = {SpnegoServer::negotiate_hint(),
                           encode_neg_token_init(kMechTypeList, ByteView{kNegotiate}),
                           encode_neg_token_resp(r)};
  const ByteView views[] = {buffers[0], buffers[1], buffers[2]};
  auto all = extract_ntlm_messages(views);
  REQUIRE(all);
  CHECK(*all == std::vector<Bytes>{kNegotiate, kChallenge});
}

// ---- Contexts ----

TEST_CASE("SpnegoClient and SpnegoServer complete an exchange and share the session key") {
  SpnegoClient client{alice()};
  SpnegoServer server{NtlmServer{server_config()}};
  REQUIRE(client.accept_negotiate_hint(SpnegoServer::negotiate_hint()));
  auto r1 = server.step(client.initial_token());
  REQUIRE(r1);
  CHECK_FALSE(r1->complete);
  auto t2 = client.step(r1->token);
  REQUIRE(t2);
  CHECK(parse_spnego(*t2)->mech_list_mic.has_value());
  auto r2 = server.step(*t2);
  REQUIRE(r2);
  CHECK(r2->complete);
  REQUIRE(r2->auth);
  CHECK(r2->auth->user == "alice");
  const auto final_token = parse_spnego(r2->token);
  REQUIRE(final_token);
  CHECK(final_token->neg_state == NegState::accept_completed);
  CHECK(final_token->mech_list_mic.has_value());
  REQUIRE(client.finish(r2->token));
  CHECK(client.is_complete());
  CHECK(client.session_key() == r2->auth->exported_session_key);
  // The exchange is over.
  CHECK(server.step(*t2).error().kind == ErrorKind::usage);
}

TEST_CASE("SpnegoClient accepts an empty NEGOTIATE hint and refuses one without NTLMSSP") {
  SpnegoClient client{alice()};
  CHECK(client.accept_negotiate_hint(ByteView{}).has_value());
  const ByteView kerberos_only[] = {oid::kerberos5, oid::ms_kerberos5};
  CHECK_FALSE(
      client.accept_negotiate_hint(encode_neg_token_init2(encode_mech_type_list(kerberos_only))).has_value());
}

TEST_CASE("a wrong password through SPNEGO is STATUS_LOGON_FAILURE") {
  SpnegoClient client{alice("wrong")};
  SpnegoServer server{NtlmServer{server_config()}};
  auto r1 = server.step(client.initial_token());
  REQUIRE(r1);
  auto t2 = client.step(r1->token);
  REQUIRE(t2);
  auto r2 = server.step(*t2);
  REQUIRE_FALSE(r2);
  CHECK(r2.error().kind == ErrorKind::auth);
  CHECK(r2.error().status == wire::status::LOGON_FAILURE);
  // A failed context stays failed.
  CHECK_FALSE(server.step(*t2).has_value());
}

TEST_CASE("a tampered client mechListMIC is refused and so is a missing one") {
  for (bool drop : {false, true}) {
    CAPTURE(drop);
    SpnegoClient client{alice()};
    SpnegoServer server{NtlmServer{server_config()}};
    auto r1 = server.step(client.initial_token());
    REQUIRE(r1);
    auto t2 = client.step(r1->token);
    REQUIRE(t2);
    auto parsed = parse_spnego(*t2);
    REQUIRE(parsed);
    NegTokenResp resp;
    resp.response_token = parsed->response_token;
    if (!drop) {
      resp.mech_list_mic = parsed->mech_list_mic;
      (*resp.mech_list_mic)[6] ^= 0x10;
    }
    auto r2 = server.step(encode_neg_token_resp(resp));
    REQUIRE_FALSE(r2);
    CHECK(r2.error().status == wire::status::LOGON_FAILURE);
  }
}

TEST_CASE("a tampered server mechListMIC fails the client's finish") {
  SpnegoClient client{alice()};
  SpnegoServer server{NtlmServer{server_config()}};
  auto r1 = server.step(client.initial_token());
  REQUIRE(r1);
  auto t2 = client.step(r1->token);
  REQUIRE(t2);
  auto r2 = server.step(*t2);
  REQUIRE(r2);
  auto final_token = r2->token;
  final_token.back() ^= 0x01;  // the last byte of the mechListMIC (SeqNum)
  CHECK_FALSE(client.finish(final_token).has_value());
  CHECK_FALSE(client.is_complete());
}

TEST_CASE("the client refuses a reject, a foreign mechanism and a final token that is not accept-completed") {
  NegTokenResp reject;
  reject.neg_state = NegState::reject;
  SpnegoClient c1{alice()};
  c1.initial_token();
  CHECK(c1.step(encode_neg_token_resp(reject)).error().status == wire::status::LOGON_FAILURE);

  NegTokenResp kerberos;
  kerberos.neg_state = NegState::accept_incomplete;
  kerberos.supported_mech = Bytes{oid::kerberos5.begin(), oid::kerberos5.end()};
  kerberos.response_token = kChallenge;
  SpnegoClient c2{alice()};
  c2.initial_token();
  CHECK(c2.step(encode_neg_token_resp(kerberos)).error().kind == ErrorKind::auth);

  SpnegoClient c3{alice()};
  SpnegoServer server{NtlmServer{server_config()}};
  auto r1 = server.step(c3.initial_token());
  REQUIRE(r1);
  REQUIRE(c3.step(r1->token));
  NegTokenResp incomplete;
  incomplete.neg_state = NegState::accept_incomplete;
  CHECK_FALSE(c3.finish(encode_neg_token_resp(incomplete)).has_value());
  CHECK_FALSE(c3.finish(ByteView{}).has_value());
}

TEST_CASE("SpnegoServer answers raw NTLMSSP tokens raw") {
  auto ntlm = alice();
  SpnegoServer server{NtlmServer{server_config()}};
  auto r1 = server.step(ntlm.negotiate_message());
  REQUIRE(r1);
  CHECK(ntlm_message_type(r1->token) == 2u);
  auto authenticate = ntlm.authenticate(r1->token);
  REQUIRE(authenticate);
  auto r2 = server.step(*authenticate);
  REQUIRE(r2);
  CHECK(r2->complete);
  CHECK(r2->token.empty());
  CHECK(r2->auth->exported_session_key == ntlm.exported_session_key());
}

TEST_CASE("a client preferring Kerberos is steered to NTLMSSP and must send the mechListMIC") {
  // RFC 4178 5: the optimistic Kerberos token is dropped, the server answers
  // request-mic, and the mechListMIC becomes mandatory.
  for (bool send_mic : {true, false}) {
    CAPTURE(send_mic);
    auto ntlm = alice();
    SpnegoServer server{NtlmServer{server_config()}};
    const ByteView mechs[] = {oid::kerberos5, oid::ntlmssp};
    const auto mech_type_list = encode_mech_type_list(mechs);
    auto r1 = server.step(encode_neg_token_init(mech_type_list, ByteView{hex("6e020500")}));
    REQUIRE(r1);
    auto first = parse_spnego(r1->token);
    REQUIRE(first);
    CHECK(first->neg_state == NegState::request_mic);
    CHECK(first->supported_mech == ntlmssp_oid());
    CHECK_FALSE(first->response_token);

    NegTokenResp negotiate;
    negotiate.response_token = ntlm.negotiate_message();
    auto r2 = server.step(encode_neg_token_resp(negotiate));
    REQUIRE(r2);
    auto second = parse_spnego(r2->token);
    REQUIRE(second);
    REQUIRE(second->response_token);

    NegTokenResp authenticate;
    authenticate.response_token = *ntlm.authenticate(*second->response_token);
    if (send_mic) authenticate.mech_list_mic = *ntlm.make_mic(mech_type_list);
    auto r3 = server.step(encode_neg_token_resp(authenticate));
    CHECK(r3.has_value() == send_mic);
    if (send_mic) {
      auto last = parse_spnego(r3->token);
      REQUIRE(last);
      REQUIRE(last->mech_list_mic);
      CHECK(ntlm.verify_mic(mech_type_list, *last->mech_list_mic).has_value());
    }
  }
}

TEST_CASE("SpnegoServer refuses a client without NTLMSSP and malformed tokens") {
  SpnegoServer server{NtlmServer{server_config()}};
  const ByteView kerberos_only[] = {oid::kerberos5};
  auto r = server.step(encode_neg_token_init(encode_mech_type_list(kerberos_only), ByteView{hex("6e00")}));
  REQUIRE_FALSE(r);
  CHECK(r.error().status == wire::status::NOT_SUPPORTED);

  SpnegoServer server2{NtlmServer{server_config()}};
  auto bad = server2.step(hex("6080"));
  REQUIRE_FALSE(bad);
  CHECK(bad.error().kind == ErrorKind::wire);
  CHECK(bad.error().status == wire::status::INVALID_PARAMETER);
}
