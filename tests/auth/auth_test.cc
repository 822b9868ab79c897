// engine/auth: the CDS Hooks bearer token check. Keys are made here with OpenSSL (an RSA-3072 and
// an EC P-384 pair), tokens are signed by the test-only signer (tests/auth/jwt_signer.h), and every
// rejection is asserted with its exact reason.
#include <atomic>
#include <cstdio>
#include <functional>
#include <thread>

#include <gtest/gtest.h>

#include "auth/auth.h"
#include "auth/jose.h"
#include "auth/jwt_signer.h"
#include "testutil.h"

namespace nflux::auth {
namespace {

using testing::KeyPair;
using testing::SignCdsHooksToken;
using testing::SignJws;
using testing::TokenSpec;

constexpr int64_t kNow = 1800000000;  // 2027-01-15T08:00:00Z
constexpr const char* kIss = "https://ehr.example.org";
constexpr const char* kAudience = "https://cds.example.org";

const KeyPair& RsaKey() {
  static const KeyPair key = testing::GenerateRsaKey(3072);
  return key;
}
const KeyPair& EcKey() {
  static const KeyPair key = testing::GenerateP384Key();
  return key;
}
// A second pair of each kind: the attacker's keys.
const KeyPair& OtherRsaKey() {
  static const KeyPair key = testing::GenerateRsaKey(3072);
  return key;
}
const KeyPair& OtherEcKey() {
  static const KeyPair key = testing::GenerateP384Key();
  return key;
}

nlohmann::json ConfigJson() {
  nlohmann::json jwks = {{"keys", {testing::PublicJwk(RsaKey(), "rsa-1"), testing::PublicJwk(EcKey(), "ec-1")}}};
  return {{"audience", std::string(kAudience) + "/"},
          {"issuers", {{{"iss", kIss}, {"jwks", jwks}}, {{"iss", "https://other-ehr.example.org"}, {"jwks", jwks}}}}};
}

const AuthConfig& Config() {
  static const AuthConfig config = [] {
    Result<AuthConfig> parsed = ParseAuthConfig(ConfigJson().dump(), "auth.json", "");
    EXPECT_OK(parsed);
    return parsed.ok() ? *parsed : AuthConfig{};
  }();
  return config;
}

TokenSpec Spec(const std::string& kid) { return TokenSpec{kIss, kAudience, kid, kNow, 300, "jti-42"}; }
std::string RsaToken() { return SignCdsHooksToken(RsaKey(), Spec("rsa-1")); }
std::string EcToken() { return SignCdsHooksToken(EcKey(), Spec("ec-1")); }

nlohmann::json Header(const std::string& alg, const std::string& kid) {
  return {{"alg", alg}, {"typ", "JWT"}, {"kid", kid}};
}
nlohmann::json Payload() {
  return {{"iss", kIss}, {"aud", kAudience}, {"iat", kNow}, {"exp", kNow + 300}, {"jti", "jti-42"}};
}
std::string RsaSigned(const nlohmann::json& header, const nlohmann::json& payload) {
  return SignJws(RsaKey(), JwsAlgorithm::kRS384, header, payload);
}

// The reason a token is rejected with, or "accepted".
std::string Verdict(const std::string& token, int64_t now = kNow, std::string_view endpoint = {},
                    const AuthConfig& config = Config()) {
  Result<Claims> claims = VerifyBearer("Bearer " + token, config, now, endpoint);
  if (claims.ok()) return "accepted";
  EXPECT_EQ(Status::Code::kUnauthenticated, claims.status().code());
  return claims.status().message();
}

// ---- Good tokens -------------------------------------------------------------------------------

TEST(AuthVerify, GoodRs384TokenReturnsItsClaims) {
  Result<Claims> claims = VerifyBearer("Bearer " + RsaToken(), Config(), kNow);
  ASSERT_OK(claims);
  EXPECT_EQ(kIss, claims->iss);
  EXPECT_EQ(std::vector<std::string>{kAudience}, claims->aud);
  EXPECT_EQ(kNow, claims->iat);
  EXPECT_EQ(kNow + 300, claims->exp);
  EXPECT_EQ("jti-42", claims->jti);
  EXPECT_EQ("rsa-1", claims->kid);
  EXPECT_EQ(JwsAlgorithm::kRS384, claims->algorithm);
  EXPECT_FALSE(claims->sub.has_value());
}

TEST(AuthVerify, GoodEs384TokenReturnsItsClaims) {
  Result<Claims> claims = VerifyBearer("Bearer " + EcToken(), Config(), kNow + 10);
  ASSERT_OK(claims);
  EXPECT_EQ("ec-1", claims->kid);
  EXPECT_EQ(JwsAlgorithm::kES384, claims->algorithm);
  EXPECT_EQ("jti-42", claims->jti);
}

TEST(AuthVerify, OptionalClaimsAreReturned) {
  nlohmann::json payload = Payload();
  payload["sub"] = "client-7";
  payload["tenant"] = "org-3";
  payload["nbf"] = kNow - 5;
  payload["aud"] = {"https://elsewhere.example", kAudience};
  Result<Claims> claims = VerifyBearer("Bearer " + RsaSigned(Header("RS384", "rsa-1"), payload), Config(), kNow);
  ASSERT_OK(claims);
  EXPECT_EQ("client-7", claims->sub.value_or(""));
  EXPECT_EQ("org-3", claims->tenant.value_or(""));
  EXPECT_EQ(kNow - 5, claims->nbf.value_or(0));
  EXPECT_EQ(2u, claims->aud.size());
}

TEST(AuthVerify, SchemeIsCaseInsensitiveAndSpacesAroundTheTokenAreIgnored) {
  EXPECT_OK(VerifyBearer("bearer " + RsaToken(), Config(), kNow));
  EXPECT_OK(VerifyBearer("BEARER   " + RsaToken() + " ", Config(), kNow));
}

// CDS Hooks: `aud` is the URL of the endpoint being called; the service's base URL also counts.
TEST(AuthVerify, AudienceIsTheServiceOrTheEndpointCalled) {
  const std::string endpoint = "/cds-services/neuroflux-patient-view";
  TokenSpec spec = Spec("rsa-1");
  spec.aud = std::string(kAudience) + endpoint;
  std::string for_endpoint = SignCdsHooksToken(RsaKey(), spec);
  EXPECT_EQ("accepted", Verdict(for_endpoint, kNow, endpoint));
  EXPECT_EQ("accepted", Verdict(RsaToken(), kNow, endpoint));
  EXPECT_EQ("the token's audience is not this service ('https://cds.example.org')", Verdict(for_endpoint));
  EXPECT_EQ("the token's audience is not this service ('https://cds.example.org/cds-services/other')",
            Verdict(for_endpoint, kNow, "/cds-services/other"));
}

// The example of the CDS Hooks specification ("Trusting CDS Clients"): a token signed by someone
// else's ES384 implementation verifies with its published JWK.
TEST(AuthVerify, TheSpecificationsExampleTokenVerifies) {
  nlohmann::json jwk = {{"kty", "EC"}, {"use", "sig"}, {"crv", "P-384"}, {"kid", "example-kid"},
                        {"x", "46SDH7Znh821wblCBglA61sNE9ZrHYKKt3qRtRTmSXyOI_FIGBLWrWa0GPUkDCEk"},
                        {"y", "XMcRuuoGW7CXjQdy-F5i3FeBE0x9hPLdeFdSoDd3ELmx404tLX0VRRcqzAsPhXcI"},
                        {"alg", "ES384"}};
  nlohmann::json config = {{"audience", "https://cds.example.org"},
                           {"issuers", {{{"iss", "https://fhir-ehr.example.com/"}, {"jwks", {{"keys", {jwk}}}}}}}};
  Result<AuthConfig> parsed = ParseAuthConfig(config.dump(), "spec.json", "");
  ASSERT_OK(parsed);
  const std::string token =
      "eyJhbGciOiJFUzM4NCIsInR5cCI6IkpXVCIsImtpZCI6ImV4YW1wbGUta2lkIiwiamt1IjoiaHR0cHM6Ly9maGlyLWVoci5leGFtcGxlLmNv"
      "bS9qd2tfdXJpIn0.eyJpc3MiOiJodHRwczovL2ZoaXItZWhyLmV4YW1wbGUuY29tLyIsInN1YiI6ImNsaWVudF9pZCIsImF1ZCI6Imh0dHBz"
      "Oi8vY2RzLmV4YW1wbGUub3JnL2Nkcy1zZXJ2aWNlcy9zb21lLXNlcnZpY2UiLCJleHAiOjE0MjI1Njg4NjAsImlhdCI6MTMxMTI4MDk3MCwi"
      "anRpIjoiZWUyMmIwMjEtZTFiNy00NjExLWJhNWItOGVlYzZhMzNhYzFlIiwidGVuYW50IjoiMmRkZDZjM2EtOGU5YS00NGM2LWEzMDUtNTIx"
      "MTFhZDMwMmEyIn0.CUFPkplnWd6YGIvzoHolWCQBDsCL8QtTWKGg_QFpS169WrqDGzktRi-_we6-6rVzbjerU27ZKww_SW0-b9RTz-dPJNcq"
      "sueMio8r6EqXUXhbLm_ch3XFSbDlGHDl_tqo";
  Result<Claims> claims = VerifyBearer("Bearer " + token, *parsed, 1311280970 + 60, "/cds-services/some-service");
  ASSERT_OK(claims);
  EXPECT_EQ("2ddd6c3a-8e9a-44c6-a305-52111ad302a2", claims->tenant.value_or(""));
  EXPECT_EQ("client_id", claims->sub.value_or(""));
  // The same token once it has expired (2015-01-29T22:01:00Z).
  EXPECT_EQ("token expired at 2015-01-29T22:01:00Z",
            VerifyBearer("Bearer " + token, *parsed, 1422568860 + 60, "/cds-services/some-service").status().message());
}

// ---- Time ----------------------------------------------------------------------------------------

TEST(AuthVerify, ExpiredTokensAreRejectedAfterTheLeeway) {
  // exp is kNow + 300; the default leeway is 60 seconds.
  EXPECT_EQ("accepted", Verdict(RsaToken(), kNow + 359));
  EXPECT_EQ("token expired at 2027-01-15T08:05:00Z", Verdict(RsaToken(), kNow + 360));
  EXPECT_EQ("token expired at 2027-01-15T08:05:00Z", Verdict(EcToken(), kNow + 86400));
}

TEST(AuthVerify, TokensIssuedInTheFutureAreRejected) {
  EXPECT_EQ("accepted", Verdict(RsaToken(), kNow - 60));
  EXPECT_EQ("token issued in the future (iat 2027-01-15T08:00:00Z)", Verdict(RsaToken(), kNow - 61));
  nlohmann::json payload = Payload();
  payload["nbf"] = kNow + 120;
  EXPECT_EQ("token not valid before 2027-01-15T08:02:00Z", Verdict(RsaSigned(Header("RS384", "rsa-1"), payload)));
}

TEST(AuthVerify, LifetimeIsBoundedWhenConfigured) {
  nlohmann::json json = ConfigJson();
  json["max_lifetime_seconds"] = 300;
  json["leeway_seconds"] = 0;
  Result<AuthConfig> config = ParseAuthConfig(json.dump(), "auth.json", "");
  ASSERT_OK(config);
  EXPECT_EQ("accepted", Verdict(RsaToken(), kNow, {}, *config));
  EXPECT_EQ("token expired at 2027-01-15T08:05:00Z", Verdict(RsaToken(), kNow + 300, {}, *config));
  TokenSpec spec = Spec("rsa-1");
  spec.lifetime_seconds = 3600;
  EXPECT_EQ("token lifetime of 3600 s exceeds the 300 s allowed",
            Verdict(SignCdsHooksToken(RsaKey(), spec), kNow, {}, *config));
}

// ---- Signatures and keys ---------------------------------------------------------------------------

TEST(AuthVerify, TokensSignedWithAnotherKeyAreRejected) {
  EXPECT_EQ("signature does not verify", Verdict(SignCdsHooksToken(OtherRsaKey(), Spec("rsa-1"))));
  EXPECT_EQ("signature does not verify", Verdict(SignCdsHooksToken(OtherEcKey(), Spec("ec-1"))));
}

TEST(AuthVerify, AFlippedSignatureByteIsRejected) {
  for (const std::string& good : {RsaToken(), EcToken()}) {
    size_t dot = good.rfind('.');
    std::string signature = *Base64UrlDecode(good.substr(dot + 1));
    for (size_t at : {size_t{0}, signature.size() / 2, signature.size() - 1}) {
      std::string flipped = signature;
      flipped[at] = static_cast<char>(flipped[at] ^ 0x01);
      EXPECT_EQ("signature does not verify", Verdict(good.substr(0, dot + 1) + Base64UrlEncode(flipped))) << at;
    }
    // A truncated signature, and none at all.
    EXPECT_EQ("signature does not verify", Verdict(good.substr(0, good.size() - 4)));
    EXPECT_EQ("signature does not verify", Verdict(good.substr(0, dot + 1)));
  }
}

TEST(AuthVerify, AChangedPayloadNoLongerVerifies) {
  std::string good = RsaToken();
  size_t first = good.find('.'), second = good.rfind('.');
  nlohmann::json payload = Payload();
  payload["iss"] = "https://other-ehr.example.org";  // an allowed issuer with the same keys
  std::string forged = good.substr(0, first + 1) + Base64UrlEncode(payload.dump()) + good.substr(second);
  EXPECT_EQ("signature does not verify", Verdict(forged));
}

TEST(AuthVerify, UnknownKidIsRejected) {
  EXPECT_EQ("no key 'rsa-2' for issuer 'https://ehr.example.org'", Verdict(SignCdsHooksToken(RsaKey(), Spec("rsa-2"))));
}

TEST(AuthVerify, AKeyVerifiesOnlyItsOwnAlgorithm) {
  // The header claims ES384 but names the RSA key.
  EXPECT_EQ("key 'rsa-1' verifies RS384, not ES384", Verdict(RsaSigned(Header("ES384", "rsa-1"), Payload())));
  EXPECT_EQ("key 'ec-1' verifies ES384, not RS384",
            Verdict(SignJws(EcKey(), JwsAlgorithm::kES384, Header("RS384", "ec-1"), Payload())));
}

TEST(AuthVerify, AlgNoneIsRejected) {
  for (const char* none : {"none", "None", "NONE"}) {
    std::string token = Base64UrlEncode(Header(none, "rsa-1").dump()) + "." + Base64UrlEncode(Payload().dump()) + ".";
    EXPECT_EQ("alg 'none' (an unsigned token) is not accepted", Verdict(token)) << none;
  }
}

// The classic key-confusion attack: an HMAC keyed with the RSA public key the service holds.
TEST(AuthVerify, AlgHs256IsRejected) {
  std::string input = Base64UrlEncode(Header("HS256", "rsa-1").dump()) + "." + Base64UrlEncode(Payload().dump());
  std::string token = input + "." + Base64UrlEncode(std::string(32, 'x'));
  EXPECT_EQ("alg 'HS256' (a shared secret) is not accepted; CDS Hooks forbids symmetric algorithms", Verdict(token));
  EXPECT_EQ("alg 'RS256' is not accepted; expected RS384 or ES384", Verdict(RsaSigned(Header("RS256", "rsa-1"), Payload())));
  EXPECT_EQ("alg 'PS384' is not accepted; expected RS384 or ES384", Verdict(RsaSigned(Header("PS384", "rsa-1"), Payload())));
}

// ---- Issuer and audience ---------------------------------------------------------------------------

TEST(AuthVerify, UnknownIssuerIsRejected) {
  TokenSpec spec = Spec("rsa-1");
  spec.iss = "https://evil.example";
  EXPECT_EQ("issuer 'https://evil.example' is not allowed", Verdict(SignCdsHooksToken(RsaKey(), spec)));
  spec.iss = std::string(200, 'a') + "\n";
  EXPECT_EQ("issuer '" + std::string(80, 'a') + "...' is not allowed", Verdict(SignCdsHooksToken(RsaKey(), spec)));
}

TEST(AuthVerify, WrongAudienceIsRejected) {
  TokenSpec spec = Spec("ec-1");
  spec.aud = "https://cds.example.org.evil.example";
  EXPECT_EQ("the token's audience is not this service ('https://cds.example.org')",
            Verdict(SignCdsHooksToken(EcKey(), spec)));
}

TEST(AuthVerify, JkuMustBeAllowedWhenTheIssuerListsIt) {
  nlohmann::json json = ConfigJson();
  json["issuers"][0]["jku"] = {"https://ehr.example.org/jwks"};
  Result<AuthConfig> config = ParseAuthConfig(json.dump(), "auth.json", "");
  ASSERT_OK(config);
  nlohmann::json header = Header("RS384", "rsa-1");
  header["jku"] = "https://ehr.example.org/jwks";
  EXPECT_EQ("accepted", Verdict(RsaSigned(header, Payload()), kNow, {}, *config));
  header["jku"] = "https://evil.example/jwks";
  EXPECT_EQ("jku 'https://evil.example/jwks' is not allowed for issuer 'https://ehr.example.org'",
            Verdict(RsaSigned(header, Payload()), kNow, {}, *config));
  // Without a jku list the header's jku is not used (keys are never fetched from it).
  EXPECT_EQ("accepted", Verdict(RsaSigned(header, Payload())));
}

// ---- Malformed tokens and headers ------------------------------------------------------------------

TEST(AuthVerify, MalformedTokensAreRejected) {
  const std::string good = RsaToken();
  const std::string header = good.substr(0, good.find('.'));
  const std::string payload_and_signature = good.substr(good.find('.'));
  struct Case {
    std::string token, reason;
  };
  const Case cases[] = {
      {header + ".abc", "malformed token: expected a JWS of three base64url parts separated by '.'"},
      {good + ".abc", "malformed token: expected a JWS of three base64url parts separated by '.'"},
      {"nodots", "malformed token: expected a JWS of three base64url parts separated by '.'"},
      {"!!!!" + payload_and_signature, "malformed token: the header is not base64url"},
      {header + "=" + payload_and_signature, "malformed token: the header is not base64url"},
      {Base64UrlEncode("not json") + payload_and_signature, "malformed token: the header is not a JSON object"},
      {Base64UrlEncode("[1,2]") + payload_and_signature, "malformed token: the header is not a JSON object"},
      {Base64UrlEncode(R"({"alg":"none","alg":"RS384","typ":"JWT","kid":"rsa-1"})") + payload_and_signature,
       "malformed token: the header is not a JSON object"},
      {header + "." + Base64UrlEncode("{") + good.substr(good.rfind('.')),
       "malformed token: the payload is not a JSON object"},
      {good.substr(0, good.rfind('.')) + ".a+b/", "malformed token: the signature is not base64url"},
  };
  for (const Case& c : cases) EXPECT_EQ(c.reason, Verdict(c.token)) << c.token;
}

TEST(AuthVerify, MissingBearerSchemeIsRejected) {
  const std::string token = RsaToken();
  struct Case {
    std::string header, reason;
  };
  const Case cases[] = {
      {"", "no bearer token: send 'Authorization: Bearer <JWT>'"},
      {token, "the Authorization header must use the Bearer scheme: 'Bearer <JWT>'"},
      {"Basic dXNlcjpwYXNz", "the Authorization header must use the Bearer scheme: 'Bearer <JWT>'"},
      {"Bearer", "the Authorization header must use the Bearer scheme: 'Bearer <JWT>'"},
      {"Bearer    ", "no bearer token after 'Bearer'"},
      {"Bearer " + std::string(9000, 'a'), "token too long (over 8192 bytes)"},
  };
  for (const Case& c : cases) {
    Result<Claims> claims = VerifyBearer(c.header, Config(), kNow);
    ASSERT_FALSE(claims.ok()) << c.header;
    EXPECT_EQ(Status::Code::kUnauthenticated, claims.status().code());
    EXPECT_EQ(c.reason, claims.status().message());
  }
}

TEST(AuthVerify, HeaderFieldsRequiredByCdsHooks) {
  nlohmann::json no_typ = {{"alg", "RS384"}, {"kid", "rsa-1"}};
  nlohmann::json other_typ = Header("RS384", "rsa-1");
  other_typ["typ"] = "at+jwt";
  nlohmann::json no_kid = {{"alg", "RS384"}, {"typ", "JWT"}};
  nlohmann::json crit = Header("RS384", "rsa-1");
  crit["crit"] = {"exp"};
  nlohmann::json lower_typ = Header("RS384", "rsa-1");
  lower_typ["typ"] = "jwt";
  EXPECT_EQ("the token's header must have typ 'JWT'", Verdict(RsaSigned(no_typ, Payload())));
  EXPECT_EQ("the token's header must have typ 'JWT'", Verdict(RsaSigned(other_typ, Payload())));
  EXPECT_EQ("the token's header has no 'kid' naming its key", Verdict(RsaSigned(no_kid, Payload())));
  EXPECT_EQ("the token's header has 'crit' extensions, which are not supported", Verdict(RsaSigned(crit, Payload())));
  EXPECT_EQ("malformed token: the header has no 'alg'", Verdict(RsaSigned({{"typ", "JWT"}, {"kid", "rsa-1"}}, Payload())));
  EXPECT_EQ("accepted", Verdict(RsaSigned(lower_typ, Payload())));
}

TEST(AuthVerify, ClaimsRequiredByCdsHooks) {
  struct Case {
    std::string name;
    nlohmann::json payload;
    std::string reason;
  };
  auto without = [](const char* claim) {
    nlohmann::json payload = Payload();
    payload.erase(claim);
    return payload;
  };
  auto with = [](const char* claim, nlohmann::json value) {
    nlohmann::json payload = Payload();
    payload[claim] = std::move(value);
    return payload;
  };
  const Case cases[] = {
      {"no iss", without("iss"), "the token has no 'iss' (string) naming its issuer"},
      {"iss not a string", with("iss", 7), "the token has no 'iss' (string) naming its issuer"},
      {"no exp", without("exp"), "the token has no 'exp'"},
      {"no iat", without("iat"), "the token has no 'iat'"},
      {"exp a string", with("exp", "1800000300"), "the token's 'exp' is not a time in seconds"},
      {"exp huge", with("exp", 1e300), "the token's 'exp' is not a time in seconds"},
      {"exp before iat", with("iat", kNow + 301), "token issued in the future (iat 2027-01-15T08:05:01Z)"},
      {"no aud", without("aud"), "the token has no 'aud' naming this service"},
      {"aud a number", with("aud", 3), "the token has no 'aud' naming this service"},
      {"aud array with a number", with("aud", {kAudience, 3}), "the token's 'aud' is not a string or an array of strings"},
      {"no jti", without("jti"), "the token has no 'jti' (a unique string)"},
      {"empty jti", with("jti", ""), "the token has no 'jti' (a unique string)"},
      {"sub not a string", with("sub", 1), "the token's 'sub' is not a string"},
      {"tenant not a string", with("tenant", nlohmann::json::object()), "the token's 'tenant' is not a string"},
  };
  for (const Case& c : cases) EXPECT_EQ(c.reason, Verdict(RsaSigned(Header("RS384", "rsa-1"), c.payload))) << c.name;
  // exp before iat, both within the leeway of now.
  nlohmann::json backwards = with("iat", kNow + 20);
  backwards["exp"] = kNow + 10;
  EXPECT_EQ("token expires before it was issued", Verdict(RsaSigned(Header("RS384", "rsa-1"), backwards)));
  // A fractional NumericDate is allowed (RFC 7519 section 2).
  EXPECT_EQ("accepted", Verdict(RsaSigned(Header("RS384", "rsa-1"), with("exp", kNow + 299.5))));
}

// A 401 body carries the reason; it must never carry the credential.
TEST(AuthVerify, ReasonsNeverContainTheToken) {
  std::string good = RsaToken();
  std::string signature = good.substr(good.rfind('.') + 1);
  std::string payload = good.substr(good.find('.') + 1, good.rfind('.') - good.find('.') - 1);
  for (int64_t now : {kNow, kNow + 1000, kNow - 1000}) {
    for (std::string_view endpoint : {std::string_view(), std::string_view("/x")}) {
      for (std::string token : {good, good.substr(0, good.size() - 2), "x" + good}) {
        std::string reason = Verdict(token, now, endpoint);
        EXPECT_EQ(std::string::npos, reason.find(signature.substr(0, 16))) << reason;
        EXPECT_EQ(std::string::npos, reason.find(payload.substr(0, 16))) << reason;
      }
    }
  }
}

TEST(AuthVerify, OneConfigVerifiesFromManyThreads) {
  const std::string rsa = RsaToken(), ec = EcToken();
  const std::string forged = SignCdsHooksToken(OtherEcKey(), Spec("ec-1"));
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        if (!VerifyBearer("Bearer " + rsa, Config(), kNow).ok()) ++wrong;
        if (!VerifyBearer("Bearer " + ec, Config(), kNow).ok()) ++wrong;
        if (VerifyBearer("Bearer " + forged, Config(), kNow).ok()) ++wrong;
      }
    });
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(0, wrong.load());
}

// ---- Replays ------------------------------------------------------------------------------------------

Authenticator WithReplayGuard() {
  nlohmann::json json = ConfigJson();
  json["reject_replayed_jti"] = true;
  Result<AuthConfig> config = ParseAuthConfig(json.dump(), "auth.json", "");
  EXPECT_OK(config);
  return Authenticator(config.ok() ? *config : AuthConfig{});
}

TEST(AuthReplay, ATokenIsAcceptedOnceWhenTheConfigAsks) {
  Authenticator guarded = WithReplayGuard();
  const std::string token = "Bearer " + RsaToken();
  EXPECT_OK(guarded.Verify(token, kNow));
  EXPECT_EQ("token already used (jti 'jti-42'); send a new token for each call",
            guarded.Verify(token, kNow + 1).status().message());
  TokenSpec spec = Spec("ec-1");
  spec.jti = "jti-43";
  EXPECT_OK(guarded.Verify("Bearer " + SignCdsHooksToken(EcKey(), spec), kNow));
  spec.iss = "https://other-ehr.example.org";  // the same jti from another issuer is another token
  EXPECT_OK(guarded.Verify("Bearer " + SignCdsHooksToken(EcKey(), spec), kNow));
  // A rejected token is not remembered.
  EXPECT_FALSE(guarded.Verify("Bearer " + SignCdsHooksToken(OtherEcKey(), Spec("ec-1")), kNow).ok());
  // Without the option the same token passes again (the default).
  Authenticator plain(Config());
  EXPECT_OK(plain.Verify(token, kNow));
  EXPECT_OK(plain.Verify(token, kNow));
}

TEST(AuthReplay, AJtiIsForgottenOnceItsTokenHasExpired) {
  Authenticator guarded = WithReplayGuard();
  EXPECT_OK(guarded.Verify("Bearer " + RsaToken(), kNow));
  // Later a new token reuses the jti: accepted only after the first one expired (exp + leeway).
  TokenSpec later = Spec("rsa-1");
  later.now = kNow + 300;
  const std::string reused = "Bearer " + SignCdsHooksToken(RsaKey(), later);
  EXPECT_FALSE(guarded.Verify(reused, kNow + 300).ok());
  EXPECT_OK(guarded.Verify(reused, kNow + 361));
}

TEST(AuthReplay, GuardIsBoundedAndFailsClosed) {
  ReplayGuard guard(2);
  Claims claims;
  claims.iss = kIss;
  for (const char* jti : {"a", "b"}) {
    claims.jti = jti;
    EXPECT_OK(guard.Admit(claims, kNow + 10, kNow));
  }
  claims.jti = "c";
  EXPECT_EQ("too many unexpired tokens to track; try again when some have expired",
            guard.Admit(claims, kNow + 10, kNow).message());
  EXPECT_OK(guard.Admit(claims, kNow + 30, kNow + 11));
  EXPECT_EQ(1u, guard.size());
}

TEST(AuthReplay, OnlyOneOfManyConcurrentReplaysIsAccepted) {
  Authenticator guarded = WithReplayGuard();
  const std::string token = "Bearer " + EcToken();
  std::atomic<int> accepted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i)
        if (guarded.Verify(token, kNow).ok()) ++accepted;
    });
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(1, accepted.load());
}

// ---- JOSE pieces -------------------------------------------------------------------------------------

TEST(AuthJose, Base64UrlRoundTripsEveryLength) {
  std::string bytes;
  for (int length = 0; length < 40; ++length) {
    std::optional<std::string> decoded = Base64UrlDecode(Base64UrlEncode(bytes));
    ASSERT_TRUE(decoded.has_value()) << length;
    EXPECT_EQ(bytes, *decoded);
    bytes.push_back(static_cast<char>(length * 37 + 250));
  }
  EXPECT_EQ("_-8", Base64UrlEncode("\xff\xef"));
}

TEST(AuthJose, Base64UrlDecodingIsStrict) {
  EXPECT_EQ("\xff\xef", Base64UrlDecode("_-8").value_or("?"));
  for (const char* bad : {"AA==", "A+8", "A/8", "AB C", "A", "AAAAA", "AB", "AAB", "\xc3\xa9"})
    EXPECT_FALSE(Base64UrlDecode(bad).has_value()) << bad;
  EXPECT_TRUE(Base64UrlDecode("AA").has_value());
  EXPECT_TRUE(Base64UrlDecode("").has_value());
}

TEST(AuthJose, EcdsaSignatureOfTheWrongLengthHasNoDerForm) {
  EXPECT_FALSE(JoseEcdsaToDer(std::string(95, '\1'), 48).has_value());
  EXPECT_TRUE(JoseEcdsaToDer(std::string(96, '\1'), 48).has_value());
}

// ---- The configuration --------------------------------------------------------------------------------

std::string ConfigError(const nlohmann::json& json) {
  Result<AuthConfig> config = ParseAuthConfig(json.dump(), "auth.json", "");
  EXPECT_FALSE(config.ok());
  return config.ok() ? "loaded" : config.status().message();
}

TEST(AuthConfigFile, LoadsAndNormalisesTheAudience) {
  EXPECT_EQ(kAudience, Config().audience);
  EXPECT_EQ(60, Config().leeway_seconds);
  EXPECT_FALSE(Config().max_lifetime_seconds.has_value());
  ASSERT_EQ(2u, Config().issuers.size());
  ASSERT_NE(nullptr, Config().FindIssuer(kIss));
  EXPECT_EQ(nullptr, Config().FindIssuer("https://ehr.example.org/"));
  EXPECT_NE(nullptr, Config().FindIssuer(kIss)->FindKey("ec-1"));
}

TEST(AuthConfigFile, MissingFileIsNotFound) {
  Result<AuthConfig> config = LoadAuthConfig("/nonexistent/auth.json");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(Status::Code::kNotFound, config.status().code());
  EXPECT_EQ("/nonexistent/auth.json: cannot open file: no such file", config.status().message());
}

TEST(AuthConfigFile, BadJsonNamesTheFileAndPlace) {
  Result<AuthConfig> config = ParseAuthConfig("{\n  \"audience\": \"https://x\",\n  oops\n}", "auth.json", "");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(Status::Code::kInvalidArgument, config.status().code());
  EXPECT_EQ(0u, config.status().message().rfind("auth.json:3:", 0)) << config.status().message();
}

TEST(AuthConfigFile, ProblemsNameTheirJsonPath) {
  nlohmann::json base = ConfigJson();
  auto change = [&](const std::function<void(nlohmann::json&)>& edit) {
    nlohmann::json json = base;
    edit(json);
    return ConfigError(json);
  };
  EXPECT_EQ("auth.json: /audiance: unknown field 'audiance' (did you mean 'audience'?)",
            change([](nlohmann::json& j) { j["audiance"] = j["audience"]; }));
  EXPECT_EQ("auth.json: missing required field 'audience'", change([](nlohmann::json& j) { j.erase("audience"); }));
  EXPECT_EQ("auth.json: /audience: expected the service's URL (https://host[:port][/path]), got 'cds.example.org'",
            change([](nlohmann::json& j) { j["audience"] = "cds.example.org"; }));
  EXPECT_EQ("auth.json: missing required field 'issuers'", change([](nlohmann::json& j) { j.erase("issuers"); }));
  EXPECT_EQ("auth.json: /issuers: no issuer is trusted; list at least one",
            change([](nlohmann::json& j) { j["issuers"] = nlohmann::json::array(); }));
  EXPECT_EQ("auth.json: /issuers/1/iss: issuer 'https://ehr.example.org' is listed twice",
            change([](nlohmann::json& j) { j["issuers"][1]["iss"] = kIss; }));
  EXPECT_EQ("auth.json: /issuers/0: give the issuer's public keys as either 'jwks' or 'jwks_file'",
            change([](nlohmann::json& j) { j["issuers"][0].erase("jwks"); }));
  EXPECT_EQ("auth.json: /issuers/0: give the issuer's public keys as either 'jwks' or 'jwks_file'",
            change([](nlohmann::json& j) { j["issuers"][0]["jwks_file"] = "keys.json"; }));
  EXPECT_EQ("auth.json: /leeway_seconds: leeway_seconds 900 is out of range 0-600",
            change([](nlohmann::json& j) { j["leeway_seconds"] = 900; }));
  EXPECT_EQ("auth.json: /issuers/0/jwks/keys/1/kid: kid 'rsa-1' is given twice",
            change([](nlohmann::json& j) { j["issuers"][0]["jwks"]["keys"][1]["kid"] = "rsa-1"; }));
  EXPECT_EQ("auth.json: /issuers/0/jwks: missing required field 'keys'",
            change([](nlohmann::json& j) { j["issuers"][0]["jwks"] = nlohmann::json::object(); }));
}

TEST(AuthConfigFile, OnlyPublicSignatureKeysOfTheAcceptedKindsLoad) {
  nlohmann::json base = ConfigJson();
  auto key_error = [&](const std::function<void(nlohmann::json&)>& edit) {
    nlohmann::json json = base;
    edit(json["issuers"][0]["jwks"]["keys"][0]);
    return ConfigError(json);
  };
  const std::string at = "auth.json: /issuers/0/jwks/keys/0";
  EXPECT_EQ(at + "/d: private or symmetric key material; give only the public key",
            key_error([](nlohmann::json& k) { k["d"] = "AQAB"; }));
  EXPECT_EQ(at + "/kty: expected 'RSA' or 'EC', got 'oct' (a shared secret: CDS Hooks forbids symmetric algorithms)",
            key_error([](nlohmann::json& k) { k = {{"kty", "oct"}, {"kid", "h"}}; }));
  EXPECT_EQ(at + "/use: a key with use 'enc' does not verify signatures; expected 'sig'",
            key_error([](nlohmann::json& k) { k["use"] = "enc"; }));
  EXPECT_EQ(at + "/alg: expected 'RS384' for this key type, got 'RS256'",
            key_error([](nlohmann::json& k) { k["alg"] = "RS256"; }));
  EXPECT_EQ(at + "/n: not a base64url value (RFC 7515: no padding)",
            key_error([](nlohmann::json& k) { k["n"] = "AQAB=="; }));
  EXPECT_EQ(at + "/colour: unknown field 'colour'", key_error([](nlohmann::json& k) { k["colour"] = "red"; }));
  EXPECT_EQ(at + ": missing required field 'kid'", key_error([](nlohmann::json& k) { k.erase("kid"); }));
  nlohmann::json weak = testing::PublicJwk(testing::GenerateRsaKey(1024), "weak");
  EXPECT_EQ(at + "/n: RSA key of 1024 bits; at least 2048 are required", key_error([&](nlohmann::json& k) { k = weak; }));
  nlohmann::json ec = testing::PublicJwk(EcKey(), "ec-x");
  EXPECT_EQ(at + "/crv: curve 'P-256' is not accepted; ES384 keys are on 'P-384'",
            key_error([&](nlohmann::json& k) { k = ec; k["crv"] = "P-256"; }));
  EXPECT_EQ(at + "/x: a P-384 coordinate has 48 bytes, got 47",
            key_error([&](nlohmann::json& k) { k = ec; k["x"] = Base64UrlEncode(std::string(47, '\1')); }));
  // A point off the curve: y changed by one bit.
  std::string y = *Base64UrlDecode(ec["y"].get<std::string>());
  y.back() = static_cast<char>(y.back() ^ 1);
  EXPECT_EQ(at + ": not a valid P-384 public key (the point is not on the curve)",
            key_error([&](nlohmann::json& k) { k = ec; k["y"] = Base64UrlEncode(y); }));
}

// ---- The committed test keys, config and the nflux_sign_jwt tool ------------------------------------

constexpr const char* kDataDir = NFLUX_SOURCE_DIR "/tests/data/auth";

TEST(AuthTestData, CommittedConfigLoadsWithItsJwksFile) {
  Result<AuthConfig> config = LoadAuthConfig(std::string(kDataDir) + "/auth-config.json");
  ASSERT_OK(config);
  ASSERT_EQ(1u, config->issuers.size());
  EXPECT_EQ(2u, config->issuers[0].keys.size());
  for (const char* pem : {"/TEST-ONLY-ehr-rsa3072.key.pem", "/TEST-ONLY-ehr-ec-p384.key.pem"}) {
    KeyPair key = testing::ReadPrivateKeyPem(std::string(kDataDir) + pem);
    ASSERT_NE(nullptr, key) << pem;
    std::string kid = testing::JwkThumbprint(testing::PublicJwk(key, ""));
    TokenSpec spec{config->issuers[0].iss, config->audience, kid, kNow, 300, "j"};
    SCOPED_TRACE(pem);
    EXPECT_OK(VerifyBearer("Bearer " + SignCdsHooksToken(key, spec), *config, kNow));
  }
}

TEST(AuthTestData, JwksFileProblemsNameThatFile) {
  nlohmann::json json = ConfigJson();
  json["issuers"][0].erase("jwks");
  json["issuers"][0]["jwks_file"] = "missing.jwks.json";
  Result<AuthConfig> config = ParseAuthConfig(json.dump(), "auth.json", kDataDir);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ("auth.json: /issuers/0/jwks_file: " + std::string(kDataDir) + "/missing.jwks.json: cannot open file: no such file",
            config.status().message());
  json["issuers"][0]["jwks_file"] = "auth-config.json";  // a file that is not a JWK Set
  config = ParseAuthConfig(json.dump(), "auth.json", kDataDir);
  ASSERT_FALSE(config.ok());
  EXPECT_NE(std::string::npos, config.status().message().find(std::string(kDataDir) + "/auth-config.json: /audience: unknown field 'audience'"))
      << config.status().message();
}

// The tool the service tests use: its token verifies, and an expired one is refused.
TEST(AuthTestData, SignJwtToolMakesTokensTheVerifierAccepts) {
  Result<AuthConfig> config = LoadAuthConfig(std::string(kDataDir) + "/auth-config.json");
  ASSERT_OK(config);
  auto run = [](const std::string& args) {
    std::string command = std::string(NFLUX_SIGN_JWT) + " " + args;
    FILE* pipe = popen(command.c_str(), "r");
    std::string out;
    char buffer[4096];
    while (pipe && fgets(buffer, sizeof buffer, pipe)) out += buffer;
    if (pipe) pclose(pipe);
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  };
  const std::string key = std::string(kDataDir) + "/TEST-ONLY-ehr-ec-p384.key.pem";
  const std::string args = "'" + config->issuers[0].iss + "' '" + config->audience + "' " + key;
  std::string token = run(args + " --now " + std::to_string(kNow) + " --jti t1");
  EXPECT_OK(VerifyBearer("Bearer " + token, *config, kNow + 1));
  std::string old = run(args + " --now " + std::to_string(kNow - 600));
  EXPECT_EQ("token expired at 2027-01-15T07:55:00Z", VerifyBearer("Bearer " + old, *config, kNow).status().message());
  nlohmann::json jwks = nlohmann::json::parse(run("--jwks " + key + " --kid mine"));
  EXPECT_EQ("mine", jwks["keys"][0]["kid"]);
  EXPECT_EQ("EC", jwks["keys"][0]["kty"]);
}

}  // namespace
}  // namespace nflux::auth
