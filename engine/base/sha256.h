// SHA-256 (libsodium's crypto_hash_sha256): of a whole text, or fed in parts.
//
// libsodium rather than OpenSSL: OpenSSL 3 loads and indexes its provider's algorithms on the first
// digest of a process, about 2 ms of a 30 ms `nflux evaluate`; libsodium's SHA-256 is a plain
// function. OpenSSL stays for what needs it (the service's TLS and JWT signatures, engine/auth).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace nflux {

class Sha256 {
 public:
  Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view data);
  // Lower-case hex of the digest of everything fed. Ends the hashing: no Update after it.
  std::string HexDigest();

 private:
  // libsodium's crypto_hash_sha256_state (its size checked in sha256.cc), kept out of this header.
  static constexpr size_t kStateSize = 112;
  alignas(8) unsigned char state_[kStateSize];
};

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

}  // namespace nflux
