// The what-if and safety reasons as JSON: one form for the command line and the web app.
#include <cmath>

#include "explain/explain.h"
#include "pipeline/pipeline.h"

namespace nflux::pipeline {
namespace {

using nlohmann::ordered_json;

double Round4(double v) { return std::round(v * 1e4) / 1e4 + 0.0; }  // + 0.0: no -0

ordered_json ReasonsJson(const std::vector<inference::BlockReason>& reasons, const knowledge::KnowledgeBase& kb) {
  ordered_json out = ordered_json::array();
  for (const auto& reason : reasons) out.push_back(SafetyReasonJson(reason, kb));
  return out;
}

// One strategy of the ranking: its rank (an option; 0 for a blocked one, which has none), its
// predicted effect and its safety verdict with every reason.
ordered_json RankedJson(const RankedStrategy& ranked, int rank, const knowledge::KnowledgeBase& kb) {
  ordered_json moved = ordered_json::object();
  for (const auto& [key, change] : ranked.effect.changes) moved[key] = Round4(change);
  ordered_json out = {{"strategy", ranked.effect.strategy}};
  if (rank > 0) out["rank"] = rank;
  out["verdict"] = std::string(inference::VerdictName(ranked.safety.verdict));
  out["reasons"] = ReasonsJson(ranked.safety.reasons, kb);
  out["improvement"] = Round4(ranked.effect.improvement);
  out["changes"] = moved;
  return out;
}

}  // namespace

ordered_json SafetyReasonJson(const inference::BlockReason& reason, const knowledge::KnowledgeBase& kb) {
  return {{"alert", reason.alert},
          {"with", reason.with},
          {"severity", std::string(Name(reason.severity))},
          {"detail", reason.detail},
          {"note", reason.note},
          {"citation", reason.citations.empty() ? std::string() : explain::FormatCitation(kb, reason.citations.front())}};
}

std::string SafetyReasonText(const ordered_json& reason) {
  std::string text = reason.value("note", "");
  const std::string with = reason.value("with", ""), severity = reason.value("severity", "");
  const std::string alert = reason.value("alert", "");
  if (text.empty()) text = severity + " contraindication";
  const std::string detail = reason.value("detail", "");
  if (!with.empty()) text += " (with " + with + ", " + severity + (detail.empty() ? "" : ": " + detail) + ")";
  if (!alert.empty()) text += " [alert " + alert + "]";
  return text;
}

ordered_json WhatIfToJson(const WhatIfResult& result, const knowledge::KnowledgeBase& kb) {
  ordered_json applied = ordered_json::array();
  for (const auto& safety : result.applied)
    applied.push_back({{"strategy", safety.id},
                       {"verdict", std::string(inference::VerdictName(safety.verdict))},
                       {"reasons", ReasonsJson(safety.reasons, kb)}});
  ordered_json indices = ordered_json::array();
  for (size_t p = 0; p < result.before.pathways.size(); ++p)
    for (int i = 0; i < flux::kIndexCount; ++i) {
      const double b = result.before.pathways[p].index[static_cast<size_t>(i)];
      const double a = result.after.pathways[p].index[static_cast<size_t>(i)];
      indices.push_back({{"index", flux::IndexKey(result.before.pathways[p].pathway, i)},
                         {"before", Round4(b)}, {"after", Round4(a)}, {"change", Round4(a - b)}});
    }
  ordered_json conclusions = ordered_json::array();
  for (const auto& change : result.changes)
    conclusions.push_back(
        {{"conclusion", change.conclusion}, {"before", Round4(change.before)}, {"after", Round4(change.after)}});
  ordered_json ranking = ordered_json::array(), blocked = ordered_json::array();
  int rank = 0;
  for (const auto& ranked : result.ranking) ranking.push_back(RankedJson(ranked, ++rank, kb));
  for (const auto& ranked : result.blocked) blocked.push_back(RankedJson(ranked, 0, kb));
  return {{"apply_safety", applied}, {"indices", indices}, {"conclusions", conclusions},
          {"ranking", ranking}, {"blocked", blocked}};
}

}  // namespace nflux::pipeline
