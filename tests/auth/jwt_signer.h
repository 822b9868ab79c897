// Test-only: makes key pairs and signs JWTs the way a CDS client (an EHR) does, for the auth tests
// and the nflux_sign_jwt tool. Independent of engine/auth except for base64url encoding.
// Never used by the service. Functions are thread-safe; keys are shared read-only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "auth/auth.h"

namespace nflux::testing {

using KeyPair = std::shared_ptr<evp_pkey_st>;

KeyPair GenerateRsaKey(unsigned bits);
KeyPair GenerateP384Key();
// A PEM private key (PKCS#8 or traditional); nullptr when it cannot be read.
KeyPair ReadPrivateKeyPem(const std::string& path);
std::string PrivateKeyPem(const KeyPair& key);

// The algorithm a key signs with: RS384 for RSA, ES384 for EC.
auth::JwsAlgorithm AlgorithmOf(const KeyPair& key);

// The public JWK of a key pair, with `kid`, "use": "sig" and "alg".
nlohmann::json PublicJwk(const KeyPair& key, const std::string& kid);
// The RFC 7638 thumbprint of a public JWK (base64url SHA-256 of its required members).
std::string JwkThumbprint(const nlohmann::json& jwk);

// Signs `header`.`payload` as a JWS compact token. `algorithm` is what the signature is made
// with; the header's "alg" is taken as given (so tests can lie in it).
std::string SignJws(const KeyPair& key, auth::JwsAlgorithm algorithm, const nlohmann::json& header,
                    const nlohmann::json& payload);

// A CDS Hooks token: header {alg, typ JWT, kid}, payload {iss, aud, iat now, exp now + lifetime, jti}.
struct TokenSpec {
  std::string iss;
  std::string aud;
  std::string kid;
  int64_t now = 0;
  int64_t lifetime_seconds = 300;
  std::string jti = "jti-1";
};
std::string SignCdsHooksToken(const KeyPair& key, const TokenSpec& spec);

}  // namespace nflux::testing
