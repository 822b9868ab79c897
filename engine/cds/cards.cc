// Cards (CDS Hooks 2.0) made from an evaluation (output.md JSON): one per alert, one summary card
// for the leading deficits and strategies with the next best labs as ServiceRequest suggestions, and
// (order-sign) one per blocked draft order with a suggestion to delete it.
#include <cstdio>
#include <random>
#include <set>

#include "base/text.h"
#include "cds/internal.h"

namespace nflux::cds {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

constexpr size_t kSummaryLimit = 140;  // CDS Hooks: a summary has fewer than 140 characters
constexpr size_t kMaxLinks = 5;
constexpr const char* kCardTopicSystem = "http://neuroflux.example/card";
constexpr const char* kOverrideSystem = "http://neuroflux.example/override-reason";
constexpr const char* kDisclaimer = "*Decision support for a qualified practitioner; it does not diagnose.*";

}  // namespace

// Markdown's special characters escaped, so that evidence text is shown as written.
std::string Md(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (std::string_view("\\`*_[]<>#|").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

std::string Label(const CardContext& context, const std::string& id) {
  const knowledge::Node* node = context.kb->Find(id);
  return node && !node->label.empty() ? node->label : id;
}

// "medication:escitalopram" -> "Escitalopram (medication)".
std::string BecauseText(const CardContext& context, const std::string& because) {
  size_t colon = because.find(':');
  if (colon == std::string::npos) return Label(context, because);
  return Label(context, because.substr(colon + 1)) + " (" + because.substr(0, colon) + ")";
}

std::string Indicator(const std::string& severity) {
  if (severity == "urgent") return "critical";
  if (severity == "high" || severity == "caution") return "warning";
  return "info";
}

std::string CertaintyText(double certainty) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%.2f", certainty);
  return buffer;
}

ordered_json Source(const CardContext& context, const std::string& code, const std::string& display) {
  const auto& v = context.versions;
  std::string label = "NeuroFlux " + v.value("engine", "") + " (knowledge " + v.value("knowledge", "").substr(0, 19) +
                      ", rules " + v.value("rules", "").substr(0, 19) + ")";
  return {{"label", label}, {"topic", {{"system", kCardTopicSystem}, {"code", code}, {"display", display}}}};
}

ordered_json OverrideReasons() {
  ordered_json reasons = ordered_json::array();
  for (const auto& [code, display] : std::vector<std::pair<std::string, std::string>>{
           {"already-addressed", "Already addressed"},
           {"clinical-judgement", "Clinical judgement differs"},
           {"patient-declined", "Patient declined"},
           {"data-incorrect", "The patient data is incorrect"}})
    reasons.push_back({{"system", kOverrideSystem}, {"code", code}, {"display", display}});
  return reasons;
}

std::string PmidOf(std::string_view citation) {
  constexpr std::string_view kMark = "PMID";
  for (size_t at = citation.find(kMark); at != std::string_view::npos; at = citation.find(kMark, at + 1)) {
    size_t digits = at + kMark.size();
    if (digits < citation.size() && citation[digits] == ':') ++digits;
    if (digits < citation.size() && citation[digits] == ' ') ++digits;
    size_t end = digits;
    while (end < citation.size() && end - digits < 9 && IsAsciiDigit(citation[end])) ++end;
    if (end - digits >= 4) return std::string(citation.substr(digits, end - digits));
  }
  return "";
}

// PubMed links for the PMIDs cited in `citations` (at most kMaxLinks, each once).
ordered_json PubMedLinks(const std::vector<std::string>& citations) {
  ordered_json links = ordered_json::array();
  std::set<std::string> seen;
  for (const auto& citation : citations) {
    std::string pmid = PmidOf(citation);
    if (pmid.empty() || !seen.insert(pmid).second) continue;
    if (links.size() == kMaxLinks) break;
    links.push_back({{"label", "PubMed " + pmid}, {"url", "https://pubmed.ncbi.nlm.nih.gov/" + pmid + "/"},
                     {"type", "absolute"}});
  }
  return links;
}

std::string CitationList(const std::vector<std::string>& citations) {
  std::string out;
  for (size_t i = 0; i < citations.size(); ++i) out += std::to_string(i + 1) + ". " + Md(citations[i]) + "\n";
  return out;
}

// A card with the fields every card has; `links` only when there are some.
ordered_json Card(const std::string& summary, const std::string& indicator, std::string detail, ordered_json source,
                  const std::vector<std::string>& citations) {
  ordered_json card = {{"uuid", NewUuid()},
                       {"summary", Shorten(summary, kSummaryLimit)},
                       {"indicator", indicator},
                       {"detail", std::move(detail) + "\n" + kDisclaimer},
                       {"source", std::move(source)}};
  ordered_json links = PubMedLinks(citations);
  if (!links.empty()) card["links"] = std::move(links);
  return card;
}

namespace {

ordered_json AlertCard(const ordered_json& alert, const CardContext& context) {
  std::string id = alert.value("id", ""), label = Label(context, id), message = alert.value("message", "");
  std::string detail = "**" + Md(label) + "** (" + alert.value("severity", "") + "): " + Md(message) + "\n\n";
  std::vector<std::string> because = StringsOf(alert, "because");
  if (!because.empty()) {
    detail += "**Because of:**\n";
    for (const auto& item : because) detail += "- " + Md(BecauseText(context, item)) + "\n";
    detail += "\n";
  }
  std::vector<std::string> citations = StringsOf(alert, "citations");
  if (!citations.empty()) detail += "**Evidence:**\n" + CitationList(citations);
  ordered_json card = Card(label + ": " + message, Indicator(alert.value("severity", "")), detail,
                           Source(context, "alert:" + id, label), citations);
  card["overrideReasons"] = OverrideReasons();
  return card;
}

}  // namespace

std::string NewUuid() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  uint64_t high = random(), low = random();
  high = (high & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;  // version 4
  low = (low & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;    // variant 10
  char buffer[37];
  std::snprintf(buffer, sizeof buffer, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(high >> 32),
                static_cast<unsigned>((high >> 16) & 0xFFFF), static_cast<unsigned>(high & 0xFFFF),
                static_cast<unsigned>(low >> 48), static_cast<unsigned long long>(low & 0xFFFFFFFFFFFFULL));
  return buffer;
}

std::string Shorten(const std::string& text, size_t limit) {
  size_t chars = 0;
  for (unsigned char c : text) chars += (c & 0xC0) != 0x80;
  if (chars < limit) return text;
  const std::string ellipsis = "\xE2\x80\xA6";  // one character
  std::string out;
  size_t kept = 0;
  for (char byte : text) {
    const bool starts_char = (static_cast<unsigned char>(byte) & 0xC0) != 0x80;
    if (starts_char && kept + 3 > limit) break;  // room for this character and the ellipsis, under the limit
    kept += starts_char;
    out += byte;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out + ellipsis;
}

std::string StrategyCodeOf(const json& resource) {
  if (resource.is_object()) {
    if (resource.value("system", json()) == kStrategySystem && resource.value("code", json()).is_string())
      return resource["code"].get<std::string>();
    for (const auto& [key, value] : resource.items())
      if (std::string code = StrategyCodeOf(value); !code.empty()) return code;
  } else if (resource.is_array()) {
    for (const auto& value : resource)
      if (std::string code = StrategyCodeOf(value); !code.empty()) return code;
  }
  return "";
}

void SetRun(ordered_json& cards, const std::string& run_name) {
  for (auto& card : cards) card["extension"] = {{"com.neuroflux.run", run_name}};
}

std::vector<std::string> CardUuids(const ordered_json& cards) {
  std::vector<std::string> out;
  for (const auto& card : cards) out.push_back(card.value("uuid", ""));
  return out;
}

ordered_json MakeCards(const ordered_json& evaluation, const CardContext& context) {
  ordered_json cards = ordered_json::array();
  for (const auto& alert : ArrayOf(evaluation, "alerts")) cards.push_back(AlertCard(alert, context));
  for (auto& card : BlockedOrderCards(evaluation, context)) cards.push_back(std::move(card));
  ordered_json summary = SummaryCard(evaluation, context);
  if (!summary.is_null()) cards.push_back(std::move(summary));
  return cards;
}

}  // namespace nflux::cds
