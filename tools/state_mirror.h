// rill/tools/state_mirror.h: a read model that is a copy of a domain's aggregates, folded from
// the journal on a projector thread with the domain's own Evolve (CommandProcessor::Replay).
// The tools use it for any domain: its digest must equal the writer's at the same position, so
// it proves the projection pipeline delivered every event once and in order (the crash test's
// "read models equal the aggregates"), and it is the bench's read model when a workload brings
// none (AddReadModels).
//
//   thread.Add<rill::tools::StateMirror<InventoryDomain>>(projector_options);
//   ...                                                      // after the projector stopped
//   const auto& mirror = dynamic_cast<const TypedProjector<StateMirror<D>>&>(...).model();
//   if (mirror.digest() != engine_digest) fail();
//
// Checkpoints are the engine's snapshot payload (engine/snapshot.h), checked on load against the
// digest they recorded. Apply allocates only when a new aggregate grows the store, as the writer.
// Thread safety: the projector thread owns it; read digest()/view() only once it stopped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

#include "rill/base/status.h"
#include "rill/codecs/decoder.h"
#include "rill/engine/command_processor.h"
#include "rill/engine/snapshot.h"
#include "rill/tools/workload.h"

namespace rill::tools {

template <typename D>
class StateMirror {
 public:
  static constexpr std::string_view kName = "rill.state_mirror";
  static constexpr std::uint32_t kVersion = 1;

  // The window is not part of the state: one entry keeps Replay's bookkeeping off the cache.
  StateMirror() : processor_({.expected_aggregates = 0, .idempotency_window = 1}) {}

  const char* Apply(const codecs::DecodedEvent& event) {
    return processor_.Replay(event).ok() ? nullptr : "the event does not follow its stream's versions";
  }
  void Save(std::vector<std::byte>& out) const {
    std::vector<std::byte> payload;
    engine::SnapshotHeader h = engine::EncodeSnapshot(processor_, &payload);
    h.payload_size = payload.size();  // EncodeSnapshot leaves it to the snapshot file writer
    out.resize(sizeof h + payload.size());
    std::memcpy(out.data(), &h, sizeof h);
    if (!payload.empty()) std::memcpy(out.data() + sizeof h, payload.data(), payload.size());
  }
  Status Load(std::span<const std::byte> in) {
    engine::SnapshotHeader h;
    if (in.size() < sizeof h) return Status::Corruption("state mirror checkpoint shorter than its header");
    std::memcpy(&h, in.data(), sizeof h);
    const std::span<const std::byte> payload = in.subspan(sizeof h);
    if (payload.size() != h.payload_size)
      return Status::Corruption("state mirror checkpoint: payload of " + std::to_string(payload.size()) +
                                " bytes, header says " + std::to_string(h.payload_size));
    RILL_RETURN_IF_ERROR(engine::ApplySnapshot<D>(h, payload, &processor_));
    if (processor_.ComputeDigest() != h.digest)
      return Status::Corruption("state mirror checkpoint: its aggregates do not match the digest it recorded");
    processor_.TransferOwnership();  // loaded on Start's thread, applied on the projector's
    return Status::OK();
  }

  std::uint64_t digest() const noexcept { return processor_.digest(); }
  std::size_t aggregate_count() const noexcept { return processor_.aggregate_count(); }
  StateView<D> view() const noexcept { return StateView<D>(processor_); }

 private:
  engine::CommandProcessor<D> processor_;
};

}  // namespace rill::tools
