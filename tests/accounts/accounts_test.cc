// Tests of engine/accounts on a real SQLite store: passwords, sign-in and lock-out, sessions, the
// account events in the audit chain, case owners, and the schema-4 tables under Verify().
#include "accounts/accounts.h"

#include <gtest/gtest.h>

#include "store/store_test_support.h"

namespace nflux::accounts {
namespace {

using store::testing::TempDatabase;

constexpr int64_t kNow = 1'800'000'000;  // 2027-01-15 08:00 UTC
constexpr const char* kPassword = "correct horse battery";

std::unique_ptr<store::Store> Open(const TempDatabase& temp) {
  auto opened = store::OpenStore(temp.path(), store::Mode::kReadWrite);
  EXPECT_TRUE(opened.ok()) << opened.status().message();
  return opened.ok() ? std::move(*opened) : nullptr;
}

std::vector<std::string> Events(store::Store& store, const std::string& name) {
  auto events = store.ListAccountEvents(name);
  EXPECT_TRUE(events.ok());
  std::vector<std::string> out;
  for (const auto& e : *events) out.push_back(e.event + (e.detail.empty() ? "" : " (" + e.detail + ")"));
  return out;
}

TEST(AccountRules, NamesRolesAndPasswords) {
  EXPECT_TRUE(CheckAccountName("dr_lee").ok());
  EXPECT_TRUE(CheckAccountName("a.b-c_9").ok());
  for (const char* bad : {"", "Dr_Lee", "9lee", "lee smith", "lee<script>", "lée"})
    EXPECT_EQ(Status::Code::kInvalidArgument, CheckAccountName(bad).code()) << bad;
  EXPECT_FALSE(CheckAccountName(std::string(65, 'a')).ok());
  EXPECT_EQ("the password is too short: at least 10 characters", CheckPassword("short").message());
  EXPECT_FALSE(CheckPassword(std::string(257, 'x')).ok());
  for (Role role : {Role::kPractitioner, Role::kReviewer, Role::kAuthor, Role::kAdmin})
    EXPECT_EQ(role, ParseRole(Name(role)));
  EXPECT_EQ(std::nullopt, ParseRole("root"));
}

TEST(AccountRules, HashesAreSaltedArgon2idAndVerify) {
  auto first = HashPassword(kPassword);
  auto second = HashPassword(kPassword);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_TRUE(first->starts_with("$argon2id$"));
  EXPECT_NE(*first, *second);  // a random salt each time
  EXPECT_EQ(std::string::npos, first->find(kPassword));
  EXPECT_TRUE(PasswordMatches(kPassword, *first));
  EXPECT_FALSE(PasswordMatches("correct horse battery ", *first));
  EXPECT_FALSE(PasswordMatches(kPassword, "not a hash"));
}

TEST(AccountRules, TokensAreRandomAndComparedExactly) {
  std::string a = NewToken(), b = NewToken();
  EXPECT_EQ(43u, a.size());
  EXPECT_NE(a, b);
  EXPECT_TRUE(SameToken(a, a));
  EXPECT_FALSE(SameToken(a, b));
  EXPECT_FALSE(SameToken(a, a.substr(1)));
  EXPECT_FALSE(SameToken("", ""));  // a missing token never matches
}

TEST(Accounts, AddSignInSessionSignOut) {
  TempDatabase temp;
  auto store = Open(temp);
  ASSERT_NE(nullptr, store);
  Accounts accounts(*store);
  auto added = accounts.Add("dr_lee", Role::kPractitioner, kPassword, "admin");
  ASSERT_TRUE(added.ok()) << added.status().message();
  EXPECT_EQ("account dr_lee exists (role practitioner)",
            accounts.Add("dr_lee", Role::kAdmin, kPassword, "admin").status().message());
  EXPECT_EQ(Status::Code::kInvalidArgument, accounts.Add("x y", Role::kAdmin, kPassword, "admin").status().code());

  auto signed_in = accounts.SignIn("dr_lee", kPassword, kNow);
  ASSERT_TRUE(signed_in.ok()) << signed_in.status().message();
  EXPECT_EQ(Role::kPractitioner, signed_in->role);
  EXPECT_NE(signed_in->token, signed_in->session.csrf_token);
  EXPECT_EQ(kNow + kSessionSeconds, signed_in->session.expires_at);

  auto visitor = accounts.SessionFor(signed_in->token, kNow + 60);
  ASSERT_TRUE(visitor.ok());
  ASSERT_TRUE(visitor->has_value());
  EXPECT_EQ("dr_lee", (*visitor)->session.account);
  EXPECT_EQ(signed_in->session.csrf_token, (*visitor)->session.csrf_token);
  // Only the token's hash is stored: the token itself, or a hash of it, does not open the session.
  EXPECT_FALSE(accounts.SessionFor(signed_in->session.token_hash, kNow)->has_value());
  EXPECT_FALSE(accounts.SessionFor("", kNow)->has_value());
  // Expired.
  EXPECT_FALSE(accounts.SessionFor(signed_in->token, kNow + kSessionSeconds)->has_value());

  ASSERT_TRUE(accounts.SignOut(signed_in->token, kNow + 120).ok());
  EXPECT_FALSE(accounts.SessionFor(signed_in->token, kNow + 180)->has_value());
  EXPECT_TRUE(accounts.SignOut(signed_in->token, kNow + 180).ok());  // twice: nothing to end
  EXPECT_EQ((std::vector<std::string>{"added (role practitioner)", "signed_in (role practitioner)", "signed_out"}),
            Events(*store, "dr_lee"));
}

TEST(Accounts, WrongPasswordsLockTheAccountAndEveryAttemptIsRecorded) {
  TempDatabase temp;
  auto store = Open(temp);
  ASSERT_NE(nullptr, store);
  Accounts accounts(*store);
  ASSERT_TRUE(accounts.Add("dr_lee", Role::kPractitioner, kPassword, "admin").ok());

  // An unknown name and a wrong password get the same answer.
  EXPECT_EQ("wrong name or password", accounts.SignIn("dr_nobody", kPassword, kNow).status().message());
  for (int i = 1; i < kMaxFailures; ++i)
    EXPECT_EQ("wrong name or password", accounts.SignIn("dr_lee", "wrong password", kNow + i).status().message());
  // One more failure locks it; then even the right password is refused until the lock ends.
  EXPECT_EQ(Status::Code::kUnauthenticated, accounts.SignIn("dr_lee", "wrong password", kNow + 10).status().code());
  auto refused = accounts.SignIn("dr_lee", kPassword, kNow + 20);
  EXPECT_EQ("too many failed sign-ins: the account is locked until 2027-01-15 08:15 UTC; ask an administrator, "
            "or try again then",
            refused.status().message());
  auto later = accounts.SignIn("dr_lee", kPassword, kNow + 10 + kLockSeconds);
  ASSERT_TRUE(later.ok()) << later.status().message();
  // A success resets the count: four failures again do not lock.
  for (int i = 1; i < kMaxFailures; ++i) (void)accounts.SignIn("dr_lee", "wrong password", kNow + kLockSeconds + 100 + i);
  EXPECT_TRUE(accounts.SignIn("dr_lee", kPassword, kNow + kLockSeconds + 200).ok());

  std::vector<std::string> events = Events(*store, "dr_lee");
  ASSERT_EQ(1u + 4 + 1 + 1 + 1 + 4 + 1, events.size());
  EXPECT_EQ("sign_in_failed (1 failure in a row)", events[1]);
  EXPECT_EQ("locked (5 failures in a row, locked until 2027-01-15 08:15 UTC)", events[5]);
  EXPECT_EQ("sign_in_refused (locked until 2027-01-15 08:15 UTC)", events[6]);
  EXPECT_EQ("signed_in (role practitioner)", events[7]);
  EXPECT_EQ((std::vector<std::string>{"sign_in_failed (no such account)"}), Events(*store, "dr_nobody"));

  // The events are in the audit chain, and Verify() checks them.
  auto report = store->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << ::testing::PrintToString(report->problems);
  EXPECT_EQ(static_cast<int64_t>(events.size()) + 1, report->account_events);
  EXPECT_EQ(report->account_events, report->entries);
}

TEST(Accounts, TamperingWithAnEventIsFound) {
  TempDatabase temp;
  {
    auto store = Open(temp);
    ASSERT_NE(nullptr, store);
    Accounts accounts(*store);
    ASSERT_TRUE(accounts.Add("dr_lee", Role::kReviewer, kPassword, "admin").ok());
  }
  store::testing::RawConnection(temp.path()).Exec("UPDATE account_events SET detail = 'role admin'");
  auto store = Open(temp);
  auto report = store->Verify();
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(1u, report->problems.size());
  EXPECT_NE(std::string::npos, report->problems[0].find("account dr_lee: added (event 1): content hash"))
      << report->problems[0];
}

TEST(Accounts, ACaseKeepsItsFirstOwner) {
  TempDatabase temp;
  auto store = Open(temp);
  ASSERT_NE(nullptr, store);
  EXPECT_EQ(std::nullopt, *store->CaseOwner("c-1"));
  ASSERT_TRUE(store->SetCaseOwner("c-1", "dr_lee").ok());
  ASSERT_TRUE(store->SetCaseOwner("c-1", "dr_lee").ok());
  EXPECT_EQ("case c-1 belongs to dr_lee", store->SetCaseOwner("c-1", "dr_kim").message());
  EXPECT_EQ(std::optional<std::string>("dr_lee"), *store->CaseOwner("c-1"));
}

}  // namespace
}  // namespace nflux::accounts
