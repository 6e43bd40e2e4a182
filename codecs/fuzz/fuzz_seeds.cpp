// Writes a small seed corpus for the decode fuzzer: one file per reference event record and
// one for the schema blob, each prefixed with its Mode byte.
//   codecs_fuzz_seeds <dir>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "fuzz_fixture.h"
#include "rill/codecs/encoder.h"

namespace {

bool Write(const std::string& path, rill::codecs::fuzz::Mode mode, std::span<const std::uint8_t> bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  const auto m = static_cast<std::uint8_t>(mode);
  const bool ok = std::fwrite(&m, 1, 1, f) == 1 && std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  return std::fclose(f) == 0 && ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  using rill::codecs::fuzz::Mode;
  rill::codecs::Encoder enc;
  const rill::codecs::EnvelopeFields env{.stream_id = 1, .stream_version = 2, .timestamp_ns = 3, .command_id = 4};
  bool ok = true;
  int n = 0;
  const auto record = [&](std::span<const std::uint8_t> rec) {
    ok = Write(dir + "/record_" + std::to_string(n++), Mode::kRecord, rec) && ok;
  };
  rill::bank::AccountOpenedT opened;
  opened.owner_id = 7;
  opened.currency = 978;
  record(enc.Encode(env, opened));
  rill::bank::DepositedT deposited;
  deposited.amount = 500;
  record(enc.Encode(env, deposited));
  rill::bank::WithdrawnT withdrawn;
  withdrawn.amount = 20;
  record(enc.Encode(env, withdrawn));
  rill::bank::TransferSentT sent;
  sent.to_account = 2;
  sent.amount = 30;
  record(enc.Encode(env, sent));
  rill::bank::TransferReceivedT received;
  received.from_account = 1;
  received.amount = 30;
  record(enc.Encode(env, received));
  rill::bank::AccountClosedT closed;
  closed.reason = rill::bank::CloseReason::Fraud;
  record(enc.Encode(env, closed));
  rill::blog::PostCreatedT post;
  post.author_id = 9;
  post.title = "title";
  post.body = "body";
  record(enc.Encode(env, post));
  rill::blog::PostEditedT edited;
  edited.title = "new title";
  record(enc.Encode(env, edited));
  record(enc.Encode(env, rill::blog::PostPublishedT{}));
  rill::blog::CommentAddedT comment;
  comment.author_id = 3;
  comment.text = "nice";
  record(enc.Encode(env, comment));
  const rill::codecs::SchemaRegistry reg = rill::codecs::fuzz::ReferenceRegistry();
  ok = Write(dir + "/blob", Mode::kBlob, reg.blob()) && ok;
  if (!ok) {
    std::fprintf(stderr, "codecs_fuzz_seeds: cannot write seeds to %s: create the directory first\n", dir.c_str());
    return 1;
  }
  std::printf("codecs_fuzz_seeds: wrote %d records and a schema blob to %s\n", n, dir.c_str());
  return 0;
}
