// VerifyBearer: the checks of CDS Hooks 2.0 "Trusting CDS Clients" on a JWS compact token
// (RFC 7515 section 7.1, RFC 7519 section 7.2), in order: the header's form, the issuer and its
// key, the signature, then the claims. Nothing in a token is trusted before its signature.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>

#include "auth/jose.h"

namespace nflux::auth {
namespace {

// A CDS Hooks token is a few hundred bytes; this bounds the work an unauthenticated caller causes.
constexpr size_t kMaxTokenBytes = 8192;
constexpr size_t kMaxEchoedChars = 80;
constexpr double kMaxNumericDate = 1e12;  // year 33658; keeps the seconds within int64

Status Reject(std::string reason) { return Status::Unauthenticated(std::move(reason)); }

// A value from the token, shown in a reason: printable ASCII only, cut short.
std::string Echo(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, kMaxEchoedChars)) out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  if (text.size() > kMaxEchoedChars) out += "...";
  return "'" + out + "'";
}

std::string IsoTime(int64_t seconds) {
  auto t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  if (!gmtime_r(&t, &tm)) return std::to_string(seconds);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

// The token of "Bearer <token>" (the scheme is case-insensitive, RFC 7235 section 2.1).
Result<std::string_view> BearerToken(std::string_view header) {
  constexpr std::string_view kScheme = "Bearer";
  if (header.empty()) return Reject("no bearer token: send 'Authorization: Bearer <JWT>'");
  size_t space = header.find(' ');
  if (space == std::string_view::npos || !EqualsIgnoringCase(header.substr(0, space), kScheme))
    return Reject("the Authorization header must use the Bearer scheme: 'Bearer <JWT>'");
  std::string_view token = header.substr(space);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.empty()) return Reject("no bearer token after 'Bearer'");
  if (token.size() > kMaxTokenBytes) return Reject("token too long (over " + std::to_string(kMaxTokenBytes) + " bytes)");
  return token;
}

struct CompactJws {
  std::string_view header_b64, payload_b64;
  nlohmann::json header, payload;
  std::string signature;
};

// A base64url part holding a JSON object (duplicate names rejected: RFC 7515 section 5.2).
Result<nlohmann::json> JsonPart(std::string_view part, std::string_view what) {
  std::optional<std::string> bytes = Base64UrlDecode(part);
  if (!bytes) return Reject("malformed token: the " + std::string(what) + " is not base64url");
  StrictJson json = ParseJsonStrict(*bytes);
  if (json.syntax_error || !json.duplicate_keys.empty() || !json.value.is_object())
    return Reject("malformed token: the " + std::string(what) + " is not a JSON object");
  return std::move(json.value);
}

Result<CompactJws> SplitCompact(std::string_view token) {
  size_t first = token.find('.');
  size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos)
    return Reject("malformed token: expected a JWS of three base64url parts separated by '.'");
  CompactJws jws;
  jws.header_b64 = token.substr(0, first);
  jws.payload_b64 = token.substr(first + 1, second - first - 1);
  Result<nlohmann::json> header = JsonPart(jws.header_b64, "header");
  if (!header.ok()) return header.status();
  Result<nlohmann::json> payload = JsonPart(jws.payload_b64, "payload");
  if (!payload.ok()) return payload.status();
  std::optional<std::string> signature = Base64UrlDecode(token.substr(second + 1));
  // An empty signature passes here so that alg 'none' is named as such below; it never verifies.
  if (!signature) return Reject("malformed token: the signature is not base64url");
  jws.header = std::move(*header);
  jws.payload = std::move(*payload);
  jws.signature = std::move(*signature);
  return jws;
}

const std::string* StringMember(const nlohmann::json& object, const char* name) {
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get_ptr<const std::string*>() : nullptr;
}

Result<JwsAlgorithm> HeaderAlgorithm(const nlohmann::json& header) {
  const std::string* alg = StringMember(header, "alg");
  if (!alg) return Reject("malformed token: the header has no 'alg'");
  if (*alg == "RS384") return JwsAlgorithm::kRS384;
  if (*alg == "ES384") return JwsAlgorithm::kES384;
  if (EqualsIgnoringCase(*alg, "none")) return Reject("alg 'none' (an unsigned token) is not accepted");
  if (alg->rfind("HS", 0) == 0)
    return Reject("alg " + Echo(*alg) + " (a shared secret) is not accepted; CDS Hooks forbids symmetric algorithms");
  return Reject("alg " + Echo(*alg) + " is not accepted; expected RS384 or ES384");
}

// The JOSE header: alg, typ 'JWT' and kid are required (CDS Hooks); no critical extensions.
Status CheckHeader(const nlohmann::json& header) {
  Result<JwsAlgorithm> alg = HeaderAlgorithm(header);
  if (!alg.ok()) return alg.status();
  const std::string* typ = StringMember(header, "typ");
  if (!typ || !EqualsIgnoringCase(*typ, "JWT")) return Reject("the token's header must have typ 'JWT'");
  const std::string* kid = StringMember(header, "kid");
  if (!kid || kid->empty()) return Reject("the token's header has no 'kid' naming its key");
  if (header.contains("crit")) return Reject("the token's header has 'crit' extensions, which are not supported");
  if (header.contains("jku") && !header["jku"].is_string()) return Reject("the token's header 'jku' is not a string");
  return Status::Ok();
}

// The issuer and the key the token names, and that the key fits the algorithm and `jku`.
Result<const PublicKey*> FindKey(const CompactJws& jws, const AuthConfig& config) {
  const std::string* iss = StringMember(jws.payload, "iss");
  if (!iss) return Reject("the token has no 'iss' (string) naming its issuer");
  const Issuer* issuer = config.FindIssuer(*iss);
  if (!issuer) return Reject("issuer " + Echo(*iss) + " is not allowed");
  const std::string* jku = StringMember(jws.header, "jku");
  if (jku && !issuer->jku.empty() && std::find(issuer->jku.begin(), issuer->jku.end(), *jku) == issuer->jku.end())
    return Reject("jku " + Echo(*jku) + " is not allowed for issuer " + Echo(*iss));
  const auto& kid = jws.header["kid"].get_ref<const std::string&>();
  const PublicKey* key = issuer->FindKey(kid);
  if (!key) return Reject("no key " + Echo(kid) + " for issuer " + Echo(*iss));
  JwsAlgorithm alg = *HeaderAlgorithm(jws.header);
  if (key->algorithm != alg)
    return Reject("key " + Echo(kid) + " verifies " + std::string(Name(key->algorithm)) + ", not " +
                  std::string(Name(alg)));
  return key;
}

// A NumericDate claim (seconds since the epoch; a fraction is dropped).
Result<std::optional<int64_t>> NumericDate(const nlohmann::json& payload, const char* name, bool required) {
  auto it = payload.find(name);
  if (it == payload.end()) {
    if (required) return Reject("the token has no '" + std::string(name) + "'");
    return std::optional<int64_t>();
  }
  if (!it->is_number() || !std::isfinite(it->get<double>()) || std::fabs(it->get<double>()) > kMaxNumericDate)
    return Reject("the token's '" + std::string(name) + "' is not a time in seconds");
  return std::optional<int64_t>(static_cast<int64_t>(std::floor(it->get<double>())));
}

Status ReadTimes(Claims& claims, const nlohmann::json& payload) {
  Result<std::optional<int64_t>> exp = NumericDate(payload, "exp", true);
  Result<std::optional<int64_t>> iat = NumericDate(payload, "iat", true);
  Result<std::optional<int64_t>> nbf = NumericDate(payload, "nbf", false);
  for (const auto* date : {&exp, &iat, &nbf})
    if (!date->ok()) return date->status();
  claims.exp = **exp;
  claims.iat = **iat;
  claims.nbf = *nbf;
  return Status::Ok();
}

// `aud`: a string or an array of strings.
Status ReadAudience(Claims& claims, const nlohmann::json& payload) {
  auto it = payload.find("aud");
  if (it != payload.end() && it->is_string()) claims.aud.push_back(it->get<std::string>());
  if (it != payload.end() && it->is_array())
    for (const nlohmann::json& item : *it) {
      if (!item.is_string()) return Reject("the token's 'aud' is not a string or an array of strings");
      claims.aud.push_back(item.get<std::string>());
    }
  if (claims.aud.empty()) return Reject("the token has no 'aud' naming this service");
  return Status::Ok();
}

// The claims of a verified payload, by type; their values are judged by CheckClaims.
Result<Claims> ReadClaims(const nlohmann::json& payload) {
  Claims claims;
  claims.iss = payload["iss"].get<std::string>();
  if (Status times = ReadTimes(claims, payload); !times.ok()) return times;
  if (Status audience = ReadAudience(claims, payload); !audience.ok()) return audience;
  const std::string* jti = StringMember(payload, "jti");
  if (!jti || jti->empty()) return Reject("the token has no 'jti' (a unique string)");
  claims.jti = *jti;
  for (const char* name : {"sub", "tenant"})
    if (payload.contains(name) && !payload[name].is_string())
      return Reject("the token's '" + std::string(name) + "' is not a string");
  if (const std::string* sub = StringMember(payload, "sub")) claims.sub = *sub;
  if (const std::string* tenant = StringMember(payload, "tenant")) claims.tenant = *tenant;
  return claims;
}

Status CheckTimes(const Claims& claims, const AuthConfig& config, int64_t now) {
  const int64_t leeway = config.leeway_seconds;
  if (now >= claims.exp + leeway) return Reject("token expired at " + IsoTime(claims.exp));
  if (claims.iat > now + leeway) return Reject("token issued in the future (iat " + IsoTime(claims.iat) + ")");
  if (claims.nbf && *claims.nbf > now + leeway) return Reject("token not valid before " + IsoTime(*claims.nbf));
  if (claims.exp <= claims.iat) return Reject("token expires before it was issued");
  if (config.max_lifetime_seconds && claims.exp - claims.iat > *config.max_lifetime_seconds)
    return Reject("token lifetime of " + std::to_string(claims.exp - claims.iat) + " s exceeds the " +
                  std::to_string(*config.max_lifetime_seconds) + " s allowed");
  return Status::Ok();
}

// `aud` must name the service or the endpoint being called.
Status CheckAudience(const Claims& claims, const AuthConfig& config, std::string_view endpoint_path) {
  std::string endpoint = config.audience + std::string(endpoint_path);
  for (const std::string& aud : claims.aud)
    if (aud == config.audience || (!endpoint_path.empty() && aud == endpoint)) return Status::Ok();
  return Reject("the token's audience is not this service ('" +
                (endpoint_path.empty() ? config.audience : endpoint) + "')");
}

}  // namespace

Result<Claims> VerifyBearer(std::string_view authorization_header, const AuthConfig& config, int64_t now,
                            std::string_view endpoint_path) {
  Result<std::string_view> token = BearerToken(authorization_header);
  if (!token.ok()) return token.status();
  Result<CompactJws> jws = SplitCompact(*token);
  if (!jws.ok()) return jws.status();
  if (Status header = CheckHeader(jws->header); !header.ok()) return header;
  Result<const PublicKey*> key = FindKey(*jws, config);
  if (!key.ok()) return key.status();
  // The signing input is the two encoded parts as sent (RFC 7515 section 5.2, step 8).
  std::string_view signing_input = token->substr(0, jws->header_b64.size() + 1 + jws->payload_b64.size());
  if (!VerifyJwsSignature(**key, signing_input, jws->signature)) return Reject("signature does not verify");
  Result<Claims> claims = ReadClaims(jws->payload);
  if (!claims.ok()) return claims;
  claims->algorithm = (*key)->algorithm;
  claims->kid = (*key)->kid;
  if (Status judged = CheckClaims(*claims, config, now, endpoint_path); !judged.ok()) return judged;
  return claims;
}

Status CheckClaims(const Claims& claims, const AuthConfig& config, int64_t now, std::string_view endpoint_path) {
  if (Status times = CheckTimes(claims, config, now); !times.ok()) return times;
  return CheckAudience(claims, config, endpoint_path);
}

}  // namespace nflux::auth
