// The randomized damage test of the recovery rule (FORMAT.md, "Recovery"): many kinds of damage
// at random places; the writer must refuse or keep every durable event, and the verifier must
// agree. The seed is printed; RILL_DAMAGE_SEED replays it.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <random>

#include "recovery_rule_util.h"
#include "rill/base/crc32c.h"
#include "rill/journal/batch_parser.h"
#include "rill/journal/control_file.h"
#include "rill/journal/journal_verifier.h"
#include "rill/journal/recovery.h"
#include "rill/journal/segment_dir.h"
#include "rill/journal/segment_file.h"

using namespace rill::journal;
using namespace rill::journal::rule_test;
using rill::journal::test::TempDir;

// Randomized: damage a journal in one of many ways, then open a writer. It must either refuse,
// or keep every position the control file recorded durable, intact, gap-free. The seed is
// printed; RILL_DAMAGE_SEED replays one, RILL_DAMAGE_CASES sets how many (CI: the default).
TEST_CASE("randomized damage: the writer refuses or keeps every durable event", "[journal][rule][randomized]") {
  const char* env_seed = std::getenv("RILL_DAMAGE_SEED");
  const char* env_cases = std::getenv("RILL_DAMAGE_CASES");
  const std::uint64_t seed = env_seed ? std::strtoull(env_seed, nullptr, 10) : std::random_device{}();
  const int cases = env_cases ? std::atoi(env_cases) : 120;
  std::printf("randomized damage: seed %llu, %d cases (replay: RILL_DAMAGE_SEED=%llu)\n",
              static_cast<unsigned long long>(seed), cases, static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  TempDir pristine;
  WriteJournal(pristine.path(), 60);
  const auto segments = Segments(pristine.path());
  int refused = 0, opened = 0;
  for (int k = 0; k < cases; ++k) {
    TempDir dir;
    for (std::uint64_t s : segments) WriteFile(Seg(dir.path(), s), ReadFile(Seg(pristine.path(), s)));
    WriteFile(dir.Sub("control"), ReadFile(pristine.Sub("control")));
    auto pick = [&](std::uint64_t n) { return static_cast<std::uint64_t>(rng() % n); };
    const std::uint64_t seg = segments[pick(segments.size())];
    const int kind = static_cast<int>(pick(8));
    std::uint64_t durable = 0;
    {
      auto rs = ReadRecordedState(dir.path());
      REQUIRE(rs.ok());
      durable = rs->durable;
    }
    if (pick(2) == 0) {  // as after a power loss: the last part was never reported durable
      durable -= pick(durable / 4 + 1);
      test::SetRecordedDurable(dir.path(), durable);
    }
    std::vector<char> bytes = ReadFile(Seg(dir.path(), seg));
    switch (kind) {
      case 0: {  // one bit flip anywhere (format version 1 missed a record length's 3 low bits)
        const std::uint64_t at = pick(bytes.size());
        bytes[at] ^= static_cast<char>(1 << pick(8));
        UNSCOPED_INFO("bit flipped at offset " << at);
        break;
      }
      case 1:  // truncated anywhere
        bytes.resize(pick(bytes.size()));
        break;
      case 2:    // a range zeroed
      case 3: {  // a range of garbage
        const std::uint64_t at = pick(bytes.size()), len = 1 + pick(512);
        for (std::uint64_t i = at; i < std::min<std::uint64_t>(bytes.size(), at + len); ++i)
          bytes[i] = kind == 2 ? 0 : static_cast<char>(rng());
        break;
      }
      case 4:  // deleted
        bytes.clear();
        break;
      case 5:  // extended
        bytes.resize(bytes.size() + 4096, static_cast<char>(pick(2)));
        break;
      case 6:  // replaced by another segment's bytes
        bytes = ReadFile(Seg(dir.path(), segments[pick(segments.size())]));
        break;
      default:  // the control file lost
        ::unlink(dir.Sub("control").c_str());
        durable = 0;
        break;
    }
    if (kind == 4) {
      ::unlink(Seg(dir.path(), seg).c_str());
    } else if (kind != 7) {
      WriteFile(Seg(dir.path(), seg), bytes);
    }
    INFO("case " << k << ": damage kind " << kind << " in segment " << seg << ", durable " << durable << ", seed "
                 << seed);
    auto verdict = CheckJournal(dir.path());
    Log log;
    auto w = OpenWriter(dir.path(), &log);
    if (!w.ok()) {
      ++refused;
      // The verifier agrees that this journal is damaged.
      CHECK((!verdict.ok() || verdict->verdict == Verdict::kDamaged));
      continue;
    }
    ++opened;
    CHECK((verdict.ok() && verdict->verdict != Verdict::kDamaged));
    const std::uint64_t end = (*w)->committed_position();
    w->reset();
    CHECK(end >= durable);  // nothing recorded durable was cut
    bool match = false;
    rill::Status err;
    const auto positions = test::ReadAll(dir.path(), &err, &match);
    CHECK(err.ok());
    if (!match) {
      auto r = JournalReader::Open({dir.path(), true});
      Record rec;
      while (r.ok() && (*r)->Next(&rec) == ReadStatus::kRecord)
        if (!test::PayloadMatches(rec)) {
          UNSCOPED_INFO("position " << rec.position << " at segment " << rec.segment_index << " offset " << rec.offset
                                    << " does not match");
          break;
        }
    }
    CHECK(match);
    if (!positions.empty()) CHECK(test::IsGapFree(positions, positions.front()));
  }
  std::printf("randomized damage: %d refused, %d opened keeping every durable event\n", refused, opened);
}
