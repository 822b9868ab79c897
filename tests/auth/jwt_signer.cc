#include "auth/jwt_signer.h"

#include <cstdio>
#include <map>
#include <stdexcept>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "auth/jose.h"
#include "base/sha256.h"
#include "base/text.h"

namespace nflux::testing {
namespace {

struct BnFree { void operator()(BIGNUM* bn) const { BN_free(bn); } };
struct MdCtxFree { void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); } };
struct BioFree { void operator()(BIO* bio) const { BIO_free(bio); } };
struct EcdsaSigFree { void operator()(ECDSA_SIG* sig) const { ECDSA_SIG_free(sig); } };

// A big-endian integer parameter of `key`, left-padded to `width` bytes (0: minimal length).
std::string BnParam(const KeyPair& key, const char* name, int width) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key.get(), name, &raw) != 1) throw std::runtime_error(std::string("no key param ") + name);
  std::unique_ptr<BIGNUM, BnFree> bn(raw);
  int size = width > 0 ? width : BN_num_bytes(bn.get());
  std::string out(static_cast<size_t>(size), '\0');
  BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(out.data()), size);
  return out;
}

std::string Sign(const KeyPair& key, std::string_view input) {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  size_t size = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(input.data());
  if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha384(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &size, data, input.size()) != 1)
    throw std::runtime_error("cannot sign");
  std::string signature(size, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size, data, input.size()) != 1)
    throw std::runtime_error("cannot sign");
  signature.resize(size);
  return signature;
}

// OpenSSL's DER ECDSA signature as JOSE's fixed-width r||s (RFC 7518 section 3.4).
std::string DerToJose(const std::string& der, int half) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<ECDSA_SIG, EcdsaSigFree> sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) throw std::runtime_error("bad DER signature");
  std::string raw(static_cast<size_t>(2 * half), '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), out, half);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), out + half, half);
  return raw;
}

}  // namespace

KeyPair GenerateRsaKey(unsigned bits) { return KeyPair(EVP_RSA_gen(bits), EVP_PKEY_free); }
KeyPair GenerateP384Key() { return KeyPair(EVP_EC_gen("P-384"), EVP_PKEY_free); }

KeyPair ReadPrivateKeyPem(const std::string& path) {
  FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) return nullptr;
  EVP_PKEY* key = PEM_read_PrivateKey(file, nullptr, nullptr, nullptr);
  std::fclose(file);
  return key ? KeyPair(key, EVP_PKEY_free) : nullptr;
}

std::string PrivateKeyPem(const KeyPair& key) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

auth::JwsAlgorithm AlgorithmOf(const KeyPair& key) {
  return EVP_PKEY_is_a(key.get(), "EC") ? auth::JwsAlgorithm::kES384 : auth::JwsAlgorithm::kRS384;
}

nlohmann::json PublicJwk(const KeyPair& key, const std::string& kid) {
  nlohmann::json jwk;
  if (AlgorithmOf(key) == auth::JwsAlgorithm::kES384) {
    jwk = {{"kty", "EC"}, {"crv", "P-384"}, {"x", auth::Base64UrlEncode(BnParam(key, OSSL_PKEY_PARAM_EC_PUB_X, 48))},
           {"y", auth::Base64UrlEncode(BnParam(key, OSSL_PKEY_PARAM_EC_PUB_Y, 48))}};
  } else {
    jwk = {{"kty", "RSA"}, {"n", auth::Base64UrlEncode(BnParam(key, OSSL_PKEY_PARAM_RSA_N, 0))},
           {"e", auth::Base64UrlEncode(BnParam(key, OSSL_PKEY_PARAM_RSA_E, 0))}};
  }
  jwk["kid"] = kid;
  jwk["use"] = "sig";
  jwk["alg"] = std::string(auth::Name(AlgorithmOf(key)));
  return jwk;
}

std::string JwkThumbprint(const nlohmann::json& jwk) {
  // Required members only, names sorted, no whitespace (RFC 7638 section 3.2).
  std::map<std::string, std::string> members;
  for (const char* name : {"crv", "e", "kty", "n", "x", "y"})
    if (jwk.contains(name)) members[name] = jwk[name].get<std::string>();
  std::string hex = Sha256Hex(nlohmann::json(members).dump());
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return auth::Base64UrlEncode(bytes);
}

std::string SignJws(const KeyPair& key, auth::JwsAlgorithm algorithm, const nlohmann::json& header,
                    const nlohmann::json& payload) {
  std::string input = auth::Base64UrlEncode(header.dump()) + "." + auth::Base64UrlEncode(payload.dump());
  std::string signature = Sign(key, input);
  if (algorithm == auth::JwsAlgorithm::kES384) signature = DerToJose(signature, 48);
  return input + "." + auth::Base64UrlEncode(signature);
}

std::string SignCdsHooksToken(const KeyPair& key, const TokenSpec& spec) {
  auth::JwsAlgorithm algorithm = AlgorithmOf(key);
  nlohmann::json header = {{"alg", std::string(auth::Name(algorithm))}, {"typ", "JWT"}, {"kid", spec.kid}};
  nlohmann::json payload = {{"iss", spec.iss}, {"aud", spec.aud}, {"iat", spec.now},
                            {"exp", spec.now + spec.lifetime_seconds}, {"jti", spec.jti}};
  return SignJws(key, algorithm, header, payload);
}

}  // namespace nflux::testing
