// Internal: NeuroFlux rules and cases translated into CLIPS, for the side-by-side benchmark
// (clips_bench.cc, README "Against CLIPS"). Idiomatic CLIPS: deftemplates for the case data and
// the conclusions, one defrule per rule whose patterns name the data it needs (so CLIPS's Rete
// network does the matching), and MYCIN certainty combination done by rules as evidence arrives.
//
// The translation covers the tests and actions the generated workload uses (symptom comparisons,
// lab statuses and values, medication classes, facts, `or` of facts, derive fact, suggest
// deficit); anything else throws std::runtime_error naming the rule. Pure functions, any thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "case/case.h"
#include "clips_shim.h"
#include "rules/rules.h"

namespace nflux::bench::clips {

// The deftemplates, the combination rules and every rule of `rules`, as one text for a CLIPS load.
std::string TranslateRules(const rules::RuleBase& rules);

// A case as CLIPS facts: as strings (for assert-string) and as prepared specs (for the C API).
// Pointers into its own strings: it lives on the heap and never moves.
struct CaseFacts {
  CaseFacts() = default;
  CaseFacts(const CaseFacts&) = delete;
  CaseFacts& operator=(const CaseFacts&) = delete;

  std::vector<std::string> strings;
  std::vector<const char*> string_pointers;  // into `strings`
  std::vector<ClipsFactSpec> specs;          // point into `ids`
  std::vector<std::string> ids;
};
std::unique_ptr<CaseFacts> TranslateCase(const casefile::Case& c);

}  // namespace nflux::bench::clips
