// inventory-demo DIR: the inventory domain on a real engine, with a read model on a projector
// thread. On an empty DIR it runs a short scripted scenario; on a DIR it ran before it
// recovers (replays the journal, loads the read model's checkpoint) and shows the same state.
// Both runs end with the stock levels as the engine and the read model see them, one line
// each, so a test can compare them across runs. Exit code 0 only when everything agreed.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <utility>

#include "inventory_domain.h"
#include "rill/engine/engine.h"
#include "rill/projections/projector_thread.h"
#include "stock_levels.h"

namespace {

using namespace inventory;
using Engine = rill::engine::Engine<InventoryDomain>;
using Levels = std::map<std::uint64_t, StockLevel>;  // sorted: the output is stable

std::string Describe(const InventoryDomain::Command& command) {
  char s[64];
  if (const auto* add = std::get_if<AddStock>(&command))
    std::snprintf(s, sizeof s, "AddStock sku %llu +%lld", (unsigned long long)add->sku, (long long)add->quantity);
  else if (const auto* place = std::get_if<PlaceOrder>(&command))
    std::snprintf(s, sizeof s, "PlaceOrder order %llu sku %llu x%lld", (unsigned long long)place->order,
                  (unsigned long long)place->sku, (long long)place->quantity);
  else if (const auto* cancel = std::get_if<CancelOrder>(&command))
    std::snprintf(s, sizeof s, "CancelOrder order %llu", (unsigned long long)cancel->order);
  else
    std::snprintf(s, sizeof s, "ShipOrder order %llu", (unsigned long long)std::get<ShipOrder>(command).order);
  return s;
}

// Sends one command with a client-chosen id (the idempotency key) and prints its outcome.
void Run(Engine& engine, std::uint64_t id, const InventoryDomain::Command& command) {
  const rill::engine::CommandOutcome o = engine.execute(command, {.command_id = id});
  std::printf("command %llu %-34s ", (unsigned long long)id, Describe(command).c_str());
  if (o.accepted())
    std::printf("accepted, %u event%s, last at position %llu%s\n", o.event_count(), o.event_count() == 1 ? "" : "s",
                (unsigned long long)o.position(), o.duplicate() ? " (a retry: the original outcome)" : "");
  else
    std::printf("rejected (%s): %s\n", rill::engine::RejectCodeName(o.code()), o.rejection().c_str());
}

void Print(const char* source, const Levels& levels) {
  for (const auto& [sku, l] : levels)
    std::printf("stock (%s) sku %llu: on hand %lld, reserved %lld, available %lld\n", source, (unsigned long long)sku,
                (long long)l.on_hand, (long long)l.reserved, (long long)l.available());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: inventory-demo DIR\n");
    return 2;
  }
  const std::string dir = argv[1];

  // The engine: opens (or creates) the journal in DIR and replays it into the aggregates.
  rill::engine::EngineOptions options;
  options.journal.directory = dir;
  auto opened = Engine::Open(options);
  if (!opened.ok()) {
    std::fprintf(stderr, "inventory-demo: %s\n", opened.status().ToString().c_str());
    return 1;
  }
  Engine& engine = **opened;
  const bool fresh = engine.recovery().committed_position == 0;
  if (fresh)
    std::printf("new journal in %s\n", dir.c_str());
  else
    std::printf("recovered %llu events from %s, up to position %llu\n",
                (unsigned long long)engine.recovery().replayed_events, dir.c_str(),
                (unsigned long long)engine.recovery().committed_position);

  // The read model's thread decodes the journal with the domain's events (generated from the
  // schema). The registry must outlive the thread: declared before it, destroyed after it.
  rill::codecs::SchemaRegistryBuilder builder;
  InventoryDomain::RegisterEvents(builder);
  auto registry = std::move(builder).Build();
  if (!registry.ok()) {
    std::fprintf(stderr, "inventory-demo: %s\n", registry.status().ToString().c_str());
    return 1;
  }
  rill::projections::ProjectorThreadOptions po;
  po.name = "inventory-views";
  po.journal_directory = dir;
  po.registry = &*registry;
  po.checkpoint_directory = dir + "/checkpoints";  // written at Stop, loaded at the next Start
  auto views = rill::projections::ProjectorThread::Create(std::move(po));
  if (!views.ok()) {
    std::fprintf(stderr, "inventory-demo: %s\n", views.status().ToString().c_str());
    return 1;
  }
  auto* stock = (*views)->Add<StockLevels>();
  if (rill::Status s = (*views)->Start(); !s.ok()) {
    std::fprintf(stderr, "inventory-demo: %s\n", s.ToString().c_str());
    return 1;
  }
  if (!fresh)
    std::printf("read model %s: checkpoint at position %llu\n", std::string(StockLevels::kName).c_str(),
                (unsigned long long)stock->checkpoint_position());

  if (fresh) {
    Run(engine, 1, AddStock{.sku = 100, .quantity = 10});
    Run(engine, 2, AddStock{.sku = 200, .quantity = 5});
    Run(engine, 3, PlaceOrder{.order = 17, .sku = 100, .quantity = 4});
    Run(engine, 4, PlaceOrder{.order = 18, .sku = 100, .quantity = 5});
    Run(engine, 5, PlaceOrder{.order = 19, .sku = 100, .quantity = 2});  // 1 left: refused
    Run(engine, 6, PlaceOrder{.order = 20, .sku = 200, .quantity = 3});
    Run(engine, 7, CancelOrder{.order = 18});  // releases its 5 units
    Run(engine, 8, ShipOrder{.order = 17});    // its 4 units leave the warehouse; order 17 ends
    Run(engine, 9, CancelOrder{.order = 17});  // too late: refused
  }
  // A client that never saw command 8's answer sends it again: once applied, in both runs.
  Run(engine, 8, ShipOrder{.order = 17});

  // Read-your-writes: wait until the read model has applied everything journaled so far.
  if (rill::Status s = stock->WaitFor(engine.committed_position(), std::chrono::seconds(5)); !s.ok()) {
    std::fprintf(stderr, "inventory-demo: read model: %s\n", s.ToString().c_str());
    return 1;
  }
  Levels from_view;
  stock->model().ForEach([&](std::uint64_t sku, const StockLevel& l) { from_view[sku] = l; });
  (*views)->Stop();  // writes the read model's checkpoint

  // Aggregates belong to the writer thread: readable here only once the engine is stopped.
  engine.Stop();
  Levels from_engine;
  std::size_t open_orders = 0;
  rill::Status s = engine.ForEachAggregate<Sku>([&](std::uint64_t id, std::uint64_t /*version*/, const Sku& sku) {
    from_engine[id] = {sku.on_hand, sku.reserved};
  });
  if (s.ok()) s = engine.ForEachAggregate<Order>([&](std::uint64_t, std::uint64_t, const Order&) { ++open_orders; });
  if (!s.ok()) {
    std::fprintf(stderr, "inventory-demo: %s\n", s.ToString().c_str());
    return 1;
  }
  Print("engine", from_engine);
  Print("read model", from_view);
  std::printf("open orders in memory: %zu (shipped and cancelled ones ended)\n", open_orders);
  const bool same = from_engine == from_view;
  std::printf("%s\n", same ? "read model matches the engine" : "READ MODEL DIFFERS FROM THE ENGINE");
  return same ? 0 : 1;
}
