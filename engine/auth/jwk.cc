// JSON Web Keys (RFC 7517, RFC 7518 section 6) to OpenSSL public keys, with the OpenSSL 3
// EVP_PKEY_fromdata API.
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "auth/jose.h"

namespace nflux::auth {
namespace {

constexpr int kMinRsaBits = 2048;         // RFC 7518 section 3.3: 2048 bits or more
constexpr size_t kP384CoordinateBytes = 48;

struct BnFree { void operator()(BIGNUM* bn) const { BN_free(bn); } };
struct ParamBldFree { void operator()(OSSL_PARAM_BLD* bld) const { OSSL_PARAM_BLD_free(bld); } };
struct ParamFree { void operator()(OSSL_PARAM* params) const { OSSL_PARAM_free(params); } };
struct PkeyCtxFree { void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); } };
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;

// Built by appending: GCC 12 at -O3 warns falsely (-Wrestrict) on "'" + std::string(text).
std::string Quote(std::string_view text) {
  std::string quoted = "'";
  quoted.append(text).push_back('\'');
  return quoted;
}

// The members a public JWK may carry (RFC 7517 section 4, RFC 7518 section 6).
const std::vector<std::string> kPublicMembers = {"kty", "use", "key_ops", "alg", "kid", "x5u", "x5c", "x5t",
                                                 "x5t#S256", "n", "e", "crv", "x", "y"};
// Members that only a private or symmetric key has.
const std::vector<std::string> kSecretMembers = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};

// A required base64url member, decoded; reports and returns nullopt when absent or malformed.
std::optional<std::string> Base64UrlMember(const ObjectReader& jwk, std::string_view key, const JsonReader& reader) {
  std::optional<std::string> text = jwk.RequiredString(key);
  if (!text) return std::nullopt;
  std::optional<std::string> bytes = Base64UrlDecode(*text);
  if (!bytes || bytes->empty()) reader.Report(jwk.PathOf(key), "not a base64url value (RFC 7515: no padding)");
  if (bytes && bytes->empty()) return std::nullopt;
  return bytes;
}

// Builds a public key of `type` ("RSA" or "EC") from OSSL parameters and checks it (an EC point
// must lie on the curve). nullptr when OpenSSL refuses it.
std::shared_ptr<evp_pkey_st> KeyFromParams(const char* type, OSSL_PARAM_BLD* bld) {
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld));
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1)
    return nullptr;
  std::shared_ptr<evp_pkey_st> key(raw, EVP_PKEY_free);
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> check(EVP_PKEY_CTX_new_from_pkey(nullptr, raw, nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) return nullptr;
  return key;
}

std::shared_ptr<evp_pkey_st> RsaKey(const ObjectReader& jwk, const JsonReader& reader) {
  std::optional<std::string> n = Base64UrlMember(jwk, "n", reader);
  std::optional<std::string> e = Base64UrlMember(jwk, "e", reader);
  if (!n || !e) return nullptr;
  BnPtr n_bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()), static_cast<int>(n->size()), nullptr));
  BnPtr e_bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()), static_cast<int>(e->size()), nullptr));
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  if (!n_bn || !e_bn || !bld) return nullptr;
  if (BN_num_bits(n_bn.get()) < kMinRsaBits) {
    reader.Report(jwk.PathOf("n"), "RSA key of " + std::to_string(BN_num_bits(n_bn.get())) + " bits; at least " +
                                       std::to_string(kMinRsaBits) + " are required");
    return nullptr;
  }
  OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n_bn.get());
  OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e_bn.get());
  std::shared_ptr<evp_pkey_st> key = KeyFromParams("RSA", bld.get());
  if (!key) reader.Report(jwk.path(), "not a valid RSA public key");
  return key;
}

std::shared_ptr<evp_pkey_st> EcKey(const ObjectReader& jwk, const JsonReader& reader) {
  std::optional<std::string> crv = jwk.RequiredString("crv");
  if (crv && *crv != "P-384") {
    reader.Report(jwk.PathOf("crv"), "curve " + Quote(*crv) + " is not accepted; ES384 keys are on 'P-384'");
    return nullptr;
  }
  std::optional<std::string> x = Base64UrlMember(jwk, "x", reader);
  std::optional<std::string> y = Base64UrlMember(jwk, "y", reader);
  if (!crv || !x || !y) return nullptr;
  for (const auto& [name, value] : {std::pair{"x", &*x}, std::pair{"y", &*y}}) {
    if (value->size() == kP384CoordinateBytes) continue;
    reader.Report(jwk.PathOf(name), "a P-384 coordinate has 48 bytes, got " + std::to_string(value->size()));
    return nullptr;
  }
  std::string point = "\x04";  // SEC 1 uncompressed point: 04 || x || y
  point.append(*x).append(*y);
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  if (!bld) return nullptr;
  OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "secp384r1", 0);
  OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  std::shared_ptr<evp_pkey_st> key = KeyFromParams("EC", bld.get());
  if (!key) reader.Report(jwk.path(), "not a valid P-384 public key (the point is not on the curve)");
  return key;
}

// Reports members that would make this a private or symmetric key, and unknown members.
bool OnlyPublicMembers(const nlohmann::json& value, const ObjectReader& jwk, const JsonReader& reader) {
  bool ok = true;
  for (const std::string& member : kSecretMembers) {
    if (!jwk.Has(member)) continue;
    reader.Report(jwk.PathOf(member), "private or symmetric key material; give only the public key");
    ok = false;
  }
  if (!ok) return false;
  jwk.RejectUnknownFields(kPublicMembers);
  return JsonReader::UnknownFields(value, kPublicMembers).empty();
}

// `use` and `alg`, when given, must fit a signature key of `algorithm`.
bool UseAndAlgFit(const ObjectReader& jwk, JwsAlgorithm algorithm, const JsonReader& reader) {
  std::optional<std::string> use = jwk.OptionalString("use");
  if (use && *use != "sig") {
    reader.Report(jwk.PathOf("use"), "a key with use " + Quote(*use) + " does not verify signatures; expected 'sig'");
    return false;
  }
  std::optional<std::string> alg = jwk.OptionalString("alg");
  if (alg && *alg != Name(algorithm)) {
    reader.Report(jwk.PathOf("alg"), "expected " + Quote(Name(algorithm)) + " for this key type, got " + Quote(*alg));
    return false;
  }
  return true;
}

}  // namespace

std::optional<PublicKey> ParseJwk(const nlohmann::json& value, const std::string& path, const JsonReader& reader) {
  if (!reader.Object(value, path)) return std::nullopt;
  ObjectReader jwk(reader, value, path);
  if (!OnlyPublicMembers(value, jwk, reader)) return std::nullopt;
  std::optional<std::string> kty = jwk.RequiredString("kty");
  std::optional<std::string> kid = jwk.RequiredString("kid");
  if (!kty) return std::nullopt;
  if (*kty != "RSA" && *kty != "EC") {
    std::string why = *kty == "oct" ? " (a shared secret: CDS Hooks forbids symmetric algorithms)" : "";
    reader.Report(jwk.PathOf("kty"), "expected 'RSA' or 'EC', got " + Quote(*kty) + why);
    return std::nullopt;
  }
  PublicKey key;
  key.algorithm = *kty == "RSA" ? JwsAlgorithm::kRS384 : JwsAlgorithm::kES384;
  bool fits = UseAndAlgFit(jwk, key.algorithm, reader);
  key.key = *kty == "RSA" ? RsaKey(jwk, reader) : EcKey(jwk, reader);
  if (!kid || !fits || !key.key) return std::nullopt;
  key.kid = *kid;
  return key;
}

}  // namespace nflux::auth
