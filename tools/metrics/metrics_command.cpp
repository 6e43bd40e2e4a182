#include "rill/tools/metrics/metrics_command.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <csignal>
#include <memory>
#include <optional>

#include "rill/observability/counters_reader.h"
#include "rill/tools/metrics/prometheus_text.h"

namespace rill::tools {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr int kExitUsage = 2;
constexpr int kExitCannotStart = 3;

std::int64_t RealtimeNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The counters of DIR, reopened when the writer replaced its file.
class Source {
 public:
  Source(std::string dir, observability::CountersReader reader) : dir_(std::move(dir)), reader_(std::move(reader)) {}
  std::string Scrape() {
    if (reader_.Replaced()) {
      if (Result<observability::CountersReader> again = observability::CountersReader::Open(dir_); again.ok())
        reader_ = std::move(*again);
    }
    const std::int64_t now = RealtimeNs();
    std::string text = PrometheusText(reader_.Read(), now);
    // With replication, the replicator's own numbers: its status file beside the journal.
    if (Result<replication::ReplicationStatus> r = replication::ReadReplicationStatus(dir_); r.ok())
      text += PrometheusReplicationText(*r, now);
    return text;
  }

 private:
  std::string dir_;
  observability::CountersReader reader_;
};

// One connection: read a request, answer it, close. Requests with keep-alive are answered and
// then the connection closes too (Prometheus reconnects; scrapes are seconds apart).
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Source& source) : stream_(std::move(socket)), source_(source) {}
  void Start() {
    stream_.expires_after(std::chrono::seconds(10));  // a client that never sends is dropped
    http::async_read(stream_, buffer_, request_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnRead(ec); });
  }

 private:
  void OnRead(beast::error_code ec) {
    if (ec) return;  // closed, timed out or malformed: nothing to answer
    response_.version(request_.version());
    response_.keep_alive(false);
    response_.set(http::field::server, "rill-metrics");
    const beast::string_view target = request_.target();
    if (request_.method() != http::verb::get && request_.method() != http::verb::head) {
      Reply(http::status::method_not_allowed, "text/plain", "only GET\n");
    } else if (target == "/metrics" || target.starts_with("/metrics?")) {
      Reply(http::status::ok, "text/plain; version=0.0.4; charset=utf-8", source_.Scrape());
    } else if (target == "/") {
      Reply(http::status::ok, "text/html; charset=utf-8",
            "<html><body><h1>rill metrics</h1><p><a href=\"/metrics\">/metrics</a></p></body></html>\n");
    } else {
      Reply(http::status::not_found, "text/plain", "not found: the metrics are at /metrics\n");
    }
  }

  void Reply(http::status status, const char* type, std::string body) {
    response_.result(status);
    response_.set(http::field::content_type, type);
    if (request_.method() == http::verb::head) {
      response_.content_length(body.size());
    } else {
      response_.body() = std::move(body);
      response_.prepare_payload();
    }
    http::async_write(stream_, response_, [self = shared_from_this()](beast::error_code, std::size_t) {
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    });
  }

  beast::tcp_stream stream_;
  Source& source_;
  beast::flat_buffer buffer_;
  http::request<http::empty_body> request_;
  http::response<http::string_body> response_;
};

void Accept(tcp::acceptor& acceptor, Source& source) {
  acceptor.async_accept([&acceptor, &source](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;  // stopping
    if (!ec) std::make_shared<Session>(std::move(socket), source)->Start();
    Accept(acceptor, source);
  });
}

// "host:port" with an IP address host; nullopt and `why` when it is not.
std::optional<tcp::endpoint> ParseListen(const std::string& listen, std::string* why) {
  const std::size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size()) {
    *why = "'" + listen + "' is not host:port: give e.g. 127.0.0.1:9464";
    return std::nullopt;
  }
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  beast::error_code ec;
  const asio::ip::address address = asio::ip::make_address(host, ec);
  if (ec) {
    *why = "'" + host + "' is not an IP address: give e.g. 127.0.0.1:9464 (0.0.0.0 serves every interface)";
    return std::nullopt;
  }
  const std::string port_text = listen.substr(colon + 1);
  char* end = nullptr;
  const unsigned long port = std::strtoul(port_text.c_str(), &end, 10);
  if (end != port_text.c_str() + port_text.size() || port > 65535) {
    *why = "'" + port_text + "' is not a port: give a number from 0 (any free port) to 65535";
    return std::nullopt;
  }
  return tcp::endpoint(address, static_cast<unsigned short>(port));
}

}  // namespace

int RunMetrics(const MetricsOptions& o, std::FILE* out, std::FILE* err) {
  std::string why;
  const std::optional<tcp::endpoint> endpoint = ParseListen(o.listen, &why);
  if (!endpoint) {
    std::fprintf(err, "rill metrics: --listen %s\n", why.c_str());
    return kExitUsage;
  }
  Result<observability::CountersReader> reader = observability::CountersReader::Open(o.dir);
  if (!reader.ok()) {
    std::fprintf(err, "rill metrics: %s\n", reader.status().ToString().c_str());
    return kExitCannotStart;
  }
  Source source(o.dir, std::move(*reader));
  asio::io_context io;
  tcp::acceptor acceptor(io);
  beast::error_code ec;
  acceptor.open(endpoint->protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(*endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    const char* hint = ec == asio::error::address_in_use
                           ? ": another process serves that port; choose another --listen port"
                       : ec == asio::error::access_denied ? ": ports below 1024 need privileges; choose another port"
                                                          : "";
    std::fprintf(err, "rill metrics: cannot listen on %s: %s%s\n", o.listen.c_str(), ec.message().c_str(), hint);
    return kExitCannotStart;
  }
  const tcp::endpoint bound = acceptor.local_endpoint();
  std::fprintf(out, "rill metrics: serving %s at http://%s:%u/metrics\n", o.dir.c_str(),
               bound.address().to_string().c_str(), static_cast<unsigned>(bound.port()));
  std::fflush(out);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&io](beast::error_code, int) { io.stop(); });
  asio::steady_timer deadline(io);
  if (o.seconds > 0) {
    deadline.expires_after(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(o.seconds)));
    deadline.async_wait([&io](beast::error_code e) {
      if (!e) io.stop();
    });
  }
  Accept(acceptor, source);
  io.run();
  return 0;
}

}  // namespace rill::tools
