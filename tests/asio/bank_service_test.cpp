// The example bank service (examples/bank_service/) in-process on an ephemeral loopback port:
// a bounded load over several connections gives correct balances (also after a restart),
// applied acknowledgements give read-your-writes, and stopping with requests in flight is clean.
#include <utility>  // before Asio (TOOLCHAIN.md §6.7)

#include "rill/examples/bank_service/server.h"

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include "rill/examples/bank_service/client.h"
#include "rill/examples/bank_service/load.h"
#include "rill/tests/support/temp_dir.h"

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace rill::examples::bank_service;

std::unique_ptr<BankService> StartService(const std::string& dir, int io_threads = 2) {
  ServiceOptions o;
  o.data_directory = dir;
  o.io_threads = io_threads;
  o.log_to_stderr = false;
  auto s = BankService::Start(o);
  INFO((s.ok() ? std::string("ok") : s.status().ToString()));
  REQUIRE(s.ok());
  return std::move(s).value();
}

tcp::socket Connect(asio::io_context& io, std::uint16_t port) {
  tcp::socket s(io);
  s.connect({asio::ip::make_address("127.0.0.1"), port});
  s.set_option(tcp::no_delay(true));
  return s;
}

TEST_CASE("the service binds to 127.0.0.1 by default", "[asio][service]") {
  CHECK(ServiceOptions{}.address == "127.0.0.1");
}

TEST_CASE("a bounded load over several connections leaves every balance right, also after a restart",
          "[asio][service][load]") {
  rill::test::TempDir tmp("rill-service");
  auto service = StartService(tmp.path());
  LoadOptions o;
  o.port = service->port();
  o.connections = 6;
  o.commands = 3000;
  o.accounts = 40;
  o.initial_balance = 5000;
  o.max_amount = 400;  // some withdrawals and transfers are refused: rejections must not count
  o.threads = 2;
  o.seed = 7;
  auto report = RunLoad(o);
  INFO((report.ok() ? report->first_mismatch : report.status().ToString()));
  REQUIRE(report.ok());
  CHECK(report->commands == 3000);
  CHECK(report->errors == 0);
  CHECK(report->accepted + report->rejected == 3000);
  CHECK(report->verified_accounts == 40);
  CHECK(report->mismatches == 0);
  CHECK(report->latency.count == 3000);

  // Remember the balances, restart on the same directory, compare.
  std::vector<std::int64_t> before;
  for (std::uint64_t a = 1; a <= 40; ++a) before.push_back(service->balances().Get(a)->balance);
  service->Stop();
  service.reset();
  service = StartService(tmp.path(), 1);
  asio::io_context io;
  tcp::socket s = Connect(io, service->port());
  flatbuffers::FlatBufferBuilder fbb;
  ReplyReader reader;
  boost::system::error_code ec;
  // min_position: the journal's end after recovery, so the answer includes the replayed state.
  const std::uint64_t end = service->engine().committed_position();
  for (std::uint64_t a = 1; a <= 40; ++a) {
    BuildBalanceQuery(fbb, a, a, end);
    const wire::Reply* r = Call(s, fbb, reader, ec);
    REQUIRE(r != nullptr);
    REQUIRE(r->body_as_Balance() != nullptr);
    CHECK(r->body_as_Balance()->found());
    CHECK(r->body_as_Balance()->balance() == before[a - 1]);
  }
}

TEST_CASE("an applied acknowledgement is visible to the next balance query without waiting", "[asio][service]") {
  rill::test::TempDir tmp("rill-service");
  auto service = StartService(tmp.path());
  asio::io_context io;
  tcp::socket s = Connect(io, service->port());
  flatbuffers::FlatBufferBuilder fbb;
  ReplyReader reader;
  boost::system::error_code ec;

  BuildOpenAccount(fbb, {.request_id = 1, .ack = wire::Ack::Applied}, 11, 1, 978);
  const wire::Reply* r = Call(s, fbb, reader, ec);
  REQUIRE(r != nullptr);
  REQUIRE(r->body_as_Outcome() != nullptr);
  CHECK(r->request_id() == 1);
  CHECK(r->body_as_Outcome()->accepted());
  for (int i = 1; i <= 20; ++i) {
    BuildDeposit(fbb, {.request_id = 100u + static_cast<unsigned>(i), .ack = wire::Ack::Applied}, 11, 5);
    r = Call(s, fbb, reader, ec);
    REQUIRE(r != nullptr);
    REQUIRE(r->body_as_Outcome() != nullptr);
    REQUIRE(r->body_as_Outcome()->accepted());
    BuildBalanceQuery(fbb, 2, 11);  // min_position 0: no wait
    r = Call(s, fbb, reader, ec);
    REQUIRE(r != nullptr);
    REQUIRE(r->body_as_Balance() != nullptr);
    CHECK(r->body_as_Balance()->balance() == 5 * i);
  }

  // A refused command is answered with its reason; an unknown account's balance is not found.
  BuildWithdraw(fbb, {.request_id = 3}, 11, 1'000'000);
  r = Call(s, fbb, reader, ec);
  REQUIRE(r != nullptr);
  REQUIRE(r->body_as_Outcome() != nullptr);
  CHECK_FALSE(r->body_as_Outcome()->accepted());
  CHECK(r->body_as_Outcome()->reject_code() == static_cast<std::uint8_t>(rill::engine::RejectCode::kRuleViolated));
  CHECK(r->body_as_Outcome()->message() != nullptr);
  BuildBalanceQuery(fbb, 4, 12345);
  r = Call(s, fbb, reader, ec);
  REQUIRE(r != nullptr);
  REQUIRE(r->body_as_Balance() != nullptr);
  CHECK_FALSE(r->body_as_Balance()->found());
}

TEST_CASE("stopping the service with requests in flight answers or closes every connection",
          "[asio][service][shutdown]") {
  rill::test::TempDir tmp("rill-service");
  auto service = StartService(tmp.path());
  {
    asio::io_context io;
    tcp::socket s = Connect(io, service->port());
    flatbuffers::FlatBufferBuilder fbb;
    ReplyReader reader;
    boost::system::error_code ec;
    BuildOpenAccount(fbb, {.request_id = 1}, 1, 1, 978);
    REQUIRE(Call(s, fbb, reader, ec) != nullptr);
  }
  constexpr int kClients = 4;
  // A client counts as served once it got a reply: only then has the server surely accepted
  // its connection (connect() returns when the kernel queues it, before the accept loop runs).
  std::atomic<int> served{0};
  std::atomic<std::uint64_t> answered{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, port = service->port()] {
      asio::io_context io;
      tcp::socket s = Connect(io, port);
      flatbuffers::FlatBufferBuilder fbb;
      ReplyReader reader;
      boost::system::error_code ec;
      // Until the server goes away: every request gets a reply or the connection ends.
      for (std::uint64_t i = 1;; ++i) {
        BuildDeposit(fbb, {.request_id = i}, 1, 1);
        const wire::Reply* r = Call(s, fbb, reader, ec);
        if (r == nullptr) break;
        CHECK(r->request_id() == i);
        if (i == 1) served.fetch_add(1);
        answered.fetch_add(1);
      }
    });
  }
  // Let them get going (not a timing assumption: any number of answers is fine).
  while (served.load() < kClients) std::this_thread::yield();
  while (answered.load() < 100) std::this_thread::yield();
  service->Stop();
  for (std::thread& t : clients) t.join();
  CHECK(answered.load() >= 100);
  CHECK(service->stats().connections == kClients + 1);
}

}  // namespace
