#include "webapp/pages.h"

#include "base/text.h"
#include "report/view.h"
#include "webapp/assets.h"

namespace nflux::webapp {
namespace {

using json = nlohmann::ordered_json;
using report::view::HtmlEscape;

// JSON placed in a <script type="application/json">: "<" escaped so that no text can close the tag.
std::string ScriptJson(const json& value) {
  std::string text = value.dump();
  std::string out;
  out.reserve(text.size());
  for (char c : text) out += c == '<' ? std::string("\\u003c") : std::string(1, c);
  return out;
}

// The labs with their LOINC and accepted units, and the strategies with their kind: the case form's
// and the what-if panel's choices.
json LabsJson(const knowledge::KnowledgeBase& kb) {
  json out = json::array();
  for (const std::string& id : kb.IdsOfKind(knowledge::NodeKind::kLab)) {
    const knowledge::Node* node = kb.Find(id);
    if (node->lab)
      out.push_back({{"id", id}, {"label", node->label}, {"loinc", node->lab->loinc}, {"units", node->lab->units}});
  }
  return out;
}

json StrategiesJson(const knowledge::KnowledgeBase& kb) {
  json out = json::array();
  for (const std::string& id : kb.IdsOfKind(knowledge::NodeKind::kStrategy)) {
    const knowledge::Node* node = kb.Find(id);
    if (node->strategy)
      out.push_back({{"id", id}, {"label", node->label}, {"kind", std::string(Name(node->strategy->kind))}});
  }
  return out;
}

json FormKnowledge(const knowledge::KnowledgeBase& kb) {
  using knowledge::NodeKind;
  json out = {{"symptoms", json::array()},   {"questionnaires", json::array()}, {"labs", json::array()},
              {"medications", json::array()}, {"conditions", json::array()},    {"strategies", json::array()},
              {"lifestyle", json::array()},   {"stressors", json::array()}};
  for (const std::string& id : kb.IdsOfKind(NodeKind::kSymptom))
    out["symptoms"].push_back({{"id", id}, {"label", kb.Find(id)->label}});
  for (const std::string& id : kb.IdsOfKind(NodeKind::kQuestionnaire)) {
    const knowledge::Node* node = kb.Find(id);
    if (!node->questionnaire) continue;
    const knowledge::Questionnaire& q = *node->questionnaire;
    json bands = json::array();
    for (const auto& band : q.bands) bands.push_back({{"min", band.min}, {"max", band.max}, {"label", band.label}});
    out["questionnaires"].push_back({{"id", id}, {"label", node->label}, {"items", q.items}, {"item_min", q.item_min},
                                     {"item_max", q.item_max}, {"reverse_items", q.reverse_items},
                                     {"safety_item", q.safety_item ? json(*q.safety_item) : json()},
                                     {"result_only", q.result_only}, {"bands", bands}});
  }
  out["labs"] = LabsJson(kb);
  for (const std::string& id : kb.IdsOfKind(NodeKind::kMedication)) {
    const knowledge::Node* node = kb.Find(id);
    out["medications"].push_back({{"id", id}, {"label", node->label},
                                  {"atc", node->medication ? node->medication->atc : std::string()}});
  }
  for (const std::string& id : kb.IdsOfKind(NodeKind::kCondition)) {
    const knowledge::Node* node = kb.Find(id);
    if (!node->condition) continue;
    if (node->condition->case_stressor) out["stressors"].push_back({{"id", id}, {"label", node->label}});
    if (node->condition->icd10 == "none") continue;  // an age group: it applies by age, not entered
    out["conditions"].push_back({{"id", id}, {"label", node->label}, {"icd10", node->condition->icd10}});
  }
  for (const std::string& id : kb.IdsOfKind(NodeKind::kStressor))
    out["stressors"].push_back({{"id", id}, {"label", kb.Find(id)->label}});
  out["strategies"] = StrategiesJson(kb);
  for (const std::string& id : kb.IdsOfKind(NodeKind::kLifestyleFactor)) {
    const knowledge::Node* node = kb.Find(id);
    if (!node->lifestyle) continue;
    const knowledge::LifestyleFactor& f = *node->lifestyle;
    out["lifestyle"].push_back({{"id", id}, {"label", node->label}, {"type", std::string(Name(f.value_type))},
                                {"min", f.min ? json(*f.min) : json()}, {"max", f.max ? json(*f.max) : json()},
                                {"values", f.values}, {"unit", f.unit}});
  }
  return out;
}

}  // namespace

std::string Layout(const std::string& title, const accounts::Visitor* visitor, const std::string& body) {
  std::string page =
      "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
      "<meta name='viewport' content='width=device-width, initial-scale=1'>"
      "<title>" + HtmlEscape(title) + " - NeuroFlux</title>"
      "<link rel='stylesheet' href='/app/assets/app.css'><script src='/app/assets/app.js' defer></script>"
      "</head><body><header><a class='brand' href='/app/'>NeuroFlux</a>";
  if (visitor) {
    const std::string& csrf = visitor->session.csrf_token;
    using accounts::Role;
    const Role role = visitor->role;
    page += "<nav aria-label='main'>";
    if (role == Role::kPractitioner || role == Role::kReviewer) page += "<a href='/app/'>Patients</a>";
    if (role == Role::kPractitioner) page += "<a href='/app/cases/new'>New case</a>";
    if (role == Role::kReviewer || role == Role::kAdmin) page += "<a href='/app/audit'>Audit</a>";
    if (role == Role::kAuthor) page += "<a href='/app/impact'>Rule impact</a>";
    if (role == Role::kAdmin) page += "<a href='/app/admin/accounts'>Accounts</a>";
    page += "</nav><form class='signout' method='post' action='/app/logout'>"
            "<input type='hidden' name='csrf' value='" + HtmlEscape(csrf) + "'>"
            "<span>" + HtmlEscape(visitor->session.account) + " (" + std::string(accounts::Name(visitor->role)) +
            ")</span> <button type='submit'>Sign out</button></form>";
  }
  page += "</header><main id='main'>" + body +
          "</main><footer>Decision support for a qualified practitioner; not a diagnosis.</footer>";
  if (visitor)
    page += "<meta name='csrf-token' content='" + HtmlEscape(visitor->session.csrf_token) + "'>";
  return page + "</body></html>\n";
}

cds::HttpResponse Html(int status, const std::string& page) {
  return cds::HttpResponse{status, {{"Content-Type", "text/html; charset=utf-8"}}, page};
}

std::string UrlEncode(const std::string& text) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (IsAsciiLetter(static_cast<char>(c)) || IsAsciiDigit(static_cast<char>(c)) || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string LoginPage(const std::string& csrf, const std::string& message) {
  std::string body = "<h1>Sign in</h1>";
  if (!message.empty()) body += "<p class='error' role='alert'>" + HtmlEscape(message) + "</p>";
  body += "<form method='post' action='/app/login' class='login'>"
          "<input type='hidden' name='csrf' value='" + HtmlEscape(csrf) + "'>"
          "<label for='name'>Account</label><input id='name' name='name' autocomplete='username' required>"
          "<label for='password'>Password</label>"
          "<input id='password' name='password' type='password' autocomplete='current-password' required>"
          "<button type='submit'>Sign in</button></form>";
  return Layout("Sign in", nullptr, body);
}

std::string MessagePage(const accounts::Visitor& visitor, const std::string& title, const std::string& text) {
  return Layout(title, &visitor, "<h1>" + HtmlEscape(title) + "</h1><p>" + HtmlEscape(text) + "</p>");
}

std::string MessagePage(const std::string& title, const std::string& text) {
  return Layout(title, nullptr, "<h1>" + HtmlEscape(title) + "</h1><p>" + HtmlEscape(text) + "</p>");
}

std::string CaseListPage(const accounts::Visitor& visitor, const std::vector<CaseRow>& cases, const std::string& query,
                         const std::string& alert, const std::vector<std::string>& alert_ids) {
  std::string body = "<h1>Patients</h1><form method='get' action='/app/' role='search' class='row'>"
                     "<div class='field'><label for='q'>Search by case id</label><input id='q' name='q' value='" +
                     HtmlEscape(query) + "'></div><div class='field'><label for='alert'>With alert</label>"
                     "<select id='alert' name='alert'><option value=''>any or none</option>";
  for (const std::string& id : alert_ids)
    body += "<option value='" + HtmlEscape(id) + "'" + (id == alert ? " selected" : "") + ">" + HtmlEscape(id) + "</option>";
  body += "</select></div><button type='submit'>Search</button></form>";
  if (cases.empty()) {
    body += "<p>No cases" + std::string(query.empty() && alert.empty() ? "" : " match") + ".</p>";
  } else {
    body += "<table><thead><tr><th scope='col'>Case</th><th scope='col'>Visits</th><th scope='col'>Runs</th>"
            "<th scope='col'>Alerts of the latest run</th><th scope='col'>Last stored</th></tr></thead><tbody>";
    for (const auto& row : cases) {
      const store::CaseSummary& c = row.summary;
      std::string alerts;
      for (const std::string& id : row.alerts) alerts += (alerts.empty() ? "" : ", ") + HtmlEscape(id);
      body += "<tr><td><a href='/app/cases/" + HtmlEscape(UrlEncode(c.case_id)) + "'>" + HtmlEscape(c.case_id) +
              "</a></td><td>" + std::to_string(c.versions) + "</td><td>" + std::to_string(c.runs) + "</td><td>" +
              (alerts.empty() ? std::string("none") : alerts) + "</td><td>" + HtmlEscape(c.updated_at) + "</td></tr>";
    }
    body += "</tbody></table>";
  }
  return Layout("Patients", &visitor, body);
}

std::string CaseFormPage(const accounts::Visitor& visitor, const knowledge::KnowledgeBase& kb,
                         const store::CaseVersion* from) {
  std::string prefill;
  if (from) {
    json submitted = json::parse(from->submitted, nullptr, /*allow_exceptions=*/false);
    const bool case_json = submitted.is_object() && !submitted.contains("resourceType");
    json visit = case_json ? submitted : json::parse(from->normalised, nullptr, false);
    if (visit.is_object()) visit["case_id"] = from->case_id;
    prefill = "<script type='application/json' id='prefill'>" + ScriptJson(visit) + "</script>";
  }
  const std::string title = from ? "New visit of " + from->case_id : std::string("New case");
  std::string body =
      "<h1>" + HtmlEscape(title) + "</h1>" +
      (from ? "<p class='hint'>Filled from visit " + std::to_string(from->version) + "; change what changed.</p>" : "") +
      "<p class='hint'>Fill in what you know: a field left empty is <em>not known</em>. Messages appear as you "
      "type; the case is checked again when you evaluate.</p>"
      "<div id='crisis' class='crisis' role='alert' hidden></div>"
      "<form id='case-form' novalidate></form>"
      "<section aria-labelledby='import-title'><h2 id='import-title'>Import</h2>"
      "<label for='import-file'>A case file (JSON) or a FHIR R4 bundle</label> "
      "<input id='import-file' type='file' accept='.json,application/json,application/fhir+json'></section>"
      "<section aria-live='polite'><h2>Check</h2><ul id='messages' class='messages'></ul></section>"
      "<p><button id='evaluate' type='button'>Evaluate and store</button> "
      "<button id='export' type='button'>Export JSON</button></p>"
      "<script type='application/json' id='knowledge'>" + ScriptJson(FormKnowledge(kb)) + "</script>" + prefill;
  return Layout(title, &visitor, body);
}

std::string PatientPage(const accounts::Visitor& visitor, const PatientView& patient, const knowledge::KnowledgeBase& kb) {
  const std::string& case_id = patient.case_id;
  std::string body = "<h1>Patient " + HtmlEscape(case_id) + "</h1><h2>Visits</h2><table><thead><tr>"
                     "<th scope='col'>Version</th><th scope='col'>Stored</th><th scope='col'>By</th></tr></thead><tbody>";
  for (const auto& v : patient.versions)
    body += "<tr><td>" + std::to_string(v.version) + "</td><td>" + HtmlEscape(v.created_at) + "</td><td>" +
            HtmlEscape(v.actor) + "</td></tr>";
  body += "</tbody></table><h2 id='trends'>Trends</h2>";
  body += patient.course ? TrendCharts(*patient.course)
                         : "<p class='error'>The trends could not be drawn: " + HtmlEscape(patient.course_error) + "</p>";
  if (visitor.role == accounts::Role::kPractitioner)
    body += "<p><a href='/app/cases/new?from=" + HtmlEscape(UrlEncode(case_id)) + "'>New visit</a> <span class='hint'>(the form "
            "starts from the latest visit)</span></p>";
  body += "<h2>Runs</h2>";
  const auto& runs = patient.runs;
  if (runs.empty()) {
    body += "<p>No runs stored.</p>";
  } else {
    body += "<table><thead><tr><th scope='col'>Run</th><th scope='col'>Visit</th><th scope='col'>When</th>"
            "<th scope='col'>By</th><th scope='col'>Rules</th><th scope='col'>Report</th></tr></thead><tbody>";
    for (const auto& r : runs)
      body += "<tr><td><a href='/app/runs/" + std::to_string(r.id) + "'>" + HtmlEscape(store::RunName(r.id)) +
              "</a></td><td>" + std::to_string(r.case_version) + "</td><td>" + HtmlEscape(r.created_at) + "</td><td>" +
              HtmlEscape(r.actor) + "</td><td>" + HtmlEscape(r.rules_version.substr(0, 19)) + "</td><td><a href='/app/runs/" +
              std::to_string(r.id) + "/report'>report</a></td></tr>";
    body += "</tbody></table>";
    // The what-if panel: app.js posts to /app/api/whatif and shows the before/after.
    body += "<section aria-labelledby='whatif-title' class='whatif'><h2 id='whatif-title'>What if</h2>"
            "<p class='hint'>Change a lab or apply a strategy to the latest visit and see the flux indices and "
            "conclusions before and after, under the current knowledge and rules. The safety gate judges each "
            "strategy for this patient; nothing is stored.</p>"
            "<form id='whatif' class='row' data-case='" + HtmlEscape(case_id) + "'>"
            "<div class='field'><label for='whatif-lab'>Lab</label><select id='whatif-lab' name='lab'>"
            "<option value=''>no change</option></select></div>"
            "<div class='field'><label for='whatif-value'>New value</label>"
            "<input id='whatif-value' name='value' type='number' step='any'></div>"
            "<div class='field'><label for='whatif-unit'>Unit</label><select id='whatif-unit' name='unit'></select></div>"
            "<div class='field'><label for='whatif-strategy'>Apply strategy</label><select id='whatif-strategy' "
            "name='strategy'><option value=''>none</option></select></div>"
            "<button type='submit'>Show what if</button></form>"
            "<div id='whatif-result' aria-live='polite'></div>"
            "<script type='application/json' id='whatif-knowledge'>" +
            ScriptJson({{"labs", LabsJson(kb)}, {"strategies", StrategiesJson(kb)}}) + "</script></section>";
    body += "<h2>Latest report</h2><p><a href='/app/runs/" + std::to_string(runs.back().id) +
            "/report' target='_blank' rel='noopener'>Open the report on its own (to print)</a></p>"
            "<iframe class='report' title='Report of " + HtmlEscape(store::RunName(runs.back().id)) + "' src='/app/runs/" +
            std::to_string(runs.back().id) + "/report'></iframe>";
  }
  return Layout("Patient " + case_id, &visitor, body);
}

const std::string& AppCss() { return assets::kAppCss; }
const std::string& AppJs() { return assets::kAppJs; }

}  // namespace nflux::webapp
