// The stock-levels read model: on hand, reserved and available units per SKU, kept by a
// projector thread from the journal and read by any thread without locks (a torn record is
// never seen). The engine's own Sku states belong to its writer thread; queries come here.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <tuple>
#include <variant>

#include "inventory_events.h"  // the events only: a read model needs no Decide
#include "rill/projections/plain_checkpoint.h"
#include "rill/projections/seqlock_hash_map.h"

namespace inventory {

struct StockLevel {
  std::int64_t on_hand = 0;
  std::int64_t reserved = 0;
  std::int64_t available() const noexcept { return on_hand - reserved; }
  friend bool operator==(const StockLevel&, const StockLevel&) = default;
};

// PlainCheckpoint writes and reads the checkpoint from PlainState(): no Save/Load to write.
class StockLevels : public rill::projections::PlainCheckpoint<StockLevels> {
 public:
  static constexpr std::string_view kName = "inventory.stock_levels";
  static constexpr std::uint32_t kVersion = 1;  // bump when StockLevel changes: old checkpoints are then skipped

  // Projector thread, once per journal event. Order events do not change stock: ignored.
  const char* Apply(const rill::codecs::DecodedEvent& e) {
    if (const std::optional<Event> event = InventoryEvents::FromDecoded(e))
      std::visit([&](const auto& ev) { On(e.stream_id(), ev); }, *event);
    return nullptr;  // nothing here can fail
  }

  // Any thread.
  std::optional<StockLevel> Get(std::uint64_t sku) const noexcept { return levels_.Get(sku); }
  template <typename F>
  void ForEach(F&& f) const {  // f(sku, const StockLevel&), in no particular order
    levels_.ForEach(f);
  }

  auto PlainState() { return std::tie(levels_); }

 private:
  void On(std::uint64_t sku, const StockAdded& e) {
    levels_.Upsert(sku, [&](StockLevel& l) { l.on_hand += e.quantity; });
  }
  void On(std::uint64_t sku, const StockReserved& e) {
    levels_.Upsert(sku, [&](StockLevel& l) { l.reserved += e.quantity; });
  }
  void On(std::uint64_t sku, const StockReleased& e) {
    levels_.Upsert(sku, [&](StockLevel& l) { l.reserved -= e.quantity; });
  }
  void On(std::uint64_t sku, const StockShipped& e) {
    levels_.Upsert(sku, [&](StockLevel& l) {
      l.reserved -= e.quantity;
      l.on_hand -= e.quantity;
    });
  }
  template <typename OrderEvent>
  void On(std::uint64_t, const OrderEvent&) {}

  // Keyed by SKU id: ids are sparse (catalogue numbers), so a hash map, not a dense array.
  // Sized up front: no allocation while at most 1024 SKUs exist.
  rill::projections::SeqlockHashMap<StockLevel> levels_{1024};
};

}  // namespace inventory
