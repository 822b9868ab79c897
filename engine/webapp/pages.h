// Internal to webapp: the HTML of its pages (every value escaped) and its two assets.
#pragma once

#include <string>
#include <vector>

#include "accounts/accounts.h"
#include "cds/cds.h"
#include "knowledge/knowledge.h"
#include "store/store.h"

namespace nflux::webapp {

// A text/html answer.
cds::HttpResponse Html(int status, const std::string& page);

// Percent-encoding of a path segment (a case id in a link).
std::string UrlEncode(const std::string& text);

// `csrf`: the sign-in form's double-submit token; `message`: why the last attempt failed, or "".
std::string LoginPage(const std::string& csrf, const std::string& message);
std::string MessagePage(const accounts::Visitor& visitor, const std::string& title, const std::string& text);
std::string CaseListPage(const accounts::Visitor& visitor, const std::vector<store::CaseSummary>& cases,
                         const std::string& query);
// The case form: the knowledge base's symptoms, questionnaires, labs with their units,
// medications, conditions, strategies, lifestyle factors and stressors, for app.js to build from.
std::string CaseFormPage(const accounts::Visitor& visitor, const knowledge::KnowledgeBase& kb);
std::string PatientPage(const accounts::Visitor& visitor, const std::string& case_id,
                        const std::vector<store::CaseVersion>& versions, const std::vector<store::RunSummary>& runs);

const std::string& AppCss();
const std::string& AppJs();

}  // namespace nflux::webapp
