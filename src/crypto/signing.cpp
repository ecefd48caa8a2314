#include "crypto/signing.hpp"

#include <openssl/core_names.h>
#include <openssl/params.h>

#include <algorithm>
#include <vector>

#include "crypto/openssl.hpp"
#include "wire/header.hpp"

namespace smbx::crypto {

namespace {

constexpr std::size_t kSignatureEnd = wire::kSignatureOffset + kSignatureSize;
constexpr std::uint8_t kZeroSignature[kSignatureSize] = {};

// A message with its Signature field read as zeros: the header before it, 16
// zeros, the rest of the first piece, then the other pieces (MS-SMB2 3.1.4.1).
// Pieces are few (a WRITE has two); more than fit inline go to the heap.
class ZeroSignaturePieces {
 public:
  explicit ZeroSignaturePieces(std::span<const ByteView> pieces) {
    const ByteView head = pieces.front();
    const std::size_t count = pieces.size() + 2;
    std::span<ByteView> out = std::span{inline_}.first(std::min(count, inline_.size()));
    if (count > inline_.size()) {
      heap_.resize(count);
      out = heap_;
    }
    out[0] = head.first(wire::kSignatureOffset);
    out[1] = ByteView{kZeroSignature};
    out[2] = head.subspan(kSignatureEnd);
    std::copy(pieces.begin() + 1, pieces.end(), out.begin() + 3);
    view_ = out;
  }
  ZeroSignaturePieces(const ZeroSignaturePieces&) = delete;  // view_ points into inline_
  ZeroSignaturePieces& operator=(const ZeroSignaturePieces&) = delete;
  std::span<const ByteView> view() const noexcept { return view_; }

 private:
  std::array<ByteView, 6> inline_{};
  std::vector<ByteView> heap_;
  std::span<const ByteView> view_;
};

// Runs an EVP_MAC over the pieces; `params` selects the digest or cipher.
template <std::size_t N>
std::array<std::uint8_t, N> mac(EVP_MAC* algorithm, ByteView key, const OSSL_PARAM* params,
                                std::span<const ByteView> pieces) {
  static const std::uint8_t no_key = 0;  // EVP_MAC_init reads a NULL key as "keep the old one"
  auto ctx = detail::new_mac_ctx(algorithm);
  if (EVP_MAC_init(ctx.get(), key.empty() ? &no_key : key.data(), key.size(), params) != 1)
    detail::fatal("EVP_MAC_init failed (wrong key size?)");
  for (ByteView piece : pieces)
    if (!piece.empty() && EVP_MAC_update(ctx.get(), piece.data(), piece.size()) != 1)
      detail::fatal("EVP_MAC_update failed");
  std::array<std::uint8_t, 64> out{};
  std::size_t length = 0;
  if (EVP_MAC_final(ctx.get(), out.data(), &length, out.size()) != 1 || length != N)
    detail::fatal("EVP_MAC_final failed");
  std::array<std::uint8_t, N> result{};
  std::copy_n(out.begin(), N, result.begin());
  return result;
}

Signature first_16(const std::array<std::uint8_t, 32>& digest) {
  Signature s{};
  std::copy_n(digest.begin(), s.size(), s.begin());
  return s;
}

}  // namespace

std::array<std::uint8_t, 32> hmac_sha256(ByteView key, std::span<const ByteView> pieces) {
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_construct_end()};
  return mac<32>(detail::hmac(), key, params, pieces);
}

Signature aes_cmac(ByteView key, std::span<const ByteView> pieces) {
  detail::require(key.size() == 16, "AES-CMAC needs a 16-byte key");
  char cipher[] = "AES-128-CBC";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, cipher, 0),
                               OSSL_PARAM_construct_end()};
  return mac<kSignatureSize>(detail::cmac(), key, params, pieces);
}

Signature aes_gmac(ByteView key, const GmacNonce& nonce, std::span<const ByteView> pieces) {
  detail::require(key.size() == 16, "AES-GMAC needs a 16-byte key");
  auto ctx = detail::new_cipher_ctx();
  int n = 0;
  if (EVP_EncryptInit_ex(ctx.get(), detail::aes_128_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_IVLEN, static_cast<int>(nonce.size()), nullptr) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key.data(), nonce.data()) != 1)
    detail::fatal("AES-GMAC init failed");
  // GCM accepts the AAD in several updates as long as no plaintext came first.
  for (ByteView piece : pieces)
    if (!piece.empty() && EVP_EncryptUpdate(ctx.get(), nullptr, &n, piece.data(), detail::as_int(piece.size())) != 1)
      detail::fatal("AES-GMAC update failed");
  std::uint8_t unused[16];
  Signature tag{};
  if (EVP_EncryptFinal_ex(ctx.get(), unused, &n) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, static_cast<int>(tag.size()), tag.data()) != 1)
    detail::fatal("AES-GMAC final failed");
  return tag;
}

GmacNonce gmac_nonce(ByteView message) {
  detail::require(message.size() >= wire::kHeaderSize, "GMAC nonce of a message shorter than a header");
  GmacNonce nonce{};
  std::copy_n(message.begin() + 24, 8, nonce.begin());  // MessageId
  const std::uint32_t flags = load_le32(&message[wire::kFlagsOffset]);
  const auto command = static_cast<wire::Command>(load_le16(&message[12]));
  std::uint32_t role = 0;
  if ((flags & wire::flags::server_to_redir) != 0) role |= 0x1;
  if (command == wire::Command::cancel) role |= 0x2;
  store_le32(&nonce[8], role);
  return nonce;
}

Signature compute_signature(SigningAlgorithm algorithm, ByteView key, std::span<const ByteView> pieces) {
  detail::require(!pieces.empty() && pieces.front().size() >= wire::kHeaderSize,
                  "signing a message whose first piece is shorter than a header");
  const ZeroSignaturePieces zeroed{pieces};
  switch (algorithm) {
    case SigningAlgorithm::hmac_sha256: return first_16(hmac_sha256(key, zeroed.view()));
    case SigningAlgorithm::aes_cmac: return aes_cmac(key, zeroed.view());
    case SigningAlgorithm::aes_gmac: return aes_gmac(key, gmac_nonce(pieces.front()), zeroed.view());
  }
  detail::fatal("unknown signing algorithm");
}

Signature compute_signature(SigningAlgorithm algorithm, ByteView key, ByteView message) {
  const ByteView pieces[] = {message};
  return compute_signature(algorithm, key, pieces);
}

void sign_message(SigningAlgorithm algorithm, ByteView key, std::span<std::uint8_t> head,
                  std::span<const ByteView> rest) {
  detail::require(head.size() >= wire::kHeaderSize, "signing a message shorter than a header");
  const std::uint32_t flags = load_le32(&head[wire::kFlagsOffset]);
  store_le32(&head[wire::kFlagsOffset], flags | wire::flags::is_signed);
  // head, then rest: inline for the usual one or two pieces of rest.
  std::array<ByteView, 3> few{};
  std::vector<ByteView> many;
  std::span<ByteView> pieces = std::span{few}.first(std::min(rest.size() + 1, few.size()));
  if (rest.size() + 1 > few.size()) {
    many.resize(rest.size() + 1);
    pieces = many;
  }
  pieces[0] = head;
  std::copy(rest.begin(), rest.end(), pieces.begin() + 1);
  const Signature signature = compute_signature(algorithm, key, pieces);
  std::copy(signature.begin(), signature.end(), head.begin() + wire::kSignatureOffset);
}

void sign_message(SigningAlgorithm algorithm, ByteView key, std::span<std::uint8_t> message) {
  sign_message(algorithm, key, message, std::span<const ByteView>{});
}

bool verify_signature(SigningAlgorithm algorithm, ByteView key, ByteView message) {
  if (message.size() < wire::kHeaderSize) return false;
  const Signature expected = compute_signature(algorithm, key, message);
  return equal_constant_time(expected, message.subspan(wire::kSignatureOffset, kSignatureSize));
}

}  // namespace smbx::crypto
