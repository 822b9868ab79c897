// Internal to webapp: the HTML of its pages (every value escaped) and its two assets.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "accounts/accounts.h"
#include "audit/audit.h"
#include "cds/cds.h"
#include "knowledge/knowledge.h"
#include "store/store.h"

namespace nflux::webapp {

// A text/html answer.
cds::HttpResponse Html(int status, const std::string& page);

// Percent-encoding of a path segment or query value (a case id in a link).
std::string UrlEncode(const std::string& text);

// A whole page: the header (with the visitor's menu and sign-out form when signed in), `body`
// (HTML made by the caller, values escaped), the footer.
std::string Layout(const std::string& title, const accounts::Visitor* visitor, const std::string& body);

// `csrf`: the sign-in form's double-submit token; `message`: why the last attempt failed, or "".
std::string LoginPage(const std::string& csrf, const std::string& message);
std::string MessagePage(const accounts::Visitor& visitor, const std::string& title, const std::string& text);
std::string MessagePage(const std::string& title, const std::string& text);  // to no one signed in

// A case of the list with the alerts of its latest run.
struct CaseRow {
  store::CaseSummary summary;
  std::vector<std::string> alerts;  // ids, as the latest run raised them
};
// `query`: the case-id search; `alert`: the alert filter ("" for all); `alert_ids`: every alert id the
// visitor's cases raised, for the filter's choices.
std::string CaseListPage(const accounts::Visitor& visitor, const std::vector<CaseRow>& cases, const std::string& query,
                         const std::string& alert, const std::vector<std::string>& alert_ids);
// The case form: the knowledge base's symptoms, questionnaires, labs with their units,
// medications, conditions, strategies, lifestyle factors and stressors, for app.js to build from;
// with `from`, a new visit of that case, the form filled from it (its submitted case JSON, or the
// parsed case when it came as FHIR).
std::string CaseFormPage(const accounts::Visitor& visitor, const knowledge::KnowledgeBase& kb,
                         const store::CaseVersion* from = nullptr);

// A patient: visits, runs (with the diff form), trends over the visits (`course`; or why they could
// not be drawn in `course_error`), the what-if panel and the latest report.
struct PatientView {
  std::string case_id;
  std::vector<store::CaseVersion> versions;
  std::vector<store::RunSummary> runs;
  std::optional<audit::CaseCourse> course;
  std::string course_error;
};
std::string PatientPage(const accounts::Visitor& visitor, const PatientView& patient, const knowledge::KnowledgeBase& kb);

// The trend charts of a course (one SVG per measure; labs, questionnaires, deficits, and the flux
// indices that move or stand away from the reference), or a note when there is one visit.
std::string TrendCharts(const audit::CaseCourse& course);

// Audit pages (reviewers; practitioners for their own patients' runs).
// A run: what it was evaluated from, its trace (audit::TraceToText), the replay button (reviewers),
// and the diff form against the case's other runs.
std::string RunPage(const accounts::Visitor& visitor, const store::RunRecord& run,
                    const std::vector<store::RunSummary>& case_runs, bool may_replay);
std::string ReplayPage(const accounts::Visitor& visitor, const audit::ReplayResult& replay);
std::string DiffPage(const accounts::Visitor& visitor, const audit::EvaluationDiff& diff);
// `audit verify` and the latest runs.
std::string AuditPage(const accounts::Visitor& visitor, const store::VerifyReport& report,
                      const std::vector<store::RunSummary>& latest_runs);
// Authors: upload a changed rule folder, see the impact list (app.js posts to /app/api/impact).
std::string ImpactPage(const accounts::Visitor& visitor);
// Admins: the accounts, with unlock and add; `message` says what the last action did ("" none).
std::string AccountsPage(const accounts::Visitor& visitor, const std::vector<store::Account>& accounts, int64_t now,
                         const std::string& message);

const std::string& AppCss();
const std::string& AppJs();

}  // namespace nflux::webapp
