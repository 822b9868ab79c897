#include "base/sha256.h"

#include <nettle/sha2.h>

namespace nflux {
namespace {

sha256_ctx* State(unsigned char* storage) { return reinterpret_cast<sha256_ctx*>(storage); }

}  // namespace

Sha256::Sha256() {
  static_assert(sizeof(sha256_ctx) <= kStateSize && alignof(sha256_ctx) <= 8);
  sha256_init(State(state_));
}

void Sha256::Update(std::string_view data) {
  sha256_update(State(state_), data.size(), reinterpret_cast<const uint8_t*>(data.data()));
}

std::string Sha256::HexDigest() {
  uint8_t digest[SHA256_DIGEST_SIZE];
  sha256_digest(State(state_), sizeof digest, digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * sizeof digest);
  for (uint8_t byte : digest) {
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
