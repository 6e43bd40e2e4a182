// rill/examples/bank_service/args.h: the few flags of rill-bank-service and rill-load
// ("--name value"), without pulling CLI11 into the examples (tools/main.cpp is its only user).
//
//   Args args(argc, argv);
//   std::uint64_t port = 0;
//   if (!args.Number("--port", port, 0, 65535)) return 2;        // prints why
//   if (auto rest = args.Unused(); !rest.empty()) return usage(rest);
//
// Thread safety: single-threaded, start-up only.
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace rill::examples::bank_service {

class Args {
 public:
  Args(int argc, char** argv) : args_(argv + 1, argv + argc), used_(args_.size(), false) {}

  bool Has(const char* flag) {
    for (std::size_t i = 0; i < args_.size(); ++i)
      if (args_[i] == flag) return used_[i] = true;
    return false;
  }
  // False (after printing why) when the flag is present without a valid value.
  bool Text(const char* flag, std::string& out) {
    for (std::size_t i = 0; i < args_.size(); ++i) {
      if (args_[i] != flag) continue;
      used_[i] = true;
      if (i + 1 >= args_.size()) {
        std::fprintf(stderr, "%s needs a value\n", flag);
        return false;
      }
      used_[i + 1] = true;
      out = args_[i + 1];
    }
    return true;
  }
  bool Number(const char* flag, std::uint64_t& out, std::uint64_t min, std::uint64_t max) {
    std::string text;
    if (!Text(flag, text)) return false;
    if (text.empty()) return true;
    char* end = nullptr;
    errno = 0;
    const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
    if (errno != 0 || *end != '\0' || text[0] == '-' || v < min || v > max) {
      std::fprintf(stderr, "%s: '%s' is not a number in [%llu, %llu]\n", flag, text.c_str(),
                   static_cast<unsigned long long>(min), static_cast<unsigned long long>(max));
      return false;
    }
    out = v;
    return true;
  }
  // Arguments no query consumed: a typo or an unknown flag.
  std::string Unused() const {
    std::string rest;
    for (std::size_t i = 0; i < args_.size(); ++i)
      if (!used_[i]) rest += (rest.empty() ? "" : " ") + args_[i];
    return rest;
  }

 private:
  std::vector<std::string> args_;
  std::vector<bool> used_;
};

}  // namespace rill::examples::bank_service
