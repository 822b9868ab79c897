// The alert board and the knowledge lookups alerts need.
#include <algorithm>
#include <tuple>

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

namespace {

// Keeps the first of each repeated item, in order (as AppendUnique into an empty list).
void RemoveRepeats(std::vector<std::string>& items) {
  size_t kept = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    if (std::find(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(kept), items[i]) !=
        items.begin() + static_cast<std::ptrdiff_t>(kept))
      continue;
    if (kept != i) items[kept] = std::move(items[i]);
    ++kept;
  }
  items.resize(kept);
}

}  // namespace

void AlertBoard::Raise(const std::string& id, std::optional<AlertSeverity> severity,
                       std::vector<std::string> because, const std::vector<std::string>& citations,
                       const std::string& source, const std::string& message) {
  // The knowledge is read once, and only for what the raiser left out.
  static const std::string kNoDescription;
  const knowledge::Node* node = !severity || message.empty() ? kb_.Find(id) : nullptr;
  if (!severity && node && node->alert) severity = node->alert->default_severity;
  if (!severity) severity = AlertSeverity::kCaution;
  const std::string& text = !message.empty() ? message : node ? node->description : kNoDescription;
  auto [it, added] = alerts_.try_emplace(id);
  AlertResult& alert = it->second;
  if (added) {
    // A first raising: its lists are copied whole, then cleared of repeats.
    alert.id = id;
    alert.severity = *severity;
    alert.message = text;
    alert.because = because;
    RemoveRepeats(alert.because);
    alert.citations = citations;
    RemoveRepeats(alert.citations);
    alert.rules.push_back(source);
    alert.reasons.push_back(AlertReason{text, std::move(because), source});
    return;
  }
  // The headline message is the first one of the most severe raising.
  if (Rank(*severity) < Rank(alert.severity)) {
    alert.severity = *severity;
    alert.message = text;
  }
  for (const auto& item : because) AppendUnique(alert.because, item);
  for (const auto& citation : citations) AppendUnique(alert.citations, citation);
  AppendUnique(alert.rules, source);
  const bool seen = std::any_of(alert.reasons.begin(), alert.reasons.end(), [&](const AlertReason& reason) {
    return reason.message == text && reason.because == because;
  });
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
  std::vector<Keyed> keyed;
  keyed.reserve(alerts_.size());
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
