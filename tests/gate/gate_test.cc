// Tests for engine/safety: criteria, implied conditions, every kind of contraindication target,
// interactions between medications, unknown medications, alert gates and priorities, and the
// verdict rule. A small knowledge base written here, and cases built as structs, so each test
// states exactly the data it depends on.
#include "safety/safety.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace nflux::safety {
namespace {

using nlohmann::json;

json Node(const char* id, const char* kind, json extra = json::object()) {
  json node = {{"id", id}, {"kind", kind}, {"label", std::string("L_") + id}, {"description", std::string("D_") + id},
               {"citations", {"src"}}};
  for (const auto& [key, value] : extra.items()) node[key] = value;
  return node;
}

json Contra(const char* from, const char* to, const char* severity, const char* alert, json extra = json::object()) {
  json edge = {{"from", from}, {"type", "contraindicated_with"}, {"to", to}, {"severity", severity},
               {"alert", alert}, {"citations", {"src"}}};
  for (const auto& [key, value] : extra.items()) edge[key] = value;
  return edge;
}

std::shared_ptr<const knowledge::KnowledgeBase> GateKnowledge() {
  static const auto kb = [] {
    json nodes = json::array({
        Node("serotonergic", "medication_class"),
        Node("maoi", "medication_class", {{"classes", {"serotonergic"}}}),
        Node("ssri", "medication_class", {{"classes", {"serotonergic"}}}),
        Node("phenelzine", "medication", {{"atc", "N06AF03"}, {"classes", {"maoi"}}}),
        Node("sertraline", "medication", {{"atc", "N06AB06"}, {"classes", {"ssri"}}}),
        Node("citalopram", "medication", {{"atc", "N06AB04"}, {"classes", {"ssri"}}}),
        Node("lithium", "medication", {{"atc", "N05AN01"}}),
        Node("levodopa", "medication", {{"atc", "N04BA01"}}),
        Node("carbidopa", "medication", {{"atc", "N04BA02"}}),
        Node("bipolar", "condition",
             {{"icd10", "F31"},
              {"implied_by", json::array({{{"questionnaire", "mdq"}, {"positive", true}},
                                          {{"medication", "lithium"}, {"wording", "if prescribed for bipolar"}}})}}),
        Node("child", "condition", {{"icd10", "Z00.1"}, {"implied_by", json::array({{{"age_below", 12}}})}}),
        Node("ferritin", "lab",
             {{"loinc", "2276-4"}, {"loinc_certainty", "checked"}, {"specimen", "serum"}, {"canonical_unit", "ng/mL"},
              {"units", {"ng/mL"}}, {"reference", json::array({{{"low", 30}, {"high", 300}}})},
              {"plausible", {{"min", 0}, {"max", 100000}}}}),
        Node("mdq", "questionnaire", {{"result_only", true}, {"items", 13}, {"item_min", 0}, {"item_max", 1}}),
        Node("phq9", "questionnaire", {{"items", 9}, {"item_min", 0}, {"item_max", 3}, {"safety_item", 9}}),
        Node("tremor", "symptom"),
        Node("iron_deficiency", "driver"),
        Node("precursor_5htp", "strategy", {{"strategy_kind", "precursor"}}),
        Node("same", "strategy", {{"strategy_kind", "other"}}),
        Node("sjw", "strategy", {{"strategy_kind", "botanical"}}),
        Node("iron", "strategy", {{"strategy_kind", "cofactor"}}),
        Node("b6", "strategy", {{"strategy_kind", "cofactor"}}),
        Node("exercise", "strategy", {{"strategy_kind", "lifestyle"}}),
        Node("crisis_referral", "strategy", {{"strategy_kind", "referral"}, {"priority", 0}}),
        Node("gp_referral", "strategy", {{"strategy_kind", "referral"}}),
        Node("serotonin_risk", "alert", {{"default_severity", "high"}}),
        Node("mania_risk", "alert", {{"default_severity", "high"}}),
        Node("iron_overload", "alert", {{"default_severity", "high"}}),
        Node("pediatric", "alert", {{"default_severity", "caution"}}),
        Node("b6_levodopa", "alert", {{"default_severity", "high"}}),
        Node("interaction", "alert", {{"default_severity", "caution"}}),
        Node("suicide", "alert",
             {{"default_severity", "urgent"}, {"priority", 0},
              {"gates", {{"block", {"precursor", "botanical"}}, {"reason", "not a substitute for crisis care"}}}}),
        Node("unchecked_medication", "alert",
             {{"default_severity", "caution"}, {"gates", {{"caution", {"cofactor"}}, {"reason", "unchecked"}}}}),
        Node("zz_caution", "alert", {{"default_severity", "caution"}}),
    });
    json edges = json::array({
        Contra("precursor_5htp", "maoi", "absolute", "serotonin_risk"),
        Contra("precursor_5htp", "bipolar", "relative", "mania_risk"),
        Contra("precursor_5htp", "sjw", "absolute", "serotonin_risk"),
        Contra("same", "ssri", "caution", "serotonin_risk"),
        Contra("iron", "ferritin", "absolute", "iron_overload", {{"when", {{"above", 300}, {"sex", "male"}}}}),
        Contra("sjw", "child", "relative", "pediatric"),
        Contra("exercise", "tremor", "caution", "zz_caution", {{"when", {{"at_least", 2}}}}),
        Contra("b6", "levodopa", "relative", "b6_levodopa", {{"unless", {"carbidopa"}}}),
        Contra("iron", "iron_deficiency", "caution", "zz_caution"),
        Contra("sjw", "suicide", "absolute", ""),
        {{"from", "maoi"}, {"type", "interacts_with"}, {"to", "serotonergic"}, {"alert", "serotonin_risk"},
         {"alert_severity", "high"}, {"note", "MAOI with a serotonergic drug"}, {"citations", {"src"}}},
        {{"from", "serotonergic"}, {"type", "interacts_with"}, {"to", "serotonergic"}, {"alert", "interaction"},
         {"alert_severity", "caution"}, {"note", "two serotonergic drugs"}, {"citations", {"src"}}},
    });
    edges[9].erase("alert");
    for (const char* strategy : {"precursor_5htp", "same", "sjw", "iron", "b6", "exercise", "crisis_referral", "gp_referral"})
      edges.push_back({{"from", strategy}, {"type", "targets"}, {"to", "tremor"}, {"citations", {"src"}}});
    json document = {{"nodes", nodes}, {"edges", edges},
                     {"citations", {{"src", {{"kind", "paper"}, {"title", "T"}, {"source", "J"}, {"verified", "checked"}, {"grade", "C"}}}}}};
    auto outcome = knowledge::LoadKnowledge({{"kb/gate.json", document.dump()}});
    for (const auto& problem : outcome.problems) ADD_FAILURE() << problem.ToString();
    return outcome.kb;
  }();
  return kb;
}

casefile::MedicationEntry Medication(const std::string& id) {
  casefile::MedicationEntry entry;
  entry.id = id;
  entry.classes = GateKnowledge()->ClassesOf(id);
  return entry;
}

casefile::Case Adult() {
  casefile::Case c;
  c.patient.sex = Sex::kFemale;
  c.patient.age_years = 40;
  return c;
}

struct Outcome {
  GateResult gate;
  std::vector<AlertResult> alerts;

  const StrategyResult* Judged(const std::string& id) const {
    for (const auto* list : {&gate.requested, &gate.blocked, &gate.strategies})
      for (const auto& s : *list)
        if (s.id == id) return &s;
    return nullptr;
  }
  Verdict VerdictOf(const std::string& id) const {
    const StrategyResult* s = Judged(id);
    EXPECT_NE(nullptr, s) << id << " was not judged";
    return s ? s->verdict : Verdict::kAcceptable;
  }
  const AlertResult* Alert(const std::string& id) const {
    for (const auto& a : alerts)
      if (a.id == id) return &a;
    return nullptr;
  }
  std::vector<std::string> AlertIds() const {
    std::vector<std::string> ids;
    for (const auto& a : alerts) ids.push_back(a.id);
    return ids;
  }
};

Outcome Judge(const casefile::Case& c, std::vector<std::string> suggested = {}, Conclusions conclusions = {},
            std::function<void(AlertBoard&)> rules = nullptr) {
  AlertBoard board(*GateKnowledge());
  if (rules) rules(board);
  std::map<std::string, StrategyResult> suggestions;
  for (const auto& id : suggested) {
    suggestions[id].id = id;
    suggestions[id].suggested = true;
  }
  Outcome outcome;
  outcome.gate = PassGate(c, *GateKnowledge(), conclusions, suggestions, board);
  outcome.alerts = board.TakeSorted();
  return outcome;
}

TEST(Gate, AnMaoiBlocksFiveHtpAndRaisesTheAlertNamingBoth) {
  casefile::Case c = Adult();
  c.medications = {Medication("phenelzine")};
  c.supplements_requested = {"precursor_5htp"};
  Outcome out = Judge(c);
  EXPECT_EQ(Verdict::kBlocked, out.VerdictOf("precursor_5htp"));
  const AlertResult* alert = out.Alert("serotonin_risk");
  ASSERT_NE(nullptr, alert);
  EXPECT_EQ(AlertSeverity::kHigh, alert->severity);
  EXPECT_EQ((std::vector<std::string>{"medication:phenelzine", "requested:precursor_5htp"}), alert->because);
  ASSERT_EQ(1u, out.gate.blocked.size());
  EXPECT_EQ("maoi", out.gate.blocked[0].reasons[0].with);
  EXPECT_EQ("L_phenelzine", out.gate.blocked[0].reasons[0].detail);
}

TEST(Gate, BipolarImpliedByAPositiveMdqOrByLithiumBlocks) {
  casefile::Case by_mdq = Adult();
  by_mdq.questionnaires["mdq"].result = "positive";
  by_mdq.supplements_requested = {"precursor_5htp"};
  EXPECT_EQ(Verdict::kBlocked, Judge(by_mdq).VerdictOf("precursor_5htp"));

  casefile::Case by_lithium = Adult();
  by_lithium.medications = {Medication("lithium")};
  by_lithium.supplements_requested = {"precursor_5htp"};
  Outcome out = Judge(by_lithium);
  EXPECT_EQ(Verdict::kBlocked, out.VerdictOf("precursor_5htp"));
  EXPECT_EQ("L_bipolar, implied by L_lithium (if prescribed for bipolar)", out.gate.blocked[0].reasons[0].detail);

  casefile::Case negative = Adult();
  negative.questionnaires["mdq"].result = "negative";
  negative.supplements_requested = {"precursor_5htp"};
  EXPECT_EQ(Verdict::kAcceptable, Judge(negative).VerdictOf("precursor_5htp"));
}

TEST(Gate, LabThresholdsHoldOnlyBeyondTheValueAndForTheSexGiven) {
  auto with_ferritin = [](double value, Sex sex) {
    casefile::Case c = Adult();
    c.patient.sex = sex;
    casefile::LabResult lab;
    lab.test = "ferritin";
    lab.value = value;
    lab.unit = "ng/mL";
    c.labs = {lab};
    c.supplements_requested = {"iron"};
    return Judge(c).VerdictOf("iron");
  };
  EXPECT_EQ(Verdict::kBlocked, with_ferritin(400, Sex::kMale));
  EXPECT_EQ(Verdict::kAcceptable, with_ferritin(300, Sex::kMale));
  EXPECT_EQ(Verdict::kAcceptable, with_ferritin(400, Sex::kFemale));
}

TEST(Gate, AgeSymptomsAndConcludedDriversAreTargets) {
  casefile::Case child = Adult();
  child.patient.age_years = 9;
  child.supplements_requested = {"sjw"};
  EXPECT_EQ(Verdict::kBlocked, Judge(child).VerdictOf("sjw"));
  child.patient.age_years = 12;
  EXPECT_EQ(Verdict::kAcceptable, Judge(child).VerdictOf("sjw"));
  // An excluded (impossible) age cannot rule the age bound out: the gate fails closed and says why.
  child.patient.age_years = 200;
  child.patient.age_excluded = true;
  Outcome unknown_age = Judge(child);
  EXPECT_EQ(Verdict::kBlocked, unknown_age.VerdictOf("sjw"));
  ASSERT_EQ(1u, unknown_age.Judged("sjw")->reasons.size());
  EXPECT_EQ("child", unknown_age.Judged("sjw")->reasons[0].with);
  EXPECT_EQ("L_child, implied by age not known: an impossible age was excluded", unknown_age.Judged("sjw")->reasons[0].detail);

  casefile::Case shaky = Adult();
  shaky.symptoms["tremor"] = {1};
  EXPECT_EQ(Verdict::kAcceptable, Judge(shaky, {"exercise"}).VerdictOf("exercise"));
  shaky.symptoms["tremor"] = {2};
  EXPECT_EQ(Verdict::kCaution, Judge(shaky, {"exercise"}).VerdictOf("exercise"));

  casefile::Case plain = Adult();
  EXPECT_EQ(Verdict::kAcceptable, Judge(plain, {"iron"}, Conclusions{{{"iron_deficiency", 0.4}}}).VerdictOf("iron"));
  EXPECT_EQ(Verdict::kCaution, Judge(plain, {"iron"}, Conclusions{{{"iron_deficiency", 0.6}}}).VerdictOf("iron"));
}

TEST(Gate, ASupplementAlreadyTakenIsCheckedAgainstARequestedOne) {
  casefile::Case c = Adult();
  c.supplements_current = {"sjw"};
  c.supplements_requested = {"precursor_5htp"};
  Outcome out = Judge(c);
  EXPECT_EQ(Verdict::kBlocked, out.VerdictOf("precursor_5htp"));
  ASSERT_NE(nullptr, out.Alert("serotonin_risk"));
  EXPECT_EQ((std::vector<std::string>{"current:sjw", "requested:precursor_5htp"}), out.Alert("serotonin_risk")->because);
  // The current one is judged too, and named in the high alert: blocked, reported as taken.
  EXPECT_EQ(Verdict::kBlocked, out.VerdictOf("sjw"));
  EXPECT_TRUE(out.Judged("sjw")->current);
}

TEST(Gate, AnMaoiWithAnSsriRaisesHighAndTwoSsrisACautionOncePerPair) {
  casefile::Case c = Adult();
  c.medications = {Medication("sertraline"), Medication("phenelzine")};
  Outcome out = Judge(c);
  ASSERT_NE(nullptr, out.Alert("serotonin_risk"));
  EXPECT_EQ(AlertSeverity::kHigh, out.Alert("serotonin_risk")->severity);
  EXPECT_EQ((std::vector<std::string>{"medication:phenelzine", "medication:sertraline"}),
            out.Alert("serotonin_risk")->because);

  casefile::Case two = Adult();
  two.medications = {Medication("sertraline"), Medication("citalopram")};
  Outcome pair = Judge(two);
  EXPECT_EQ(std::vector<std::string>{"interaction"}, pair.AlertIds());
  EXPECT_EQ(AlertSeverity::kCaution, pair.alerts[0].severity);
  EXPECT_EQ(1u, pair.alerts[0].reasons.size());
  EXPECT_EQ("L_citalopram with L_sertraline: two serotonergic drugs", pair.alerts[0].message);
}

// The engine passes a GateIndex (interactions looked up once per knowledge base); the gate must
// judge exactly as when it reads the graph itself.
TEST(Gate, TheIndexJudgesAsTheGraphDoes) {
  casefile::Case c = Adult();
  c.medications = {Medication("sertraline"), Medication("phenelzine"), Medication("citalopram")};
  c.supplements_requested = {"precursor_5htp", "iron"};
  const GateIndex index(*GateKnowledge());
  EXPECT_FALSE(index.Interactions("maoi").empty());
  EXPECT_TRUE(index.Interactions("precursor_5htp").empty());
  auto judge = [&](const GateIndex* with) {
    AlertBoard board(*GateKnowledge());
    GateResult gate = PassGate(c, *GateKnowledge(), {}, {}, board, with);
    json out;
    for (const auto& alert : board.TakeSorted())
      out["alerts"].push_back({alert.id, Name(alert.severity), alert.message, alert.because, alert.reasons.size()});
    for (const auto& strategy : gate.requested) out["verdicts"].push_back({strategy.id, VerdictName(strategy.verdict)});
    return out;
  };
  const json direct = judge(nullptr);
  EXPECT_GE(direct["alerts"].size(), 2u) << direct.dump(1);  // serotonin_risk, interaction
  EXPECT_EQ(direct, judge(&index));
}

TEST(Gate, AnUnknownMedicationRaisesUncheckedAndItsGateCautionsCofactors) {
  casefile::Case c = Adult();
  c.unknown_medications = {casefile::UnknownEntry{"zuranolone", "/medications/0", {}}};
  c.supplements_requested = {"iron", "exercise"};
  Outcome out = Judge(c);
  ASSERT_NE(nullptr, out.Alert("unchecked_medication"));
  EXPECT_EQ(std::vector<std::string>{"medication:zuranolone"}, out.Alert("unchecked_medication")->because);
  EXPECT_EQ(Verdict::kCaution, out.VerdictOf("iron"));
  EXPECT_EQ(Verdict::kAcceptable, out.VerdictOf("exercise"));
}

TEST(Gate, ACautionContraindicationRaisesItsAlertAsACaution) {
  casefile::Case c = Adult();
  c.medications = {Medication("sertraline")};
  c.supplements_requested = {"same"};
  Outcome out = Judge(c);
  EXPECT_EQ(Verdict::kCaution, out.VerdictOf("same"));
  EXPECT_EQ(AlertSeverity::kCaution, out.Alert("serotonin_risk")->severity);
}

TEST(Gate, NamedByAHighAlertFromARuleBlocksASupplementAndCautionsLifestyle) {
  casefile::Case c = Adult();
  c.supplements_requested = {"same", "exercise"};
  Outcome out = Judge(c, {}, {}, [](AlertBoard& board) {
    board.Raise("mania_risk", AlertSeverity::kHigh, {"requested:same", "requested:exercise"}, {}, "rule_x", "m");
  });
  EXPECT_EQ(Verdict::kBlocked, out.VerdictOf("same"));
  EXPECT_EQ(Verdict::kCaution, out.VerdictOf("exercise"));

  Outcome info = Judge(c, {}, {}, [](AlertBoard& board) {
    board.Raise("zz_caution", AlertSeverity::kInfo, {"requested:same"}, {}, "rule_x", "m");
  });
  EXPECT_EQ(Verdict::kCaution, info.VerdictOf("same"));  // never acceptable when named
}

TEST(Gate, ACitedUnlessLiftsTheBlockOfANamingAlert) {
  casefile::Case c = Adult();
  c.medications = {Medication("levodopa"), Medication("carbidopa")};
  c.supplements_requested = {"b6"};
  Outcome out = Judge(c, {}, {}, [](AlertBoard& board) {
    board.Raise("b6_levodopa", AlertSeverity::kHigh, {"requested:b6"}, {}, "rule_x", "m");
  });
  EXPECT_EQ(Verdict::kCaution, out.VerdictOf("b6"));
  c.medications = {Medication("levodopa")};
  EXPECT_EQ(Verdict::kBlocked, Judge(c).VerdictOf("b6"));
}

TEST(Gate, SuicideRiskComesFirstBlocksPrecursorsAndBotanicalsAndItsReferralLeads) {
  casefile::Case c = Adult();
  c.supplements_requested = {"precursor_5htp", "sjw", "iron"};
  Outcome out = Judge(c, {"gp_referral", "crisis_referral", "exercise"}, {}, [](AlertBoard& board) {
    board.Raise("mania_risk", AlertSeverity::kUrgent, {"questionnaire:x"}, {}, "rule_a", "m");
    board.Raise("suicide", std::nullopt, {"questionnaire:phq9"}, {}, "rule_b", "");
  });
  EXPECT_EQ("suicide", out.alerts.front().id);
  EXPECT_EQ(Verdict::kBlocked, out.VerdictOf("precursor_5htp"));
  EXPECT_EQ(Verdict::kBlocked, out.VerdictOf("sjw"));
  EXPECT_EQ(Verdict::kAcceptable, out.VerdictOf("iron"));
  // The alert-target edge (sjw contraindicated_with the suicide alert) holds too.
  bool by_edge = false;
  for (const auto& reason : out.Judged("sjw")->reasons) by_edge |= reason.with == "suicide" && reason.note.empty();
  EXPECT_TRUE(by_edge);
  std::vector<StrategyResult> ranked = out.gate.strategies;
  for (auto& s : ranked) s.support = s.id == "exercise" ? 0.9 : 0.1;
  RankStrategies(ranked, out.alerts, *GateKnowledge(), {});
  ASSERT_EQ(3u, ranked.size());
  EXPECT_EQ("crisis_referral", ranked[0].id);
  EXPECT_EQ("gp_referral", ranked[1].id);
}

TEST(Gate, VerdictsAndAlertsDoNotDependOnInputOrder) {
  casefile::Case a = Adult();
  a.medications = {Medication("sertraline"), Medication("phenelzine"), Medication("citalopram")};
  a.supplements_requested = {"precursor_5htp", "same", "iron"};
  a.supplements_current = {"sjw"};
  casefile::Case b = a;
  std::reverse(b.medications.begin(), b.medications.end());
  std::reverse(b.supplements_requested.begin(), b.supplements_requested.end());
  Outcome x = Judge(a), y = Judge(b);
  ASSERT_EQ(x.AlertIds(), y.AlertIds());
  for (size_t i = 0; i < x.alerts.size(); ++i) {
    EXPECT_EQ(x.alerts[i].because, y.alerts[i].because);
    EXPECT_EQ(x.alerts[i].message, y.alerts[i].message);
  }
  ASSERT_EQ(x.gate.requested.size(), y.gate.requested.size());
  for (size_t i = 0; i < x.gate.requested.size(); ++i)
    EXPECT_EQ(x.gate.requested[i].verdict, y.gate.requested[i].verdict) << x.gate.requested[i].id;
}

TEST(AlertBoard, EveryDistinctMessageIsKeptAndTheMostSevereLeads) {
  AlertBoard board(*GateKnowledge());
  board.Raise("serotonin_risk", AlertSeverity::kCaution, {"a"}, {}, "r1", "first");
  board.Raise("serotonin_risk", AlertSeverity::kHigh, {"b"}, {}, "r2", "second");
  board.Raise("serotonin_risk", AlertSeverity::kCaution, {"a"}, {}, "r3", "first");
  std::vector<AlertResult> alerts = board.TakeSorted();
  ASSERT_EQ(1u, alerts.size());
  EXPECT_EQ(AlertSeverity::kHigh, alerts[0].severity);
  EXPECT_EQ("second", alerts[0].message);
  ASSERT_EQ(2u, alerts[0].reasons.size());
  EXPECT_EQ("first", alerts[0].reasons[0].message);
  EXPECT_EQ("second", alerts[0].reasons[1].message);
}

// An alert's because, citations and rules hold each item once, in the order first raised, while
// each reason keeps its raising's because as given. What the raiser leaves out (severity,
// message) comes from the alert's knowledge node.
TEST(AlertBoard, ListsHoldEachItemOnceAndOmittedFieldsComeFromTheKnowledge) {
  AlertBoard board(*GateKnowledge());
  board.Raise("serotonin_risk", std::nullopt, {"x", "y", "x"}, {"c1", "c1", "c2"}, "r1", "");
  board.Raise("serotonin_risk", AlertSeverity::kCaution, {"y", "z"}, {"c2", "c3"}, "r2", "second");
  board.Raise("serotonin_risk", AlertSeverity::kCaution, {"z"}, {}, "r1", "second");
  std::vector<AlertResult> alerts = board.TakeSorted();
  ASSERT_EQ(1u, alerts.size());
  const AlertResult& alert = alerts[0];
  EXPECT_EQ("serotonin_risk", alert.id);
  EXPECT_EQ(AlertSeverity::kHigh, alert.severity);  // the node's default_severity
  EXPECT_EQ("D_serotonin_risk", alert.message);     // the node's description
  EXPECT_EQ((std::vector<std::string>{"x", "y", "z"}), alert.because);
  EXPECT_EQ((std::vector<std::string>{"c1", "c2", "c3"}), alert.citations);
  EXPECT_EQ((std::vector<std::string>{"r1", "r2"}), alert.rules);
  ASSERT_EQ(3u, alert.reasons.size());
  EXPECT_EQ((std::vector<std::string>{"x", "y", "x"}), alert.reasons[0].because);
  EXPECT_EQ("D_serotonin_risk", alert.reasons[0].message);
  EXPECT_EQ((std::vector<std::string>{"y", "z"}), alert.reasons[1].because);
  EXPECT_EQ((std::vector<std::string>{"z"}), alert.reasons[2].because);
  EXPECT_EQ("r1", alert.reasons[2].source);
}

// Most severe first, then by priority, then by id: many alerts (unknown to the knowledge base, so
// of one priority) raised in scrambled order, enough that an unstable sort would mix them.
TEST(AlertBoard, TakeSortedOrdersBySeverityThenPriorityThenId) {
  AlertBoard board(*GateKnowledge());
  std::mt19937 random(5);
  std::vector<int> order(40);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), random);
  for (int i : order) {
    const std::string id = "alert_" + std::string(i < 10 ? "0" : "") + std::to_string(i);
    board.Raise(id, i % 3 == 0 ? AlertSeverity::kHigh : AlertSeverity::kCaution, {}, {}, "r", "m");
  }
  std::vector<AlertResult> alerts = board.TakeSorted();
  ASSERT_EQ(40u, alerts.size());
  for (size_t i = 1; i < alerts.size(); ++i) {
    const AlertResult& a = alerts[i - 1];
    const AlertResult& b = alerts[i];
    if (a.severity == b.severity) EXPECT_LT(a.id, b.id) << i;
    else EXPECT_EQ(AlertSeverity::kHigh, a.severity) << i;
  }
  EXPECT_EQ("alert_00", alerts.front().id);
  EXPECT_EQ("alert_38", alerts.back().id);
}

}  // namespace
}  // namespace nflux::safety
