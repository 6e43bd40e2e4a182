// rill/tests/replication/stream_epochs.h: a stream as the takeover tests look at it (standby_test,
// zombie_test): each message's sequence, positions, epoch and whether it is a fence, read with
// the position chain checked, and which epoch wrote a position.
//
//   std::vector<StreamMsg> s = ReadStreamMessages(cluster.urls());  // REQUIREs the chain
//   CHECK(EpochAt(s, acked_position) == epoch_a);
//
// Only from a TEST_CASE body (it REQUIREs). Thread safety: the test's thread.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "rill/replication/message_format.h"
#include "rill/replication/nats_client.h"

namespace rill::replication::test {

struct StreamMsg {
  std::uint64_t seq = 0, first = 0, end = 0, epoch = 0;
  bool fence = false;  // a takeover's zero-record fence (message_format.h): first == end
};

// Every message of RILL_<app>_<shard>, checking the position chain (no gap, each position once:
// one successor per sequence), that msg-ids are unique, payloads match their headers and epochs
// never go back.
inline std::vector<StreamMsg> ReadStreamMessages(const std::string& urls, const std::string& app = "bank",
                                                 const std::string& shard = "0") {
  auto client = NatsClient::Connect(urls, {.name = "stream-epochs"});
  REQUIRE(client.ok());
  const std::string stream = StreamName(app, shard);
  auto tail = (*client)->GetStreamTail(stream);
  REQUIRE(tail.ok());
  std::vector<StreamMsg> out;
  std::set<std::string> ids;
  for (std::uint64_t seq = tail->first_seq; seq != 0 && seq <= tail->last_seq; ++seq) {
    auto m = (*client)->GetMessage(stream, seq);
    REQUIRE(m.ok());
    auto h = DecodeHeaders(m->headers);
    REQUIRE(h.ok());
    INFO("seq " << seq);
    REQUIRE(CheckPayload(*h, m->bytes.size()).ok());
    if (!out.empty()) {
      REQUIRE(h->first_position == out.back().end);
      REQUIRE(h->epoch >= out.back().epoch);
    }
    CHECK(ids.insert(std::string(m->Header(kHeaderMsgId).value_or(""))).second);
    out.push_back({seq, h->first_position, h->end(), h->epoch, h->fence()});
  }
  return out;
}

// The epoch of the message holding `position` (0: none; a fence holds no position).
inline std::uint64_t EpochAt(const std::vector<StreamMsg>& s, std::uint64_t position) {
  for (const StreamMsg& m : s)
    if (position >= m.first && position < m.end) return m.epoch;
  return 0;
}

}  // namespace rill::replication::test
