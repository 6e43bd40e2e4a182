// rill/examples/blog/blog_schema.h: the blog's events (reference domain): generated tables from
// schemas/blog.fbs, their type ids, and registration.
//
//   rill::codecs::SchemaRegistryBuilder b;
//   rill::examples::blog::BlogDomain::RegisterEvents(b);
//
// Type ids are domain 0x0002 and the event's number; never reuse a number.
#pragma once

#include <cstdint>
#include <span>

#include "rill/codecs/envelope.h"
#include "rill/examples/blog/blog_generated.h"

namespace rill::blog {
inline constexpr std::uint16_t kDomainId = 0x0002;
}  // namespace rill::blog

RILL_EVENT_TYPE(rill::blog::PostCreated, rill::codecs::MakeEventTypeId(rill::blog::kDomainId, 1), 1,
                "blog.PostCreated");
RILL_EVENT_TYPE(rill::blog::PostEdited, rill::codecs::MakeEventTypeId(rill::blog::kDomainId, 2), 1, "blog.PostEdited");
RILL_EVENT_TYPE(rill::blog::PostPublished, rill::codecs::MakeEventTypeId(rill::blog::kDomainId, 3), 1,
                "blog.PostPublished");
RILL_EVENT_TYPE(rill::blog::CommentAdded, rill::codecs::MakeEventTypeId(rill::blog::kDomainId, 4), 1,
                "blog.CommentAdded");

namespace rill::codecs {
namespace embedded {
std::span<const std::uint8_t> blog_bfbs();  // schemas/blog.fbs compiled by flatc at build time
}  // namespace embedded
}  // namespace rill::codecs
