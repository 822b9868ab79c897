// The summary of a batch, as JSON (--summary FILE) and as text (stderr).
#include <algorithm>
#include <cmath>
#include <sstream>
#include <vector>

#include "base/text.h"
#include "batch/batch.h"

namespace nflux::batch {
namespace {

using nlohmann::ordered_json;

ordered_json CountsJson(const std::map<std::string, int64_t>& counts) {
  ordered_json out = ordered_json::object();
  for (const auto& [id, count] : counts) out[id] = count;
  return out;
}

// Most frequent first, then by id.
std::vector<std::pair<std::string, int64_t>> ByCount(const std::map<std::string, int64_t>& counts) {
  std::vector<std::pair<std::string, int64_t>> rows(counts.begin(), counts.end());
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  return rows;
}

void TableText(const std::string& title, const std::map<std::string, int64_t>& counts, std::ostream& out) {
  if (counts.empty()) return;
  out << title << ":";
  const char* separator = " ";
  for (const auto& [id, count] : ByCount(counts)) {
    out << separator << id << " " << count;
    separator = ", ";
  }
  out << "\n";
}

}  // namespace

ordered_json Summary::ToJson() const {
  ordered_json deficits = ordered_json::object();
  for (const auto& [id, count] : deficits_likely) deficits[id]["likely"] = count;
  for (const auto& [id, count] : deficits_possible) deficits[id]["possible"] = count;
  for (auto& [id, levels] : deficits.items()) {
    if (!levels.contains("likely")) levels["likely"] = 0;
    if (!levels.contains("possible")) levels["possible"] = 0;
  }
  ordered_json out;
  out["cases"] = cases;
  out["evaluated"] = evaluated;
  out["errors"] = {{"total", errors}, {"by_kind", CountsJson(errors_by_kind)}};
  out["deficits"] = deficits;
  out["alerts"] = CountsJson(alerts);
  out["blocked_strategies"] = CountsJson(blocked_strategies);
  out["saved_runs"] = saved_runs;
  out["elapsed_seconds"] = std::round(elapsed_seconds * 1000) / 1000;
  out["cases_per_second"] = std::round(CasesPerSecond());
  return out;
}

std::string Summary::ToText() const {
  std::ostringstream out;
  out << "batch: " << cases << " case" << (cases == 1 ? "" : "s") << ", " << evaluated << " evaluated, " << errors
      << " bad";
  if (!errors_by_kind.empty()) {
    out << " (";
    const char* separator = "";
    for (const auto& [kind, count] : errors_by_kind) {
      out << separator << kind << " " << count;
      separator = ", ";
    }
    out << ")";
  }
  out << " in " << FormatNumber(elapsed_seconds, 3) << " s (" << std::llround(CasesPerSecond()) << " cases/s)\n";
  if (saved_runs > 0) out << "stored: " << saved_runs << " runs\n";
  TableText("likely deficits", deficits_likely, out);
  TableText("possible deficits", deficits_possible, out);
  TableText("alerts", alerts, out);
  TableText("blocked strategies", blocked_strategies, out);
  return out.str();
}

}  // namespace nflux::batch
