// `nflux serve` in build/nflux: the service lives in build/nflux-serve beside it (cli/CMakeLists.txt
// says why), which this process becomes. The command is listed here for `nflux --help`; its options
// and help are the service binary's.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "cli/context.h"

namespace nflux::cli {

std::optional<int> ExecServe(char** argv) {
  std::error_code error;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  const std::string service = (self.parent_path() / "nflux-serve").string();
  execv(service.c_str(), argv);
  std::cerr << "nflux: serve runs in " << service << ", which could not be started: " << std::strerror(errno)
            << " (build it with: cmake --build build --target nflux-serve)\n";
  return kExitInternal;
}

void SetupServeCommand(CLI::App* command, Context& context) {
  // Never reached: main() hands `serve` to ExecServe before parsing.
  command->callback([&context] { context.exit_code = kExitInternal; });
}

}  // namespace nflux::cli
