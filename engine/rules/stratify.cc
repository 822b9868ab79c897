// Stratification: the order the agenda runs rules in. A rule that tests a conclusion (a fact,
// driver, deficit or alert) runs in a later stratum than every rule that can make it, so a
// conclusion is complete before anything reads it. A cycle of such dependencies is an error.
#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "base/text.h"
#include "knowledge/vocabulary.h"
#include "rules/checker.h"

namespace nflux::rules {
namespace {

// A conclusion as producers and consumers share it: {kDriver, "iron_deficiency"}. The id is a
// view into the rules, which do not move while the graph is in use.
using Conclusion = std::pair<ConclusionKind, std::string_view>;

struct ConclusionHash {
  size_t operator()(const Conclusion& conclusion) const {
    return static_cast<size_t>(conclusion.first) * 31 + std::hash<std::string_view>()(conclusion.second);
  }
};

std::string Describe(const Conclusion& conclusion) {
  std::string text(Name(conclusion.first));
  text += " '";
  text += conclusion.second;
  text += "'";
  return text;
}

void CollectTested(const Condition& condition, std::vector<std::pair<Conclusion, const Test*>>* out) {
  if (condition.op != Condition::Op::kTest) {
    for (const auto& child : condition.children) CollectTested(child, out);
    return;
  }
  const Test& test = condition.test;
  switch (test.kind) {
    case TestKind::kFact: out->push_back({{ConclusionKind::kFact, test.id}, &test}); break;
    case TestKind::kDriver: out->push_back({{ConclusionKind::kDriver, test.id}, &test}); break;
    case TestKind::kDeficit: out->push_back({{ConclusionKind::kDeficit, test.id}, &test}); break;
    case TestKind::kAlert: out->push_back({{ConclusionKind::kAlert, test.id}, &test}); break;
    default: break;
  }
}

std::optional<Conclusion> Concluded(const Action& action) {
  switch (action.kind) {
    case ActionKind::kDeriveFact: return Conclusion{ConclusionKind::kFact, action.id};
    case ActionKind::kConcludeDriver: return Conclusion{ConclusionKind::kDriver, action.id};
    case ActionKind::kSuggestDeficit:
    case ActionKind::kOpposeDeficit: return Conclusion{ConclusionKind::kDeficit, action.id};
    case ActionKind::kRaiseAlert: return Conclusion{ConclusionKind::kAlert, action.id};
    default: return std::nullopt;
  }
}

bool BeforeInFile(const Rule& a, const Rule& b) {
  return std::tie(a.at.file, a.at.line, a.at.column) < std::tie(b.at.file, b.at.line, b.at.column);
}

// An edge producer -> consumer: `consumer` tests `what`, which `producer` concludes.
struct Dependency {
  size_t consumer;
  Conclusion what;
};

class Stratifier {
 public:
  Stratifier(std::vector<Rule>* rules, bool check_facts, std::vector<RuleError>* errors)
      : rules_(*rules), check_facts_(check_facts), errors_(errors) {}

  void Run() {
    BuildGraph();
    if (!ReportCycles()) AssignStrata();
    SortIntoAgendaOrder();
  }

 private:
  // Stratum, salience (high first), file, line, column; a stable sort. Sorts indices with the
  // file names ranked once, then moves each rule once: comparing names and moving whole rules
  // inside the sort cost more than the rest of stratification.
  void SortIntoAgendaOrder() {
    std::map<std::string_view, int> file_rank;
    for (const Rule& rule : rules_) file_rank.emplace(rule.at.file.str(), 0);
    int next_rank = 0;
    for (auto& [file, rank] : file_rank) rank = next_rank++;
    struct Key {
      int stratum, salience, file, line, column;
    };
    std::vector<Key> keys;
    keys.reserve(rules_.size());
    for (const Rule& rule : rules_)
      keys.push_back(Key{rule.stratum, rule.salience, file_rank[rule.at.file.str()], rule.at.line, rule.at.column});
    std::vector<size_t> order(rules_.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      const Key& x = keys[a];
      const Key& y = keys[b];
      if (x.stratum != y.stratum) return x.stratum < y.stratum;
      if (x.salience != y.salience) return x.salience > y.salience;
      return std::tie(x.file, x.line, x.column) < std::tie(y.file, y.line, y.column);
    });
    std::vector<Rule> sorted;
    sorted.reserve(rules_.size());
    for (size_t i : order) sorted.push_back(std::move(rules_[i]));
    rules_ = std::move(sorted);
  }


 private:
  void BuildGraph() {
    std::unordered_map<Conclusion, std::vector<size_t>, ConclusionHash> producers;
    for (size_t i = 0; i < rules_.size(); ++i)
      for (const Action& action : rules_[i].actions)
        if (auto conclusion = Concluded(action)) {
          auto& list = producers[*conclusion];
          if (list.empty() || list.back() != i) list.push_back(i);
        }
    // The candidates for "did you mean", built at the first fact no rule derives.
    std::optional<std::vector<std::string>> derived_facts;

    out_.assign(rules_.size(), {});
    std::vector<std::pair<Conclusion, const Test*>> tested;
    for (size_t consumer = 0; consumer < rules_.size(); ++consumer) {
      tested.clear();
      CollectTested(rules_[consumer].when, &tested);
      for (const auto& [conclusion, test] : tested) {
        auto it = producers.find(conclusion);
        if (it == producers.end()) {
          if (check_facts_ && conclusion.first == ConclusionKind::kFact) {
            if (!derived_facts) {
              derived_facts.emplace();
              for (const auto& [produced, list] : producers)
                if (produced.first == ConclusionKind::kFact) derived_facts->emplace_back(produced.second);
              std::sort(derived_facts->begin(), derived_facts->end());  // the hash map has no order
            }
            errors_->push_back(RuleError{test->id_at, "no rule derives fact '" + std::string(conclusion.second) + "'" +
                                                          DidYouMean(conclusion.second, *derived_facts), ""});
          }
          continue;
        }
        for (size_t producer : it->second) {
          auto& edges = out_[producer];
          bool known = std::any_of(edges.begin(), edges.end(),
                                   [&](const Dependency& edge) { return edge.consumer == consumer; });
          if (!known) edges.push_back(Dependency{consumer, conclusion});
        }
      }
    }
  }

  // Tarjan's strongly connected components; reports each one that is a cycle. True if any was.
  bool ReportCycles() {
    const size_t n = rules_.size();
    index_.assign(n, -1);
    low_.assign(n, 0);
    on_stack_.assign(n, false);
    bool any = false;
    for (size_t i = 0; i < n; ++i)
      if (index_[i] < 0) StrongConnect(i);
    for (const auto& component : components_) {
      bool self_loop = component.size() == 1 &&
                       std::any_of(out_[component[0]].begin(), out_[component[0]].end(),
                                   [&](const Dependency& edge) { return edge.consumer == component[0]; });
      if (component.size() > 1 || self_loop) {
        ReportCycle(component);
        any = true;
      }
    }
    return any;
  }

  // Recursion depth is bounded by the number of rules in one dependency chain.
  void StrongConnect(size_t v) {
    index_[v] = low_[v] = next_index_++;
    stack_.push_back(v);
    on_stack_[v] = true;
    for (const Dependency& edge : out_[v]) {
      size_t w = edge.consumer;
      if (index_[w] < 0) {
        StrongConnect(w);
        low_[v] = std::min(low_[v], low_[w]);
      } else if (on_stack_[w]) {
        low_[v] = std::min(low_[v], index_[w]);
      }
    }
    if (low_[v] != index_[v]) return;
    std::vector<size_t> component;
    size_t w;
    do {
      w = stack_.back();
      stack_.pop_back();
      on_stack_[w] = false;
      component.push_back(w);
    } while (w != v);
    components_.push_back(std::move(component));
  }

  // Names one cycle through the component, from its first rule in file order.
  void ReportCycle(const std::vector<size_t>& component) {
    size_t start = *std::min_element(component.begin(), component.end(),
                                     [&](size_t a, size_t b) { return BeforeInFile(rules_[a], rules_[b]); });
    const std::set<size_t> members(component.begin(), component.end());
    // Breadth-first from start back to start, inside the component.
    std::map<size_t, std::pair<size_t, const Dependency*>> came_from;
    std::deque<size_t> queue = {start};
    const Dependency* closing = nullptr;
    size_t last = start;
    while (!queue.empty() && closing == nullptr) {
      size_t v = queue.front();
      queue.pop_front();
      for (const Dependency& edge : out_[v]) {
        if (!members.count(edge.consumer)) continue;
        if (edge.consumer == start) {
          closing = &edge;
          last = v;
          break;
        }
        if (came_from.count(edge.consumer)) continue;
        came_from[edge.consumer] = {v, &edge};
        queue.push_back(edge.consumer);
      }
    }
    if (closing == nullptr) return;  // Cannot happen for a strongly connected component.
    std::vector<std::pair<size_t, const Dependency*>> steps = {{last, closing}};
    for (size_t v = last; v != start; v = came_from[v].first) steps.push_back(came_from[v]);
    std::reverse(steps.begin(), steps.end());

    const Rule& first = rules_[start];
    std::string message;
    if (steps.size() == 1) {
      message = "rule '" + first.id + "' tests " + Describe(closing->what) + ", which it concludes itself";
    } else {
      message = "rules form a cycle: ";
      for (size_t i = 0; i < steps.size(); ++i) {
        if (i > 0) message += ", ";
        message += "'" + rules_[steps[i].first].id + "' concludes " + Describe(steps[i].second->what) + " that '" +
                   rules_[steps[i].second->consumer].id + "' tests";
      }
    }
    message += "; a rule runs only after every rule concluding what it tests";
    errors_->push_back(RuleError{first.id_at, std::move(message), ""});
  }

  // Longest-path layering over the dependency DAG (Kahn's algorithm).
  void AssignStrata() {
    std::vector<int> in_degree(rules_.size(), 0);
    for (const auto& edges : out_)
      for (const Dependency& edge : edges) ++in_degree[edge.consumer];
    std::deque<size_t> ready;
    for (size_t i = 0; i < rules_.size(); ++i) {
      rules_[i].stratum = 0;
      if (in_degree[i] == 0) ready.push_back(i);
    }
    while (!ready.empty()) {
      size_t v = ready.front();
      ready.pop_front();
      for (const Dependency& edge : out_[v]) {
        rules_[edge.consumer].stratum = std::max(rules_[edge.consumer].stratum, rules_[v].stratum + 1);
        if (--in_degree[edge.consumer] == 0) ready.push_back(edge.consumer);
      }
    }
  }

  std::vector<Rule>& rules_;
  const bool check_facts_;
  std::vector<RuleError>* errors_;
  std::vector<std::vector<Dependency>> out_;
  std::vector<int> index_, low_;
  std::vector<bool> on_stack_;
  std::vector<size_t> stack_;
  std::vector<std::vector<size_t>> components_;
  int next_index_ = 0;
};

}  // namespace

void Stratify(std::vector<Rule>* rules, bool check_facts, std::vector<RuleError>* errors) {
  Stratifier(rules, check_facts, errors).Run();
}

}  // namespace nflux::rules
