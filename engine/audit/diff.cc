// Diff of two evaluations and their traces: the conclusions in named sections, every other
// difference by JSON pointer path.
//
// The two documents are turned into "views": arrays of items with ids become objects keyed by id
// (so that a removed alert does not shift every later index), and each section removes from both
// views what it reports. What is left is walked value by value into `other`.
#include <set>

#include "audit/audit.h"

namespace nflux::audit {
namespace {

using ordered_json = nlohmann::ordered_json;
using KeyFn = std::string (*)(const ordered_json& item);

std::string Text(const ordered_json& item, const char* key) {
  auto it = item.find(key);
  if (it == item.end()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}
std::string ById(const ordered_json& item) { return Text(item, "id"); }
std::string ByRule(const ordered_json& item) { return Text(item, "rule"); }
std::string ByTest(const ordered_json& item) { return Text(item, "test"); }
std::string ByInput(const ordered_json& item) { return Text(item, "input"); }
std::string ByCodeAtPath(const ordered_json& item) { return Text(item, "code") + " at " + Text(item, "path"); }

// doc[key], an array of objects, as an object keyed by `key_of` (a repeated key gets "#2", "#3").
void Keyify(ordered_json& doc, const char* key, KeyFn key_of) {
  if (!doc.is_object() || !doc.contains(key) || !doc[key].is_array()) return;
  ordered_json keyed = ordered_json::object();
  for (const auto& item : doc[key]) {
    if (!item.is_object()) return;  // not the shape we know: compared as it is
    std::string id = key_of(item), unique = id;
    for (int n = 2; keyed.contains(unique); ++n) unique = id + "#" + std::to_string(n);
    keyed[unique] = item;
  }
  doc[key] = std::move(keyed);
}

ordered_json Field(const ordered_json& item, const std::string& field) {
  auto it = item.find(field);
  return it == item.end() ? ordered_json() : *it;
}

// The keyed items doc[key] of a view, or an empty object when the view has none.
class Items {
 public:
  Items(ordered_json& doc, const char* key) {
    if (doc.is_object() && doc.contains(key) && doc[key].is_object()) items_ = &doc[key];
  }
  Items(const Items&) = delete;
  Items& operator=(const Items&) = delete;
  ordered_json& operator*() { return *items_; }

 private:
  ordered_json empty_ = ordered_json::object();
  ordered_json* items_ = &empty_;
};

// Added and removed items, and the `fields` that differ in items on both sides; removes all of it
// from both views.
void CompareKeyed(ordered_json& a_doc, ordered_json& b_doc, const char* key, const std::vector<std::string>& fields,
                  Section& out) {
  Items a_items(a_doc, key), b_items(b_doc, key);
  ordered_json& a = *a_items;
  ordered_json& b = *b_items;
  for (const auto& [id, item] : a.items())
    if (!b.contains(id)) out.removed.push_back(id);
  for (const auto& [id, item] : b.items())
    if (!a.contains(id)) out.added.push_back(id);
  for (auto& [id, item] : a.items()) {
    if (!b.contains(id)) continue;
    for (const auto& field : fields) {
      ordered_json before = Field(item, field), after = Field(b[id], field);
      if (before != after) out.changed.push_back({id, field, before, after});
      item.erase(field);
      b[id].erase(field);
    }
  }
  for (const auto& id : out.removed) a.erase(id);
  for (const auto& id : out.added) b.erase(id);
}

void CompareVersions(ordered_json& a, ordered_json& b, Section& out) {
  Items a_versions(a, "versions"), b_versions(b, "versions");
  ordered_json& va = *a_versions;
  ordered_json& vb = *b_versions;
  for (const char* name : {"engine", "knowledge", "rules"}) {
    ordered_json before = Field(va, name), after = Field(vb, name);
    if (before != after) out.changed.push_back({name, "", before, after});
    va.erase(name);
    vb.erase(name);
  }
}

// ---- Strategies: suggested ones and blocked ones compared together, so that a strategy that moved
// from suggested to blocked is one verdict change, not a removal and an addition.

struct StrategyState {
  std::string verdict;
  ordered_json rank, score;
};

std::string VerdictOf(const ordered_json& item) {
  if (item.contains("verdict") && item["verdict"].is_string()) return item["verdict"].get<std::string>();
  bool caution = item.contains("cautions") && item["cautions"].is_array() && !item["cautions"].empty();
  return caution ? "acceptable_with_caution" : "acceptable";
}

std::map<std::string, StrategyState> States(ordered_json& doc) {
  std::map<std::string, StrategyState> out;
  Items blocked(doc, "blocked_strategies"), suggested(doc, "strategies");
  for (const auto& [id, item] : (*blocked).items()) out[id] = {"blocked", {}, {}};
  for (const auto& [id, item] : (*suggested).items())
    out[id] = {VerdictOf(item), Field(item, "rank"), Field(item, "score")};
  return out;
}

// The ids of `key` in `doc` that are not in `other` (as suggested or blocked), in `doc`'s order.
std::vector<std::string> OnlyIn(ordered_json& doc, const char* key, const std::map<std::string, StrategyState>& other) {
  std::vector<std::string> out;
  Items items(doc, key);
  for (const auto& [id, item] : (*items).items())
    if (!other.count(id)) out.push_back(id);
  return out;
}

void CompareStrategyStates(const std::map<std::string, StrategyState>& a, const std::map<std::string, StrategyState>& b,
                           ordered_json& a_doc, Section& out) {
  std::vector<std::string> order;  // A's order: suggested by rank, then blocked
  for (const char* key : {"strategies", "blocked_strategies"}) {
    Items items(a_doc, key);
    for (const auto& [id, item] : (*items).items()) order.push_back(id);
  }
  for (const auto& id : order) {
    auto other = b.find(id);
    if (other == b.end()) continue;
    const StrategyState& before = a.at(id);
    if (before.verdict != other->second.verdict)
      out.changed.push_back({id, "verdict", before.verdict, other->second.verdict});
    if (before.verdict == "blocked" || other->second.verdict == "blocked") continue;
    if (before.rank != other->second.rank) out.changed.push_back({id, "rank", before.rank, other->second.rank});
    if (before.score != other->second.score) out.changed.push_back({id, "score", before.score, other->second.score});
  }
}

// Leaves in both views only the items on the same list on both sides, without the fields reported.
void StripStrategies(ordered_json& a_doc, ordered_json& b_doc, const char* key, const std::vector<std::string>& fields) {
  Items a_items(a_doc, key), b_items(b_doc, key);
  ordered_json& a = *a_items;
  ordered_json& b = *b_items;
  std::vector<std::string> drop_a, drop_b;
  for (const auto& [id, item] : a.items())
    if (!b.contains(id)) drop_a.push_back(id);
  for (const auto& [id, item] : b.items())
    if (!a.contains(id)) drop_b.push_back(id);
  for (const auto& id : drop_a) a.erase(id);
  for (const auto& id : drop_b) b.erase(id);
  for (auto& [id, item] : a.items())
    for (const auto& field : fields) {
      item.erase(field);
      b[id].erase(field);
    }
}

void CompareStrategies(ordered_json& a, ordered_json& b, Section& strategies, Section& blocked) {
  std::map<std::string, StrategyState> sa = States(a), sb = States(b);
  strategies.removed = OnlyIn(a, "strategies", sb);
  strategies.added = OnlyIn(b, "strategies", sa);
  blocked.removed = OnlyIn(a, "blocked_strategies", sb);
  blocked.added = OnlyIn(b, "blocked_strategies", sa);
  CompareStrategyStates(sa, sb, a, strategies);
  Items a_blocked(a, "blocked_strategies"), b_blocked(b, "blocked_strategies");
  ordered_json& ka = *a_blocked;
  ordered_json& kb = *b_blocked;
  for (const auto& [id, item] : ka.items())
    if (kb.contains(id) && Field(item, "reasons") != Field(kb[id], "reasons"))
      blocked.changed.push_back({id, "reasons", Field(item, "reasons"), Field(kb[id], "reasons")});
  StripStrategies(a, b, "strategies", {"rank", "score", "verdict"});
  StripStrategies(a, b, "blocked_strategies", {"reasons"});
}

// ---- Trace: a rule that fired on one side only, and the truth, strength and order of the rules
// considered on both.

bool Fired(const ordered_json& rules, const std::string& id) {
  auto it = rules.find(id);
  return it != rules.end() && it->value("fired", false);
}

void CompareTrace(ordered_json& a_doc, ordered_json& b_doc, Section& out) {
  ordered_json none = ordered_json::object();
  bool a_has = a_doc.is_object() && a_doc.contains("trace"), b_has = b_doc.is_object() && b_doc.contains("trace");
  Items a_rules(a_has ? a_doc["trace"] : none, "rules"), b_rules(b_has ? b_doc["trace"] : none, "rules");
  ordered_json& a = *a_rules;
  ordered_json& b = *b_rules;
  for (const auto& [id, rule] : a.items())
    if (Fired(a, id) && !Fired(b, id)) out.removed.push_back(id);
  for (const auto& [id, rule] : b.items())
    if (Fired(b, id) && !Fired(a, id)) out.added.push_back(id);
  std::set<std::string> one_sided(out.added.begin(), out.added.end());
  one_sided.insert(out.removed.begin(), out.removed.end());
  for (auto& [id, rule] : a.items()) {
    if (!b.contains(id)) continue;
    for (const char* field : {"truth", "strength", "order", "fired", "clinical"}) {
      ordered_json before = Field(rule, field), after = Field(b[id], field);
      bool reported = std::string(field) != "fired" && std::string(field) != "clinical";
      if (reported && !one_sided.count(id) && before != after) out.changed.push_back({id, field, before, after});
      if (reported || one_sided.count(id)) {
        rule.erase(field);
        b[id].erase(field);
      }
    }
  }
  for (const auto& id : out.removed)
    if (!b.contains(id)) a.erase(id);
  for (const auto& id : out.added)
    if (!a.contains(id)) b.erase(id);
}

// ---- Other: whatever the sections left, walked value by value.

std::string Escape(const std::string& key) {
  std::string out;
  for (char c : key) out += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
  return out;
}

void Walk(const ordered_json& a, const ordered_json& b, const std::string& path, std::vector<Change>& out) {
  if (a.is_object() && b.is_object()) {
    for (const auto& [key, value] : a.items()) {
      if (!b.contains(key)) out.push_back({path + "/" + Escape(key), "", value, nullptr});
      else Walk(value, b[key], path + "/" + Escape(key), out);
    }
    for (const auto& [key, value] : b.items())
      if (!a.contains(key)) out.push_back({path + "/" + Escape(key), "", nullptr, value});
    return;
  }
  if (a.is_array() && b.is_array()) {
    for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
      std::string at = path + "/" + std::to_string(i);
      if (i >= b.size()) out.push_back({at, "", a[i], nullptr});
      else if (i >= a.size()) out.push_back({at, "", nullptr, b[i]});
      else Walk(a[i], b[i], at, out);
    }
    return;
  }
  if (a != b) out.push_back({path.empty() ? "/" : path, "", a, b});
}

// The evaluation without trace_id, with the trace under "trace", arrays of items keyed by id.
ordered_json ViewOf(const ordered_json& evaluation, const ordered_json& trace) {
  ordered_json view = evaluation;
  if (view.is_object()) view.erase("trace_id");
  if (!trace.is_null() && view.is_object()) view["trace"] = trace;
  static const std::vector<std::pair<const char*, KeyFn>> keyed = {
      {"alerts", ById},        {"deficits", ById},   {"drivers", ById},     {"strategies", ById},
      {"blocked_strategies", ById}, {"requested_supplements", ById}, {"data_quality", ByCodeAtPath},
      {"labs", ByTest},        {"derived", ById},    {"questionnaires", ById}, {"next_best_data", ByInput}};
  for (const auto& [key, key_of] : keyed) Keyify(view, key, key_of);
  if (view.is_object() && view.contains("trace")) Keyify(view["trace"], "rules", ByRule);
  return view;
}

// The whole content without trace_id, as stored: what "identical" finally rests on.
std::string Bytes(const ordered_json& evaluation, const ordered_json& trace) {
  ordered_json copy = evaluation;
  if (copy.is_object()) copy.erase("trace_id");
  return copy.dump() + "\n" + trace.dump();
}

}  // namespace

bool EvaluationDiff::identical() const {
  for (const Section* section : {&versions, &alerts, &deficits, &drivers, &strategies, &blocked_strategies,
                                 &data_quality, &trace})
    if (!section->empty()) return false;
  return other.empty();
}

bool EvaluationDiff::ConclusionsDiffer() const {
  if (!alerts.empty() || !deficits.added.empty() || !deficits.removed.empty() || !drivers.added.empty() ||
      !drivers.removed.empty() || !blocked_strategies.added.empty() || !blocked_strategies.removed.empty() ||
      !strategies.added.empty() || !strategies.removed.empty())
    return true;
  for (const auto& change : deficits.changed)
    if (change.field == "certainty") return true;
  for (const auto& change : strategies.changed)
    if (change.field == "verdict" || change.field == "rank") return true;
  for (const auto& change : other)  // a requested or current supplement's verdict
    if (change.id.starts_with("/requested_supplements")) return true;
  return false;
}

EvaluationDiff DiffEvaluations(const nlohmann::ordered_json& eval_a, const nlohmann::ordered_json& trace_a,
                               const nlohmann::ordered_json& eval_b, const nlohmann::ordered_json& trace_b,
                               const std::string& a_name, const std::string& b_name) {
  EvaluationDiff diff;
  diff.a = a_name;
  diff.b = b_name;
  ordered_json a = ViewOf(eval_a, trace_a), b = ViewOf(eval_b, trace_b);
  CompareVersions(a, b, diff.versions);
  CompareKeyed(a, b, "alerts", {"severity"}, diff.alerts);
  CompareKeyed(a, b, "deficits", {"certainty", "rank", "level"}, diff.deficits);
  CompareKeyed(a, b, "drivers", {"certainty", "level"}, diff.drivers);
  CompareStrategies(a, b, diff.strategies, diff.blocked_strategies);
  CompareKeyed(a, b, "data_quality", {"severity", "message"}, diff.data_quality);
  CompareTrace(a, b, diff.trace);
  Walk(a, b, "", diff.other);
  // Keyed views ignore the order of items; the stored bytes do not.
  if (diff.identical() && Bytes(eval_a, trace_a) != Bytes(eval_b, trace_b))
    diff.other.push_back({"/", "order", "the same content in another order", "the same content in another order"});
  return diff;
}

}  // namespace nflux::audit
