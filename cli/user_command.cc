// nflux user add NAME --role ROLE [--password-stdin] | list [--json]: the web app's local accounts
// (engine/accounts). A password is read from stdin (--password-stdin, one line) or asked twice on
// the terminal without echo; it never appears in arguments, output or the store.
#include <iomanip>
#include <iostream>
#include <memory>

#include "accounts/accounts.h"
#include "cli/context.h"

namespace nflux::cli {
namespace {

struct UserArgs {
  std::string name, role;
  bool password_stdin = false;
  bool json = false;
};

int RunAdd(Context& context, const UserArgs& args) {
  const std::optional<accounts::Role> role = accounts::ParseRole(args.role);
  if (!role) return BadInput("--role: " + args.role + " is not practitioner, reviewer, author or admin");
  if (Status status = accounts::CheckAccountName(args.name); !status.ok()) return Fail(status);
  auto password = ReadPassword(args.password_stdin, /*confirm=*/true);
  if (!password.ok()) return Fail(password.status());
  auto store = OpenStoreOrReport(context, store::Mode::kReadWrite);
  if (!store) return context.exit_code;
  accounts::Accounts accounts(*store);
  auto added = accounts.Add(args.name, *role, *password, CurrentActor());
  if (!added.ok()) return Fail(added.status());
  std::cout << "added account " << added->name << " (" << added->role << ") to " << store->Describe() << "\n";
  return kExitOk;
}

int RunList(Context& context, const UserArgs& args) {
  auto store = OpenStoreOrReport(context, store::Mode::kReadOnly);
  if (!store) return context.exit_code;
  auto list = store->ListAccounts();
  if (!list.ok()) return Fail(list.status());
  if (args.json) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& a : *list)
      out.push_back({{"name", a.name}, {"role", a.role}, {"created_at", a.created_at},
                     {"failed_sign_ins", a.failed_sign_ins}, {"locked_until", a.locked_until}});
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << std::left << std::setw(24) << "account" << std::setw(14) << "role" << "created\n";
  for (const auto& a : *list)
    std::cout << std::setw(24) << a.name << std::setw(14) << a.role << a.created_at
              << (a.locked_until > 0 ? "  (locked)" : "") << "\n";
  std::cout << list->size() << " account(s) in " << store->Describe() << "\n";
  return kExitOk;
}

}  // namespace

void SetupUserCommand(CLI::App* command, Context& context) {
  auto args = std::make_shared<UserArgs>();
  command->require_subcommand(1);
  auto* add = command->add_subcommand("add", "Add a local account of the web app (the password is asked, never an argument)");
  add->add_option("NAME", args->name, "Account name: a-z, 0-9, '.', '_', '-', starting with a letter")->required();
  add->add_option("--role", args->role, "practitioner, reviewer, author or admin")->required();
  add->add_flag("--password-stdin", args->password_stdin, "Read the password from stdin (one line), for scripts");
  add->callback([&context, args] { context.exit_code = RunAdd(context, *args); });

  auto* list = command->add_subcommand("list", "The accounts: name, role, created, locked (never a password or hash)");
  list->add_flag("--json", args->json, "Print JSON");
  list->callback([&context, args] { context.exit_code = RunList(context, *args); });
}

}  // namespace nflux::cli
