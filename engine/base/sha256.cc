#include "base/sha256.h"

#include <sodium/core.h>
#include <sodium/crypto_hash_sha256.h>

namespace nflux {
namespace {

crypto_hash_sha256_state* State(unsigned char* storage) { return reinterpret_cast<crypto_hash_sha256_state*>(storage); }

}  // namespace

Sha256::Sha256() {
  static_assert(sizeof(crypto_hash_sha256_state) <= kStateSize && alignof(crypto_hash_sha256_state) <= 8);
  // libsodium asks for sodium_init() before any of its functions (it picks implementations once;
  // safe to call from several threads).
  static const bool initialised = sodium_init() >= 0;
  (void)initialised;
  crypto_hash_sha256_init(State(state_));
}

void Sha256::Update(std::string_view data) {
  crypto_hash_sha256_update(State(state_), reinterpret_cast<const unsigned char*>(data.data()), data.size());
}

std::string Sha256::HexDigest() {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(State(state_), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * sizeof digest);
  for (unsigned char byte : digest) {
    hex += kHex[byte >> 4];
    hex += kHex[byte & 0xf];
  }
  return hex;
}

std::string Sha256Hex(std::string_view data) {
  Sha256 sha;
  sha.Update(data);
  return sha.HexDigest();
}

}  // namespace nflux
