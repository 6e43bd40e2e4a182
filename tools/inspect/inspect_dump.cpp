#include "rill/tools/inspect/inspect_dump.h"

#include <cinttypes>
#include <optional>
#include <string>

#include "flatbuffers/util.h"
#include "rill/tools/inspect/journal_view.h"

namespace rill::tools::inspect {
namespace {

constexpr std::size_t kRawBytesShown = 64;  // of a record without a schema

std::string Hex(std::span<const std::byte> bytes, std::size_t max) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < bytes.size() && i < max; ++i) {
    const auto b = static_cast<unsigned>(bytes[i]);
    s += kDigits[b >> 4];
    s += kDigits[b & 15];
  }
  return s;
}

std::string JsonString(std::string_view s) {
  std::string out;
  (void)flatbuffers::EscapeString(s.data(), s.size(), &out, /*allow_non_utf8=*/true, /*natural_utf8=*/false);
  return out;
}

class Printer {
 public:
  Printer(const DumpOptions& o, std::FILE* out) : o_(o), out_(out) {}

  void operator()(const Event& e) {
    if (o_.json) {
      Json(e);
    } else {
      Text(e);
    }
    std::fputs(line_.c_str(), out_);
    std::fputc('\n', out_);
    if (o_.follow) std::fflush(out_);  // a live view: each event as soon as it is read
  }

 private:
  void Text(const Event& e) {
    const journal::Record& r = *e.record;
    char head[128];
    std::snprintf(head, sizeof head, "%" PRIu64 "  %s  ", r.position, FormatTime(r.timestamp_ns).c_str());
    line_ = head;
    if (e.decoded != nullptr) {
      const codecs::DecodedEvent& d = *e.decoded;
      line_ += StreamLabel(d.type().aggregate, d.stream_id());
      std::snprintf(head, sizeof head, " v%" PRIu64 "  ", d.stream_version());
      line_ += head;
      line_ += e.type_name;
      std::snprintf(head, sizeof head, "  cmd %" PRIu64 "  ", d.command_id());
      line_ += head;
      if (const Status s = e.codec->printer.PrintBody(d, &body_); s.ok()) {
        line_ += body_;
      } else {
        line_ += "<body cannot be printed: " + std::string(s.message()) + ">";
      }
    } else if (e.codec == nullptr || e.other) {
      if (const std::optional<DigestFields> dg = e.other ? ReadDigest(r) : std::nullopt) {
        std::snprintf(head, sizeof head, "record type %u  %zu bytes  digest %016" PRIx64 " covers position %" PRIu64,
                      static_cast<unsigned>(r.type), r.payload.size(), dg->digest, dg->covers_position);
        line_ += head;
        return;
      }
      line_ += "record type " + std::to_string(r.type) + "  " + std::to_string(r.payload.size()) + " bytes  " +
               Hex(r.payload, kRawBytesShown) + (r.payload.size() > kRawBytesShown ? "..." : "");
    } else {
      line_ += "<undecodable: " + std::string(e.decode_error.message()) + ">";
    }
  }

  void Json(const Event& e) {
    const journal::Record& r = *e.record;
    const std::string time = ",\"time\":\"" + FormatTime(r.timestamp_ns) + "\"";
    if (e.decoded != nullptr) {
      if (const Status s = e.codec->printer.Print(*e.decoded, &line_); s.ok()) {
        // JsonPrinter's object starts {"position":N, ...: "time" goes right after it.
        line_.insert(line_.find(','), time);
        return;
      } else {
        line_ = "{\"position\":" + std::to_string(r.position) + time +
                ",\"error\":" + JsonString("body cannot be printed: " + std::string(s.message())) + "}";
        return;
      }
    }
    line_ =
        "{\"position\":" + std::to_string(r.position) + time + ",\"timestamp_ns\":" + std::to_string(r.timestamp_ns);
    if (e.codec == nullptr || e.other) {
      line_ += ",\"record_type\":" + std::to_string(r.type) + ",\"size\":" + std::to_string(r.payload.size());
      if (const std::optional<DigestFields> dg = e.other ? ReadDigest(r) : std::nullopt) {
        char digest[96];
        std::snprintf(digest, sizeof digest, ",\"digest\":\"%016" PRIx64 "\",\"covers_position\":%" PRIu64, dg->digest,
                      dg->covers_position);
        line_ += digest;
      }
      line_ += ",\"payload_hex\":\"" + Hex(r.payload, r.payload.size()) + "\"}";
    } else {
      line_ +=
          ",\"size\":" + std::to_string(r.payload.size()) + ",\"error\":" + JsonString(e.decode_error.message()) + "}";
    }
  }

  const DumpOptions& o_;
  std::FILE* out_;
  std::string line_, body_;  // reused: one allocation for the whole dump
};

bool KnowsType(const codecs::SchemaRegistry& reg, const std::string& type) {
  for (const codecs::EventTypeInfo& t : reg.types())
    if (t.name == type || t.root_table == type) return true;
  return false;
}

}  // namespace

int RunDump(const DumpOptions& o, std::FILE* out, std::FILE* err) {
  // NaN fails every comparison, hence the negated form; a huge value would overflow the
  // steady_clock deadline.
  if (!(o.follow_timeout_s >= 0 && o.follow_timeout_s <= 31'536'000)) {
    PrintError(err, "bad --follow-timeout " + std::to_string(o.follow_timeout_s), "--follow-timeout",
               "give a number of seconds from 0.001 to 31536000 (a year), or 0 to follow until stopped");
    return kExitUsage;
  }
  EventFilter filter;
  for (auto [text, bound, flag] :
       {std::tuple{&o.from, &filter.from, "--from"}, std::tuple{&o.to, &filter.to, "--to"}}) {
    Result<Bound> b = ParseBound(*text);
    if (!b.ok()) {
      PrintError(err, "bad " + std::string(flag) + " value: " + std::string(b.status().message()), flag,
                 "give a position (e.g. 1200) or an ISO-8601 time (e.g. 2026-11-23T01:02:03Z)");
      return kExitUsage;
    }
    *bound = *b;
  }
  filter.stream = o.stream;
  filter.type = o.type;
  filter.limit = o.limit;
  int open_exit = kExitCannotRead;
  std::unique_ptr<JournalView> view = JournalView::Open(o.dir, err, &open_exit);
  if (!view) return open_exit;
  if (!o.type.empty()) {
    Result<Codec*> codec = view->schemas().For(view->reader().schema_fingerprint(), view->reader().schema_blob());
    if (codec.ok() && *codec != nullptr && !KnowsType((*codec)->registry, o.type)) {
      std::string known;
      for (const codecs::EventTypeInfo& t : (*codec)->registry.types()) known += (known.empty() ? "" : ", ") + t.name;
      PrintError(err, "unknown event type '" + o.type + "'", "--type", "the journal's schema knows: " + known);
      return kExitUsage;
    }
  }
  if (o.follow) StopOnSignals();
  Printer printer(o, out);
  const int exit = view->ForEach(filter, {.follow = o.follow, .idle_timeout_s = o.follow_timeout_s}, err,
                                 [&](const Event& e) { printer(e); });
  std::fflush(out);
  return exit;
}

}  // namespace rill::tools::inspect
