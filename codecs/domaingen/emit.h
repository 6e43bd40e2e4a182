// rill/codecs/domaingen/emit.h: the DomainModel -> <stem>_events.h and <stem>_events.cpp.
// The header holds the event structs, traits, the Event variant and <Name>Events (with the
// inline, allocation-free Encode); the source holds what only one translation unit needs: the
// embedded binary schema, RegisterEvents and FromDecoded.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "rill/codecs/domaingen/schema_model.h"

namespace rill::codecs::domaingen {

struct EmitOptions {
  std::string cpp_namespace;  // "inventory" or "shop::inventory"
  std::string name;           // "Inventory" -> struct InventoryEvents
  std::string schema_name;    // the target ("inventory"): the registry's schema name
  std::string stem;           // "inventory": includes "<stem>_generated.h"
  std::string schema_file;    // "inventory.fbs", for the banner
  std::uint16_t domain_id = 0;
};

std::string EmitHeader(const DomainModel& model, const EmitOptions& options);
std::string EmitSource(const DomainModel& model, const EmitOptions& options, std::span<const std::uint8_t> bfbs);

}  // namespace rill::codecs::domaingen
