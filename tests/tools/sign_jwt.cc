// nflux_sign_jwt: a test-only CDS client signer, so that the service tests (bash, node) can make
// bearer tokens. Built only with the tests; the keys it is given are test keys.
//
//   nflux_sign_jwt ISS AUD KEY.pem [--exp SECONDS] [--kid K] [--alg RS384|ES384] [--now EPOCH] [--jti J]
//       prints a token: iat = now, exp = now + SECONDS (default 300; for an expired token give a
//       --now in the past, e.g. 600 seconds ago),
//       kid default the key's RFC 7638 thumbprint, alg default the key's (RS384 for RSA, ES384 for EC).
//   nflux_sign_jwt --jwks KEY.pem [--kid K]
//       prints the JWK Set of the key's public half (to put in an auth config).
#include <ctime>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "auth/jwt_signer.h"

namespace {

constexpr const char* kUsage =
    "usage: nflux_sign_jwt ISS AUD KEY.pem [--exp SECONDS] [--kid K] [--alg RS384|ES384] [--now EPOCH] [--jti J]\n"
    "       nflux_sign_jwt --jwks KEY.pem [--kid K]\n";

struct Options {
  std::vector<std::string> positional;
  bool jwks = false;
  long long exp = 300;
  long long now = static_cast<long long>(std::time(nullptr));
  std::string kid, alg, jti;
};

bool ParseArgs(int argc, char** argv, Options& options) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--jwks") {
      options.jwks = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0) {
      options.positional.push_back(arg);
      continue;
    }
    if (i + 1 >= argc) return false;
    std::string value = argv[++i];
    try {
      if (arg == "--exp") options.exp = std::stoll(value);
      else if (arg == "--now") options.now = std::stoll(value);
      else if (arg == "--kid") options.kid = value;
      else if (arg == "--alg") options.alg = value;
      else if (arg == "--jti") options.jti = value;
      else return false;
    } catch (const std::exception&) {
      return false;
    }
  }
  return options.positional.size() == (options.jwks ? 1u : 3u);
}

std::string RandomJti() {
  std::random_device device;
  std::string jti;
  for (int i = 0; i < 4; ++i) jti += std::to_string(device()) + (i < 3 ? "-" : "");
  return jti;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!ParseArgs(argc, argv, options)) {
    std::cerr << kUsage;
    return 2;
  }
  const std::string& pem = options.positional.back();
  nflux::testing::KeyPair key = nflux::testing::ReadPrivateKeyPem(pem);
  if (!key) {
    std::cerr << pem << ": cannot read a PEM private key\n";
    return 2;
  }
  std::string kid = options.kid;
  if (kid.empty()) kid = nflux::testing::JwkThumbprint(nflux::testing::PublicJwk(key, ""));
  if (options.jwks) {
    std::cout << nlohmann::json{{"keys", {nflux::testing::PublicJwk(key, kid)}}}.dump(2) << "\n";
    return 0;
  }
  nflux::auth::JwsAlgorithm algorithm = nflux::testing::AlgorithmOf(key);
  if (!options.alg.empty() && options.alg != nflux::auth::Name(algorithm)) {
    std::cerr << pem << ": this key signs " << nflux::auth::Name(algorithm) << ", not " << options.alg << "\n";
    return 2;
  }
  nflux::testing::TokenSpec spec{options.positional[0], options.positional[1], kid, options.now, options.exp,
                                 options.jti.empty() ? RandomJti() : options.jti};
  std::cout << nflux::testing::SignCdsHooksToken(key, spec) << "\n";
  return 0;
}
