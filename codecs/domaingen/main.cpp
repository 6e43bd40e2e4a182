// rill-domaingen: a domain's binary schema + lock file -> <stem>_events.h and <stem>_events.cpp,
// after checking that the schema can still read every journal the lock describes. Run by
// rill_add_domain() (cmake/RillDomain.cmake) at build time; README.md has the details.
//
// Exit codes: 0 generated (the lock may have been extended), 1 the schema is not a valid
// domain or breaks the lock (messages on stderr), 2 usage error.
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "rill/codecs/domaingen/compat.h"
#include "rill/codecs/domaingen/emit.h"
#include "rill/codecs/domaingen/lock_file.h"
#include "rill/codecs/domaingen/schema_model.h"

namespace {

namespace fs = std::filesystem;
using namespace rill::codecs::domaingen;

struct Flags {
  std::string bfbs;
  std::string schema_file;
  std::string lock;
  std::string out_dir;
  std::string cpp_namespace;
  std::string name;
  std::string schema_name;
  std::string stem;
  unsigned domain_id = 0;
  bool locked = false;
};

std::optional<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Writes through a temporary file and a rename, so an interrupted build never leaves half a file.
bool WriteFile(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out || !out.write(text.data(), static_cast<std::streamsize>(text.size())) || !out.flush()) return false;
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  return !ec;
}

int Fail(const std::vector<std::string>& errors) {
  for (const std::string& e : errors) std::cerr << e << '\n';
  return 1;
}

// Identifiers joined by "::" (no std::regex: GCC 12's <regex> fails the ASan build's -Werror).
bool IsCppNamespace(const std::string& s) {
  bool start = true;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == ':') {
      if (start || i + 1 >= s.size() || s[i + 1] != ':') return false;
      ++i;
      start = true;
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_' ||
               (!start && std::isdigit(static_cast<unsigned char>(c)))) {
      start = false;
    } else {
      return false;
    }
  }
  return !s.empty() && !start;
}

// flatc puts the tables in the schema's namespace; the event structs are named like the tables,
// so the two namespaces must differ.
std::vector<std::string> CheckNamespace(const DomainModel& model, const Flags& f) {
  std::vector<std::string> errors;
  for (const EventModel& e : model.events) {
    const std::size_t dot = e.table.rfind('.');
    if (dot == std::string::npos) continue;
    const std::string schema_ns = e.table.substr(0, dot);
    std::string as_cpp;
    for (char c : schema_ns) as_cpp += c == '.' ? std::string("::") : std::string(1, c);
    if (as_cpp != f.cpp_namespace) continue;
    errors.push_back(f.schema_file + ": the C++ namespace " + f.cpp_namespace + " is also the namespace of table " +
                     e.table + ": the generated event structs would collide with flatc's tables; give the schema " +
                     "a namespace of its own (e.g. `namespace " + schema_ns + ".fb;`) or choose another NAMESPACE");
    break;
  }
  return errors;
}

int Run(const Flags& f) {
  const std::optional<std::string> bfbs = ReadFile(f.bfbs);
  if (!bfbs) return Fail({f.bfbs + ": cannot read the binary schema"});
  const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(bfbs->data()), bfbs->size());

  std::vector<std::string> errors;
  DomainModel model;
  if (!ReadDomainModel(
          bytes,
          {.domain_id = static_cast<std::uint16_t>(f.domain_id), .schema_name = f.schema_name, .label = f.schema_file},
          &model, &errors)) {
    return Fail(errors);
  }
  if (errors = CheckNamespace(model, f); !errors.empty()) return Fail(errors);

  std::vector<LockEntry> locked;
  const std::optional<std::string> lock_text = ReadFile(f.lock);
  if (lock_text && !ParseLock(*lock_text, f.lock, &locked, &errors)) return Fail(errors);
  std::vector<LockEntry> current;
  for (const EventModel& e : model.events) current.push_back(ToLockEntry(e));
  std::vector<std::string> notes;
  if (!CheckCompatible(locked, current, f.schema_file, &errors, &notes)) return Fail(errors);

  const std::string new_lock = FormatLock(current, f.schema_file);
  if (!lock_text || *lock_text != new_lock) {
    if (f.locked) {
      errors.push_back(f.lock +
                       ": the schema adds to the lock file and --locked forbids updating it: run the build "
                       "without it and commit the lock");
      for (const std::string& n : notes) errors.push_back("  " + n);
      return Fail(errors);
    }
    if (!WriteFile(f.lock, new_lock)) return Fail({f.lock + ": cannot write the lock file"});
    std::cout << "rill-domaingen: " << f.lock << (lock_text ? ": updated" : ": created") << "; commit it with "
              << f.schema_file << '\n';
    for (const std::string& n : notes) std::cout << "  " << n << '\n';
  }

  const EmitOptions emit{.cpp_namespace = f.cpp_namespace,
                         .name = f.name,
                         .schema_name = f.schema_name,
                         .stem = f.stem,
                         .schema_file = f.schema_file,
                         .domain_id = static_cast<std::uint16_t>(f.domain_id)};
  const fs::path out(f.out_dir);
  std::error_code ec;
  fs::create_directories(out, ec);
  // Always written (even when unchanged): the build compares their time with the inputs'.
  if (!WriteFile(out / (f.stem + "_events.h"), EmitHeader(model, emit)) ||
      !WriteFile(out / (f.stem + "_events.cpp"), EmitSource(model, emit, bytes))) {
    return Fail({f.out_dir + ": cannot write the generated files"});
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"rill-domaingen: a domain schema (.bfbs) and its lock file -> <stem>_events.h/.cpp"};
  Flags f;
  app.add_option("--bfbs", f.bfbs, "binary schema from flatc --binary --schema --bfbs-builtins --bfbs-filenames")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--lock", f.lock, "lock file beside the schema (created when missing, extended when the schema adds)")
      ->required();
  app.add_option("--out-dir", f.out_dir, "where <stem>_events.h and <stem>_events.cpp go")->required();
  app.add_option("--domain-id", f.domain_id, "the domain's 16-bit id: type ids are (domain << 16) | rill_event")
      ->required()
      ->check(CLI::Range(1u, 65535u));
  app.add_option("--namespace", f.cpp_namespace, "C++ namespace of the generated structs, e.g. shop::inventory")
      ->required()
      ->check(CLI::Validator(
          [](const std::string& s) { return IsCppNamespace(s) ? std::string() : "not a C++ namespace: " + s; },
          "NAMESPACE"));
  app.add_option("--name", f.name, "prefix of <Name>Events, e.g. Inventory")->required();
  app.add_option("--schema-name", f.schema_name, "the schema's name in the registry and in logical event names")
      ->required();
  app.add_option("--stem", f.stem, "file stem: includes <stem>_generated.h, writes <stem>_events.*")->required();
  app.add_option("--schema-file", f.schema_file, "how messages name the schema, e.g. inventory.fbs")->required();
  app.add_flag("--locked", f.locked, "fail instead of updating the lock file (CI)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }
  return Run(f);
}
