// Authentication of CDS clients: the JWT bearer token of CDS Hooks 2.0 ("Trusting CDS Clients").
//
// An EHR (the CDS client) signs a short-lived JWT with its private key and sends it on every call
// as "Authorization: Bearer <jwt>"; the service checks it before any work. The service trusts the
// issuers of an allow list, each with the public keys of its JWK Set given out of band (keys are
// never fetched from the token's `jku`).
//
// LoadAuthConfig() reads the allow list (format: docs/security.md); VerifyBearer() checks one
// Authorization header: the JWS signature (RS384 or ES384 only: never `none`, never a shared-secret
// HMAC), then `iss`, `aud`, `exp`, `iat`, `nbf`, `jti`. A rejection is Status::Unauthenticated with
// a short reason meant for a 401 body; it never contains the token.
//
// Authenticator bundles the two for a service: VerifyBearer, then (when configured) a guard that
// accepts each token's `jti` only once while the token is valid.
//
// Thread-safety: an AuthConfig is immutable after loading (its keys are OpenSSL EVP_PKEYs used
// read-only), and VerifyBearer() may be called on one config from many threads at once; a
// ReplayGuard and an Authenticator are safe to share between threads.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY; only auth's .cc files look inside.

namespace nflux::auth {

// The JWS algorithms accepted: the two that CDS Hooks recommends.
enum class JwsAlgorithm { kRS384, kES384 };
std::string_view Name(JwsAlgorithm algorithm);  // "RS384", "ES384"

// One public key of an issuer's JWK Set.
struct PublicKey {
  std::string kid;                            // unique within the issuer
  JwsAlgorithm algorithm = JwsAlgorithm::kRS384;  // RSA keys verify RS384, EC P-384 keys ES384
  std::shared_ptr<evp_pkey_st> key;           // never null in a loaded config
};

// A trusted CDS client.
struct Issuer {
  std::string iss;                 // the token's `iss`, compared exactly
  std::vector<PublicKey> keys;
  // When not empty, a token naming a `jku` must name one of these (CDS Hooks: allow-list `jku`);
  // the keys still come only from `keys`.
  std::vector<std::string> jku;

  const PublicKey* FindKey(std::string_view kid) const;
};

struct AuthConfig {
  // The service's base URL ("https://cds.example.org"), without a trailing slash. A token's `aud`
  // must name it, or the endpoint URL under it that is being called (see VerifyBearer).
  std::string audience;
  std::vector<Issuer> issuers;
  int64_t leeway_seconds = 60;                 // allowed clock skew for exp, iat and nbf
  std::optional<int64_t> max_lifetime_seconds;  // when set, exp - iat may not exceed it
  // When true, an Authenticator accepts each (iss, jti) once until the token expires (CDS Hooks:
  // jti protects against replay). Off by default: it requires a fresh token for every call.
  bool reject_replayed_jti = false;

  const Issuer* FindIssuer(std::string_view iss) const;
};

// Reads an AuthConfig from a JSON file; a `jwks_file` is relative to the config file's folder.
// NotFound for a missing file; InvalidArgument naming the file and JSON path for anything else
// ("auth.json: /issuers/0/jwks/keys/1/kty: expected 'RSA' or 'EC', got 'oct' ...").
Result<AuthConfig> LoadAuthConfig(const std::string& path);
// The same from text already read; `source` names it in messages and `base_dir` resolves
// `jwks_file` paths.
Result<AuthConfig> ParseAuthConfig(std::string_view text, const std::string& source, const std::string& base_dir);

// What an accepted token says.
struct Claims {
  std::string iss;
  std::optional<std::string> sub;
  std::vector<std::string> aud;  // a single string `aud` becomes one element
  int64_t exp = 0;
  int64_t iat = 0;
  std::optional<int64_t> nbf;
  std::string jti;
  std::optional<std::string> tenant;  // the healthcare organisation, when the client sends it
  JwsAlgorithm algorithm = JwsAlgorithm::kRS384;
  std::string kid;
};

// Verifies an Authorization header value ("Bearer <jwt>") at time `now` (seconds since the epoch).
// `endpoint_path` is the path being called ("/cds-services/neuroflux-patient-view"): CDS Hooks
// asks that `aud` be that endpoint's URL, so `aud` must contain `audience` or
// `audience + endpoint_path`. Unauthenticated with the reason on any failure.
Result<Claims> VerifyBearer(std::string_view authorization_header, const AuthConfig& config, int64_t now,
                            std::string_view endpoint_path = {});

// Remembers the (iss, jti) of accepted tokens until they expire (exp + leeway), so that a token
// replayed within its lifetime is refused. Thread-safe (one mutex). Only verified tokens enter,
// so only trusted clients can fill it; when `capacity` unexpired tokens are held, new ones are
// refused until some expire (fail closed).
class ReplayGuard {
 public:
  explicit ReplayGuard(size_t capacity = 1'000'000) : capacity_(capacity) {}
  // Ok, and the token is remembered until `forget_after` (seconds since the epoch); or
  // Unauthenticated ("token already used (jti '...')") when it is still remembered.
  Status Admit(const Claims& claims, int64_t forget_after, int64_t now);
  size_t size() const;

 private:
  void ForgetExpired(int64_t now);  // REQUIRES: mutex_ held

  const size_t capacity_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, int64_t> seen_;       // iss + '\n' + jti -> forget after
  std::multimap<int64_t, std::string> by_expiry_;       // the same keys by time to forget
};

// The check `nflux serve --auth` runs on each request: VerifyBearer with the config, then the
// replay guard when the config asks for it. Thread-safe; the config is fixed at construction.
class Authenticator {
 public:
  explicit Authenticator(AuthConfig config) : config_(std::move(config)) {}
  Result<Claims> Verify(std::string_view authorization_header, int64_t now, std::string_view endpoint_path = {}) const;
  const AuthConfig& config() const { return config_; }

 private:
  const AuthConfig config_;
  mutable ReplayGuard replay_;
};

}  // namespace nflux::auth
