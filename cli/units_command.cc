// nflux units convert VALUE UNIT --to UNIT [--test LAB] [--json]
#include <iostream>
#include <memory>

#include "base/text.h"
#include "cli/context.h"

namespace nflux::cli {
namespace {

struct ConvertArgs {
  double value = 0;
  std::string from, to, test;
  bool json = false;
};

int RunConvert(Context& context, const ConvertArgs& args) {
  std::shared_ptr<const knowledge::KnowledgeBase> kb;
  const units::Analyte* analyte = nullptr;
  std::string test_id;
  if (!args.test.empty()) {
    kb = LoadKnowledgeOrReport(context);
    if (!kb) return context.exit_code;
    const knowledge::Node* node = kb->Find(args.test);
    if (!node || !node->lab) node = kb->FindLabByLoinc(args.test);
    if (!node || !node->lab)
      return BadInput("--test: unknown lab '" + args.test + "'" + DidYouMean(args.test, kb->IdsOfKind(knowledge::NodeKind::kLab)));
    analyte = &node->lab->analyte;
    test_id = node->id;
  }
  auto converted = units::Convert(args.value, args.from, args.to, analyte);
  if (!converted.ok()) return Fail(converted.status());
  std::string unit = units::NormaliseUnitText(args.to);
  if (args.json) {
    nlohmann::json out = {{"value", *converted}, {"unit", unit}};
    if (!test_id.empty()) {
      out["test"] = test_id;
      out["knowledge_version"] = kb->version();
    }
    std::cout << out.dump() << "\n";
  } else {
    std::cout << FormatNumber(args.value) << " " << units::NormaliseUnitText(args.from) << " = "
              << FormatNumber(*converted) << " " << unit << (test_id.empty() ? "" : " (" + test_id + ")") << "\n";
  }
  return kExitOk;
}

}  // namespace

void SetupUnitsCommand(CLI::App* units_command, Context& context) {
  units_command->require_subcommand(1);
  auto* convert = units_command->add_subcommand("convert", "Convert a value between units");
  auto args = std::make_shared<ConvertArgs>();
  convert->add_option("VALUE", args->value, "The number to convert")->required();
  convert->add_option("UNIT", args->from, "Its unit, UCUM-style (ng/mL, pmol/L, m[IU]/L, %...)")->required();
  convert->add_option("--to", args->to, "The unit wanted")->required();
  convert->add_option("--test", args->test, "The lab (id or LOINC) when the molar mass matters, e.g. vitamin_b12");
  convert->add_flag("--json", args->json, R"(Print {"value": ..., "unit": ...})");
  convert->callback([&context, args] { context.exit_code = RunConvert(context, *args); });
}

}  // namespace nflux::cli
