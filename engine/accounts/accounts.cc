#include "accounts/accounts.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <ctime>

#include "base/text.h"

namespace nflux::accounts {
namespace {

constexpr std::array<std::string_view, 4> kRoleNames = {"practitioner", "reviewer", "author", "admin"};

bool SodiumReady() {
  static const bool ready = sodium_init() >= 0;  // picks its implementations once; thread-safe after
  return ready;
}

std::string UtcTime(int64_t seconds) {
  auto time = static_cast<std::time_t>(seconds);
  std::tm utc{};
  gmtime_r(&time, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", &utc);
  return text;
}

Status WrongNameOrPassword() { return Status::Unauthenticated("wrong name or password"); }

}  // namespace

std::string_view Name(Role role) { return kRoleNames[static_cast<size_t>(role)]; }

std::optional<Role> ParseRole(std::string_view text) {
  for (size_t i = 0; i < kRoleNames.size(); ++i)
    if (kRoleNames[i] == text) return static_cast<Role>(i);
  return std::nullopt;
}

Status CheckAccountName(std::string_view name) {
  const bool ok = !name.empty() && name.size() <= 64 && name[0] >= 'a' && name[0] <= 'z' &&
                  std::all_of(name.begin(), name.end(), [](char c) {
                    return (c >= 'a' && c <= 'z') || IsAsciiDigit(c) || c == '.' || c == '_' || c == '-';
                  });
  if (ok) return Status::Ok();
  return Status::InvalidArgument("account name " + SingleQuoted(name.substr(0, 80)) +
                                 ": 1-64 characters of a-z, 0-9, '.', '_' and '-', starting with a letter");
}

Status CheckPassword(std::string_view password) {
  if (password.size() < kMinPasswordBytes)
    return Status::InvalidArgument("the password is too short: at least " + std::to_string(kMinPasswordBytes) +
                                   " characters");
  if (password.size() > kMaxPasswordBytes)
    return Status::InvalidArgument("the password is too long: at most " + std::to_string(kMaxPasswordBytes) +
                                   " bytes");
  return Status::Ok();
}

Result<std::string> HashPassword(std::string_view password) {
  if (Status status = CheckPassword(password); !status.ok()) return status;
  if (!SodiumReady()) return Status::Internal("libsodium could not be initialised");
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(hash, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
    return Status::Internal("hashing the password ran out of memory");
  return std::string(hash);
}

bool PasswordMatches(std::string_view password, const std::string& hash) {
  if (!SodiumReady() || password.size() > kMaxPasswordBytes) return false;
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

std::string NewToken() {
  SodiumReady();
  std::array<unsigned char, 32> bytes{};
  randombytes_buf(bytes.data(), bytes.size());
  char text[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  sodium_bin2base64(text, sizeof text, bytes.data(), bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  return text;
}

bool SameToken(std::string_view a, std::string_view b) {
  return a.size() == b.size() && !a.empty() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

namespace {

// HMAC-SHA-256 of `token` under `key`, as unpadded base64url.
std::string TokenSignature(std::string_view token, std::string_view key) {
  SodiumReady();
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()), key.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(token.data()), token.size());
  std::array<unsigned char, crypto_auth_hmacsha256_BYTES> mac{};
  crypto_auth_hmacsha256_final(&state, mac.data());
  char text[sodium_base64_ENCODED_LEN(crypto_auth_hmacsha256_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  sodium_bin2base64(text, sizeof text, mac.data(), mac.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  return text;
}

}  // namespace

int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string SignToken(std::string_view token, std::string_view key) {
  return std::string(token) + "." + TokenSignature(token, key);
}

std::optional<std::string> VerifySignedToken(std::string_view cookie, std::string_view key) {
  const size_t dot = cookie.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return std::nullopt;
  std::string_view token = cookie.substr(0, dot);
  if (!SameToken(cookie.substr(dot + 1), TokenSignature(token, key))) return std::nullopt;
  return std::string(token);
}

Result<store::Account> Accounts::Add(const std::string& name, Role role, std::string_view password,
                                     const std::string& actor) {
  if (Status status = CheckAccountName(name); !status.ok()) return status;
  auto hash = HashPassword(password);
  if (!hash.ok()) return hash.status();
  return store_.AddAccount(store::Account{name, std::string(Name(role)), *hash}, actor);
}

Result<Role> Accounts::CheckSignIn(const std::string& name, std::string_view password, int64_t now) {
  auto found = store_.FindAccount(name);
  if (!found.ok()) return found.status();
  if (!*found) {
    // Check against a real hash anyway, so that an unknown name takes as long as a wrong password.
    static const std::string decoy = [] {
      auto hash = HashPassword("not-a-password-of-anyone");
      return hash.ok() ? *hash : std::string();
    }();
    (void)PasswordMatches(password, decoy);
    if (Status status = store_.RecordAccountEvent({name, "sign_in_failed", "no such account", name}); !status.ok())
      return status;
    return WrongNameOrPassword();
  }
  const store::Account& account = **found;
  if (account.locked_until > now) {
    if (Status status = store_.RecordAccountEvent({name, "sign_in_refused", "locked until " + UtcTime(account.locked_until), name});
        !status.ok())
      return status;
    return Status::Unauthenticated("too many failed sign-ins: the account is locked until " +
                                   UtcTime(account.locked_until) + "; ask an administrator, or try again then");
  }
  if (!PasswordMatches(password, account.password_hash)) {
    const int failures = account.failed_sign_ins + 1;
    const bool lock = failures >= kMaxFailures;
    store::AccountEvent event{name, lock ? "locked" : "sign_in_failed",
                              std::to_string(failures) + (failures == 1 ? " failure" : " failures") + " in a row" +
                                  (lock ? ", locked until " + UtcTime(now + kLockSeconds) : ""),
                              name};
    if (Status status = store_.UpdateSignIns(name, lock ? 0 : failures, lock ? now + kLockSeconds : 0, event);
        !status.ok())
      return status;
    return WrongNameOrPassword();
  }
  const std::optional<Role> role = ParseRole(account.role);
  if (!role) return Status::Corruption("account " + name + " has the unknown role " + SingleQuoted(account.role));
  return *role;
}

Result<SignedIn> Accounts::SignIn(const std::string& name, std::string_view password, int64_t now) {
  auto role = CheckSignIn(name, password, now);
  if (!role.ok()) return role.status();
  std::string role_name(Name(*role));
  SignedIn signed_in{NewToken(), {}, *role};
  signed_in.session = store::Session{store::ContentHash(signed_in.token), name, NewToken(), now, now + kSessionSeconds};
  if (Status status = store_.SaveSession(signed_in.session); !status.ok()) return status;
  if (Status status = store_.UpdateSignIns(name, 0, 0, {name, "signed_in", "role " + role_name, name}); !status.ok())
    return status;
  return signed_in;
}

Result<Role> Accounts::Authenticate(const std::string& name, std::string_view password, int64_t now,
                                    const std::string& purpose) {
  auto role = CheckSignIn(name, password, now);
  if (!role.ok()) return role.status();
  if (Status status = store_.UpdateSignIns(name, 0, 0, {name, "authenticated", purpose, name}); !status.ok())
    return status;
  return role;
}

Result<std::optional<Visitor>> Accounts::SessionFor(std::string_view token, int64_t now) const {
  if (token.empty()) return std::optional<Visitor>();
  auto session = store_.FindSession(store::ContentHash(token), now);
  if (!session.ok()) return session.status();
  if (!*session) return std::optional<Visitor>();
  auto account = store_.FindAccount((*session)->account);
  if (!account.ok()) return account.status();
  if (!*account) return std::optional<Visitor>();
  const std::optional<Role> role = ParseRole((*account)->role);
  if (!role) return std::optional<Visitor>();
  return std::optional<Visitor>(Visitor{**session, *role});
}

Status Accounts::SignOut(std::string_view token, int64_t now) {
  auto session = store_.FindSession(store::ContentHash(token), now);
  if (!session.ok()) return session.status();
  if (!*session) return Status::Ok();
  if (Status status = store_.DeleteSession((*session)->token_hash); !status.ok()) return status;
  return store_.RecordAccountEvent({(*session)->account, "signed_out", "", (*session)->account});
}

Status Accounts::Unlock(const std::string& name, const std::string& actor) {
  auto account = store_.FindAccount(name);
  if (!account.ok()) return account.status();
  if (!*account) return Status::NotFound("no account named " + name);
  const std::string detail = "after " + std::to_string((*account)->failed_sign_ins) + " failed sign-ins" +
                             ((*account)->locked_until > 0 ? ", locked until " + UtcTime((*account)->locked_until) : "");
  return store_.UpdateSignIns(name, 0, 0, {name, "unlocked", detail, actor});
}

}  // namespace nflux::accounts
