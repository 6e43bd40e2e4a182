#include "rill/replication/status_file.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <set>

namespace rill::replication {
namespace {

// A value stays on its line whatever an error message holds.
std::string OneLine(std::string_view v) {
  std::string out(v);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  return out;
}

void Line(std::string* out, std::string_view key, std::string_view value) {
  out->append(key).append(":");
  if (!value.empty()) out->append(" ").append(OneLine(value));
  out->append("\n");
}

template <typename T>
bool ParseInt(std::string_view v, T* out) {
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), *out);
  return ec == std::errc() && end == v.data() + v.size() && !v.empty();
}

bool ParseDouble(std::string_view v, double* out) {
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), *out);
  return ec == std::errc() && end == v.data() + v.size() && !v.empty() && *out >= 0;
}

Status LineError(std::string_view where, std::size_t line, std::string_view what) {
  std::string m(where);
  m.append(": line ").append(std::to_string(line)).append(": ").append(what);
  return Status::Corruption(m);
}

}  // namespace

std::string StatusFilePath(std::string_view dir) {
  std::string p(dir);
  p.append("/").append(kStatusFileName);
  return p;
}

std::string RedactUrlCredentials(std::string_view urls) {
  std::string out;
  std::size_t at = 0;
  while (at <= urls.size()) {
    std::size_t comma = urls.find(',', at);
    if (comma == std::string_view::npos) comma = urls.size();
    std::string_view url = urls.substr(at, comma - at);
    // userinfo sits between "scheme://" (if any) and the host: the last '@' before any '/'.
    const std::size_t scheme = url.find("://");
    const std::size_t host_from = scheme == std::string_view::npos ? 0 : scheme + 3;
    const std::size_t path = url.find('/', host_from);
    const std::size_t at_sign = url.substr(0, path).rfind('@');
    if (at != 0) out.append(",");
    if (at_sign != std::string_view::npos && at_sign >= host_from) {
      out.append(url.substr(0, host_from)).append(url.substr(at_sign + 1));
    } else {
      out.append(url);
    }
    at = comma + 1;
  }
  return out;
}

std::string FormatReplicationStatus(const ReplicationStatus& s) {
  std::string out(kStatusFileMagic);
  out.append(" ").append(std::to_string(kStatusFileVersion)).append("\n");
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.3f", s.lag_seconds);
  Line(&out, "pid", std::to_string(s.pid));
  Line(&out, "stream", s.stream);
  Line(&out, "urls", RedactUrlCredentials(s.urls));
  Line(&out, "epoch", std::to_string(s.epoch));
  Line(&out, "state", s.state);
  Line(&out, "replicated position", std::to_string(s.replicated_position));
  Line(&out, "committed position", std::to_string(s.committed_position));
  Line(&out, "lag positions", std::to_string(s.lag_positions));
  Line(&out, "lag seconds", seconds);
  Line(&out, "last stream seq", std::to_string(s.last_seq));
  Line(&out, "messages", std::to_string(s.messages));
  Line(&out, "bytes", std::to_string(s.bytes));
  Line(&out, "duplicates", std::to_string(s.duplicates));
  Line(&out, "resyncs", std::to_string(s.resyncs));
  Line(&out, "last error", s.last_error);
  Line(&out, "updated", std::to_string(s.updated_ns));
  return out;
}

Result<ReplicationStatus> ParseReplicationStatus(std::string_view text, std::string_view where) {
  std::size_t line_no = 0, at = 0;
  auto next_line = [&](std::string_view* line) {
    if (at >= text.size()) return false;
    std::size_t nl = text.find('\n', at);
    if (nl == std::string_view::npos) nl = text.size();
    *line = text.substr(at, nl - at);
    at = nl + 1;
    ++line_no;
    return true;
  };
  std::string_view line;
  std::string expected(kStatusFileMagic);
  expected.append(" ").append(std::to_string(kStatusFileVersion));
  if (!next_line(&line)) return LineError(where, 1, "empty file, expected \"" + expected + "\"");
  if (line.substr(0, kStatusFileMagic.size()) != kStatusFileMagic || line.size() <= kStatusFileMagic.size() ||
      line[kStatusFileMagic.size()] != ' ')
    return LineError(where, 1, "not a replication status file (expected \"" + expected + "\")");
  int version = 0;
  if (!ParseInt(line.substr(kStatusFileMagic.size() + 1), &version))
    return LineError(where, 1, "bad version \"" + std::string(line) + "\"");
  if (version != kStatusFileVersion) {
    std::string m(where);
    m.append(": replication status format version ").append(std::to_string(version));
    m.append(", this build reads version ").append(std::to_string(kStatusFileVersion));
    return Status::InvalidArgument(m);
  }
  ReplicationStatus s;
  std::set<std::string, std::less<>> seen;
  while (next_line(&line)) {
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return LineError(where, line_no, "expected \"key: value\"");
    const std::string_view key = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (!seen.emplace(key).second) return LineError(where, line_no, "\"" + std::string(key) + "\" given twice");
    bool ok = true, known = true;
    if (key == "pid")
      ok = ParseInt(value, &s.pid);
    else if (key == "stream")
      s.stream = value;
    else if (key == "urls")
      s.urls = value;
    else if (key == "epoch")
      ok = ParseInt(value, &s.epoch);
    else if (key == "state")
      s.state = value;
    else if (key == "replicated position")
      ok = ParseInt(value, &s.replicated_position);
    else if (key == "committed position")
      ok = ParseInt(value, &s.committed_position);
    else if (key == "lag positions")
      ok = ParseInt(value, &s.lag_positions);
    else if (key == "lag seconds")
      ok = ParseDouble(value, &s.lag_seconds);
    else if (key == "last stream seq")
      ok = ParseInt(value, &s.last_seq);
    else if (key == "messages")
      ok = ParseInt(value, &s.messages);
    else if (key == "bytes")
      ok = ParseInt(value, &s.bytes);
    else if (key == "duplicates")
      ok = ParseInt(value, &s.duplicates);
    else if (key == "resyncs")
      ok = ParseInt(value, &s.resyncs);
    else if (key == "last error")
      s.last_error = value;
    else if (key == "updated")
      ok = ParseInt(value, &s.updated_ns);
    else
      known = false;  // a later writer's key: ignored
    if (known && !ok)
      return LineError(where, line_no, "bad value \"" + std::string(value) + "\" for \"" + std::string(key) + "\"");
  }
  for (const char* key :
       {"pid", "stream", "urls", "epoch", "state", "replicated position", "committed position", "lag positions",
        "lag seconds", "last stream seq", "messages", "bytes", "duplicates", "resyncs", "last error", "updated"}) {
    if (seen.count(std::string_view(key)) == 0) {
      std::string m(where);
      m.append(": missing \"").append(key).append("\" (a truncated file?)");
      return Status::Corruption(m);
    }
  }
  return s;
}

Status WriteReplicationStatus(std::string_view dir, const ReplicationStatus& s) {
  const std::string path = StatusFilePath(dir);
  // Per process: a stale replicator of the same directory never writes into our temp file.
  std::string tmp = path;
  tmp.append(".").append(std::to_string(::getpid())).append(".tmp");
  const std::string text = FormatReplicationStatus(s);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno("create " + tmp, errno);
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return Status::FromErrno("write " + tmp, e);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    return Status::FromErrno("close " + tmp, e);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    return Status::FromErrno("rename " + tmp + " to " + path, e);
  }
  return Status::OK();
}

Result<ReplicationStatus> ReadReplicationStatus(std::string_view dir) {
  const std::string path = StatusFilePath(dir);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno("open " + path, errno);
  std::string text;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      return Status::FromErrno("read " + path, e);
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > (1u << 20)) {  // a status file is a few hundred bytes
      ::close(fd);
      return Status::Corruption(path + ": larger than 1 MiB: not a replication status file");
    }
  }
  ::close(fd);
  return ParseReplicationStatus(text, path);
}

bool StatusWriterAlive(const ReplicationStatus& s) {
  if (s.pid <= 0) return false;  // kill(0 or -n) would address process groups
  return ::kill(static_cast<pid_t>(s.pid), 0) == 0 || errno == EPERM;
}

}  // namespace rill::replication
