// The alert board and the knowledge lookups alerts need.
#include <algorithm>
#include <tuple>

#include <boost/container/small_vector.hpp>

#include "safety/case_state.h"
#include "safety/safety.h"

namespace nflux::safety {
namespace {

int PriorityOf(const knowledge::KnowledgeBase& kb, const std::string& id) {
  const knowledge::Node* node = kb.Find(id);
  return node && node->alert ? node->alert->priority : knowledge::Alert{}.priority;
}

}  // namespace

const std::string& KnowledgeDescription(const knowledge::KnowledgeBase& kb, const std::string& id) {
  static const std::string kNone;
  const knowledge::Node* node = kb.Find(id);
  return node ? node->description : kNone;
}

std::optional<AlertSeverity> KnowledgeDefaultSeverity(const knowledge::KnowledgeBase& kb, const std::string& id) {
  const knowledge::Node* node = kb.Find(id);
  return node && node->alert ? node->alert->default_severity : std::nullopt;
}

const std::vector<std::string>& KnowledgeCitations(const knowledge::KnowledgeBase& kb, const std::string& id) {
  static const std::vector<std::string> kNone;
  const knowledge::Node* node = kb.Find(id);
  return node ? node->citations : kNone;
}

void AlertBoard::Raise(const std::string& id, std::optional<AlertSeverity> severity,
                       std::vector<std::string> because, const std::vector<std::string>& citations,
                       const std::string& source, const std::string& message) {
  if (!severity) severity = KnowledgeDefaultSeverity(kb_, id);
  if (!severity) severity = AlertSeverity::kCaution;
  auto [it, added] = alerts_.try_emplace(id);
  AlertResult& alert = it->second;
  if (added) alert.id = id;
  const std::string& text = message.empty() ? KnowledgeDescription(kb_, id) : message;
  // The headline message is the first one of the most severe raising.
  if (added || Rank(*severity) < Rank(alert.severity)) {
    alert.severity = *severity;
    alert.message = text;
  }
  // A first raising allocates once, not once per doubling (later ones grow as vectors do).
  if (alert.because.empty()) alert.because.reserve(because.size());
  for (const auto& item : because) AppendUnique(alert.because, item);
  if (alert.citations.empty()) alert.citations.reserve(citations.size());
  for (const auto& citation : citations) AppendUnique(alert.citations, citation);
  AppendUnique(alert.rules, source);
  const bool seen = std::any_of(alert.reasons.begin(), alert.reasons.end(), [&](const AlertReason& reason) {
    return reason.message == text && reason.because == because;
  });
  // The reason keeps the raiser's list itself (taken by value): no copy of it.
  if (!seen) alert.reasons.push_back(AlertReason{text, std::move(because), source});
}

std::vector<AlertResult> AlertBoard::TakeSorted() {
  // Sorted as (severity rank, priority) keys beside their alerts: each alert's priority looked up
  // once, not at every comparison.
  struct Keyed {
    int rank, priority;
    size_t by_id;  // ties go to the first id (a plain sort needs no buffer, as a stable one does)
    AlertResult* alert;
  };
  boost::container::small_vector<Keyed, 8> keyed;  // a case raises a few alerts: no allocation
  for (auto& [id, alert] : alerts_) keyed.push_back({Rank(alert.severity), PriorityOf(kb_, id), keyed.size(), &alert});
  std::sort(keyed.begin(), keyed.end(), [](const Keyed& a, const Keyed& b) {
    return std::tie(a.rank, a.priority, a.by_id) < std::tie(b.rank, b.priority, b.by_id);
  });
  std::vector<AlertResult> out;
  out.reserve(keyed.size());
  for (const Keyed& key : keyed) out.push_back(std::move(*key.alert));
  alerts_.clear();
  return out;
}

}  // namespace nflux::safety
