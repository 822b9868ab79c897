// nflux kb validate|stats|citations|show|path|export|build
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

#include "base/text.h"
#include "cli/context.h"
#include "store/store.h"

namespace nflux::cli {
namespace {

using knowledge::Edge;
using knowledge::KnowledgeBase;
using nlohmann::json;

std::string Sign(int sign) { return sign > 0 ? "+" : "-"; }

std::string Cites(const Edge& edge) {
  std::string text;
  for (const auto& key : edge.citations) text += (text.empty() ? "" : ", ") + key;
  return "[" + text + "]";
}

std::string EdgeLine(const Edge& edge) {
  return edge.from + " --" + std::string(knowledge::EdgeTypeName(edge.type)) + "(" + Sign(edge.sign) + ")--> " +
         edge.to + "  " + Cites(edge);
}

json CitationStatsJson(const pipeline::CitationStats& stats, bool with_rules, bool list) {
  json out = {{"total", stats.total},
              {"checked", stats.checked},
              {"textbook", stats.textbook},
              {"uncertain", stats.uncertain},
              {"with_identifier", stats.with_identifier},
              {"with_claim", stats.with_claim},
              {"grades", stats.grades},
              {"edges", stats.edges},
              {"edges_only_uncertain", stats.uncertain_edges.size()}};
  if (with_rules) {
    out["rules"] = stats.rules;
    out["rules_only_uncertain"] = stats.uncertain_rules.size();
  }
  if (list) {
    out["uncertain_edges"] = stats.uncertain_edges;
    if (with_rules) out["uncertain_rules"] = stats.uncertain_rules;
  }
  return out;
}

void PrintCitationStats(const pipeline::CitationStats& stats, bool with_rules) {
  std::cout << "citations " << stats.total << ": " << stats.checked << " checked, " << stats.textbook << " textbook, "
            << stats.uncertain << " uncertain; " << stats.with_identifier << " with an identifier (PMID, DOI, Reactome, ISBN), "
            << stats.with_claim << " with a claim\n  grades:";
  for (const auto& [grade, count] : stats.grades) std::cout << " " << grade << " " << count;
  std::cout << "\n  resting only on uncertain citations: " << stats.uncertain_edges.size() << " of " << stats.edges
            << " edges";
  if (with_rules) std::cout << ", " << stats.uncertain_rules.size() << " of " << stats.rules << " rules";
  std::cout << "\n";
}

int RunValidate(Context& context, bool as_json) {
  auto check = pipeline::CheckKnowledge(PipelineOptions(context.options));
  if (!check.ok()) return Fail(check.status());
  const knowledge::LoadOutcome& outcome = check->outcome;
  if (as_json) {
    json out = {{"version", outcome.kb->version()}, {"ok", outcome.problems.empty()}, {"problems", json::array()}};
    for (const auto& problem : outcome.problems)
      out["problems"].push_back({{"file", problem.file}, {"path", problem.json_path}, {"message", problem.message},
                                 {"text", problem.ToString()}});
    std::cout << out.dump(2) << "\n";
  } else {
    for (const auto& problem : outcome.problems) std::cerr << problem.ToString() << "\n";
    std::cout << "knowledge " << outcome.kb->version() << ": " << outcome.kb->nodes().size() << " nodes, "
              << outcome.kb->edges().size() << " edges, " << outcome.kb->citations().size() << " citations; "
              << (outcome.problems.empty() ? "no problems" : std::to_string(outcome.problems.size()) + " problem(s)")
              << "\n";
  }
  return outcome.problems.empty() ? kExitOk : kExitCheckFailed;
}

int RunStats(Context& context, bool as_json) {
  auto kb = LoadKnowledgeOrReport(context);
  if (!kb) return context.exit_code;
  auto [nodes, edges, uncited] = pipeline::StatsOf(*kb);
  if (as_json) {
    json out = {{"version", kb->version()}, {"nodes", nodes}, {"edges", edges}, {"uncited_edges", uncited},
                {"citations", kb->citations().size()}, {"total_nodes", kb->nodes().size()},
                {"total_edges", kb->edges().size()},
                {"citation_counts", CitationStatsJson(pipeline::CitationStatsOf(*kb, nullptr), false, false)}};
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << "knowledge " << kb->version() << "\n\nnodes (" << kb->nodes().size() << ")\n";
  for (const auto& [kind, count] : nodes) std::cout << "  " << kind << std::string(20 - std::min<size_t>(kind.size(), 19), ' ') << count << "\n";
  std::cout << "\nedges (" << kb->edges().size() << ")\n";
  for (const auto& [type, count] : edges) std::cout << "  " << type << std::string(22 - std::min<size_t>(type.size(), 21), ' ') << count << "\n";
  std::cout << "\ncitations " << kb->citations().size() << ", uncited edges " << uncited << "\n";
  PrintCitationStats(pipeline::CitationStatsOf(*kb, nullptr), false);
  return kExitOk;
}

// `kb citations`: the citation counts with the rules, and with --list what rests only on uncertain ones.
int RunCitations(Context& context, bool as_json, bool list) {
  auto pipeline = OpenPipelineOrReport(context);
  if (!pipeline) return context.exit_code;
  pipeline::CitationStats stats = pipeline::CitationStatsOf(pipeline->knowledge(), &pipeline->rule_base());
  if (as_json) {
    json out = CitationStatsJson(stats, true, list);
    out["version"] = pipeline->knowledge().version();
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << "knowledge " << pipeline->knowledge().version() << "\n";
  PrintCitationStats(stats, true);
  if (!list) return kExitOk;
  std::cout << "\nedges resting only on uncertain citations (" << stats.uncertain_edges.size() << ")\n";
  for (const auto& edge : stats.uncertain_edges) std::cout << "  " << edge << "\n";
  std::cout << "\nrules resting only on uncertain citations (" << stats.uncertain_rules.size() << ")\n";
  for (const auto& rule : stats.uncertain_rules) std::cout << "  " << rule << "\n";
  return kExitOk;
}

int RunShow(Context& context, const std::string& id, bool as_json) {
  auto kb = LoadKnowledgeOrReport(context);
  if (!kb) return context.exit_code;
  const auto* node = kb->Find(id);
  if (!node) return BadInput("unknown node '" + id + "'" + DidYouMean(id, kb->Ids()));
  auto out_edges = kb->OutEdges(id);
  auto in_edges = kb->InEdges(id);
  std::map<std::string, std::string> cited = pipeline::CitationsAround(*kb, *node);
  if (as_json) {
    json out = {{"version", kb->version()}, {"node", node->data.json()}, {"out", json::array()}, {"in", json::array()},
                {"citations", cited}, {"source", node->source.file + ":" + node->source.json_path}};
    for (const Edge* edge : out_edges) out["out"].push_back(edge->ToJson());
    for (const Edge* edge : in_edges) out["in"].push_back(edge->ToJson());
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << node->id << " (" << knowledge::KindName(node->kind) << "): " << node->label << "\n"
            << "  " << node->description << "\n  defined at " << node->source.file << ":" << node->source.json_path
            << "\n";
  for (const auto& [key, value] : node->data.json().items()) {
    if (key == "id" || key == "kind" || key == "label" || key == "description" || key == "citations") continue;
    std::cout << "  " << key << ": " << (value.is_string() ? value.get<std::string>() : value.dump()) << "\n";
  }
  std::cout << "\nout (" << out_edges.size() << ")\n";
  for (const Edge* edge : out_edges) std::cout << "  " << EdgeLine(*edge) << "\n";
  std::cout << "\nin (" << in_edges.size() << ")\n";
  for (const Edge* edge : in_edges) std::cout << "  " << EdgeLine(*edge) << "\n";
  std::cout << "\ncitations\n";
  for (const auto& [key, text] : cited) std::cout << "  [" << key << "] " << text << "\n";
  std::cout << "\nknowledge " << kb->version() << "\n";
  return kExitOk;
}

int RunPath(Context& context, const std::string& from, const std::string& to, int max_depth, size_t limit,
            bool as_json) {
  auto kb = LoadKnowledgeOrReport(context);
  if (!kb) return context.exit_code;
  knowledge::PathOptions options;
  options.max_depth = max_depth;
  options.max_paths = limit;
  bool truncated = false;
  auto paths = kb->FindPaths(from, to, options, &truncated);
  if (!paths.ok()) return Fail(paths.status());
  if (as_json) {
    json out = {{"version", kb->version()}, {"from", from}, {"to", to}, {"max_depth", max_depth},
                {"truncated", truncated}, {"paths", json::array()}};
    for (const auto& path : *paths) {
      json steps = json::array();
      for (const Edge* edge : path.edges) steps.push_back(edge->ToJson());
      out["paths"].push_back({{"net_sign", Sign(path.net_sign)}, {"length", path.edges.size()}, {"steps", steps}});
    }
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << "knowledge " << kb->version() << "\n";
  if (paths->empty()) {
    std::cout << "no influence path from " << from << " to " << to << " within " << max_depth << " steps\n";
    return kExitOk;
  }
  std::cout << paths->size() << (truncated ? "+" : "") << " influence path(s) from " << from << " to " << to
            << " (max depth " << max_depth << ", shortest first)\n";
  int number = 0;
  for (const auto& path : *paths) {
    std::cout << "\n" << ++number << ". net " << Sign(path.net_sign) << " (" << path.edges.size() << " steps): "
              << from << " " << (path.net_sign > 0 ? "raises" : "lowers") << " " << to << "\n";
    for (const Edge* edge : path.edges) std::cout << "   " << EdgeLine(*edge) << "\n";
  }
  if (truncated) std::cout << "\n(more paths exist: raise --limit or lower --max-depth)\n";
  return kExitOk;
}

int RunExport(Context& context, const std::string& format, const std::string& output) {
  auto kb = LoadKnowledgeOrReport(context);
  if (!kb) return context.exit_code;
  std::string text = format == "dot" ? kb->ToDot() : kb->ToJson().dump(1) + "\n";
  if (output.empty() || output == "-") {
    std::cout << text;
    return kExitOk;
  }
  if (Status written = WriteFileAtomically(output, text, "the export"); !written.ok()) return Fail(written);
  std::cerr << "wrote " << output << " (knowledge " << kb->version() << ")\n";
  return kExitOk;
}

// Knowledge files as a stored bundle names them: relative to the folder they were read from, so
// that a build loads the same from anywhere (the loader finds vocabulary.json by its file name).
std::vector<store::NamedText> RelativeFiles(const std::vector<knowledge::SourceFile>& files, std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  std::vector<store::NamedText> named;
  for (const auto& file : files) {
    bool inside = file.path.size() > dir.size() && file.path.starts_with(dir) && file.path[dir.size()] == '/';
    named.push_back({inside ? file.path.substr(dir.size() + 1) : file.path, file.text});
  }
  return named;
}

// The rule base `kb build` stores beside the knowledge: refused, naming every error, unless it loads.
Result<store::Bundle> CheckedRules(const pipeline::Options& options, const knowledge::KnowledgeBase& kb) {
  auto check = pipeline::CheckRules(options, kb);
  if (!check.ok()) return check.status();
  const rules::LoadResult& loaded = check->loaded;
  if (!loaded.errors.empty() || !loaded.rules) {
    std::string message;
    for (const auto& error : loaded.errors) message += error.ToString() + "\n";
    return Status::InvalidArgument(message + std::to_string(loaded.errors.size()) +
                                   " error(s) in the rule base: nothing was built");
  }
  Status require = pipeline::RequireRules(options.rules_dir, check->sources.size(), loaded.rules->rules.size());
  if (!require.ok()) return require;
  store::Bundle bundle{store::BundleKind::kRules, loaded.rules->version, {}};
  for (const auto& source : check->sources)
    bundle.files.push_back({source.name.empty() ? source.path : source.name, source.text});
  return bundle;
}

int RunBuild(Context& context) {
  pipeline::Options options = PipelineOptions(context.options);
  const std::string& dir = options.knowledge_dir;
  auto check = pipeline::CheckKnowledge(options);
  if (!check.ok()) return Fail(check.status());
  const auto& [files, outcome] = *check;
  if (!outcome.problems.empty()) {
    for (const auto& problem : outcome.problems) std::cerr << problem.ToString() << "\n";
    return BadInput(std::to_string(outcome.problems.size()) + " problem(s): nothing was built");
  }
  auto rules = CheckedRules(options, *outcome.kb);
  if (!rules.ok()) return Fail(rules.status());
  store::Bundle knowledge{store::BundleKind::kKnowledge, outcome.kb->version(), RelativeFiles(files, dir)};
  auto store = OpenStoreOrReport(context, store::Mode::kReadWrite);
  if (!store) return context.exit_code;
  if (Status status = store->SaveBuild(*outcome.kb, knowledge, *rules, dir); !status.ok()) return Fail(status);
  std::cout << "built knowledge " << outcome.kb->version() << " into " << store->Describe() << " ("
            << outcome.kb->nodes().size() << " nodes, " << outcome.kb->edges().size() << " edges, "
            << outcome.kb->citations().size() << " citations; rules " << rules->version << ", "
            << rules->files.size() << " files)\n";
  return kExitOk;
}

}  // namespace

void SetupKbCommand(CLI::App* kb, Context& context) {
  // Only one sub-command runs per process, so they can share one set of parsed arguments.
  struct Args {
    bool json = false;
    bool list = false;
    std::string id, from, to, format = "json", output;
    int max_depth = 6;
    size_t limit = 20;
  };
  auto args = std::make_shared<Args>();
  kb->require_subcommand(1);

  auto* validate = kb->add_subcommand("validate", "Check the knowledge base; print every problem (exit 3 if any)");
  validate->add_flag("--json", args->json, "Print the problems as JSON");
  validate->callback([&context, args] { context.exit_code = RunValidate(context, args->json); });

  auto* stats = kb->add_subcommand("stats", "Node counts by kind, edge counts by type, version");
  stats->add_flag("--json", args->json, "Print JSON (nodes, edges, version, uncited_edges)");
  AddKnowledgeSourceOptions(stats, context.options);
  stats->callback([&context, args] { context.exit_code = RunStats(context, args->json); });

  auto* citations = kb->add_subcommand(
      "citations", "Citation counts (checked, with identifier, uncertain, grades) and the edges and rules resting only on uncertain ones");
  citations->add_flag("--json", args->json, "Print JSON");
  citations->add_flag("--list", args->list, "List the edges and rules resting only on uncertain citations");
  AddKnowledgeSourceOptions(citations, context.options);
  citations->callback([&context, args] { context.exit_code = RunCitations(context, args->json, args->list); });

  auto* show = kb->add_subcommand("show", "A node with its edges in and out and their citations");
  show->add_option("ID", args->id, "Node id, e.g. tph2")->required();
  show->add_flag("--json", args->json, "Print JSON");
  AddKnowledgeSourceOptions(show, context.options);
  show->callback([&context, args] { context.exit_code = RunShow(context, args->id, args->json); });

  auto* path = kb->add_subcommand("path", "Influence paths between two nodes, each step with type, sign and citation");
  path->add_option("FROM", args->from, "Start node, e.g. cortisol")->required();
  path->add_option("TO", args->to, "End node, e.g. serotonin")->required();
  path->add_option("--max-depth", args->max_depth, "Longest path in edges (default 6)")->check(CLI::Range(1, 12));
  path->add_option("--limit", args->limit, "Most paths to print, shortest first (default 20)")->check(CLI::Range(1, 10000));
  path->add_flag("--json", args->json, "Print JSON");
  AddKnowledgeSourceOptions(path, context.options);
  path->callback([&context, args] {
    context.exit_code = RunPath(context, args->from, args->to, args->max_depth, args->limit, args->json);
  });

  auto* export_command = kb->add_subcommand("export", "The whole graph as Graphviz DOT or JSON");
  export_command->add_option("--format", args->format, "dot or json (default json)")->check(CLI::IsMember({"dot", "json"}));
  export_command->add_option("-o,--output", args->output, "Write to this file instead of stdout");
  AddKnowledgeSourceOptions(export_command, context.options);
  export_command->callback([&context, args] { context.exit_code = RunExport(context, args->format, args->output); });

  auto* build = kb->add_subcommand("build", "Validate and compile the knowledge base into the store (--db)");
  build->callback([&context] { context.exit_code = RunBuild(context); });
}

}  // namespace nflux::cli
