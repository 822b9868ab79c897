// A stored trace, whole or one rule, and its text rendering (`nflux audit trace`).
#include <sstream>

#include "audit/audit.h"

namespace nflux::audit {
namespace {

using ordered_json = nlohmann::ordered_json;

std::string Str(const ordered_json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

void RuleText(const ordered_json& rule, std::ostringstream& out) {
  bool fired = rule.value("fired", false);
  out << "rule " << Str(rule, "rule") << " (" << Str(rule, "file") << ":" << Str(rule, "line") << ") "
      << (fired ? "fired #" + Str(rule, "order") : std::string("did not fire")) << ", " << Str(rule, "truth")
      << ", strength " << Str(rule, "strength") << "\n";
  if (!Str(rule, "title").empty()) out << "  " << Str(rule, "title") << "\n";
  if (rule.contains("tests"))
    for (const auto& test : rule["tests"])
      out << "  [" << Str(test, "truth") << "] " << Str(test, "test") << ": " << Str(test, "actual") << "\n";
  if (rule.contains("contributions"))
    for (const auto& c : rule["contributions"])
      out << "  -> " << Str(c, "kind") << " " << Str(c, "id") << " " << Str(c, "certainty") << "\n";
}

}  // namespace

Result<ordered_json> TraceOf(const ordered_json& trace, const std::string& rule_id) {
  if (rule_id.empty()) return trace;
  if (trace.is_object() && trace.contains("rules") && trace["rules"].is_array())
    for (const auto& rule : trace["rules"])
      if (rule.is_object() && rule.value("rule", "") == rule_id) {
        ordered_json out = trace;
        out["rules"] = ordered_json::array({rule});
        return out;
      }
  return Status::NotFound("rule " + rule_id + ": not considered in this run (a rule the case's data never woke)");
}

std::string TraceToText(const ordered_json& trace) {
  std::ostringstream out;
  size_t rules = trace.is_object() && trace.contains("rules") ? trace["rules"].size() : 0;
  out << Str(trace, "considered") << " rule(s) considered, " << Str(trace, "firings") << " firing(s)";
  if (!Str(trace, "stopped").empty()) out << "; stopped: " << Str(trace, "stopped");
  out << (rules == 1 ? "; one rule shown" : "") << "\n";
  if (rules == 0) return out.str();
  for (const auto& rule : trace["rules"]) {
    out << "\n";
    RuleText(rule, out);
  }
  return out.str();
}

}  // namespace nflux::audit
