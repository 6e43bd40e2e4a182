// rill/examples/bank_service/client.h: one request/reply exchange over a connected socket, as
// a coroutine (the load generator) or blocking (tests, scripts).
//
//   rill::examples::bank_service::ReplyReader reader;
//   BuildDeposit(fbb, {.request_id = 1}, 7, 500);
//   const wire::Reply* r = co_await AsyncCall(socket, fbb, reader, ec);   // nullptr: see ec
//   const wire::Reply* r = Call(socket, fbb, reader, ec);                 // blocking
//
// A reply is valid until the next call with the same reader.
// Thread safety: one reader per connection, used by one coroutine or thread at a time.
#pragma once

#include <utility>  // before Asio (TOOLCHAIN.md §6.7)

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <span>
#include <vector>

#include "rill/examples/bank_service/protocol.h"

namespace rill::examples::bank_service {

// The buffer a reply frame is read into; replies larger than max_frame_bytes are refused.
struct ReplyReader {
  std::vector<std::uint8_t> buffer = std::vector<std::uint8_t>(4096);
  std::uint32_t max_frame_bytes = kDefaultMaxFrameBytes;
};

// Error codes besides the socket's: a reply that fails its length check or verification.
enum class ClientError { kBadReplyLength = 1, kMalformedReply };
const boost::system::error_category& client_category() noexcept;

// Writes the finished, size-prefixed frame in `fbb` and reads one reply frame.
boost::asio::awaitable<const wire::Reply*> AsyncCall(boost::asio::ip::tcp::socket& socket,
                                                     const flatbuffers::FlatBufferBuilder& fbb, ReplyReader& reader,
                                                     boost::system::error_code& ec);
const wire::Reply* Call(boost::asio::ip::tcp::socket& socket, const flatbuffers::FlatBufferBuilder& fbb,
                        ReplyReader& reader, boost::system::error_code& ec);
// Writes raw bytes (a malformed frame, in tests) and reads one reply frame (nullptr: see ec,
// e.g. asio::error::eof when the server closed instead).
const wire::Reply* CallRaw(boost::asio::ip::tcp::socket& socket, std::span<const std::uint8_t> bytes,
                           ReplyReader& reader, boost::system::error_code& ec);
// Reads one reply frame (blocking).
const wire::Reply* ReadReply(boost::asio::ip::tcp::socket& socket, ReplyReader& reader, boost::system::error_code& ec);

}  // namespace rill::examples::bank_service
