// rill: the command-line tool. Exit codes (documented in tools/README.md):
//   0 ok, 1 problems found / the run failed, 2 usage error, 3 cannot read the input.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "rill/base/crc32c.h"

int main(int argc, char** argv) {
  CLI::App app{"rill: an embeddable engine for fast event-sourced CQRS services"};
  app.require_subcommand(1);

  auto* version = app.add_subcommand("version", "Print the version and the build's capabilities");
  version->callback([] {
    std::printf("rill %s\ncrc32c: %s\n", RILL_VERSION,
                rill::crc32c::IsHardwareAccelerated() ? "sse4.2 (hardware)" : "portable (slicing-by-8)");
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;  // --help exits 0; every usage error exits 2
  }
  return 0;
}
