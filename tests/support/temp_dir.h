// rill/tests/support/temp_dir.h: a fresh directory under $TMPDIR (or /tmp) for one test,
// removed with everything in it when the object goes away.
//
//   rill::test::TempDir tmp("rill-journal");
//   auto w = JournalWriter::Open({.directory = tmp.Sub("journal")});
#pragma once

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace rill::test {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "rill-test") {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/" + prefix + "-XXXXXX";
    path_ = ::mkdtemp(tmpl.data()) ? tmpl : std::string();
  }
  ~TempDir() { RemoveTree(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

  // Removes p and everything below it without following symbolic links.
  static void RemoveTree(const std::string& p) {
    if (p.empty()) return;
    if (DIR* d = ::opendir(p.c_str())) {
      while (const dirent* e = ::readdir(d)) {
        const std::string n = e->d_name;
        if (n == "." || n == "..") continue;
        const std::string child = p + "/" + n;
        struct stat st {};
        if (::lstat(child.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
          RemoveTree(child);
        } else {
          ::unlink(child.c_str());
        }
      }
      ::closedir(d);
    }
    ::rmdir(p.c_str());
  }

 private:
  std::string path_;
};

}  // namespace rill::test
