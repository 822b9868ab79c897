// Local accounts of the web app (issue 15): who may sign in, with which role, and the sessions of
// signed-in browsers. Policy lives here; the store only keeps what it is given.
//
//   accounts::Accounts accounts(store);                                   // borrows the store
//   accounts.Add("dr_lee", accounts::Role::kPractitioner, password, "admin");
//   auto signed_in = accounts.SignIn("dr_lee", password, now);           // -> token (cookie) + session
//   auto who = accounts.SessionFor(cookie_token, now);                   // nullopt: sign in again
//
// Passwords: libsodium's crypto_pwhash_str (Argon2id with its "interactive" limits, a random salt,
// the parameters kept in the hash); 10 to 256 bytes; never stored or logged. Lock-out: after
// kMaxFailures wrong passwords in a row an account refuses every sign-in, even with the right
// password, for kLockSeconds; each attempt, failed or not, is an account event in the audit chain.
// A sign-in with an unknown name is answered exactly like a wrong password (no name probing).
// Sessions: a 256-bit random token for the cookie (only its SHA-256 is stored) and a separate
// 256-bit CSRF token for the forms, compared in constant time; a session ends after
// kSessionSeconds or at sign-out.
//
// Thread-safety: an Accounts uses its store from the calling thread; the caller serialises access
// to the store (a Store is one connection).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "store/store.h"

namespace nflux::accounts {

enum class Role { kPractitioner, kReviewer, kAuthor, kAdmin };
std::string_view Name(Role role);  // "practitioner" | "reviewer" | "author" | "admin"
std::optional<Role> ParseRole(std::string_view text);

inline constexpr int kMaxFailures = 5;
inline constexpr int64_t kLockSeconds = int64_t{15} * 60;
inline constexpr int64_t kSessionSeconds = int64_t{8} * 60 * 60;  // a working day
inline constexpr size_t kMinPasswordBytes = 10;
inline constexpr size_t kMaxPasswordBytes = 256;

// InvalidArgument with the rule broken: names are 1-64 characters of a-z, 0-9, '.', '_', '-',
// starting with a letter; passwords are kMinPasswordBytes-kMaxPasswordBytes bytes.
Status CheckAccountName(std::string_view name);
Status CheckPassword(std::string_view password);

// Argon2id hash of `password` (crypto_pwhash_str). Errors: InvalidArgument (CheckPassword),
// Internal when the machine cannot give the memory the hash needs.
Result<std::string> HashPassword(std::string_view password);
bool PasswordMatches(std::string_view password, const std::string& hash);

// 32 random bytes as unpadded base64url (43 characters).
std::string NewToken();
// Constant-time comparison of two tokens (a CSRF token from a form against the session's).
bool SameToken(std::string_view a, std::string_view b);

// The clock sessions and locks are measured on: Unix seconds, now.
int64_t UnixNow();

// A session cookie signed with a key every service replica shares: "TOKEN.HMAC" (HMAC-SHA-256,
// base64url). A replica checks the signature before it looks the session up, so a forged or
// foreign cookie costs no database read. VerifySignedToken: the token, or nullopt when the
// signature does not match `key` (compared in constant time).
std::string SignToken(std::string_view token, std::string_view key);
std::optional<std::string> VerifySignedToken(std::string_view cookie, std::string_view key);

struct SignedIn {
  std::string token;  // for the cookie; never stored
  store::Session session;
  Role role = Role::kPractitioner;
};

// A session that is still valid, with its account's role.
struct Visitor {
  store::Session session;
  Role role = Role::kPractitioner;
};

class Accounts {
 public:
  explicit Accounts(store::Store& store) : store_(store) {}

  // Adds an account (the event "added", by `actor`). Errors: InvalidArgument (name, password, an
  // existing name), IOError from the store.
  Result<store::Account> Add(const std::string& name, Role role, std::string_view password, const std::string& actor);

  // Unauthenticated "wrong name or password" for an unknown name, a wrong password, or a locked
  // account (the message then says until when); every attempt is recorded.
  Result<SignedIn> SignIn(const std::string& name, std::string_view password, int64_t now);

  // The same check without a session, for a command that acts as the account (`nflux release
  // publish --account NAME`): its role, and the event "authenticated" with `purpose` as detail.
  Result<Role> Authenticate(const std::string& name, std::string_view password, int64_t now,
                            const std::string& purpose);

  // The session a cookie's token names, when it is valid at `now` and its account still exists.
  Result<std::optional<Visitor>> SessionFor(std::string_view token, int64_t now) const;

  // Ends the session (the event "signed_out"); a token that names no session is not an error.
  Status SignOut(std::string_view token, int64_t now);

  // Clears an account's failed sign-ins and lock (the event "unlocked", by `actor`, an admin).
  // Errors: NotFound for no such account, IOError from the store.
  Status Unlock(const std::string& name, const std::string& actor);

 private:
  // Name, lock and password checked, every failure recorded; the account's role when it passes.
  Result<Role> CheckSignIn(const std::string& name, std::string_view password, int64_t now);

  store::Store& store_;
};

}  // namespace nflux::accounts
