// rill/engine/event_registry.h: the domain's event registry as Engine::Open and a hot standby
// build it: EngineOptions::register_events when set, else the domain's static RegisterEvents.
// Thread safety: a pure function.
#pragma once

#include <string>

#include "rill/base/result.h"
#include "rill/codecs/schema_registry.h"
#include "rill/engine/engine_options.h"

namespace rill::engine {

template <typename D>
concept HasRegisterEvents = requires(codecs::SchemaRegistryBuilder& b) {
  {D::RegisterEvents(b)};
};

template <typename D>
Result<codecs::SchemaRegistry> BuildEventRegistry(const EngineOptions& options) {
  codecs::SchemaRegistryBuilder builder;
  if (options.register_events) {
    options.register_events(builder);
  } else {
    if constexpr (HasRegisterEvents<D>) {
      D::RegisterEvents(builder);
    } else {
      return Status::InvalidArgument(
          "no event types: set EngineOptions::register_events or give the domain a static "
          "RegisterEvents(rill::codecs::SchemaRegistryBuilder&)");
    }
  }
  return std::move(builder).Build();
}

}  // namespace rill::engine
