// libFuzzer target: random bytes into the decode path (envelope checks, the FlatBuffers
// verifier, compiled and reflection-based, and JSON text generation) and into
// SchemaRegistry::FromBlob. Any crash, sanitizer report or leak is a bug.
//
//   make fuzz     (builds the fuzz preset with clang, writes seeds, runs a bounded number of inputs)
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz_fixture.h"
#include "rill/codecs/decoder.h"
#include "rill/codecs/encoder.h"
#include "rill/codecs/json.h"
#include "rill/codecs/schema_registry.h"

namespace {

using rill::codecs::Decoder;
using rill::codecs::JsonPrinter;
using rill::codecs::SchemaRegistry;

// A record copied to 8-byte aligned storage, as a journal frame holds it.
class AlignedBytes {
 public:
  explicit AlignedBytes(std::span<const std::uint8_t> b) : words_(b.size() / 8 + 1), size_(b.size()) {
    std::memcpy(words_.data(), b.data(), b.size());
  }
  std::span<const std::uint8_t> span() const { return {reinterpret_cast<const std::uint8_t*>(words_.data()), size_}; }

 private:
  std::vector<std::uint64_t> words_;
  std::size_t size_;
};

std::vector<AlignedBytes> SeedRecords() {
  rill::codecs::Encoder enc;
  const rill::codecs::EnvelopeFields env{.stream_id = 1, .stream_version = 2, .timestamp_ns = 3, .command_id = 4};
  std::vector<AlignedBytes> out;
  rill::bank::DepositedT deposited;
  deposited.amount = 500;
  out.emplace_back(enc.Encode(env, deposited));
  rill::blog::PostCreatedT post;
  post.author_id = 9;
  post.title = "title";
  post.body = "body";
  out.emplace_back(enc.Encode(env, post));
  return out;
}

struct Fixture {
  SchemaRegistry app = rill::codecs::fuzz::ReferenceRegistry();
  // A tool's registry: no application code, reflection verifies.
  SchemaRegistry tool = SchemaRegistry::FromBlob(app.blob(), app.fingerprint()).value();
  Decoder app_decoder{app};
  Decoder tool_decoder{tool};
  JsonPrinter app_printer{app};
  JsonPrinter tool_printer{tool};
  std::string json;
  std::vector<AlignedBytes> records = SeedRecords();
};

void DecodeAndPrint(Decoder& decoder, JsonPrinter& printer, std::string& json, std::span<const std::uint8_t> rec) {
  const rill::codecs::DecodeResult r = decoder.Decode(rec, 1);
  if (!r.ok()) {
    (void)r.error().ToStatus(&decoder.registry());
    return;
  }
  const rill::codecs::DecodedEvent& e = r.event();
  // Touch what a projector would: the envelope and typed fields.
  volatile std::uint64_t sink = e.stream_id() + e.stream_version() + e.command_id();
  if (const auto* post = e.As<rill::blog::PostCreated>()) sink = sink + post->title()->size();
  if (const auto* c = e.As<rill::blog::CommentAdded>()) sink = sink + c->text()->size();
  if (const auto* d = e.As<rill::bank::Deposited>()) sink = sink + static_cast<std::uint64_t>(d->amount());
  (void)sink;
  (void)printer.Print(e, &json);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture* f = new Fixture();  // built once; never freed, as libFuzzer runs until exit
  if (size == 0) return 0;
  const auto mode = static_cast<rill::codecs::fuzz::Mode>(data[0] % 2);
  ++data;
  --size;
  // Journal records are 8-byte aligned; so is this copy (one misaligned decode checks that path).
  const AlignedBytes copy({data, size});
  const std::span<const std::uint8_t> bytes = copy.span();
  switch (mode) {
    case rill::codecs::fuzz::Mode::kRecord:
      DecodeAndPrint(f->app_decoder, f->app_printer, f->json, bytes);
      DecodeAndPrint(f->tool_decoder, f->tool_printer, f->json, bytes);
      (void)f->app_decoder.Decode({data, size}, 2);
      break;
    case rill::codecs::fuzz::Mode::kBlob: {
      rill::Result<SchemaRegistry> reg = SchemaRegistry::FromBlob(bytes);
      if (reg.ok()) {
        (void)f->app.CheckJournalSchema(reg->fingerprint(), bytes);
        // What a tool does with a journal's (here hostile) blob: decode and print records.
        Decoder decoder(*reg);
        JsonPrinter printer(*reg);
        for (const auto& rec : f->records) DecodeAndPrint(decoder, printer, f->json, rec.span());
      }
      break;
    }
  }
  return 0;
}
