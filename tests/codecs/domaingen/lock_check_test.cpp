// rill-domaingen run as the build runs it, on fixture schemas (fixtures/*.fbs, compiled to .bfbs
// at build time) against a copy of fixtures/base.events.lock: each rule of the lock fails the
// run with exit code 1 and a message naming the event and field; compatible changes extend it.
#include <sys/wait.h>
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "rill/tests/support/temp_dir.h"

namespace {

namespace fs = std::filesystem;

struct Run {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class Fixture {
 public:
  Fixture() : lock_(tmp_.Sub("fixture.events.lock")) {
    fs::copy_file(std::string(RILL_DOMAINGEN_FIXTURE_SRC) + "/base.events.lock", lock_);
  }
  const std::string& lock() const { return lock_; }

  Run Generate(const std::string& schema, const std::string& extra = "", const std::string& ns = "fixture",
               const std::string& domain_id = "7") const {
    const std::string cmd =
        std::string(RILL_DOMAINGEN_EXE) + " --bfbs " + RILL_DOMAINGEN_FIXTURE_BFBS + "/" + schema + ".bfbs --lock " +
        lock_ + " --out-dir " + tmp_.Sub("out") + " --domain-id " + domain_id + " --namespace " + ns +
        " --name Fixture --schema-name fixture --stem fixture --schema-file fixture.fbs " + extra + " 2>&1";
    Run run;
    FILE* p = ::popen(cmd.c_str(), "r");
    REQUIRE(p != nullptr);
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) run.output.append(buf, n);
    const int status = ::pclose(p);
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return run;
  }

 private:
  rill::test::TempDir tmp_{"rill-domaingen"};
  std::string lock_;
};

// The run fails with exit code 1, the lock is untouched, and the output holds `message`.
void CheckRefused(const std::string& schema, const std::string& message) {
  Fixture f;
  const std::string before = ReadText(f.lock());
  const Run run = f.Generate(schema);
  INFO(run.output);
  CHECK(run.exit_code == 1);
  CHECK(run.output.find(message) != std::string::npos);
  CHECK(ReadText(f.lock()) == before);
}

}  // namespace

TEST_CASE("the schema the lock describes passes and leaves the lock as it is", "[domaingen][lock]") {
  Fixture f;
  const std::string before = ReadText(f.lock());
  const Run run = f.Generate("base", "--locked");
  INFO(run.output);
  CHECK(run.exit_code == 0);
  CHECK(run.output.empty());
  CHECK(ReadText(f.lock()) == before);
}

TEST_CASE("an event removed from the schema is refused", "[domaingen][lock]") {
  CheckRefused("removed_event",
               "fixture.fbs: event fixture.Closed (type 0x00070003) (table fixture.fb.Closed) is in the lock but not "
               "in the schema");
}

TEST_CASE("a type id reused by another table is refused", "[domaingen][lock]") {
  CheckRefused("reused_id",
               "fixture.fbs: event fixture.Closed (type 0x00070003): the type id was fixture.fb.Closed and now names "
               "fixture.fb.Frozen");
}

TEST_CASE("a retyped field is refused", "[domaingen][lock]") {
  CheckRefused("retyped",
               "fixture.fbs: event fixture.Deposited (type 0x00070002): field amount changed type from long to int: "
               "old journals hold the long; add a new field instead");
}

TEST_CASE("a renumbered field is refused", "[domaingen][lock]") {
  CheckRefused("renumbered", "event fixture.Deposited (type 0x00070002): field amount moved from id 0 to id 1");
}

TEST_CASE("a removed field is refused", "[domaingen][lock]") {
  CheckRefused("removed_field",
               "event fixture.Deposited (type 0x00070002): field amount (id 0) was removed or renamed");
}

TEST_CASE("a field made required is refused", "[domaingen][lock]") {
  CheckRefused("newly_required", "event fixture.Deposited (type 0x00070002): field memo is now required");
}

TEST_CASE("a new required field in a locked event is refused", "[domaingen][lock]") {
  CheckRefused("new_required_field", "event fixture.Deposited (type 0x00070002): field tag is new and required");
}

TEST_CASE("a changed aggregate kind is refused", "[domaingen][lock]") {
  CheckRefused("kind_changed",
               "event fixture.Deposited (type 0x00070002): aggregate kind changed from Account to Ledger");
}

TEST_CASE("a changed rill_ends is refused", "[domaingen][lock]") {
  CheckRefused("ends_changed", "event fixture.Closed (type 0x00070003): rill_ends changed from yes to no");
}

TEST_CASE("a field type no event struct can hold is refused", "[domaingen][schema]") {
  CheckRefused("nested_table",
               "event fixture.Deposited (type 0x00070002): field inner has type table:fixture.fb.Inner");
}

TEST_CASE("a NAMESPACE equal to the schema's namespace is refused", "[domaingen][schema]") {
  Fixture f;
  const Run run = f.Generate("base", "", "fixture::fb");
  INFO(run.output);
  CHECK(run.exit_code == 1);
  CHECK(run.output.find("the C++ namespace fixture::fb is also the namespace of table fixture.fb.") !=
        std::string::npos);
}

TEST_CASE("new events, versions and optional fields are appended to the lock", "[domaingen][lock]") {
  Fixture f;
  const std::string before = ReadText(f.lock());

  const Run locked = f.Generate("additions", "--locked");  // CI mode: the lock must already be complete
  CHECK(locked.exit_code == 1);
  CHECK(ReadText(f.lock()) == before);

  const Run run = f.Generate("additions");
  INFO(run.output);
  CHECK(run.exit_code == 0);
  CHECK(run.output.find("updated; commit it with fixture.fbs") != std::string::npos);
  const std::string after = ReadText(f.lock());
  // Old entries stay (version 1 now under its renamed table), new ones are appended.
  CHECK(after.find("event 0x00070002 version 1\n  name fixture.Deposited\n  table fixture.fb.DepositedV1\n") !=
        std::string::npos);
  CHECK(after.find("event 0x00070002 version 2\n") != std::string::npos);
  CHECK(after.find("  field 2 cents long\n") != std::string::npos);
  CHECK(after.find("event 0x00070004 version 1\n  name fixture.Reopened\n") != std::string::npos);
  CHECK(after.find("  field 1 currency ushort deprecated\n") != std::string::npos);

  // Idempotent: a second build changes nothing; and the old schema is now refused.
  const Run again = f.Generate("additions", "--locked");
  CHECK(again.exit_code == 0);
  CHECK(again.output.empty());
  const Run old = f.Generate("base");
  CHECK(old.exit_code == 1);
  CHECK(old.output.find("event fixture.Reopened (type 0x00070004) (table fixture.fb.Reopened) is in the lock but "
                        "not in the schema") != std::string::npos);
}

TEST_CASE("a missing lock file is created", "[domaingen][lock]") {
  Fixture f;
  fs::remove(f.lock());
  const Run run = f.Generate("base");
  CHECK(run.exit_code == 0);
  CHECK(run.output.find("created") != std::string::npos);
  CHECK(ReadText(f.lock()) == ReadText(std::string(RILL_DOMAINGEN_FIXTURE_SRC) + "/base.events.lock"));
}

TEST_CASE("usage errors exit with code 2", "[domaingen]") {
  Fixture f;
  const Run range = f.Generate("base", "", "fixture", "70000");
  CHECK(range.exit_code == 2);
  CHECK(range.output.find("--domain-id") != std::string::npos);
  const Run ns = f.Generate("base", "", "'not a namespace'");
  CHECK(ns.exit_code == 2);
  CHECK(ns.output.find("not a C++ namespace") != std::string::npos);
  CHECK(f.Generate("base", "--no-such-flag").exit_code == 2);
}
