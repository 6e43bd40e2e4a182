// Registration of the reference domains (bank, blog).
#include "rill/codecs/bank.h"
#include "rill/codecs/blog.h"
#include "rill/codecs/schema_registry.h"

namespace rill::codecs {

SchemaRegistryBuilder& AddBankEvents(SchemaRegistryBuilder& b) {
  return b.AddSchema("bank", embedded::bank_bfbs())
      .AddEvent<bank::AccountOpened>("bank")
      .AddEvent<bank::Deposited>("bank")
      .AddEvent<bank::Withdrawn>("bank")
      .AddEvent<bank::TransferSent>("bank")
      .AddEvent<bank::TransferReceived>("bank")
      .AddEvent<bank::AccountClosed>("bank");
}

SchemaRegistryBuilder& AddBlogEvents(SchemaRegistryBuilder& b) {
  return b.AddSchema("blog", embedded::blog_bfbs())
      .AddEvent<blog::PostCreated>("blog")
      .AddEvent<blog::PostEdited>("blog")
      .AddEvent<blog::PostPublished>("blog")
      .AddEvent<blog::CommentAdded>("blog");
}

}  // namespace rill::codecs
