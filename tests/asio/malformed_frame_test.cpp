// The bank service against malformed frames, one case each: an Error reply (and a closed
// connection when the length cannot be trusted), never a crash, and a bystander connection
// that keeps getting correct answers throughout.
#include <utility>  // before Asio (TOOLCHAIN.md §6.7)

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>
#include <cstring>
#include <vector>

#include "rill/examples/bank_service/client.h"
#include "rill/examples/bank_service/server.h"
#include "rill/tests/support/temp_dir.h"

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace rill::examples::bank_service;

constexpr std::uint32_t kMaxFrame = 1024;

std::vector<std::uint8_t> Frame(std::uint32_t length, const std::vector<std::uint8_t>& payload) {
  std::vector<std::uint8_t> f(kFrameHeaderSize + payload.size());
  for (std::size_t i = 0; i < kFrameHeaderSize; ++i) f[i] = static_cast<std::uint8_t>(length >> (8 * i));
  for (std::size_t i = 0; i < payload.size(); ++i) f[kFrameHeaderSize + i] = payload[i];
  return f;
}

std::vector<std::uint8_t> Bytes(const flatbuffers::FlatBufferBuilder& fbb) {
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

// A size-prefixed Request with raw field values (what a broken or hostile client might send).
std::vector<std::uint8_t> RawRequest(std::uint8_t body_type, bool with_table, std::uint8_t ack = 0) {
  flatbuffers::FlatBufferBuilder fbb;
  const auto table = wire::CreateDeposit(fbb, 1, 1).Union();
  wire::RequestBuilder r(fbb);
  r.add_request_id(77);
  r.add_ack(static_cast<wire::Ack>(ack));
  r.add_body_type(static_cast<wire::Body>(body_type));
  if (with_table) r.add_body(table);
  fbb.FinishSizePrefixed(r.Finish());
  return Bytes(fbb);
}

struct Fixture {
  Fixture() {
    ServiceOptions o;
    o.data_directory = tmp.path();
    o.max_frame_bytes = kMaxFrame;
    o.log_to_stderr = false;
    auto s = BankService::Start(o);
    REQUIRE(s.ok());
    service = std::move(s).value();
    bystander = Connect();
    flatbuffers::FlatBufferBuilder fbb;
    BuildOpenAccount(fbb, {.request_id = 1}, 1, 1, 978);
    boost::system::error_code ec;
    const wire::Reply* r = Call(bystander, fbb, reader, ec);
    REQUIRE(r != nullptr);
    REQUIRE(r->body_as_Outcome() != nullptr);
    REQUIRE(r->body_as_Outcome()->accepted());
  }

  tcp::socket Connect() {
    tcp::socket s(io);
    s.connect({asio::ip::make_address("127.0.0.1"), service->port()});
    return s;
  }

  // The bystander deposits 1 and reads its balance back: one more each time.
  void BystanderStillServed() {
    flatbuffers::FlatBufferBuilder fbb;
    boost::system::error_code ec;
    BuildDeposit(fbb, {.request_id = 2, .ack = wire::Ack::Applied}, 1, 1);
    const wire::Reply* r = Call(bystander, fbb, reader, ec);
    REQUIRE(r != nullptr);
    REQUIRE(r->body_as_Outcome() != nullptr);
    REQUIRE(r->body_as_Outcome()->accepted());
    ++deposits;
    BuildBalanceQuery(fbb, 3, 1);
    r = Call(bystander, fbb, reader, ec);
    REQUIRE(r != nullptr);
    REQUIRE(r->body_as_Balance() != nullptr);
    CHECK(r->body_as_Balance()->balance() == deposits);
  }

  // Sends `bytes` on a fresh connection; expects an Error reply with `code`.
  tcp::socket ExpectError(const std::vector<std::uint8_t>& bytes, wire::ErrorCode code) {
    tcp::socket s = Connect();
    ReplyReader r;
    boost::system::error_code ec;
    const wire::Reply* reply = CallRaw(s, bytes, r, ec);
    INFO(ec.message());
    REQUIRE(reply != nullptr);
    REQUIRE(reply->body_as_Error() != nullptr);
    CHECK(reply->body_as_Error()->code() == code);
    CHECK(reply->body_as_Error()->message() != nullptr);
    return s;
  }

  static void ExpectClosed(tcp::socket& s) {
    ReplyReader r;
    boost::system::error_code ec;
    CHECK(ReadReply(s, r, ec) == nullptr);
    CHECK(ec == asio::error::eof);
  }

  void ExpectStillOpen(tcp::socket& s) {
    flatbuffers::FlatBufferBuilder fbb;
    BuildBalanceQuery(fbb, 9, 1);
    ReplyReader r;
    boost::system::error_code ec;
    const wire::Reply* reply = Call(s, fbb, r, ec);
    REQUIRE(reply != nullptr);
    CHECK(reply->request_id() == 9);
    CHECK(reply->body_as_Balance() != nullptr);
  }

  rill::test::TempDir tmp{"rill-frames"};
  asio::io_context io;
  std::unique_ptr<BankService> service;
  tcp::socket bystander{io};
  ReplyReader reader;
  std::int64_t deposits = 0;
};

TEST_CASE("a zero or too-short frame length gets BadLength and the connection closed", "[asio][service][frames]") {
  Fixture f;
  for (std::uint32_t length : {0u, 1u, kMinFrameBytes - 1}) {
    tcp::socket s = f.ExpectError(Frame(length, std::vector<std::uint8_t>(length, 0xab)), wire::ErrorCode::BadLength);
    Fixture::ExpectClosed(s);
    f.BystanderStillServed();
  }
  CHECK(f.service->stats().closed_bad_frames == 3);
}

TEST_CASE("an oversized frame gets FrameTooLarge and the connection closed, unread", "[asio][service][frames]") {
  Fixture f;
  for (std::uint32_t length : {kMaxFrame + 1, 0xffffffffu}) {
    // Only the header: the server must not wait for (or allocate) the announced body.
    tcp::socket s = f.ExpectError(Frame(length, {}), wire::ErrorCode::FrameTooLarge);
    Fixture::ExpectClosed(s);
    f.BystanderStillServed();
  }
}

TEST_CASE("bytes that fail FlatBuffers verification get Malformed and the connection stays usable",
          "[asio][service][frames]") {
  Fixture f;
  std::vector<std::uint8_t> garbage(64);
  for (std::size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<std::uint8_t>(i * 37 + 11);
  tcp::socket s = f.ExpectError(Frame(64, garbage), wire::ErrorCode::Malformed);
  f.ExpectStillOpen(s);
  // A valid request cut short by a smaller length prefix: the root points past the end.
  flatbuffers::FlatBufferBuilder fbb;
  BuildDeposit(fbb, {.request_id = 5}, 1, 1);
  std::vector<std::uint8_t> cut(fbb.GetBufferPointer() + kFrameHeaderSize, fbb.GetBufferPointer() + fbb.GetSize() - 8);
  tcp::socket t = f.ExpectError(Frame(static_cast<std::uint32_t>(cut.size()), cut), wire::ErrorCode::Malformed);
  f.ExpectStillOpen(t);
  // An out-of-range ack level.
  tcp::socket u =
      f.ExpectError(RawRequest(static_cast<std::uint8_t>(wire::Body::Deposit), true, 42), wire::ErrorCode::Malformed);
  f.ExpectStillOpen(u);
  // A command type whose table is missing (the verifier accepts an absent union value).
  tcp::socket v =
      f.ExpectError(RawRequest(static_cast<std::uint8_t>(wire::Body::Deposit), false), wire::ErrorCode::Malformed);
  f.ExpectStillOpen(v);
  f.BystanderStillServed();
}

TEST_CASE("an unknown body type or no body gets UnknownType and the connection stays usable",
          "[asio][service][frames]") {
  Fixture f;
  tcp::socket s = f.ExpectError(RawRequest(99, true), wire::ErrorCode::UnknownType);
  f.ExpectStillOpen(s);
  tcp::socket t = f.ExpectError(RawRequest(0, false), wire::ErrorCode::UnknownType);
  f.ExpectStillOpen(t);
  f.BystanderStillServed();
}

TEST_CASE("a connection that dies mid-frame is dropped quietly", "[asio][service][frames]") {
  Fixture f;
  {
    tcp::socket s = f.Connect();
    flatbuffers::FlatBufferBuilder fbb;
    BuildDeposit(fbb, {.request_id = 5}, 1, 1);
    // Half a frame, then close.
    asio::write(s, asio::buffer(fbb.GetBufferPointer(), fbb.GetSize() / 2));
  }
  {
    tcp::socket s = f.Connect();
    const std::uint8_t two[2] = {40, 0};  // half a header
    asio::write(s, asio::buffer(two));
  }
  f.BystanderStillServed();
  f.BystanderStillServed();
}

}  // namespace
