// The load generator (load.h).
#include <utility>  // before Asio (TOOLCHAIN.md §6.7)

#include "rill/base/splitmix64.h"
#include "rill/examples/bank_service/load.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "rill/examples/bank_service/client.h"

namespace rill::examples::bank_service {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

std::uint64_t NowNs() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count());
}

// One measured connection: its socket, its own histogram and its view of the balances.
struct Driver {
  explicit Driver(asio::io_context& io) : socket(asio::make_strand(io)) {}
  tcp::socket socket;
  ReplyReader reader;
  flatbuffers::FlatBufferBuilder fbb{256};
  bench::LatencyHistogram histogram;
  std::vector<std::int64_t> delta;  // per account (index = id - first_account): accepted effects
  std::uint64_t commands = 0, commands_done = 0, accepted = 0, rejected = 0, errors = 0, max_position = 0;
  SplitMix64 rng;  // each connection has its own
  std::string error;
};

// Applies an accepted command's effect to the driver's expected balances.
void Account(Driver& d, const LoadOptions& o, std::uint64_t account, std::int64_t amount) {
  d.delta[account - o.first_account] += amount;
}

asio::awaitable<void> Drive(Driver& d, const LoadOptions& o, int index) {
  error_code ec;
  for (std::uint64_t i = 0; i < d.commands; ++i) {
    const RequestHeader h{.request_id = i + 1, .ack = o.ack};
    const std::uint64_t r = d.rng.Next();
    const std::uint64_t a = o.first_account + d.rng.Next() % o.accounts;
    const auto amount = static_cast<std::int64_t>(1 + d.rng.Next() % static_cast<std::uint64_t>(o.max_amount));
    std::uint64_t b = a;
    if (o.queries_only) {
      BuildBalanceQuery(d.fbb, h.request_id, a);
      const std::uint64_t start = NowNs();
      const wire::Reply* reply = co_await AsyncCall(d.socket, d.fbb, d.reader, ec);
      const std::uint64_t end = NowNs();
      if (reply == nullptr || reply->body_as_Balance() == nullptr) {
        ++d.errors;
        d.error = "connection " + std::to_string(index) + ": " + (reply == nullptr ? ec.message() : "not a Balance");
        co_return;
      }
      d.histogram.Record(end - start);
      ++d.commands_done;
      continue;
    }
    const unsigned kind = o.accounts >= 2 ? static_cast<unsigned>(r % 10) : static_cast<unsigned>(r % 7);
    if (kind < 4) {
      BuildDeposit(d.fbb, h, a, amount);
    } else if (kind < 7) {
      BuildWithdraw(d.fbb, h, a, amount);
    } else {
      b = o.first_account + (a - o.first_account + 1 + d.rng.Next() % (o.accounts - 1)) % o.accounts;
      BuildTransfer(d.fbb, h, a, b, amount);
    }
    const std::uint64_t start = NowNs();
    const wire::Reply* reply = co_await AsyncCall(d.socket, d.fbb, d.reader, ec);
    const std::uint64_t end = NowNs();
    if (reply == nullptr) {
      ++d.errors;
      d.error = "connection " + std::to_string(index) + ": " + ec.message();
      co_return;
    }
    d.histogram.Record(end - start);
    ++d.commands_done;
    const wire::Outcome* outcome = reply->body_as_Outcome();
    if (outcome == nullptr || reply->request_id() != h.request_id) {
      ++d.errors;
      if (d.error.empty()) d.error = "connection " + std::to_string(index) + ": an unexpected reply";
      continue;
    }
    if (!outcome->accepted()) {
      ++d.rejected;
      continue;
    }
    ++d.accepted;
    d.max_position = std::max(d.max_position, outcome->position());
    if (kind < 4) {
      Account(d, o, a, amount);
    } else if (kind < 7) {
      Account(d, o, a, -amount);
    } else {
      Account(d, o, a, -amount);
      Account(d, o, b, amount);
    }
  }
}

// Blocking request on the setup/verify connection; nullptr after an error (in `error`).
const wire::Reply* Exchange(tcp::socket& s, flatbuffers::FlatBufferBuilder& fbb, ReplyReader& reader,
                            std::string& error) {
  error_code ec;
  const wire::Reply* reply = Call(s, fbb, reader, ec);
  if (reply == nullptr) error = ec.message();
  return reply;
}

Status QueryBalances(tcp::socket& s, const LoadOptions& o, std::uint64_t min_position, std::vector<std::int64_t>& out) {
  flatbuffers::FlatBufferBuilder fbb(256);
  ReplyReader reader;
  std::string error;
  out.assign(o.accounts, 0);
  for (std::uint64_t i = 0; i < o.accounts; ++i) {
    BuildBalanceQuery(fbb, i + 1, o.first_account + i, min_position);
    const wire::Reply* reply = Exchange(s, fbb, reader, error);
    if (reply == nullptr) return Status::Unavailable("balance query: " + error);
    const wire::Balance* b = reply->body_as_Balance();
    if (b == nullptr)
      return Status::Unavailable("balance query of account " + std::to_string(o.first_account + i) +
                                 ": not a Balance reply");
    out[i] = b->found() ? b->balance() : 0;
  }
  return Status::OK();
}

Status OpenAccounts(tcp::socket& s, const LoadOptions& o, std::uint64_t& max_position) {
  flatbuffers::FlatBufferBuilder fbb(256);
  ReplyReader reader;
  std::string error;
  for (std::uint64_t i = 0; i < o.accounts; ++i) {
    const std::uint64_t account = o.first_account + i;
    BuildOpenAccount(fbb, {.request_id = 1}, account, /*owner=*/account, /*currency=*/978);
    const wire::Reply* reply = Exchange(s, fbb, reader, error);
    if (reply == nullptr) return Status::Unavailable("opening account " + std::to_string(account) + ": " + error);
    const wire::Outcome* opened = reply->body_as_Outcome();
    const bool exists =
        opened != nullptr && opened->reject_code() == static_cast<std::uint8_t>(engine::RejectCode::kAlreadyExists);
    if (opened == nullptr || (!opened->accepted() && !exists)) {
      // Say why: a replicated service's standby names its role and the writer (NotWriter).
      std::string why = "opening account " + std::to_string(account) + " was refused";
      const flatbuffers::String* text = reply->body_as_Error() != nullptr ? reply->body_as_Error()->message()
                                        : opened != nullptr               ? opened->message()
                                                                          : nullptr;
      if (text != nullptr && text->size() > 0) {
        why += ": ";
        why += text->str();
      }
      return Status::Unavailable(why);
    }
    if (o.initial_balance <= 0) continue;
    BuildDeposit(fbb, {.request_id = 2}, account, o.initial_balance);
    reply = Exchange(s, fbb, reader, error);
    const wire::Outcome* deposited = reply != nullptr ? reply->body_as_Outcome() : nullptr;
    if (deposited == nullptr || !deposited->accepted())
      return Status::Unavailable("depositing into account " + std::to_string(account) + " failed: " + error);
    max_position = std::max(max_position, deposited->position());
  }
  return Status::OK();
}

}  // namespace

Result<LoadReport> RunLoad(const LoadOptions& o) {
  if (o.connections < 1 || o.threads < 1 || o.accounts < 1 || o.max_amount < 1)
    return Status::InvalidArgument("rill-load: connections, threads, accounts and max_amount must be at least 1");
  if (o.first_account == 0) return Status::InvalidArgument("rill-load: account ids start at 1");
  error_code ec;
  const asio::ip::address address = asio::ip::make_address(o.host, ec);
  if (ec) return Status::InvalidArgument("rill-load: address '" + o.host + "': " + ec.message());
  const tcp::endpoint endpoint(address, o.port);
  const std::string where = o.host + ":" + std::to_string(o.port);

  asio::io_context io;
  tcp::socket control(io);
  if (control.connect(endpoint, ec); ec)
    return Status::Unavailable("rill-load: connect " + where + ": " + ec.message());
  control.set_option(tcp::no_delay(true), ec);

  std::uint64_t setup_position = 0;
  if (o.open_accounts) RILL_RETURN_IF_ERROR(OpenAccounts(control, o, setup_position));
  std::vector<std::int64_t> before;
  if (o.verify) RILL_RETURN_IF_ERROR(QueryBalances(control, o, setup_position, before));

  std::vector<std::unique_ptr<Driver>> drivers;
  for (int i = 0; i < o.connections; ++i) {
    auto d = std::make_unique<Driver>(io);
    if (d->socket.connect(endpoint, ec); ec)
      return Status::Unavailable("rill-load: connect " + where + ": " + ec.message());
    d->socket.set_option(tcp::no_delay(true), ec);
    const auto n = static_cast<std::uint64_t>(o.connections);
    d->commands = o.commands / n + (static_cast<std::uint64_t>(i) < o.commands % n ? 1 : 0);
    d->rng = SplitMix64(o.seed * 0x100000001b3ULL + static_cast<std::uint64_t>(i));
    d->delta.assign(o.accounts, 0);
    drivers.push_back(std::move(d));
  }

  for (int i = 0; i < o.connections; ++i) {
    Driver& d = *drivers[static_cast<std::size_t>(i)];
    asio::co_spawn(d.socket.get_executor(), Drive(d, o, i), asio::detached);
  }
  const Clock::time_point start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 1; t < o.threads; ++t) threads.emplace_back([&io] { io.run(); });
  io.run();
  for (std::thread& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();

  LoadReport report;
  bench::LatencyHistogram all;
  std::vector<std::int64_t> delta(o.accounts, 0);
  std::uint64_t max_position = setup_position;
  std::string first_error;
  for (const auto& d : drivers) {
    all.Merge(d->histogram);
    report.commands += d->commands_done;
    report.accepted += d->accepted;
    report.rejected += d->rejected;
    report.errors += d->errors;
    max_position = std::max(max_position, d->max_position);
    for (std::uint64_t i = 0; i < o.accounts; ++i) delta[i] += d->delta[i];
    if (first_error.empty()) first_error = d->error;
  }
  report.seconds = seconds;
  report.commands_per_second = seconds > 0 ? static_cast<double>(report.commands) / seconds : 0;
  report.latency = all.Summarize();
  if (report.errors != 0 && o.verify) report.first_mismatch = "not verified: " + first_error;

  if (o.verify && report.errors == 0) {
    std::vector<std::int64_t> after;
    RILL_RETURN_IF_ERROR(QueryBalances(control, o, max_position, after));
    for (std::uint64_t i = 0; i < o.accounts; ++i) {
      ++report.verified_accounts;
      if (after[i] == before[i] + delta[i]) continue;
      if (report.mismatches++ == 0)
        report.first_mismatch = "account " + std::to_string(o.first_account + i) + ": service " +
                                std::to_string(after[i]) + ", expected " + std::to_string(before[i] + delta[i]);
    }
  }
  return report;
}

void PrintReport(std::FILE* out, const LoadOptions& o, const LoadReport& r) {
  const auto us = [](std::uint64_t ns) { return static_cast<double>(ns) / 1000.0; };
  std::fprintf(out,
               "rill-load: %d connection(s), %llu commands in %.3f s: %.0f commands/s (accepted %llu, rejected %llu, "
               "errors %llu)\n",
               o.connections, static_cast<unsigned long long>(r.commands), r.seconds, r.commands_per_second,
               static_cast<unsigned long long>(r.accepted), static_cast<unsigned long long>(r.rejected),
               static_cast<unsigned long long>(r.errors));
  std::fprintf(out, "round trip (us): p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f  mean %.1f\n",
               us(r.latency.p50), us(r.latency.p90), us(r.latency.p99), us(r.latency.p999), us(r.latency.max),
               r.latency.mean / 1000.0);
  if (o.verify) {
    if (r.mismatches == 0 && r.verified_accounts == o.accounts) {
      std::fprintf(out, "verified: %llu account balances match the accepted outcomes\n",
                   static_cast<unsigned long long>(r.verified_accounts));
    } else {
      std::fprintf(out, "NOT verified: %llu mismatch(es); %s\n", static_cast<unsigned long long>(r.mismatches),
                   r.first_mismatch.c_str());
    }
  }
}

}  // namespace rill::examples::bank_service
