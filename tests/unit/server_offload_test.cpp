// smbxd's ODX tokens (src/server/offload.cpp): what make_token signs,
// verify_token gives back; any changed bit, another key, a name too long for
// the TokenId, and the key file shared through the state dir.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "server/offload.hpp"

namespace {

using namespace smbx::server;
namespace wire = smbx::wire;

offload::TokenData sample() {
  offload::TokenData d;
  d.nonce = {1, 2, 3, 4, 5, 6, 7, 8};
  d.offset = 4096;
  d.length = 1 << 20;
  d.device = (8ull << 32) | 1;
  d.inode = 123456;
  d.ctime_ns = 1'700'000'000'123'456'789ull;
  d.size = 3'000'000;
  d.expiry_ms = 1'700'000'030'000ull;
  d.share = "data";
  d.path = "dir/file name.bin";
  return d;
}

offload::Key key_of(std::uint8_t seed) {
  offload::Key k{};
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::uint8_t>(seed + i);
  return k;
}

struct TempDir {
  std::string path;
  TempDir() {
    char name[] = "/tmp/smbx-offload-key.XXXXXX";
    path = ::mkdtemp(name);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

}  // namespace

TEST_CASE("an ODX token verifies with its key and says what it was made for") {
  const auto key = key_of(1);
  const auto data = sample();
  const auto token = offload::make_token(key, data);
  REQUIRE(token);
  CHECK(token->token_type == offload::kTokenType);
  CHECK(token->token_id_length <= 504);
  const auto back = offload::verify_token(key, *token);
  REQUIRE(back);
  CHECK(*back == data);
  // Through the wire codec and back: the same 512 bytes, still valid.
  const auto bytes = wire::fsctl_payload(*token);
  REQUIRE(bytes.size() == 512);
  wire::OffloadWriteInput in;
  in.token = *token;
  const auto decoded = wire::decode_offload_write_input(wire::fsctl_payload(in));
  REQUIRE(decoded);
  CHECK(offload::verify_token(key, decoded->token) == data);
}

TEST_CASE("a token with any bit changed, or checked with another key, is refused") {
  const auto key = key_of(1);
  const auto token = *offload::make_token(key, sample());
  CHECK_FALSE(offload::verify_token(key_of(2), token));
  // Every bit of the 512 bytes, one at a time.
  const auto bytes = wire::fsctl_payload(token);
  int accepted = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      auto changed = bytes;
      changed[i] ^= static_cast<std::uint8_t>(1u << bit);
      wire::OffloadWriteInput in;
      auto payload = wire::fsctl_payload(in);
      std::copy(changed.begin(), changed.end(), payload.begin() + 32);
      const auto decoded = wire::decode_offload_write_input(payload);
      REQUIRE(decoded);
      if (offload::verify_token(key, decoded->token)) ++accepted;
    }
  }
  CHECK(accepted == 0);
  // The well-known zero token is not one of ours.
  CHECK_FALSE(offload::verify_token(key, wire::zero_data_token()));
}

TEST_CASE("share name and path must fit in the TokenId") {
  const auto key = key_of(3);
  auto data = sample();
  data.path = std::string(offload::kMaxNameBytes - data.share.size(), 'p');
  const auto longest = offload::make_token(key, data);
  REQUIRE(longest);
  CHECK(longest->token_id_length == 504);
  CHECK(offload::verify_token(key, *longest) == data);
  data.path += "q";
  CHECK_FALSE(offload::make_token(key, data));
}

TEST_CASE("the token key is made once in the state dir, mode 0600, and read back by the next server") {
  TempDir dir;
  const auto first = offload::load_or_create_key(dir.path);
  REQUIRE(first);
  const std::string file = dir.path + "/smbxd-offload.key";
  struct stat st{};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(st.st_size == 32);
  const auto second = offload::load_or_create_key(dir.path);
  REQUIRE(second);
  CHECK(*first == *second);
  CHECK(std::distance(std::filesystem::directory_iterator{dir.path}, std::filesystem::directory_iterator{}) == 1);
  // A damaged key file is an error, not silently replaced (that would void
  // every token other nodes gave out).
  std::ofstream{file, std::ios::trunc} << "short";
  CHECK_FALSE(offload::load_or_create_key(dir.path));
}
