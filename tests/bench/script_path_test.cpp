// Where the tools find their helper scripts: the environment variable wins, then the source
// tree's copy when it exists, then <executable's dir>/../share/rill/<name> (the installed one).
#include "rill/bench/e2e/script_path.h"

#include <stdlib.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "rill/tests/support/temp_dir.h"

using rill::bench::FindScript;
using rill::bench::ScriptLocation;

TEST_CASE("helper scripts: environment, then the source tree, then share/rill", "[bench][scripts]") {
  rill::test::TempDir tmp("rill-scripts");
  const std::string source = tmp.Sub("plot.sh");
  std::ofstream(source) << "#!/bin/sh\n";
  const ScriptLocation where{.env = "RILL_TEST_SCRIPT_PATH", .source_path = source.c_str(), .name = "plot.sh"};

  ::unsetenv("RILL_TEST_SCRIPT_PATH");
  CHECK(FindScript(where) == source);

  ::setenv("RILL_TEST_SCRIPT_PATH", "/opt/elsewhere/plot.sh", 1);
  CHECK(FindScript(where) == "/opt/elsewhere/plot.sh");  // taken as is: the user said so
  ::setenv("RILL_TEST_SCRIPT_PATH", "", 1);              // empty counts as unset
  CHECK(FindScript(where) == source);
  ::unsetenv("RILL_TEST_SCRIPT_PATH");

  // No source tree (an installed tool): next to the executable's prefix.
  const ScriptLocation installed{
      .env = "RILL_TEST_SCRIPT_PATH", .source_path = "/nonexistent/plot.sh", .name = "plot.sh"};
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe");
  CHECK(FindScript(installed) == (exe.parent_path().parent_path() / "share" / "rill" / "plot.sh").string());
  const std::string note = rill::bench::ScriptSearchNote(installed);
  CHECK(note.find("RILL_TEST_SCRIPT_PATH") != std::string::npos);
  CHECK(note.find("/nonexistent/plot.sh") != std::string::npos);
  CHECK(note.find("share/rill/plot.sh") != std::string::npos);
}
