// The summary card (leading deficits, strategies, blocked strategies, next best labs as ServiceRequest
// suggestions) and the cards of blocked draft supplement orders (order-sign).
#include "cds/internal.h"

namespace nflux::cds {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

constexpr size_t kMaxDeficitsInSummary = 2;
constexpr size_t kMaxLabSuggestions = 3;
constexpr size_t kMaxEvidencePerDeficit = 4;

// Deficits worth a practitioner's attention: likely or possible (pointers into `evaluation`).
std::vector<const ordered_json*> LeadingDeficits(const ordered_json& evaluation) {
  std::vector<const ordered_json*> out;
  for (const auto& deficit : ArrayOf(evaluation, "deficits"))
    if (deficit.value("level", "") != "unlikely") out.push_back(&deficit);
  return out;
}

std::string SummaryLine(const std::vector<const ordered_json*>& deficits, const ordered_json& strategies,
                        const CardContext& context) {
  std::string line;
  for (size_t i = 0; i < deficits.size() && i < kMaxDeficitsInSummary; ++i) {
    const auto& d = *deficits[i];
    line += std::string(i ? "; " : "") + (i ? "" : (d.value("level", "") == "likely" ? "Likely " : "Possible ")) +
            Label(context, d.value("id", "")) + " deficit (" + CertaintyText(d.value("certainty", 0.0)) + ")";
  }
  if (line.empty()) line = "No likely pathway deficit";
  if (!strategies.empty()) line += ". First option: " + Label(context, strategies[0].value("id", ""));
  return line;
}

std::string DeficitsMarkdown(const std::vector<const ordered_json*>& deficits, const CardContext& context,
                             std::vector<std::string>& citations) {
  if (deficits.empty()) return "";
  std::string out = "**Pathway deficits** (certainty, and the evidence):\n";
  for (const ordered_json* deficit : deficits) {
    const auto& d = *deficit;
    out += "- **" + Md(Label(context, d.value("id", ""))) + "**: " + d.value("level", "") + ", " +
           CertaintyText(d.value("certainty", 0.0));
    size_t shown = 0;
    for (const auto& evidence : ArrayOf(d, "evidence_for")) {
      if (shown++ == kMaxEvidencePerDeficit) break;
      std::string citation = evidence.value("citation", "");
      out += (shown == 1 ? ". Evidence: " : "; ") + Md(evidence.value("text", ""));
      if (!citation.empty()) out += " [" + std::to_string(citations.size() + 1) + "]", citations.push_back(citation);
    }
    out += "\n";
  }
  return out + "\n";
}

std::string StrategiesMarkdown(const ordered_json& evaluation, const CardContext& context,
                               std::vector<std::string>& citations) {
  std::string out;
  const auto& strategies = ArrayOf(evaluation, "strategies");
  if (!strategies.empty()) out += "**Strategies** (ranked; each passed the safety gate):\n";
  for (size_t i = 0; i < strategies.size(); ++i) {
    const auto& s = strategies[i];
    out += std::to_string(i + 1) + ". **" + Md(Label(context, s.value("id", ""))) + "** (" + s.value("kind", "") +
           "): " + Md(s.value("why", ""));
    for (const auto& caution : ArrayOf(s, "cautions"))
      if (caution.is_object()) out += " Caution: " + Md(caution.value("note", caution.value("alert", ""))) + ".";
    for (const auto& citation : StringsOf(s, "citations"))
      out += " [" + std::to_string(citations.size() + 1) + "]", citations.push_back(citation);
    out += "\n";
  }
  const auto& blocked = ArrayOf(evaluation, "blocked_strategies");
  if (!blocked.empty()) out += "\n**Blocked by safety:** ";
  for (size_t i = 0; i < blocked.size(); ++i)
    out += std::string(i ? ", " : "") + Md(Label(context, blocked[i].value("id", "")));
  return out + (blocked.empty() ? "" : "\n") + "\n";
}

// A draft ServiceRequest ordering the lab `lab_id` (LOINC coded) for the patient.
ordered_json LabSuggestion(const knowledge::Node& lab, const CardContext& context, const std::string& why) {
  ordered_json request = {
      {"resourceType", "ServiceRequest"},
      {"status", "draft"},
      {"intent", "proposal"},
      {"code",
       {{"coding", {{{"system", "http://loinc.org"}, {"code", lab.lab->loinc}, {"display", lab.label}}}},
        {"text", lab.label}}},
      {"subject", {{"reference", "Patient/" + context.patient_id}}},
      {"reasonCode", {{{"text", Shorten(why, 500)}}}}};
  return {{"label", "Order " + lab.label},
          {"uuid", NewUuid()},
          {"actions", {{{"type", "create"}, {"description", "Order " + lab.label + " (LOINC " + lab.lab->loinc + ")"},
                        {"resource", request}}}}};
}

// The next best labs (next_best_data "lab:ID" with a LOINC code) as suggestions, and their Markdown.
ordered_json LabSuggestions(const ordered_json& evaluation, const CardContext& context, std::string& markdown) {
  ordered_json suggestions = ordered_json::array();
  for (const auto& item : ArrayOf(evaluation, "next_best_data")) {
    std::string input = item.value("input", "");
    if (!input.starts_with("lab:") || suggestions.size() == kMaxLabSuggestions) continue;
    const knowledge::Node* lab = context.kb->Find(input.substr(4));
    if (!lab || !lab->lab || lab->lab->loinc.empty()) continue;
    if (suggestions.empty()) markdown += "**Next best labs** (what would change the conclusions most):\n";
    markdown += "- " + Md(lab->label) + " (LOINC " + lab->lab->loinc + "): " + Md(item.value("why", "")) + "\n";
    suggestions.push_back(LabSuggestion(*lab, context, item.value("why", "")));
  }
  if (!suggestions.empty()) suggestions[0]["isRecommended"] = true;
  return suggestions;
}

}  // namespace

ordered_json SummaryCard(const ordered_json& evaluation, const CardContext& context) {
  std::vector<const ordered_json*> deficits = LeadingDeficits(evaluation);
  const auto& strategies = ArrayOf(evaluation, "strategies");
  std::string labs_markdown;
  ordered_json suggestions = LabSuggestions(evaluation, context, labs_markdown);
  if (deficits.empty() && strategies.empty() && suggestions.empty()) return nullptr;
  std::vector<std::string> citations;
  std::string detail = DeficitsMarkdown(deficits, context, citations) +
                       StrategiesMarkdown(evaluation, context, citations) + labs_markdown;
  if (!citations.empty()) detail += "\n**Evidence:**\n" + CitationList(citations);
  ordered_json card = Card(SummaryLine(deficits, strategies, context), "info", detail,
                           Source(context, "summary", "Pathway deficits and strategies"), citations);
  if (!suggestions.empty()) {
    card["suggestions"] = std::move(suggestions);
    card["selectionBehavior"] = "any";
  }
  return card;
}

namespace {

// Critical when an urgent alert stands behind a reason, else warning.
std::string BlockedIndicator(const ordered_json& blocked, const ordered_json& evaluation) {
  for (const auto& reason : ArrayOf(blocked, "reasons"))
    for (const auto& alert : ArrayOf(evaluation, "alerts"))
      if (alert.value("id", "") == reason.value("alert", "-") && alert.value("severity", "") == "urgent") return "critical";
  return "warning";
}

ordered_json BlockedOrderCard(const json& order, const ordered_json& blocked, const ordered_json& evaluation,
                              const CardContext& context) {
  std::string label = Label(context, blocked.value("id", ""));
  std::string detail = "The draft order of **" + Md(label) + "** is blocked by the safety gate:\n";
  std::vector<std::string> citations;
  std::string first_alert;
  for (const auto& reason : ArrayOf(blocked, "reasons")) {
    std::string alert = reason.value("alert", "");
    if (first_alert.empty()) first_alert = alert;
    detail += "- " + Md(reason.value("note", "")) + " (" + reason.value("severity", "") + ", with " +
              Md(reason.value("detail", reason.value("with", ""))) + (alert.empty() ? "" : "; alert " + Md(Label(context, alert))) + ")";
    if (std::string citation = reason.value("citation", ""); !citation.empty())
      detail += " [" + std::to_string(citations.size() + 1) + "]", citations.push_back(citation);
    detail += "\n";
  }
  if (!citations.empty()) detail += "\n**Evidence:**\n" + CitationList(citations);
  std::string summary = "Blocked order: " + label + (first_alert.empty() ? "" : " (" + Label(context, first_alert) + ")");
  ordered_json card = Card(summary, BlockedIndicator(blocked, evaluation), detail,
                           Source(context, "blocked-order:" + blocked.value("id", ""), "Blocked supplement order"),
                           citations);
  if (order.contains("id") && order["id"].is_string()) {
    std::string id = "MedicationRequest/" + order["id"].get<std::string>();
    card["suggestions"] = {{{"label", "Remove the draft order of " + label},
                            {"uuid", NewUuid()},
                            {"isRecommended", true},
                            {"actions", {{{"type", "delete"}, {"description", "Delete the draft order " + id},
                                          {"resourceId", id}}}}}};
    card["selectionBehavior"] = "at-most-one";
  }
  return card;
}

}  // namespace

ordered_json BlockedOrderCards(const ordered_json& evaluation, const CardContext& context) {
  ordered_json cards = ordered_json::array();
  for (const auto& order : context.draft_orders) {
    std::string strategy = StrategyCodeOf(order);
    if (strategy.empty()) continue;
    for (const auto& blocked : ArrayOf(evaluation, "blocked_strategies"))
      if (blocked.value("id", "") == strategy) cards.push_back(BlockedOrderCard(order, blocked, evaluation, context));
  }
  return cards;
}

}  // namespace nflux::cds
