#include "lint/lint.h"

#include <gtest/gtest.h>

#include "real_knowledge.h"
#include "testutil.h"

namespace nflux::lint {
namespace {

// Lints one rule file against the shipped knowledge base; the rules must load.
std::vector<Finding> LintText(const std::string& text) {
  auto loaded = rules::LoadRules({{"t.rules", text}}, *testing::RealKnowledge());
  for (const auto& error : loaded.errors) ADD_FAILURE() << error.ToString();
  if (!loaded.rules) return {};
  return Lint(*loaded.rules, *testing::RealKnowledge());
}

// The findings of one kind, as "line: message".
std::vector<std::string> OfKind(const std::vector<Finding>& findings, FindingKind kind) {
  std::vector<std::string> out;
  for (const auto& finding : findings)
    if (finding.kind == kind) out.push_back(std::to_string(finding.at.line) + ": " + finding.message);
  return out;
}

const char* kRule = R"(rule %s "A rule"
  cites who_2020_ferritin
  when %s
  then %s
end
)";

std::string Rule(const std::string& id, const std::string& when, const std::string& then) {
  char buffer[1024];
  std::snprintf(buffer, sizeof buffer, kRule, id.c_str(), when.c_str(), then.c_str());
  return buffer;
}

TEST(Lint, NeverFires) {
  auto findings = LintText(Rule("never", "lab ferritin is low and lab ferritin is high", "conclude driver iron_deficiency weight 0.5") +
                           Rule("negated", "lab ferritin < 30 ng/mL and not lab ferritin < 30 ng/mL",
                                "conclude driver iron_deficiency weight 0.4") +
                           Rule("fine", "lab ferritin < 30 ng/mL", "conclude driver iron_deficiency weight 0.3"));
  EXPECT_EQ((std::vector<std::string>{
                "3: rule 'never' can never fire: 'lab ferritin is low' and 'lab ferritin is high' cannot both hold",
                "8: rule 'negated' can never fire: it requires both 'lab ferritin < 30 ng/mL' and its negation"}),
            OfKind(findings, FindingKind::kNeverFires));
}

TEST(Lint, DuplicateNamesTheFirstRule) {
  auto findings = LintText(Rule("first", "lab ferritin < 30 ng/mL", "conclude driver iron_deficiency weight 0.8") +
                           Rule("second", "lab ferritin < 30 ng/mL", "conclude driver iron_deficiency weight 0.8"));
  EXPECT_EQ((std::vector<std::string>{"6: rule 'second' duplicates rule 'first' (t.rules:1): same conditions and actions"}),
            OfKind(findings, FindingKind::kDuplicate));
  EXPECT_TRUE(OfKind(findings, FindingKind::kSubsumed).empty());
}

TEST(Lint, Subsumed) {
  auto findings = LintText(
      Rule("broad", "lab ferritin < 30 ng/mL", "suggest deficit serotonin_synthesis certainty 0.3") +
      Rule("narrow", "lab ferritin < 30 ng/mL and symptom fatigue >= 2", "suggest deficit serotonin_synthesis certainty 0.2"));
  ASSERT_EQ(1u, OfKind(findings, FindingKind::kSubsumed).size());
  EXPECT_EQ("6: rule 'narrow' is subsumed by rule 'broad' (t.rules:1): its conditions include all of that rule's and "
            "both suggest deficit 'serotonin_synthesis', so the same evidence counts twice",
            OfKind(findings, FindingKind::kSubsumed)[0]);
}

TEST(Lint, ConflictingAndSelfConflicting) {
  auto findings = LintText(
      Rule("for", "lab ferritin < 30 ng/mL", "suggest deficit serotonin_synthesis certainty 0.3") +
      Rule("against", "lab ferritin < 30 ng/mL", "oppose deficit serotonin_synthesis certainty 0.3") +
      Rule("both", "symptom fatigue >= 2",
           "suggest deficit serotonin_synthesis certainty 0.3\n       oppose deficit serotonin_synthesis certainty 0.2"));
  auto conflicting = OfKind(findings, FindingKind::kConflicting);
  ASSERT_EQ(1u, conflicting.size());
  EXPECT_NE(std::string::npos, conflicting[0].find("rules 'for' (t.rules:1) and 'against' have the same conditions"));
  EXPECT_EQ(1u, OfKind(findings, FindingKind::kSelfConflict).size());
}

TEST(Lint, UnconcludedDeficitsAndStrategies) {
  auto findings = LintText(Rule("only", "lab ferritin < 30 ng/mL", "suggest deficit serotonin_synthesis certainty 0.3"));
  auto unconcluded = OfKind(findings, FindingKind::kUnconcluded);
  bool dopamine = false, serotonin = false;
  for (const auto& line : unconcluded) {
    dopamine = dopamine || line.find("no rule concludes deficit 'dopamine_synthesis'") != std::string::npos;
    serotonin = serotonin || line.find("deficit 'serotonin_synthesis'") != std::string::npos;
  }
  EXPECT_TRUE(dopamine);
  EXPECT_FALSE(serotonin);
  for (const auto& finding : findings)
    if (finding.kind == FindingKind::kUnconcluded) {
      EXPECT_EQ("", finding.rule);
    }
}

TEST(Lint, TextAndNames) {
  // The location built first: in one expression GCC 12 reports the FileName's shared_ptr as maybe
  // uninitialised when the test is compiled in a unity file.
  rules::SourceLocation at{rules::FileName("a.rules"), 3, 7};
  Finding finding{FindingKind::kDuplicate, at, "message", "r"};
  EXPECT_EQ("a.rules:3:7: warning: message", finding.Text());
  EXPECT_EQ("never_fires", Name(FindingKind::kNeverFires));
  EXPECT_EQ("unconcluded", Name(FindingKind::kUnconcluded));
}

TEST(LintCount, CountsRuleOpeningsInSourcesThatDoNotParse) {
  std::vector<rules::RuleSource> sources = {
      {"a.rules", "rule first\n  when ((\nrule second when\n# rule commented\nrule Upper\n"},
      {"b.rules", "  rule indented\nrules x\nrule\n"},
  };
  EXPECT_EQ(3u, CountRuleOpenings(sources));  // first, second, indented
  EXPECT_EQ(0u, CountRuleOpenings({}));
}

}  // namespace
}  // namespace nflux::lint
