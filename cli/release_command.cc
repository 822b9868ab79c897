// nflux release publish --account NAME [--note TEXT] | list [--json] | activate RELEASE --account NAME:
// one validated knowledge + rule version in the store for every `nflux serve --from-release`
// replica (engine/release). Publishing and activating act as an author's or admin's account, whose
// password is asked (or read with --password-stdin) and checked as a web sign-in is.
#include <iomanip>
#include <iostream>
#include <memory>

#include "accounts/accounts.h"
#include "cli/context.h"
#include "release/release.h"

namespace nflux::cli {
namespace {

struct ReleaseArgs {
  std::string account, note, tests_dir, release;
  bool password_stdin = false;
  bool json = false;
};

// The account's password checked (failures count towards its lock, as in the web app) and its role
// an author's or an admin's. Returns the account name to record as the actor.
Result<std::string> ActAs(store::Store& store, const ReleaseArgs& args, const std::string& purpose) {
  auto password = ReadPassword(args.password_stdin, /*confirm=*/false);
  if (!password.ok()) return password.status();
  accounts::Accounts accounts(store);
  auto role = accounts.Authenticate(args.account, *password, accounts::UnixNow(), purpose);
  if (!role.ok()) return role.status();
  if (*role != accounts::Role::kAuthor && *role != accounts::Role::kAdmin)
    return Status::Unauthenticated("account " + args.account + " is a " + std::string(accounts::Name(*role)) +
                                    "; only authors and admins publish or activate releases");
  return args.account;
}

std::string Short(const std::string& version) { return version.size() > 19 ? version.substr(0, 19) + "..." : version; }

int RunPublish(Context& context, const ReleaseArgs& args) {
  auto store = OpenStoreOrReport(context, store::Mode::kReadWrite);
  if (!store) return context.exit_code;
  auto actor = ActAs(*store, args, "release publish");
  if (!actor.ok()) return Fail(actor.status());
  release::PublishOptions options{PipelineOptions(context.options), args.tests_dir, *actor, args.note};
  auto published = release::Publish(*store, options);
  if (!published.ok()) return Fail(published.status());
  const store::Release& r = published->release;
  std::cout << "published " << store::ReleaseName(r.id) << " (knowledge " << Short(r.knowledge_version) << ", rules "
            << Short(r.rules_version) << "; " << published->cases_passed << " golden cases passed) to "
            << store->Describe() << "; it is active: replicas following releases switch to it\n";
  return kExitOk;
}

int RunActivate(Context& context, const ReleaseArgs& args) {
  const std::optional<int64_t> id = store::ParseReleaseId(args.release);
  if (!id) return BadInput("release '" + args.release + "': give its number or name, e.g. 3 or release-3");
  auto store = OpenStoreOrReport(context, store::Mode::kReadWrite);
  if (!store) return context.exit_code;
  auto actor = ActAs(*store, args, "release activate " + store::ReleaseName(*id));
  if (!actor.ok()) return Fail(actor.status());
  auto activated = release::Activate(*store, *id, *actor, PipelineOptions(context.options).snapshot_dir);
  if (!activated.ok()) return Fail(activated.status());
  std::cout << "activated " << store::ReleaseName(activated->id) << " (knowledge " << Short(activated->knowledge_version)
            << ", rules " << Short(activated->rules_version) << ") in " << store->Describe() << "\n";
  return kExitOk;
}

int RunList(Context& context, const ReleaseArgs& args) {
  auto store = OpenStoreOrReport(context, store::Mode::kReadOnly);
  if (!store) return context.exit_code;
  auto list = store->ListReleases();
  if (!list.ok()) return Fail(list.status());
  if (args.json) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& r : *list)
      out.push_back({{"release", store::ReleaseName(r.id)}, {"active", r.active}, {"published_at", r.published_at},
                     {"actor", r.actor}, {"note", r.note}, {"knowledge_version", r.knowledge_version},
                     {"rules_version", r.rules_version}, {"activated_at", r.activated_at},
                     {"content_hash", r.content_hash}});
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << std::left << std::setw(13) << "release" << std::setw(26) << "published" << std::setw(14) << "by"
            << std::setw(24) << "knowledge" << std::setw(24) << "rules" << "note\n";
  for (const auto& r : *list)
    std::cout << std::setw(13) << (store::ReleaseName(r.id) + (r.active ? " *" : "")) << std::setw(26) << r.published_at
              << std::setw(14) << r.actor << std::setw(24) << Short(r.knowledge_version) << std::setw(24)
              << Short(r.rules_version) << r.note << "\n";
  std::cout << list->size() << " release(s) in " << store->Describe() << (list->empty() ? "" : "; * active") << "\n";
  return kExitOk;
}

}  // namespace

void SetupReleaseCommand(CLI::App* command, Context& context) {
  auto args = std::make_shared<ReleaseArgs>();
  command->require_subcommand(1);
  auto* publish = command->add_subcommand(
      "publish", "Validate --knowledge and --rules (every golden case must pass), store them as a release and make it active");
  publish->add_option("--account", args->account, "The author's or admin's account publishing it (its password is asked)")
      ->required();
  publish->add_flag("--password-stdin", args->password_stdin, "Read the password from stdin (one line), for scripts");
  publish->add_option("--note", args->note, "What changed, kept with the release");
  publish->add_option("--tests", args->tests_dir, "The golden cases it must pass (default: RULES/tests when it exists)");
  publish->callback([&context, args] { context.exit_code = RunPublish(context, *args); });

  auto* activate = command->add_subcommand("activate", "Make an earlier release active again (a roll-back), after checking it opens");
  activate->add_option("RELEASE", args->release, "The release: its number or name (3, release-3)")->required();
  activate->add_option("--account", args->account, "The author's or admin's account activating it")->required();
  activate->add_flag("--password-stdin", args->password_stdin, "Read the password from stdin (one line), for scripts");
  activate->callback([&context, args] { context.exit_code = RunActivate(context, *args); });

  auto* list = command->add_subcommand("list", "Every release, oldest first; the active one marked *");
  list->add_flag("--json", args->json, "Print JSON");
  list->callback([&context, args] { context.exit_code = RunList(context, *args); });
}

}  // namespace nflux::cli
