// The reviewers', authors' and admins' pages: a run with its trace, replay, the diff of two runs,
// the audit chain's status, the rule-impact upload and the accounts.
#include "base/text.h"
#include "report/view.h"
#include "webapp/pages.h"

namespace nflux::webapp {
namespace {

using report::view::HtmlEscape;

std::string Hidden(const accounts::Visitor& visitor) {
  return "<input type='hidden' name='csrf' value='" + HtmlEscape(visitor.session.csrf_token) + "'>";
}

std::string RunLink(int64_t run_id) {
  return "<a href='/app/runs/" + std::to_string(run_id) + "'>" + HtmlEscape(store::RunName(run_id)) + "</a>";
}

std::string JsonCell(const nlohmann::json& value) {
  return value.is_null() ? "<span class='hint'>absent</span>" : "<code>" + HtmlEscape(value.dump()) + "</code>";
}

// One section of a diff: what only B has, what only A has, and what changed, as a table.
std::string SectionHtml(const std::string& title, const audit::Section& section, const audit::EvaluationDiff& diff) {
  if (section.empty()) return "";
  std::string out = "<h3>" + HtmlEscape(title) + "</h3><table><thead><tr><th scope='col'>Item</th><th scope='col'>What</th>"
                    "<th scope='col'>" + HtmlEscape(diff.a) + "</th><th scope='col'>" + HtmlEscape(diff.b) +
                    "</th></tr></thead><tbody>";
  for (const auto& id : section.added)
    out += "<tr class='added'><td>" + HtmlEscape(id) + "</td><td>only in " + HtmlEscape(diff.b) + "</td><td></td><td>present</td></tr>";
  for (const auto& id : section.removed)
    out += "<tr class='removed'><td>" + HtmlEscape(id) + "</td><td>only in " + HtmlEscape(diff.a) + "</td><td>present</td><td></td></tr>";
  for (const auto& change : section.changed)
    out += "<tr><td>" + HtmlEscape(change.id) + "</td><td>" + HtmlEscape(change.field) + "</td><td>" + JsonCell(change.before) +
           "</td><td>" + JsonCell(change.after) + "</td></tr>";
  return out + "</tbody></table>";
}

std::string DiffHtml(const audit::EvaluationDiff& diff) {
  if (diff.identical())
    return "<p class='ok' role='status'>" + HtmlEscape(diff.a) + " and " + HtmlEscape(diff.b) + " are identical.</p>";
  std::string out = "<p role='status'>" + HtmlEscape(diff.a) + " and " + HtmlEscape(diff.b) + " differ" +
                    (diff.ConclusionsDiffer() ? " in their conclusions" : " (not in their conclusions)") + ".</p>";
  out += SectionHtml("Versions", diff.versions, diff) + SectionHtml("Alerts", diff.alerts, diff) +
         SectionHtml("Deficits", diff.deficits, diff) + SectionHtml("Drivers", diff.drivers, diff) +
         SectionHtml("Strategies", diff.strategies, diff) + SectionHtml("Blocked strategies", diff.blocked_strategies, diff) +
         SectionHtml("Data quality", diff.data_quality, diff) + SectionHtml("Rules fired", diff.trace, diff);
  if (!diff.other.empty()) {
    out += "<h3>Other differences</h3><table><thead><tr><th scope='col'>Path</th><th scope='col'>" + HtmlEscape(diff.a) +
           "</th><th scope='col'>" + HtmlEscape(diff.b) + "</th></tr></thead><tbody>";
    for (const auto& change : diff.other)
      out += "<tr><td><code>" + HtmlEscape(change.id) + "</code></td><td>" + JsonCell(change.before) + "</td><td>" +
             JsonCell(change.after) + "</td></tr>";
    out += "</tbody></table>";
  }
  return out;
}

}  // namespace

std::string RunPage(const accounts::Visitor& visitor, const store::RunRecord& run,
                    const std::vector<store::RunSummary>& case_runs, bool may_replay) {
  const store::RunSummary& r = run.summary;
  const std::string name = store::RunName(r.id);
  std::string body = "<h1>" + HtmlEscape(name) + "</h1><dl class='facts'>"
                     "<dt>Patient</dt><dd><a href='/app/cases/" + HtmlEscape(UrlEncode(r.case_id)) + "'>" + HtmlEscape(r.case_id) +
                     "</a>, visit " + std::to_string(r.case_version) + "</dd><dt>When</dt><dd>" + HtmlEscape(r.created_at) +
                     "</dd><dt>By</dt><dd>" + HtmlEscape(r.actor) + " (" + HtmlEscape(r.origin) + ")</dd>"
                     "<dt>Engine</dt><dd><code>" + HtmlEscape(r.engine_version) + "</code></dd><dt>Knowledge</dt><dd><code>" +
                     HtmlEscape(r.knowledge_version) + "</code></dd><dt>Rules</dt><dd><code>" + HtmlEscape(r.rules_version) +
                     "</code></dd><dt>Content hash</dt><dd><code>" + HtmlEscape(run.content_hash) + "</code></dd></dl>"
                     "<p><a href='/app/runs/" + std::to_string(r.id) + "/report'>The report</a></p>";
  if (may_replay)
    body += "<form method='post' action='/app/runs/" + std::to_string(r.id) + "/replay'>" + Hidden(visitor) +
            "<button type='submit'>Replay this run</button> <span class='hint'>Evaluates the stored visit again under the "
            "stored knowledge and rules and compares the result with what was stored.</span></form>";
  std::string others;
  for (const auto& other : case_runs)
    if (other.id != r.id)
      others += "<option value='" + std::to_string(other.id) + "'>" + HtmlEscape(store::RunName(other.id)) + " (visit " +
                std::to_string(other.case_version) + ", " + HtmlEscape(other.created_at) + ")</option>";
  if (!others.empty())
    body += "<form method='get' action='/app/runs/diff' class='row'><input type='hidden' name='a' value='" +
            std::to_string(r.id) + "'><div class='field'><label for='diff-b'>Compare with</label><select id='diff-b' "
            "name='b'>" + others + "</select></div><button type='submit'>Show the differences</button></form>";
  body += "<h2>Trace</h2><p class='hint'>Every rule considered, its tests with what the case showed, and what it "
          "concluded.</p><pre class='trace'>" + HtmlEscape(run.trace.is_null() ? std::string("No trace was kept for this run.")
                                                                                 : audit::TraceToText(run.trace)) + "</pre>";
  return Layout(name, &visitor, body);
}

std::string ReplayPage(const accounts::Visitor& visitor, const audit::ReplayResult& replay) {
  const std::string name = store::RunName(replay.run.id);
  std::string body = "<h1>Replay of " + HtmlEscape(name) + "</h1><p>The stored visit evaluated again under the stored "
                     "knowledge (<code>" + HtmlEscape(replay.run.knowledge_version) + "</code>) and rules (<code>" +
                     HtmlEscape(replay.run.rules_version) + "</code>), compared with the stored evaluation and trace.</p>";
  body += replay.identical() ? "<p class='ok' role='status'><strong>Identical</strong>: the run reproduces exactly.</p>"
                             : "<p class='error' role='alert'><strong>Different</strong>: the run does not reproduce.</p>" +
                                   DiffHtml(replay.diff);
  body += "<p>" + RunLink(replay.run.id) + "</p>";
  return Layout("Replay of " + name, &visitor, body);
}

std::string DiffPage(const accounts::Visitor& visitor, const audit::EvaluationDiff& diff) {
  return Layout(diff.a + " and " + diff.b, &visitor,
                "<h1>" + HtmlEscape(diff.a) + " and " + HtmlEscape(diff.b) + "</h1>" + DiffHtml(diff));
}

std::string AuditPage(const accounts::Visitor& visitor, const store::VerifyReport& report,
                      const std::vector<store::RunSummary>& latest_runs) {
  std::string body = "<h1>Audit trail</h1>";
  body += report.ok() ? "<p class='ok' role='status'><strong>Verified</strong>: every entry of the chain matches what it "
                        "records.</p>"
                      : "<p class='error' role='alert'><strong>Not verified</strong>: " + std::to_string(report.problems.size()) +
                            " problem(s).</p><ul class='error'>";
  if (!report.ok()) {
    for (const auto& problem : report.problems) body += "<li>" + HtmlEscape(problem) + "</li>";
    body += "</ul>";
  }
  body += "<dl class='facts'><dt>Entries</dt><dd>" + std::to_string(report.entries) + "</dd><dt>Runs</dt><dd>" +
          std::to_string(report.runs) + "</dd><dt>Case versions</dt><dd>" + std::to_string(report.case_versions) +
          "</dd><dt>Knowledge and rule versions</dt><dd>" + std::to_string(report.bundles) + "</dd><dt>Files</dt><dd>" +
          std::to_string(report.blobs) + "</dd><dt>Card feedback</dt><dd>" + std::to_string(report.feedback) +
          "</dd><dt>Account events</dt><dd>" + std::to_string(report.account_events) +
          "</dd><dt>Releases and activations</dt><dd>" + std::to_string(report.releases) +
          "</dd><dt>Compression dictionaries</dt><dd>" + std::to_string(report.dictionaries) + "</dd><dt>Head</dt><dd><code>" +
          HtmlEscape(report.head_hash) + "</code> <span class='hint'>(keep it elsewhere to anchor the chain)</span></dd></dl>";
  body += "<h2>Latest runs</h2>";
  if (latest_runs.empty()) {
    body += "<p>No runs stored.</p>";
  } else {
    body += "<table><thead><tr><th scope='col'>Run</th><th scope='col'>Patient</th><th scope='col'>Visit</th>"
            "<th scope='col'>When</th><th scope='col'>By</th><th scope='col'>From</th></tr></thead><tbody>";
    for (const auto& r : latest_runs)
      body += "<tr><td>" + RunLink(r.id) + "</td><td><a href='/app/cases/" + HtmlEscape(UrlEncode(r.case_id)) + "'>" +
              HtmlEscape(r.case_id) + "</a></td><td>" + std::to_string(r.case_version) + "</td><td>" + HtmlEscape(r.created_at) +
              "</td><td>" + HtmlEscape(r.actor) + "</td><td>" + HtmlEscape(r.origin) + "</td></tr>";
    body += "</tbody></table>";
  }
  return Layout("Audit trail", &visitor, body);
}

std::string ImpactPage(const accounts::Visitor& visitor) {
  return Layout("Rule impact", &visitor,
                "<h1>Rule impact</h1><p>Upload a changed rule folder (its <code>.rules</code> files; golden cases under "
                "<code>tests/</code> are left out) to see which stored cases would conclude otherwise than under the "
                "current rules: alerts, deficits, drivers and strategies, as <code>nflux audit impact</code> lists them. "
                "Nothing is stored or activated.</p><form id='impact' class='row'><div class='field'><label for='impact-files'>"
                "Rule folder</label><input id='impact-files' type='file' webkitdirectory multiple accept='.rules'></div>"
                "<button type='submit'>Show the impact</button></form><div id='impact-result' aria-live='polite'></div>");
}

std::string AccountsPage(const accounts::Visitor& visitor, const std::vector<store::Account>& accounts, int64_t now,
                         const std::string& message) {
  std::string body = "<h1>Accounts</h1>";
  if (!message.empty()) body += "<p role='status'>" + HtmlEscape(message) + "</p>";
  body += "<table><thead><tr><th scope='col'>Name</th><th scope='col'>Role</th><th scope='col'>Since</th>"
          "<th scope='col'>Failed sign-ins</th><th scope='col'>State</th><th scope='col'></th></tr></thead><tbody>";
  for (const auto& account : accounts) {
    const bool locked = account.locked_until > now;
    body += "<tr><td>" + HtmlEscape(account.name) + "</td><td>" + HtmlEscape(account.role) + "</td><td>" +
            HtmlEscape(account.created_at) + "</td><td>" + std::to_string(account.failed_sign_ins) + "</td><td>" +
            (locked ? "<strong class='error'>locked</strong>" : std::string("active")) + "</td><td>";
    if (locked || account.failed_sign_ins > 0)
      body += "<form method='post' action='/app/admin/accounts/" + HtmlEscape(UrlEncode(account.name)) + "/unlock'>" +
              Hidden(visitor) + "<button type='submit'>Unlock " + HtmlEscape(account.name) + "</button></form>";
    body += "</td></tr>";
  }
  body += "</tbody></table><h2>Add an account</h2><form method='post' action='/app/admin/accounts' class='row'>" +
          Hidden(visitor) +
          "<div class='field'><label for='new-name'>Name</label><input id='new-name' name='name' required "
          "autocomplete='off'></div><div class='field'><label for='new-role'>Role</label><select id='new-role' name='role'>"
          "<option>practitioner</option><option>reviewer</option><option>author</option><option>admin</option></select></div>"
          "<div class='field'><label for='new-password'>Password (10 to 256 bytes)</label><input id='new-password' "
          "name='password' type='password' required autocomplete='new-password'></div>"
          "<button type='submit'>Add</button></form>"
          "<h2>Give a case to a practitioner</h2><p class='hint'>A case stored from the command line has no owner in the "
          "web app; giving it one lets that practitioner see it. An owner, once set, stays.</p>"
          "<form method='post' action='/app/admin/owners' class='row'>" + Hidden(visitor) +
          "<div class='field'><label for='owner-case'>Case id</label><input id='owner-case' name='case_id' required></div>"
          "<div class='field'><label for='owner-name'>Practitioner</label><input id='owner-name' name='owner' required></div>"
          "<button type='submit'>Give</button></form>";
  return Layout("Accounts", &visitor, body);
}

}  // namespace nflux::webapp
