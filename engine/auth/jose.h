// Internal: the JOSE pieces under auth.h (base64url, JSON Web Keys, JWS signature checks), kept
// apart so that tests can reach them. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "auth/auth.h"
#include "base/json.h"

namespace nflux::auth {

// Base64url without padding (RFC 7515 section 2). Decoding is strict: only the URL-safe alphabet,
// no '=' and no whitespace, no impossible length, and unused trailing bits zero, so that each
// byte string has exactly one accepted encoding. nullopt when `text` is not such an encoding.
std::string Base64UrlEncode(std::string_view bytes);
std::optional<std::string> Base64UrlDecode(std::string_view text);

// Parses one public JWK at `path` (RSA with n and e, or EC P-384 with x and y), reporting every
// problem to `reader`: private members present, symmetric keys, other curves, weak RSA keys,
// points off the curve, an `alg` other than the key type's algorithm, a `use` other than "sig".
std::optional<PublicKey> ParseJwk(const nlohmann::json& value, const std::string& path, const JsonReader& reader);

// True when `signature` (the JOSE form: PKCS#1 v1.5 bytes for RS384, raw r||s for ES384) is a
// valid signature of `signing_input` under `key` with SHA-384. REQUIRES: key.key not null.
bool VerifyJwsSignature(const PublicKey& key, std::string_view signing_input, std::string_view signature);

// The JOSE ECDSA signature (r||s, each `half` bytes) as DER (what OpenSSL verifies); nullopt
// when the length is not 2 * half.
std::optional<std::string> JoseEcdsaToDer(std::string_view raw, size_t half);

// The checks of VerifyBearer that depend on the time and the endpoint (exp, iat, nbf, lifetime,
// aud), on claims already read from a verified token: an Authenticator re-runs them when a token
// it has verified before comes again.
Status CheckClaims(const Claims& claims, const AuthConfig& config, int64_t now, std::string_view endpoint_path);

}  // namespace nflux::auth
