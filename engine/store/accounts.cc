// The web app's accounts in the store (schema 4): accounts, their chained events (kind "account"),
// sessions and case owners. Policy (password hashing, lock-out, roles) lives in engine/accounts.
#include "store/chain.h"
#include "store/sql_store.h"

namespace nflux::store {
namespace {

std::string EventSubject(const AccountEvent& event) { return "account " + event.account + ": " + event.event; }

std::string AccountEventHash(const AccountEvent& e) {
  return ContentHash(Canonical({"account_event", e.account, e.event, e.detail, e.actor, e.at}));
}

constexpr const char* kAccountColumns = "name, role, password_hash, created_at, failed_sign_ins, locked_until";

Account ReadAccount(const Statement& row) {
  return Account{row.Text(0), row.Text(1), row.Text(2), row.Text(3), static_cast<int>(row.Int(4)), row.Int(5)};
}

constexpr const char* kEventColumns = "account, event, detail, actor, at, content_hash";

AccountEvent ReadEvent(const Statement& row, int first = 0) {
  return AccountEvent{row.Text(first), row.Text(first + 1), row.Text(first + 2),
                      row.Text(first + 3), row.Text(first + 4), row.Text(first + 5)};
}

}  // namespace

Status SqlStore::InsertAccountEvent(AccountEvent& event) {
  event.at = NowUtc();
  event.content_hash = AccountEventHash(event);
  auto entry = AppendAudit(event.actor, "account", EventSubject(event), event.content_hash);
  if (!entry.ok()) return entry.status();
  auto insert = Sql(std::string("INSERT INTO account_events (") + kEventColumns +
                    ", audit_sequence) VALUES (?, ?, ?, ?, ?, ?, ?)");
  if (!insert.ok()) return insert.status();
  (*insert)->Bind(1, event.account).Bind(2, event.event).Bind(3, event.detail).Bind(4, event.actor);
  (*insert)->Bind(5, event.at).Bind(6, event.content_hash).Bind(7, entry->sequence);
  if ((*insert)->Step() != StepResult::kDone) return Error("storing " + EventSubject(event));
  return Status::Ok();
}

Result<Account> SqlStore::AddAccount(Account account, const std::string& actor) {
  std::string what = "adding account " + account.name;
  Transaction transaction(this);
  if (Status status = transaction.Begin(what); !status.ok()) return status;
  auto existing = FindAccount(account.name);
  if (!existing.ok()) return existing.status();
  if (*existing) return Status::InvalidArgument("account " + account.name + " exists (role " + (*existing)->role + ")");
  account.created_at = NowUtc();
  account.failed_sign_ins = 0;
  account.locked_until = 0;
  auto insert = Sql(std::string("INSERT INTO accounts (") + kAccountColumns + ") VALUES (?, ?, ?, ?, ?, ?)");
  if (!insert.ok()) return insert.status();
  (*insert)->Bind(1, account.name).Bind(2, account.role).Bind(3, account.password_hash).Bind(4, account.created_at);
  (*insert)->Bind(5, 0).Bind(6, int64_t{0});
  if ((*insert)->Step() != StepResult::kDone) return Error(what);
  AccountEvent event{account.name, "added", "role " + account.role, actor};
  if (Status status = InsertAccountEvent(event); !status.ok()) return status;
  if (Status status = transaction.Commit(what); !status.ok()) return status;
  return account;
}

Result<std::optional<Account>> SqlStore::FindAccount(const std::string& name) const {
  auto query = Sql(std::string("SELECT ") + kAccountColumns + " FROM accounts WHERE name = ?");
  if (!query.ok()) return query.status();
  (*query)->Bind(1, name);
  StepResult rc = (*query)->Step();
  if (rc == StepResult::kDone) return std::optional<Account>();
  if (rc != StepResult::kRow) return Error("reading account " + name);
  return std::optional<Account>(ReadAccount(**query));
}

Result<std::vector<Account>> SqlStore::ListAccounts() const {
  auto query = Sql(std::string("SELECT ") + kAccountColumns + " FROM accounts ORDER BY name");
  if (!query.ok()) return query.status();
  std::vector<Account> accounts;
  StepResult rc;
  while ((rc = (*query)->Step()) == StepResult::kRow) accounts.push_back(ReadAccount(**query));
  if (rc != StepResult::kDone) return Error("listing accounts");
  return accounts;
}

Status SqlStore::UpdateSignIns(const std::string& name, int failed_sign_ins, int64_t locked_until,
                                  AccountEvent event) {
  std::string what = "recording a sign-in of account " + name;
  Transaction transaction(this);
  if (Status status = transaction.Begin(what); !status.ok()) return status;
  {
    auto update = Sql("UPDATE accounts SET failed_sign_ins = ?, locked_until = ? WHERE name = ? RETURNING name");
    if (!update.ok()) return update.status();
    (*update)->Bind(1, failed_sign_ins).Bind(2, locked_until).Bind(3, name);
    StepResult rc = (*update)->Step();
    if (rc == StepResult::kError) return Error(what);
    if (rc == StepResult::kDone) return Status::NotFound("account " + name + ": no such account");
  }
  if (Status status = InsertAccountEvent(event); !status.ok()) return status;
  return transaction.Commit(what);
}

Status SqlStore::RecordAccountEvent(AccountEvent event) {
  std::string what = "recording " + EventSubject(event);
  Transaction transaction(this);
  if (Status status = transaction.Begin(what); !status.ok()) return status;
  if (Status status = InsertAccountEvent(event); !status.ok()) return status;
  return transaction.Commit(what);
}

Result<std::vector<AccountEvent>> SqlStore::ListAccountEvents(const std::string& name) const {
  auto query = Sql(std::string("SELECT ") + kEventColumns + " FROM account_events WHERE account = ? ORDER BY id");
  if (!query.ok()) return query.status();
  (*query)->Bind(1, name);
  std::vector<AccountEvent> events;
  StepResult rc;
  while ((rc = (*query)->Step()) == StepResult::kRow) events.push_back(ReadEvent(**query));
  if (rc != StepResult::kDone) return Error("reading the events of account " + name);
  return events;
}

Status SqlStore::SaveSession(const Session& session) {
  std::string what = "storing a session of account " + session.account;
  Transaction transaction(this);
  if (Status status = transaction.Begin(what); !status.ok()) return status;
  // Expired sessions go as new ones come: the table stays the size of the signed-in browsers.
  auto purge = Sql("DELETE FROM sessions WHERE expires_at <= ?");
  if (!purge.ok()) return purge.status();
  (*purge)->Bind(1, session.created_at);
  if ((*purge)->Step() != StepResult::kDone) return Error(what);
  auto insert = Sql("INSERT INTO sessions (token_hash, account, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)");
  if (!insert.ok()) return insert.status();
  (*insert)->Bind(1, session.token_hash).Bind(2, session.account).Bind(3, session.csrf_token);
  (*insert)->Bind(4, session.created_at).Bind(5, session.expires_at);
  if ((*insert)->Step() != StepResult::kDone) return Error(what);
  return transaction.Commit(what);
}

Result<std::optional<Session>> SqlStore::FindSession(const std::string& token_hash, int64_t now) const {
  auto query = Sql("SELECT token_hash, account, csrf_token, created_at, expires_at FROM sessions "
                   "WHERE token_hash = ? AND expires_at > ?");
  if (!query.ok()) return query.status();
  (*query)->Bind(1, token_hash).Bind(2, now);
  StepResult rc = (*query)->Step();
  if (rc == StepResult::kDone) return std::optional<Session>();
  if (rc != StepResult::kRow) return Error("reading a session");
  const Statement& row = **query;
  return std::optional<Session>(Session{row.Text(0), row.Text(1), row.Text(2), row.Int(3), row.Int(4)});
}

Status SqlStore::DeleteSession(const std::string& token_hash) {
  std::string what = "ending a session";
  Transaction transaction(this);
  if (Status status = transaction.Begin(what); !status.ok()) return status;
  auto remove = Sql("DELETE FROM sessions WHERE token_hash = ?");
  if (!remove.ok()) return remove.status();
  (*remove)->Bind(1, token_hash);
  if ((*remove)->Step() != StepResult::kDone) return Error(what);
  return transaction.Commit(what);
}

Status SqlStore::SetCaseOwner(const std::string& case_id, const std::string& owner) {
  std::string what = "recording the owner of case " + case_id;
  Transaction transaction(this);
  if (Status status = transaction.Begin(what); !status.ok()) return status;
  auto current = CaseOwner(case_id);
  if (!current.ok()) return current.status();
  if (*current && **current != owner)
    return Status::InvalidArgument("case " + case_id + " belongs to " + **current);
  if (!*current) {
    auto insert = Sql("INSERT INTO case_owners (case_id, owner) VALUES (?, ?)");
    if (!insert.ok()) return insert.status();
    (*insert)->Bind(1, case_id).Bind(2, owner);
    if ((*insert)->Step() != StepResult::kDone) return Error(what);
  }
  return transaction.Commit(what);
}

Result<std::optional<std::string>> SqlStore::CaseOwner(const std::string& case_id) const {
  auto query = Sql("SELECT owner FROM case_owners WHERE case_id = ?");
  if (!query.ok()) return query.status();
  (*query)->Bind(1, case_id);
  StepResult rc = (*query)->Step();
  if (rc == StepResult::kDone) return std::optional<std::string>();
  if (rc != StepResult::kRow) return Error("reading the owner of case " + case_id);
  return std::optional<std::string>((*query)->Text(0));
}

Status SqlStore::VerifyAccountEvents(VerifyReport& report) const {
  auto query = Sql(std::string("SELECT e.id, e.") + "account, e.event, e.detail, e.actor, e.at, e.content_hash, "
                   "e.audit_sequence, a.subject, a.content_hash FROM account_events e "
                   "LEFT JOIN audit_log a ON a.sequence = e.audit_sequence ORDER BY e.id");
  if (!query.ok()) return query.status();
  StepResult rc;
  while ((rc = (*query)->Step()) == StepResult::kRow) {
    const Statement& row = **query;
    ++report.account_events;
    AccountEvent e = ReadEvent(row, 1);
    std::string name = EventSubject(e) + " (event " + std::to_string(row.Int(0)) + ")";
    if (AccountEventHash(e) != e.content_hash)
      report.problems.push_back(name + ": content hash " + e.content_hash.substr(0, 19) +
                                "... does not match the stored event (account, event, detail or time changed)");
    CheckAuditEntry(row, 7, 8, name, EventSubject(e), e.content_hash, "event", report);
  }
  if (rc != StepResult::kDone) return Error("reading account events");
  return Status::Ok();
}

}  // namespace nflux::store
