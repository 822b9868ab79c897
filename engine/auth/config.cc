// The allow list of CDS clients (docs/security.md "The configuration"), read strictly: every
// problem is reported with its file and JSON path, and nothing unknown is ignored.
#include <filesystem>
#include <set>

#include "auth/jose.h"
#include "base/text.h"

namespace nflux::auth {
namespace {

constexpr int kMaxLeewaySeconds = 600;
constexpr int kMaxLifetimeSeconds = 86400;

// Collects "file: /path: message" lines for every file the config names.
class Problems {
 public:
  JsonReader ReaderFor(const std::string& source) {
    return JsonReader([this, source](const std::string& path, const std::string& message) {
      lines_.push_back(source + ": " + (path.empty() ? message : path + ": " + message));
    });
  }
  bool empty() const { return lines_.empty(); }
  Status ToStatus() const { return Status::InvalidArgument(Join(lines_, "\n")); }

 private:
  std::vector<std::string> lines_;
};

// The keys of one JWK Set at `path` of `source`; kids must be unique.
std::vector<PublicKey> ParseJwks(const nlohmann::json& jwks, const std::string& path, const JsonReader& reader) {
  std::vector<PublicKey> keys;
  if (!reader.Object(jwks, path)) return keys;
  ObjectReader set(reader, jwks, path);
  set.RejectUnknownFields({"keys"});
  const nlohmann::json* list = set.Field("keys");
  if (!list) {
    reader.Report(path, "missing required field 'keys'");
    return keys;
  }
  std::string list_path = set.PathOf("keys");
  if (!reader.Array(*list, list_path)) return keys;
  if (list->empty()) reader.Report(list_path, "a JWK Set needs at least one key");
  std::set<std::string> kids;
  for (size_t i = 0; i < list->size(); ++i) {
    std::optional<PublicKey> key = ParseJwk((*list)[i], JsonChild(list_path, i), reader);
    if (!key) continue;
    if (!kids.insert(key->kid).second)
      reader.Report(JsonChild(JsonChild(list_path, i), "kid"), "kid '" + key->kid + "' is given twice");
    keys.push_back(std::move(*key));
  }
  return keys;
}

// The JWK Set in the file `name` (relative to `base_dir`); problems name that file.
std::vector<PublicKey> ReadJwksFile(const std::string& name, const std::string& base_dir, const std::string& at,
                                    const JsonReader& reader, Problems& problems) {
  std::filesystem::path file(name);
  if (file.is_relative() && !base_dir.empty()) file = std::filesystem::path(base_dir) / file;
  Result<std::string> text = ReadFileToString(file.string());
  if (!text.ok()) {
    reader.Report(at, text.status().message());
    return {};
  }
  Result<nlohmann::json> json = ParseJsonDocument(*text, file.string());
  if (!json.ok()) {
    reader.Report(at, json.status().message());
    return {};
  }
  return ParseJwks(*json, "", problems.ReaderFor(file.string()));
}

std::optional<Issuer> ParseIssuer(const nlohmann::json& value, const std::string& path, const std::string& base_dir,
                                  const JsonReader& reader, Problems& problems) {
  if (!reader.Object(value, path)) return std::nullopt;
  ObjectReader object(reader, value, path);
  object.RejectUnknownFields({"iss", "jwks", "jwks_file", "jku"}, /*comments_allowed=*/true);
  Issuer issuer;
  std::optional<std::string> iss = object.RequiredString("iss");
  if (iss && iss->empty()) reader.Report(object.PathOf("iss"), "an issuer may not be empty");
  if (std::optional<std::vector<std::string>> jku = object.OptionalStringArray("jku")) issuer.jku = *jku;
  const nlohmann::json* inline_jwks = object.Field("jwks");
  std::optional<std::string> jwks_file = object.OptionalString("jwks_file");
  if ((inline_jwks != nullptr) == object.Has("jwks_file")) {
    reader.Report(path, "give the issuer's public keys as either 'jwks' or 'jwks_file'");
    return std::nullopt;
  }
  if (inline_jwks) issuer.keys = ParseJwks(*inline_jwks, object.PathOf("jwks"), reader);
  if (jwks_file) issuer.keys = ReadJwksFile(*jwks_file, base_dir, object.PathOf("jwks_file"), reader, problems);
  if (!iss || iss->empty() || issuer.keys.empty()) return std::nullopt;
  issuer.iss = *iss;
  return issuer;
}

std::vector<Issuer> ParseIssuers(const ObjectReader& config, const std::string& base_dir, const JsonReader& reader,
                                 Problems& problems) {
  std::vector<Issuer> issuers;
  const nlohmann::json* list = config.Field("issuers");
  std::string path = config.PathOf("issuers");
  if (!list) reader.Report(config.path(), "missing required field 'issuers'");
  if (!list || !reader.Array(*list, path)) return issuers;
  if (list->empty()) reader.Report(path, "no issuer is trusted; list at least one");
  std::set<std::string> seen;
  for (size_t i = 0; i < list->size(); ++i) {
    std::optional<Issuer> issuer = ParseIssuer((*list)[i], JsonChild(path, i), base_dir, reader, problems);
    if (!issuer) continue;
    if (!seen.insert(issuer->iss).second)
      reader.Report(JsonChild(JsonChild(path, i), "iss"), "issuer '" + issuer->iss + "' is listed twice");
    issuers.push_back(std::move(*issuer));
  }
  return issuers;
}

// The service URL: http(s), no trailing slash (so that audience + "/cds-services/x" is the URL).
std::optional<std::string> ParseAudience(const ObjectReader& config, const JsonReader& reader) {
  std::optional<std::string> audience = config.RequiredString("audience");
  if (!audience) return std::nullopt;
  while (!audience->empty() && audience->back() == '/') audience->pop_back();
  if (audience->rfind("https://", 0) != 0 && audience->rfind("http://", 0) != 0) {
    reader.Report(config.PathOf("audience"), "expected the service's URL (https://host[:port][/path]), got '" +
                                                 *audience + "'");
    return std::nullopt;
  }
  return audience;
}

}  // namespace

const PublicKey* Issuer::FindKey(std::string_view kid) const {
  for (const PublicKey& key : keys)
    if (key.kid == kid) return &key;
  return nullptr;
}

const Issuer* AuthConfig::FindIssuer(std::string_view iss) const {
  for (const Issuer& issuer : issuers)
    if (issuer.iss == iss) return &issuer;
  return nullptr;
}

Result<AuthConfig> ParseAuthConfig(std::string_view text, const std::string& source, const std::string& base_dir) {
  Result<nlohmann::json> json = ParseJsonDocument(text, source);
  if (!json.ok()) return json.status();
  Problems problems;
  JsonReader reader = problems.ReaderFor(source);
  if (!reader.Object(*json, "")) return problems.ToStatus();
  ObjectReader config(reader, *json, "");
  config.RejectUnknownFields({"audience", "issuers", "leeway_seconds", "max_lifetime_seconds", "reject_replayed_jti"},
                             /*comments_allowed=*/true);
  AuthConfig result;
  if (std::optional<std::string> audience = ParseAudience(config, reader)) result.audience = *audience;
  if (const nlohmann::json* leeway = config.Field("leeway_seconds")) {
    std::optional<int> seconds = reader.IntegerInRange(*leeway, "/leeway_seconds", 0, kMaxLeewaySeconds, "leeway_seconds");
    if (seconds) result.leeway_seconds = *seconds;
  }
  if (const nlohmann::json* lifetime = config.Field("max_lifetime_seconds")) {
    std::optional<int> seconds =
        reader.IntegerInRange(*lifetime, "/max_lifetime_seconds", 1, kMaxLifetimeSeconds, "max_lifetime_seconds");
    if (seconds) result.max_lifetime_seconds = *seconds;
  }
  if (std::optional<bool> replays = config.OptionalBool("reject_replayed_jti")) result.reject_replayed_jti = *replays;
  result.issuers = ParseIssuers(config, base_dir, reader, problems);
  if (!problems.empty()) return problems.ToStatus();
  return result;
}

Result<AuthConfig> LoadAuthConfig(const std::string& path) {
  Result<std::string> text = ReadFileToString(path);
  if (!text.ok()) return text.status();
  return ParseAuthConfig(*text, path, std::filesystem::path(path).parent_path().string());
}

}  // namespace nflux::auth
