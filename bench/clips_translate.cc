#include "clips_translate.h"

#include <cstdio>
#include <cstdlib>
#include <set>
#include <stdexcept>

namespace nflux::bench::clips {
namespace {

using rules::Condition;
using rules::TestKind;

// The shortest text that reads back as the same double (CLIPS and NeuroFlux both parse with strtod).
std::string Number(double value) {
  char text[40];
  for (int digits = 15; digits <= 17; ++digits) {
    std::snprintf(text, sizeof text, "%.*g", digits, value);
    if (std::strtod(text, nullptr) == value) break;
  }
  return text;
}

std::string CompareFunction(rules::Compare op) {
  switch (op) {
    case rules::Compare::kLess: return "<";
    case rules::Compare::kLessEqual: return "<=";
    case rules::Compare::kGreater: return ">";
    case rules::Compare::kGreaterEqual: return ">=";
    case rules::Compare::kEqual: return "=";
    case rules::Compare::kNotEqual: return "<>";
  }
  return "=";
}

// The CLIPS side of one rule's condition, built up part by part.
// Patterns in the order that runs fastest in CLIPS here (measured): the derived facts first, then
// their negations, then the case data. Data first, the textbook order, was 1.5-2x slower: every
// case fact then makes partial matches in many rules, most of which never see their fact.
struct Lhs {
  std::vector<std::string> data, facts, negations;
  std::vector<std::string> strengths;  // certainty terms, the rule's strength is their minimum
  std::vector<std::string> clinical;   // TRUE, or variables / expressions that say so at run time
  int variables = 0;
  std::string Variable(const char* stem) {
    std::string name = "?";
    name += stem;
    name += std::to_string(++variables);
    return name;
  }
};

[[noreturn]] void Unsupported(const rules::Rule& rule, const std::string& what) {
  throw std::runtime_error("rule " + rule.id + ": the CLIPS translation does not cover " + what);
}

// A test on case data: one pattern; `clinical` as NeuroFlux's calibration reads it.
void AddDataTest(const rules::Rule& rule, const rules::Test& test, Lhs& lhs) {
  switch (test.kind) {
    case TestKind::kSymptomCompare: {
      std::string score = lhs.Variable("s");
      lhs.data.push_back("(symptom (id " + test.id + ") (score " + score + "&:(" + CompareFunction(test.op) + " " +
                             score + " " + Number(test.number) + ")))");
      // A symptom the patient has (score >= 1) is clinical evidence.
      lhs.clinical.push_back(rules::Holds(0, test.op, test.number) ? "(>= " + score + " 1)" : "TRUE");
      return;
    }
    case TestKind::kLabStatus:
      if (test.text != "low" && test.text != "normal" && test.text != "high") Unsupported(rule, "lab is " + test.text);
      lhs.data.push_back("(lab (id " + test.id + ") (status " + test.text + "))");
      lhs.clinical.push_back("TRUE");
      return;
    case TestKind::kLabValue: {
      std::string value = lhs.Variable("v");
      lhs.data.push_back("(lab (id " + test.id + ") (value " + value + "&:(" + CompareFunction(test.op) + " " +
                             value + " " + Number(test.number) + ")))");
      lhs.clinical.push_back("TRUE");
      return;
    }
    case TestKind::kMedicationClass:
      lhs.data.push_back("(medication (class " + test.id + "))");
      return;
    default: Unsupported(rule, "the test '" + test.source + "'");
  }
}

void AddFactTest(const rules::Rule& rule, const rules::Test& test, Lhs& lhs) {
  if (test.has_compare) Unsupported(rule, "a fact certainty comparison");
  std::string certainty = lhs.Variable("c"), clinical = lhs.Variable("k");
  lhs.facts.push_back("(derived (id " + test.id + ") (cf " + certainty + ") (clinical " + clinical + "))");
  lhs.strengths.push_back(certainty);
  lhs.clinical.push_back(clinical);
}

bool IsFactTest(const Condition& condition) {
  return condition.op == Condition::Op::kTest && condition.test.kind == TestKind::kFact;
}

// `fact A or fact B ...` holding with exactly the facts in `present` (a bit mask): those facts as
// patterns, the others as `not`; its strength is the strongest present fact (Kleene `or`).
void AddFactDisjunction(const rules::Rule& rule, const Condition& disjunction, unsigned present, Lhs& lhs) {
  std::vector<std::string> strengths;
  for (size_t i = 0; i < disjunction.children.size(); ++i) {
    const auto& test = disjunction.children[i].test;
    if (test.has_compare) Unsupported(rule, "a fact certainty comparison");
    if (!(present & (1u << i))) {
      lhs.negations.push_back("(not (derived (id " + test.id + ")))");
      continue;
    }
    AddFactTest(rule, test, lhs);
    strengths.push_back(lhs.strengths.back());
    lhs.strengths.pop_back();
  }
  std::string strongest = strengths.front();
  for (size_t i = 1; i < strengths.size(); ++i) strongest = "(max " + strongest + " " + strengths[i] + ")";
  lhs.strengths.push_back(strongest);
}

// The parts of a top-level `and` (or the condition itself), and the one `or` of facts among them.
std::vector<const Condition*> Parts(const rules::Rule& rule, const Condition*& disjunction) {
  std::vector<const Condition*> parts;
  if (rule.when.op == Condition::Op::kAnd) {
    for (const auto& child : rule.when.children) parts.push_back(&child);
  } else {
    parts.push_back(&rule.when);
  }
  disjunction = nullptr;
  for (const auto* part : parts) {
    if (part->op == Condition::Op::kTest) continue;
    bool facts_only = part->op == Condition::Op::kOr && part->children.size() <= 4;
    for (const auto& child : part->children) facts_only = facts_only && IsFactTest(child);
    if (!facts_only || disjunction) Unsupported(rule, "a condition other than an `and` of tests and one `or` of facts");
    disjunction = part;
  }
  return parts;
}

std::string Join(const std::vector<std::string>& terms, const std::string& function, const std::string& empty) {
  if (terms.empty()) return empty;
  if (terms.size() == 1) return terms.front();
  std::string text = "(" + function;
  for (const auto& term : terms) text += " " + term;
  return text + ")";
}

// The right-hand side: one support fact per action, combined by the combination rules.
std::string Rhs(const rules::Rule& rule, const Lhs& lhs) {
  std::string strength = Join(lhs.strengths, "min", "");
  bool static_clinical = false;
  for (const auto& term : lhs.clinical) static_clinical = static_clinical || term == "TRUE";
  std::string clinical = static_clinical ? "TRUE" : Join(lhs.clinical, "or", "FALSE");
  std::string text;
  for (const auto& action : rule.actions) {
    const char* kind = action.kind == rules::ActionKind::kDeriveFact       ? "derived"
                       : action.kind == rules::ActionKind::kSuggestDeficit ? "deficit"
                                                                           : nullptr;
    if (!kind) Unsupported(rule, "the action '" + action.source + "'");
    // Deficit drivers are not part of the comparison (the workload names none).
    std::string certainty = strength.empty() ? Number(action.certainty) : "(* " + Number(action.certainty) + " " + strength + ")";
    text += "\n  (assert (support (rule " + rule.id + ") (kind " + kind + ") (id " + action.id + ") (cf " + certainty +
            ") (clinical " + clinical + ")))";
  }
  return text;
}

// One defrule for the rule, or one per combination of present facts when it has an `or` of facts
// (CLIPS's own `or` would fire once per true branch; NeuroFlux fires once, with the strongest).
std::string TranslateRule(const rules::Rule& rule) {
  const Condition* disjunction = nullptr;
  auto parts = Parts(rule, disjunction);
  unsigned combinations = disjunction ? (1u << disjunction->children.size()) - 1 : 1;
  // Strata become salience bands: a rule reading a conclusion runs after every rule making it.
  int salience = rule.salience - 100 * rule.stratum;
  if (salience <= -9000 || salience >= 9000) Unsupported(rule, "a salience or stratum this large");
  std::string text;
  for (unsigned present = 1; present <= combinations; ++present) {
    Lhs lhs;
    for (const auto* part : parts) {
      if (part == disjunction) AddFactDisjunction(rule, *part, present, lhs);
      else if (IsFactTest(*part)) AddFactTest(rule, part->test, lhs);
      else AddDataTest(rule, part->test, lhs);
    }
    std::string name = combinations == 1 ? rule.id : rule.id + "-" + std::to_string(present);
    text += "(defrule " + name + "\n  (declare (salience " + std::to_string(salience) + "))";
    for (const auto* patterns : {&lhs.facts, &lhs.negations, &lhs.data})
      for (const auto& pattern : *patterns) text += "\n  " + pattern;
    text += "\n  =>" + Rhs(rule, lhs) + ")\n";
  }
  return text;
}

// Case data, conclusions and the evidence combination (MYCIN: x + y - xy as each rule fires;
// calibration: a deficit without clinical support is capped at 0.19 once every rule has run).
constexpr const char* kPrelude = R"((deftemplate symptom (slot id) (slot score))
(deftemplate lab (slot id) (slot value) (slot status))
(deftemplate medication (slot class))
(deftemplate support (slot rule) (slot kind) (slot id) (slot cf) (slot clinical))
(deftemplate derived (slot id) (slot cf) (slot clinical))
(deftemplate deficit (slot id) (slot cf) (slot clinical))
(defrule first-derived (declare (salience 9000))
  ?s <- (support (kind derived) (id ?id) (cf ?c) (clinical ?k))
  (not (derived (id ?id)))
  => (retract ?s) (assert (derived (id ?id) (cf ?c) (clinical ?k))))
(defrule more-derived (declare (salience 9000))
  ?s <- (support (kind derived) (id ?id) (cf ?c) (clinical ?k))
  ?f <- (derived (id ?id) (cf ?x) (clinical ?kx))
  => (retract ?s) (modify ?f (cf (- (+ ?x ?c) (* ?x ?c))) (clinical (or ?k ?kx))))
(defrule first-deficit (declare (salience 9000))
  ?s <- (support (kind deficit) (id ?id) (cf ?c) (clinical ?k))
  (not (deficit (id ?id)))
  => (retract ?s) (assert (deficit (id ?id) (cf ?c) (clinical ?k))))
(defrule more-deficit (declare (salience 9000))
  ?s <- (support (kind deficit) (id ?id) (cf ?c) (clinical ?k))
  ?f <- (deficit (id ?id) (cf ?x) (clinical ?kx))
  => (retract ?s) (modify ?f (cf (- (+ ?x ?c) (* ?x ?c))) (clinical (or ?k ?kx))))
(defrule cap-nonclinical-deficit (declare (salience -9000))
  ?d <- (deficit (cf ?c&:(> ?c 0.19)) (clinical FALSE))
  => (modify ?d (cf 0.19)))
)";

}  // namespace

std::string TranslateRules(const rules::RuleBase& rules) {
  std::string text = kPrelude;
  for (const auto& rule : rules.rules) text += TranslateRule(rule);
  return text;
}

std::unique_ptr<CaseFacts> TranslateCase(const casefile::Case& c) {
  auto owned = std::make_unique<CaseFacts>();
  CaseFacts& facts = *owned;
  struct Pending {
    ClipsFactKind kind;
    size_t id;
    double number;
    const char* status;
  };
  std::vector<Pending> pending;
  auto add = [&](ClipsFactKind kind, const std::string& id, double number, const char* status, std::string text) {
    facts.ids.push_back(id);
    pending.push_back({kind, facts.ids.size() - 1, number, status});
    facts.strings.push_back(std::move(text));
  };
  for (const auto& [id, score] : c.symptoms)
    add(kClipsSymptom, id, score.value, nullptr, "(symptom (id " + id + ") (score " + std::to_string(score.value) + "))");
  for (const auto& lab : c.labs) {
    if (c.Lab(lab.test) != &lab) continue;  // the result the engine reads for this test
    const char* status = lab.status == casefile::LabStatus::kLow      ? "low"
                         : lab.status == casefile::LabStatus::kNormal ? "normal"
                         : lab.status == casefile::LabStatus::kHigh   ? "high"
                                                                      : "unknown";
    add(kClipsLab, lab.test, *lab.value, status,
        "(lab (id " + lab.test + ") (value " + Number(*lab.value) + ") (status " + status + "))");
  }
  // One fact per class (two medications of a class are still one class; CLIPS keeps no duplicates).
  std::set<std::string> classes;
  for (const auto& medication : c.medications) classes.insert(medication.classes.begin(), medication.classes.end());
  for (const auto& cls : classes) add(kClipsMedication, cls, 0, nullptr, "(medication (class " + cls + "))");
  for (const auto& entry : pending) facts.specs.push_back({entry.kind, facts.ids[entry.id].c_str(), entry.number, entry.status});
  for (const auto& text : facts.strings) facts.string_pointers.push_back(text.c_str());
  return owned;
}

}  // namespace nflux::bench::clips
