// ISO-8601 times and --from/--to bounds for every `rill inspect` subcommand and `rill replay`
// (declared in journal_view.h): real calendar dates only, offsets within +-18:00, UTC output.
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <limits>
#include <string>
#include <string_view>

#include "rill/tools/inspect/journal_view.h"

namespace rill::tools::inspect {
namespace {

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// Reads exactly n digits at s[*i]; false when they are not there.
bool Digits(std::string_view s, std::size_t* i, int n, int* out) {
  if (*i + static_cast<std::size_t>(n) > s.size()) return false;
  int v = 0;
  for (int k = 0; k < n; ++k) {
    const char c = s[*i + static_cast<std::size_t>(k)];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *i += static_cast<std::size_t>(n);
  *out = v;
  return true;
}

bool Expect(std::string_view s, std::size_t* i, char c) {
  if (*i >= s.size() || s[*i] != c) return false;
  ++*i;
  return true;
}

bool IsLeapYear(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil). Not
// timegm: it silently normalises out-of-range fields (Feb 30 becomes Mar 2), which is how bad
// dates slipped through before; the fields are checked first, then converted exactly.
std::int64_t DaysFromCivil(int y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

const char* const kMonthNames[] = {"January", "February", "March",     "April",   "May",      "June",
                                   "July",    "August",   "September", "October", "November", "December"};

// "'<text>': <detail>", appended step by step (GCC 12's -Wrestrict misfires on "a" + b + "c").
Status BadTime(std::string_view text, std::string_view detail) {
  std::string msg = "'";
  msg.append(text);
  msg.append("': ");
  msg.append(detail);
  return Status::InvalidArgument(msg);
}
}  // namespace

std::string FormatTime(std::int64_t unix_ns) {
  std::int64_t secs = unix_ns / 1'000'000'000;
  std::int64_t frac = unix_ns % 1'000'000'000;
  if (frac < 0) {  // floor, so times before 1970 print correctly too
    frac += 1'000'000'000;
    --secs;
  }
  const std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[64];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  if (frac != 0) {
    int digits = 9;
    while (digits > 3 && frac % 1000 == 0) {
      frac /= 1000;
      digits -= 3;
    }
    n += static_cast<std::size_t>(
        std::snprintf(buf + n, sizeof buf - n, ".%0*lld", digits, static_cast<long long>(frac)));
  }
  std::snprintf(buf + n, sizeof buf - n, "Z");
  return buf;
}

Result<std::int64_t> ParseTime(std::string_view s) {
  const auto bad = [&] {
    std::string msg = "'";  // appended step by step: GCC 12's -Wrestrict misfires on "a" + b + "c"
    msg.append(s);
    msg.append("' is neither a position nor an ISO-8601 time like 2026-11-23T01:02:03Z");
    return Status::InvalidArgument(msg);
  };
  std::size_t i = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!Digits(s, &i, 4, &year) || !Expect(s, &i, '-') || !Digits(s, &i, 2, &month) || !Expect(s, &i, '-') ||
      !Digits(s, &i, 2, &day))
    return bad();
  std::int64_t frac_ns = 0, offset_s = 0;
  if (i < s.size() && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) {
    ++i;
    if (!Digits(s, &i, 2, &hour) || !Expect(s, &i, ':') || !Digits(s, &i, 2, &minute)) return bad();
    if (Expect(s, &i, ':') && !Digits(s, &i, 2, &second)) return bad();
    if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
      ++i;
      std::int64_t scale = 100'000'000;
      const std::size_t start = i;
      for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, scale /= 10) {
        if (i - start == 9) return BadTime(s, "more than 9 fractional digits (nanoseconds are the finest)");
        frac_ns += (s[i] - '0') * scale;
      }
      if (i == start) return bad();
    }
    if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
      ++i;
    } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
      const char sign = s[i++];
      int oh = 0, om = 0;
      if (!Digits(s, &i, 2, &oh)) return bad();
      Expect(s, &i, ':');
      if (!Digits(s, &i, 2, &om)) return bad();
      // Real offsets span -12:00 .. +14:00; ISO 8601 and RFC 3339 parsers commonly allow +-18:00.
      if (om > 59 || oh * 60 + om > 18 * 60) {
        char detail[96];
        std::snprintf(detail, sizeof detail, "UTC offset %c%02d:%02d is out of range (at most +-18:00, minutes 00-59)",
                      sign, oh, om);
        return BadTime(s, detail);
      }
      offset_s = (sign == '-' ? -1 : 1) * (oh * 3600 + om * 60);
    }
  }
  if (i != s.size()) return bad();
  char detail[128];
  if (month < 1 || month > 12) {
    std::snprintf(detail, sizeof detail, "month %02d does not exist (01-12)", month);
    return BadTime(s, detail);
  }
  if (day < 1 || day > DaysInMonth(year, month)) {
    std::snprintf(detail, sizeof detail, "day %02d does not exist in %s %04d (01-%02d)", day, kMonthNames[month - 1],
                  year, DaysInMonth(year, month));
    return BadTime(s, detail);
  }
  if (hour > 23) {
    std::snprintf(detail, sizeof detail, "hour %02d is out of range (00-23; write 24:00 as 00:00 of the next day)",
                  hour);
    return BadTime(s, detail);
  }
  if (minute > 59) {
    std::snprintf(detail, sizeof detail, "minute %02d is out of range (00-59)", minute);
    return BadTime(s, detail);
  }
  // No leap second: journal times are Unix time, which has none, so :60 could never match.
  if (second > 59) {
    std::snprintf(detail, sizeof detail, "second %02d is out of range (00-59; Unix time has no leap seconds)", second);
    return BadTime(s, detail);
  }
  const std::int64_t secs = DaysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset_s;
  // Journal times are int64 nanoseconds since 1970: 1677-09-21T00:12:44Z .. 2262-04-11T23:47:16Z.
  std::int64_t ns = 0;
  if (__builtin_mul_overflow(secs, std::int64_t{1'000'000'000}, &ns) || __builtin_add_overflow(ns, frac_ns, &ns))
    return BadTime(s, "outside the times a journal can hold (1677-09-21T00:12:44Z .. 2262-04-11T23:47:16Z)");
  return ns;
}

Result<Bound> ParseBound(std::string_view text) {
  Bound b;
  if (text.empty()) return b;
  if (AllDigits(text)) {
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size())
      return Status::InvalidArgument("position " + std::string(text) + " is too large (at most 18446744073709551615)");
    if (v == 0) return Status::InvalidArgument("position 0 does not exist: positions start at 1");
    b.kind = Bound::Kind::kPosition;
    b.position = v;
    return b;
  }
  if (text.size() > 1 && text[0] == '-' && AllDigits(text.substr(1)))
    return Status::InvalidArgument("position " + std::string(text) + " is negative: positions start at 1");
  Result<std::int64_t> t = ParseTime(text);
  if (!t.ok()) return t.status();
  b.kind = Bound::Kind::kTime;
  b.time_ns = *t;
  return b;
}

}  // namespace rill::tools::inspect
