// Nothing in a journal's directory tree can hang or crash a reader: a FIFO, a directory or a
// symlink named like a snapshot or a projector checkpoint is skipped with a reason. (open(2)
// of a FIFO blocks until a writer appears: these tests would hang before base/regular_file.h.)
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "rill/engine/snapshot_file.h"
#include "rill/projections/checkpoint.h"
#include "rill/tests/support/temp_dir.h"

TEST_CASE("a FIFO, directory or symlink named like a snapshot is refused with a reason, without blocking",
          "[recovery][snapshot]") {
  rill::test::TempDir dir("rill-special");
  const std::string fifo = dir.Sub(rill::engine::SnapshotFileName(7));
  const std::string folder = dir.Sub(rill::engine::SnapshotFileName(8));
  const std::string link = dir.Sub(rill::engine::SnapshotFileName(9));
  REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
  REQUIRE(::mkdir(folder.c_str(), 0755) == 0);
  REQUIRE(::symlink("/etc/hostname", link.c_str()) == 0);
  for (const auto& [path, position, kind] :
       {std::tuple{fifo, 7, "a FIFO"}, std::tuple{folder, 8, "a directory"}, std::tuple{link, 9, "a symbolic link"}}) {
    rill::engine::SnapshotHeader h{};
    std::vector<std::byte> payload;
    const std::string why = rill::engine::ReadSnapshotFile(path, static_cast<std::uint64_t>(position), &h, &payload);
    INFO(why);
    CHECK(why.find(kind) != std::string::npos);
  }
}

TEST_CASE("a FIFO named like a projector checkpoint is listed as unusable, without blocking",
          "[recovery][checkpoint]") {
  rill::test::TempDir dir("rill-special");
  const std::string fifo = dir.Sub("balances-00000000000000000042.ckpt");
  REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
  const auto list = rill::projections::ListCheckpoints(dir.path());
  REQUIRE(list.size() == 1);
  CHECK(list[0].problem.find("a FIFO") != std::string::npos);
}
