// SHA-256 (GNU Nettle's sha256): of a whole text, or fed in parts.
//
// Nettle rather than OpenSSL: OpenSSL 3 loads and indexes its provider's algorithms on the first
// digest of a process, about 2 ms of a 30 ms `nflux evaluate` (1.3 ms even from its static
// archive); Nettle's SHA-256 is a plain function that picks the CPU's SHA instructions when it
// has them (1.6 GB/s here, where libsodium's portable code, used before, gave 0.33 GB/s: a tenth of
// a batch's CPU went to trace ids). OpenSSL stays for what needs it (the service's TLS and JWT
// signatures, engine/auth); libsodium for the web app's password hashes.
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
  // Nettle's sha256_ctx (its size checked in sha256.cc), kept out of this header.
  static constexpr size_t kStateSize = 112;
  alignas(8) unsigned char state_[kStateSize];
};

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

}  // namespace nflux
