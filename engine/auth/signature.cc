// JWS signature checks (RFC 7518 sections 3.3 and 3.4) with OpenSSL's EVP interface. Each call
// makes its own EVP_MD_CTX, so many threads may verify with one shared key.
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "auth/jose.h"

namespace nflux::auth {
namespace {

constexpr size_t kEs384Half = 48;  // r and s of a P-384 signature, 48 bytes each

struct MdCtxFree { void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); } };
struct EcdsaSigFree { void operator()(ECDSA_SIG* sig) const { ECDSA_SIG_free(sig); } };

const unsigned char* Bytes(std::string_view text) { return reinterpret_cast<const unsigned char*>(text.data()); }

bool DigestVerifySha384(EVP_PKEY* key, std::string_view signing_input, std::string_view signature) {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha384(), nullptr, key) != 1) return false;
  return EVP_DigestVerify(ctx.get(), Bytes(signature), signature.size(), Bytes(signing_input), signing_input.size()) == 1;
}

}  // namespace

std::string_view Name(JwsAlgorithm algorithm) {
  switch (algorithm) {
    case JwsAlgorithm::kRS384: return "RS384";
    case JwsAlgorithm::kES384: return "ES384";
  }
  return "?";
}

std::optional<std::string> JoseEcdsaToDer(std::string_view raw, size_t half) {
  if (raw.size() != 2 * half) return std::nullopt;
  BIGNUM* r = BN_bin2bn(Bytes(raw), static_cast<int>(half), nullptr);
  BIGNUM* s = BN_bin2bn(Bytes(raw.substr(half)), static_cast<int>(half), nullptr);
  std::unique_ptr<ECDSA_SIG, EcdsaSigFree> sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return std::nullopt;
  }
  int length = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (length <= 0) return std::nullopt;
  std::string der(static_cast<size_t>(length), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_ECDSA_SIG(sig.get(), &out) != length) return std::nullopt;
  return der;
}

bool VerifyJwsSignature(const PublicKey& key, std::string_view signing_input, std::string_view signature) {
  EVP_PKEY* pkey = key.key.get();
  switch (key.algorithm) {
    case JwsAlgorithm::kRS384:
      // RSASSA-PKCS1-v1_5 (OpenSSL's default RSA padding); the signature is as long as the modulus.
      if (signature.size() != static_cast<size_t>(EVP_PKEY_get_size(pkey))) return false;
      return DigestVerifySha384(pkey, signing_input, signature);
    case JwsAlgorithm::kES384: {
      std::optional<std::string> der = JoseEcdsaToDer(signature, kEs384Half);
      return der && DigestVerifySha384(pkey, signing_input, *der);
    }
  }
  return false;
}

}  // namespace nflux::auth
