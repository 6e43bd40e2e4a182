// rill/examples/bank_service/args.h: the few flags of rill-bank-service and rill-load
// ("--name value"), without pulling CLI11 into the examples (tools/main.cpp is its only user).
//
//   Args args("rill-load", argc, argv);
//   std::uint64_t port = 0;
//   if (!args.Number("--port", port, 1, 65535)) return 2;        // printed why, as one line
//   if (!args.Finish()) return 2;                                // an unknown or stray argument
//
// Every error is one line on stderr: "<program>: <what is wrong>: <what to give> (<program>
// --help)". A flag given twice, a value that is missing or empty, a number with a sign, a
// fraction, digits out of range or trailing junk, a value not among the choices, and an
// argument no query consumed are all errors; nothing is silently ignored or wrapped.
// Thread safety: single-threaded, start-up only.
#pragma once

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <string>
#include <system_error>
#include <vector>

namespace rill::examples::bank_service {

class Args {
 public:
  Args(const char* program, int argc, char** argv)
      : program_(program), args_(argv + 1, argv + argc), used_(args_.size(), false) {}

  // Whether a flag without a value is present (false after printing why when it is repeated:
  // check failed()).
  bool Has(const char* flag) {
    bool found = false;
    for (std::size_t i = 0; i < args_.size(); ++i) {
      if (args_[i] != flag) continue;
      if (found) Fail(std::string(flag) + " is given twice", "give it once");
      found = used_[i] = true;
    }
    return found;
  }

  // The value after `flag` into `out` when present. False (after printing why) when it is given
  // twice, has no value (the end, or the next flag) or an empty one.
  bool Text(const char* flag, std::string& out) {
    bool found = false;
    for (std::size_t i = 0; i < args_.size(); ++i) {
      if (args_[i] != flag) continue;
      used_[i] = true;
      if (found) return Fail(std::string(flag) + " is given twice", "give it once");
      found = true;
      if (i + 1 >= args_.size() || args_[i + 1].starts_with("--"))
        return Fail(std::string(flag) + " needs a value", "write " + std::string(flag) + " VALUE");
      used_[i + 1] = true;
      if (args_[i + 1].empty()) return Fail(std::string(flag) + " has an empty value", "give a value or omit it");
      out = args_[i + 1];
    }
    return true;
  }

  // A whole decimal number in [min, max]; `out` keeps its default when the flag is absent.
  bool Number(const char* flag, std::uint64_t& out, std::uint64_t min, std::uint64_t max) {
    std::string text;
    if (!Text(flag, text)) return false;
    if (text.empty()) return true;  // absent
    const std::string want = "give a whole number from " + std::to_string(min) + " to " + std::to_string(max);
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text[0] == '-') return Fail(std::string(flag) + " '" + text + "' is negative", want);
    if (ec == std::errc::invalid_argument || end != text.data() + text.size())
      return Fail(std::string(flag) + " '" + text + "' is not a whole number", want);
    if (ec != std::errc() || v < min || v > max)
      return Fail(std::string(flag) + " '" + text + "' is out of range", want);
    out = v;
    return true;
  }

  // One of `choices`; `out` keeps its default when the flag is absent.
  bool Choice(const char* flag, std::string& out, std::initializer_list<const char*> choices) {
    std::string text;
    if (!Text(flag, text)) return false;
    if (text.empty()) return true;
    std::string list;
    for (const char* c : choices) {
      if (text == c) {
        out = text;
        return true;
      }
      list += (list.empty() ? "" : ", ") + std::string(c);
    }
    return Fail(std::string(flag) + " '" + text + "' is not a choice", "give one of " + list);
  }

  // After every query: false (after printing it) when an argument was not consumed (a typo, an
  // unknown flag, a stray value) or an earlier query failed.
  bool Finish() {
    if (failed_) return false;
    for (std::size_t i = 0; i < args_.size(); ++i) {
      if (used_[i]) continue;
      return Fail(
          args_[i].starts_with("-") ? "unknown flag '" + args_[i] + "'" : "unexpected argument '" + args_[i] + "'",
          "see the flags");
    }
    return true;
  }

  // Prints "<program>: <what>: <todo> (<program> --help)" and returns false.
  bool Fail(const std::string& what, const std::string& todo) {
    if (!failed_)  // the first error only: one line
      std::fprintf(stderr, "%s: %s: %s (%s --help)\n", program_, what.c_str(), todo.c_str(), program_);
    failed_ = true;
    return false;
  }
  bool failed() const { return failed_; }

 private:
  const char* program_;
  std::vector<std::string> args_;
  std::vector<bool> used_;
  bool failed_ = false;
};

}  // namespace rill::examples::bank_service
