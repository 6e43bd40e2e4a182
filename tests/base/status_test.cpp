#include "rill/base/status.h"

#include <catch2/catch.hpp>
#include <cerrno>
#include <memory>
#include <string>

#include "rill/base/result.h"

TEST_CASE("default Status is OK and prints OK", "[base][status]") {
  rill::Status s;
  CHECK(s.ok());
  CHECK(s.code() == rill::Status::Code::kOk);
  CHECK(s.ToString() == "OK");
  CHECK(s.message().empty());
}

TEST_CASE("named factories set the code the IsX predicates test", "[base][status]") {
  CHECK(rill::Status::Corruption("x").IsCorruption());
  CHECK(rill::Status::NotFound("x").IsNotFound());
  CHECK(rill::Status::InvalidArgument("x").IsInvalidArgument());
  CHECK(rill::Status::IOError("x").IsIOError());
  CHECK(rill::Status::NoSpace("x").IsNoSpace());
  CHECK(rill::Status::Busy("x").IsBusy());
  CHECK(rill::Status::Unavailable("x").IsUnavailable());
  CHECK(rill::Status::TimedOut("x").IsTimedOut());
  CHECK_FALSE(rill::Status::Corruption("x").IsIOError());
  CHECK_FALSE(rill::Status::Corruption("x").ok());
}

TEST_CASE("Status message, context and copies", "[base][status]") {
  const auto s = rill::Status::Corruption("bad crc at offset 128");
  CHECK(s.ToString() == "Corruption: bad crc at offset 128");
  const auto c = s.WithContext("segment 00000002.seg");
  CHECK(c.IsCorruption());
  CHECK(c.message() == "segment 00000002.seg: bad crc at offset 128");
  rill::Status copy = c;
  CHECK(copy.ToString() == c.ToString());
  rill::Status moved = std::move(copy);
  CHECK(moved.IsCorruption());
  CHECK(rill::Status::OK().WithContext("anything").ok());
}

TEST_CASE("FromErrno maps a full disk to NoSpace and a missing file to NotFound", "[base][status]") {
  CHECK(rill::Status::FromErrno("fallocate", ENOSPC).IsNoSpace());
  CHECK(rill::Status::FromErrno("write", EFBIG).IsNoSpace());
  CHECK(rill::Status::FromErrno("open", ENOENT).IsNotFound());
  const auto s = rill::Status::FromErrno("mmap", EACCES);
  CHECK(s.IsIOError());
  CHECK(s.message().find("mmap: ") == 0);
}

TEST_CASE("Result holds a value or an error", "[base][result]") {
  rill::Result<std::unique_ptr<int>> good(std::make_unique<int>(7));
  REQUIRE(good.ok());
  CHECK(**good == 7);
  std::unique_ptr<int> taken = std::move(good).value();
  CHECK(*taken == 7);

  rill::Result<int> bad(rill::Status::NotFound("no segment 3"));
  CHECK_FALSE(bad.ok());
  CHECK(bad.status().IsNotFound());
}

namespace {
rill::Status Fails() { return rill::Status::IOError("disk"); }
rill::Status Propagates(bool& reached_end) {
  RILL_RETURN_IF_ERROR(Fails());
  reached_end = true;
  return rill::Status::OK();
}
}  // namespace

TEST_CASE("RILL_RETURN_IF_ERROR returns the first error", "[base][status]") {
  bool reached_end = false;
  CHECK(Propagates(reached_end).IsIOError());
  CHECK_FALSE(reached_end);
}
