// CDS Hooks in the store (schema 3): the cards a hook run answered, looking a run up by its
// hookInstance, and card feedback stored with its run and chained (kind "feedback").
#include "store/chain.h"
#include "store/sql_store.h"

namespace nflux::store {
namespace {

std::string FeedbackSubject(int64_t run_id, int64_t id) {
  return RunName(run_id) + " feedback " + std::to_string(id);
}

constexpr const char* kFeedbackColumns =
    "id, run_id, card, outcome, outcome_timestamp, detail, received_at, actor, content_hash";

Feedback ReadFeedback(const Statement& row) {
  return Feedback{row.Int(0), row.Int(1), row.Text(2), row.Text(3), row.Text(4),
                  row.Text(5), row.Text(6), row.Text(7), row.Text(8)};
}

}  // namespace

Status SqlStore::InsertHookCards(int64_t run_id, const std::vector<std::string>& cards) {
  for (const auto& card : cards) {
    auto insert = Sql("INSERT INTO hook_cards (uuid, run_id) VALUES (?, ?)");
    if (!insert.ok()) return insert.status();
    (*insert)->Bind(1, card).Bind(2, run_id);
    if ((*insert)->Step() != StepResult::kDone) return Error("storing card " + card + " of " + RunName(run_id));
  }
  return Status::Ok();
}

Result<std::optional<int64_t>> SqlStore::FindHookRun(const std::string& hook_instance) const {
  auto query = Sql("SELECT MAX(id) FROM runs WHERE hook_instance = ? AND hook_instance <> ''");
  if (!query.ok()) return query.status();
  (*query)->Bind(1, hook_instance);
  if ((*query)->Step() != StepResult::kRow) return Error("finding the run of hook instance " + hook_instance);
  if ((*query)->IsNull(0)) return std::optional<int64_t>();
  return std::optional<int64_t>((*query)->Int(0));
}

Result<Feedback> SqlStore::SaveFeedback(Feedback feedback) {
  std::string what = "storing feedback on card " + feedback.card;
  Transaction transaction(this);
  if (Status status = transaction.Begin(what); !status.ok()) return status;
  {
    auto run = Sql("SELECT run_id FROM hook_cards WHERE uuid = ?");
    if (!run.ok()) return run.status();
    (*run)->Bind(1, feedback.card);
    StepResult rc = (*run)->Step();
    if (rc == StepResult::kDone) return Status::NotFound("card " + feedback.card + ": no stored hook run answered it");
    if (rc != StepResult::kRow) return Error(what);
    feedback.run_id = (*run)->Int(0);
  }
  auto id = NextId("hook_feedback");
  if (!id.ok()) return id.status();
  feedback.id = *id;
  feedback.received_at = NowUtc();
  feedback.content_hash = FeedbackHash(feedback);
  auto entry = AppendAudit(feedback.actor, "feedback", FeedbackSubject(feedback.run_id, feedback.id),
                           feedback.content_hash);
  if (!entry.ok()) return entry.status();
  auto insert = Sql(std::string("INSERT INTO hook_feedback (") + kFeedbackColumns +
                    ", audit_sequence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!insert.ok()) return insert.status();
  const Feedback& f = feedback;
  (*insert)->Bind(1, f.id).Bind(2, f.run_id).Bind(3, f.card).Bind(4, f.outcome).Bind(5, f.outcome_timestamp);
  (*insert)->Bind(6, f.detail).Bind(7, f.received_at).Bind(8, f.actor).Bind(9, f.content_hash);
  (*insert)->Bind(10, entry->sequence);
  if ((*insert)->Step() != StepResult::kDone) return Error(what);
  if (Status status = transaction.Commit(what); !status.ok()) return status;
  return feedback;
}

Result<std::vector<Feedback>> SqlStore::ListFeedback(int64_t run_id) const {
  auto query = Sql(std::string("SELECT ") + kFeedbackColumns + " FROM hook_feedback WHERE run_id = ? ORDER BY id");
  if (!query.ok()) return query.status();
  (*query)->Bind(1, run_id);
  std::vector<Feedback> out;
  StepResult rc;
  while ((rc = (*query)->Step()) == StepResult::kRow) out.push_back(ReadFeedback(**query));
  if (rc != StepResult::kDone) return Error("reading the feedback of " + RunName(run_id));
  return out;
}

// Each feedback item's hash and its audit entry, as VerifyRuns does for runs.
Status SqlStore::VerifyFeedback(VerifyReport& report) const {
  auto query = Sql("SELECT f.id, f.run_id, f.card, f.outcome, f.outcome_timestamp, f.detail, f.received_at, f.actor, "
                   "f.content_hash, f.audit_sequence, a.subject, a.content_hash FROM hook_feedback f "
                   "LEFT JOIN audit_log a ON a.sequence = f.audit_sequence ORDER BY f.id");
  if (!query.ok()) return query.status();
  StepResult rc;
  while ((rc = (*query)->Step()) == StepResult::kRow) {
    const Statement& row = **query;
    ++report.feedback;
    Feedback f = ReadFeedback(row);
    std::string name = FeedbackSubject(f.run_id, f.id);
    if (FeedbackHash(f) != f.content_hash)
      report.problems.push_back(name + ": content hash " + f.content_hash.substr(0, 19) +
                                "... does not match the stored feedback (outcome, detail or metadata changed)");
    CheckAuditEntry(row, 9, 10, name, name, f.content_hash, "feedback", report);
  }
  if (rc != StepResult::kDone) return Error("reading hook feedback");
  return Status::Ok();
}

}  // namespace nflux::store
