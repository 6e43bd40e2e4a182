// Helpers for the `rill inspect` tests: a small deterministic journal of bank and blog events,
// output capture, the real `rill` binary, and a tiny JSON reader (Boost 1.74 has no Boost.JSON).
#pragma once

#include <sys/wait.h>

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "rill/codecs/encoder.h"
#include "rill/codecs/schema_registry.h"
#include "rill/examples/bank/bank_domain.h"
#include "rill/examples/blog/blog_domain.h"
#include "rill/journal/journal_writer.h"
#include "rill/tests/journal/journal_test_util.h"

namespace rill::tools::test {

using journal::test::TempDir;

// 2026-11-23T01:02:03Z: every batch time below is this plus a fixed offset.
inline constexpr std::int64_t kT0 = 1'795'395'723'000'000'000;

inline codecs::SchemaRegistry Registry() {
  codecs::SchemaRegistryBuilder b;
  rill::examples::bank::BankDomain::RegisterEvents(b);
  rill::examples::blog::BlogDomain::RegisterEvents(b);
  auto reg = std::move(b).Build();
  if (!reg.ok()) std::abort();
  return std::move(reg).value();
}

// Writes journal records through the codecs' Encoder, the way the engine does.
class EventWriter {
 public:
  // blob/fingerprint override the registry's (an unknown-schema journal).
  explicit EventWriter(const std::string& dir, std::size_t segment_size = 64 * 1024,
                       const std::vector<std::uint8_t>* blob = nullptr, std::uint64_t fingerprint = 0)
      : reg_(Registry()) {
    journal::WriterOptions o;
    o.directory = dir;
    o.segment_size = segment_size;
    const std::span<const std::uint8_t> b = blob ? std::span<const std::uint8_t>(*blob) : reg_.blob();
    o.schema_blob = {reinterpret_cast<const std::byte*>(b.data()), b.size()};
    o.schema_fingerprint = blob ? fingerprint : reg_.fingerprint();
    auto w = journal::JournalWriter::Open(o);
    if (!w.ok()) std::abort();
    writer_ = std::move(w).value();
  }

  template <typename Table, typename Build>
  void Add(std::uint64_t stream, std::uint64_t version, std::uint64_t cmd, Build&& build) {
    // The envelope's time is the batch's, as the engine writes it.
    const auto rec = enc_.Encode<Table>({stream, version, ts_, cmd}, std::forward<Build>(build));
    auto span = writer_->Reserve(rec.size());
    if (!span.ok()) std::abort();
    std::memcpy(span->data(), rec.data(), rec.size());
  }
  void Begin(std::int64_t ts) { ts_ = ts; }  // the time of the batch that the next Add opens
  void Commit() {
    if (!writer_->CommitBatch(ts_).ok()) std::abort();
  }
  void Deposit(std::uint64_t stream, std::uint64_t version, std::int64_t amount) {
    Add<bank::Deposited>(stream, version, version, [&](auto& fbb) { return bank::CreateDeposited(fbb, amount); });
  }
  journal::JournalWriter& writer() { return *writer_; }
  const codecs::SchemaRegistry& registry() const { return reg_; }

 private:
  codecs::SchemaRegistry reg_;
  codecs::Encoder enc_;
  std::int64_t ts_ = 0;
  std::unique_ptr<journal::JournalWriter> writer_;
};

// The golden journal: 8 events in 6 batches, bank streams 1 and 2, blog post 1000.
inline void WriteSmallJournal(const std::string& dir) {
  EventWriter w(dir);
  w.Begin(kT0);
  w.Add<bank::AccountOpened>(1, 1, 1, [](auto& fbb) { return bank::CreateAccountOpened(fbb, 100, 978); });
  w.Commit();
  w.Begin(kT0 + 250'000'000);
  w.Add<bank::AccountOpened>(2, 1, 2, [](auto& fbb) { return bank::CreateAccountOpened(fbb, 200, 978); });
  w.Commit();
  w.Begin(kT0 + 1'000'000'000);
  w.Add<bank::Deposited>(1, 2, 3, [](auto& fbb) { return bank::CreateDeposited(fbb, 500); });
  w.Commit();
  w.Begin(kT0 + 2'000'000'000);
  w.Add<bank::TransferSent>(1, 3, 4, [](auto& fbb) { return bank::CreateTransferSent(fbb, 2, 200); });
  w.Add<bank::TransferReceived>(2, 2, 4, [](auto& fbb) { return bank::CreateTransferReceived(fbb, 1, 200); });
  w.Commit();
  w.Begin(kT0 + 3'000'000'000);
  w.Add<blog::PostCreated>(1000, 1, 5,
                           [](auto& fbb) { return blog::CreatePostCreatedDirect(fbb, 7, "Hello", "First \"post\""); });
  w.Commit();
  w.Begin(kT0 + 3'500'000'000);
  w.Add<blog::PostPublished>(1000, 2, 6, [](auto& fbb) { return blog::CreatePostPublished(fbb); });
  w.Add<blog::CommentAdded>(1000, 3, 6, [](auto& fbb) { return blog::CreateCommentAddedDirect(fbb, 8, "Nice"); });
  w.Commit();
}

struct Output {
  int exit = -1;
  std::string out, err;
};

// Runs fn(out, err) with both streams captured in memory.
template <typename Fn>
Output Capture(Fn&& fn) {
  Output o;
  char *out_buf = nullptr, *err_buf = nullptr;
  std::size_t out_len = 0, err_len = 0;
  std::FILE* out = ::open_memstream(&out_buf, &out_len);
  std::FILE* err = ::open_memstream(&err_buf, &err_len);
  o.exit = fn(out, err);
  std::fclose(out);
  std::fclose(err);
  o.out.assign(out_buf, out_len);
  o.err.assign(err_buf, err_len);
  std::free(out_buf);
  std::free(err_buf);
  return o;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// Runs `binary <args>` (no standard input), capturing stdout and stderr through files in `tmp`.
inline Output RunBinary(const TempDir& tmp, const char* binary, const std::string& args) {
  const std::string out = tmp.Sub("stdout.txt"), err = tmp.Sub("stderr.txt");
  const std::string cmd = std::string(binary) + " " + args + " >" + out + " 2>" + err + " </dev/null";
  const int status = std::system(cmd.c_str());
  Output o;
  o.exit = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  o.out = ReadFile(out);
  o.err = ReadFile(err);
  return o;
}

// Runs the real binary: `rill <args>`.
inline Output RunRill(const TempDir& tmp, const std::string& args) { return RunBinary(tmp, RILL_BIN, args); }

inline std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

inline void Replace(std::string* s, const std::string& from, const std::string& to) {
  for (std::size_t at = 0; (at = s->find(from, at)) != std::string::npos; at += to.size())
    s->replace(at, from.size(), to);
}

// A JSON value, enough to check rill's output: numbers keep their text (u64 ids stay exact).
struct Json {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject } kind = Kind::kNull;
  std::string text;  // number text, string value, "true"/"false"
  std::vector<Json> items;
  std::map<std::string, Json> fields;
  const Json& operator[](const std::string& k) const {
    static const Json kMissing;
    auto it = fields.find(k);
    return it == fields.end() ? kMissing : it->second;
  }
  bool has(const std::string& k) const { return fields.count(k) != 0; }
};

// Parses exactly one JSON value filling all of `s`; false on any syntax error.
class JsonReader {
 public:
  static bool Parse(const std::string& s, Json* out) {
    JsonReader r(s);
    return r.Value(out) && (r.Ws(), r.i_ == s.size());
  }

 private:
  explicit JsonReader(const std::string& s) : s_(s) {}
  void Ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool Lit(const char* w) {
    const std::string word(w);
    if (s_.compare(i_, word.size(), word) != 0) return false;
    i_ += word.size();
    return true;
  }
  bool Str(std::string* out) {
    if (i_ >= s_.size() || s_[i_] != '"') return false;
    for (++i_; i_ < s_.size(); ++i_) {
      char c = s_[i_];
      if (c == '"') {
        ++i_;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c == '\\') {
        if (++i_ >= s_.size()) return false;
        c = s_[i_];
        if (c == 'u') {
          if (i_ + 4 >= s_.size()) return false;
          *out += "\\u" + s_.substr(i_ + 1, 4);  // kept escaped: enough for these tests
          i_ += 4;
          continue;
        }
        static const std::string kEsc = "\"\\/bfnrt", kVal = "\"\\/\b\f\n\r\t";
        const auto k = kEsc.find(c);
        if (k == std::string::npos) return false;
        c = kVal[k];
      }
      *out += c;
    }
    return false;
  }
  bool Value(Json* v) {
    Ws();
    if (i_ >= s_.size()) return false;
    const char c = s_[i_];
    if (c == '{') {
      v->kind = Json::Kind::kObject;
      ++i_;
      Ws();
      if (i_ < s_.size() && s_[i_] == '}') return ++i_, true;
      for (;;) {
        Ws();
        std::string key;
        if (!Str(&key)) return false;
        Ws();
        if (i_ >= s_.size() || s_[i_++] != ':') return false;
        if (!Value(&v->fields[key])) return false;
        Ws();
        if (i_ < s_.size() && s_[i_] == ',') {
          ++i_;
          continue;
        }
        return i_ < s_.size() && s_[i_++] == '}';
      }
    }
    if (c == '[') {
      v->kind = Json::Kind::kArray;
      ++i_;
      Ws();
      if (i_ < s_.size() && s_[i_] == ']') return ++i_, true;
      for (;;) {
        v->items.emplace_back();
        if (!Value(&v->items.back())) return false;
        Ws();
        if (i_ < s_.size() && s_[i_] == ',') {
          ++i_;
          continue;
        }
        return i_ < s_.size() && s_[i_++] == ']';
      }
    }
    if (c == '"') return v->kind = Json::Kind::kString, Str(&v->text);
    if (Lit("true")) return v->kind = Json::Kind::kBool, v->text = "true", true;
    if (Lit("false")) return v->kind = Json::Kind::kBool, v->text = "false", true;
    if (Lit("null")) return true;
    const std::size_t start = i_;
    if (s_[i_] == '-') ++i_;
    while (i_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[i_])) || s_[i_] == '.' || s_[i_] == 'e' ||
                              s_[i_] == 'E' || s_[i_] == '+' || s_[i_] == '-'))
      ++i_;
    if (i_ == start || (i_ == start + 1 && s_[start] == '-')) return false;
    v->kind = Json::Kind::kNumber;
    v->text = s_.substr(start, i_ - start);
    return true;
  }
  const std::string& s_;
  std::size_t i_ = 0;
};

}  // namespace rill::tools::test
