#include "cli/output_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <streambuf>

#include "cli/options.h"
#include "cli/text.h"
#include "emu/errors.h"

namespace smpemu {

namespace {

namespace fs = std::filesystem;

std::atomic<unsigned> g_temp_counter{0};  // distinct temporary names within the process

std::string directory_of(const std::string& path) {
  const fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

/// A streambuf writing to a file descriptor; the first write error is kept in error().
class FdStreambuf final : public std::streambuf {
 public:
  explicit FdStreambuf(int fd) : fd_(fd) { setp(buf_, buf_ + sizeof buf_); }
  int error() const { return error_; }
  bool drain() {
    const char* p = pbase();
    while (p < pptr() && error_ == 0) {
      const ssize_t n = ::write(fd_, p, static_cast<std::size_t>(pptr() - p));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        error_ = errno;
        break;
      }
      if (n == 0) {  // a regular file that takes no bytes: treat as full
        error_ = ENOSPC;
        break;
      }
      p += n;
    }
    setp(buf_, buf_ + sizeof buf_);
    return error_ == 0;
  }

 protected:
  int_type overflow(int_type c) override {
    if (!drain()) return traits_type::eof();
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }
  int sync() override { return drain() ? 0 : -1; }

 private:
  int fd_;
  int error_ = 0;
  char buf_[1 << 16];
};

}  // namespace

struct AtomicOutputFile::Impl {
  std::string path, what, temp;  // temp is empty when writing in place
  int fd = -1;
  bool committed = false;
  std::unique_ptr<FdStreambuf> buf;
  std::unique_ptr<std::ostream> out;

  ConfigError failure(int err) const {
    return ConfigError("cannot write " + what + " " + quoted(path) + ": " + std::strerror(err));
  }
  void discard() {
    if (fd >= 0) ::close(fd);
    fd = -1;
    if (!temp.empty()) ::unlink(temp.c_str());
  }
};

AtomicOutputFile::AtomicOutputFile(const std::string& path, const std::string& what) : impl_(new Impl) {
  Impl& f = *impl_;
  f.path = path;
  f.what = what;
  if (path.empty()) throw ConfigError("empty " + what + " file name");
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    if (S_ISDIR(st.st_mode)) throw ConfigError("cannot write " + what + " " + quoted(path) + ": it is a directory");
    f.fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);  // a device or FIFO: in place
    if (f.fd < 0) throw f.failure(errno);
  } else {
    const std::string base = fs::path(path).filename().string();
    for (;;) {
      f.temp = (fs::path(directory_of(path)) /
                ("." + base + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(g_temp_counter++)))
                   .string();
      f.fd = ::open(f.temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0666);
      if (f.fd >= 0) break;
      if (errno != EEXIST) {
        const int err = errno;
        f.temp.clear();
        throw f.failure(err);
      }
    }
  }
  f.buf = std::make_unique<FdStreambuf>(f.fd);
  f.out = std::make_unique<std::ostream>(f.buf.get());
}

AtomicOutputFile::~AtomicOutputFile() {
  if (!impl_->committed) impl_->discard();
}

std::ostream& AtomicOutputFile::stream() { return *impl_->out; }

void AtomicOutputFile::commit() {
  Impl& f = *impl_;
  f.out->flush();
  int err = f.buf->drain() ? 0 : f.buf->error();
  if (err == 0 && !*f.out) err = EIO;
  // fsync before rename: after a crash the name holds the old file or the whole new one.
  if (err == 0 && !f.temp.empty() && ::fsync(f.fd) != 0) err = errno;
  if (err == 0) {
    const int fd = f.fd;
    f.fd = -1;
    if (::close(fd) != 0) err = errno;
  }
  if (err == 0 && !f.temp.empty() && ::rename(f.temp.c_str(), f.path.c_str()) != 0) err = errno;
  if (err != 0) {
    f.discard();
    throw f.failure(err);
  }
  f.committed = true;
}

void write_file_atomically(const std::string& path, const std::string& contents, const std::string& what) {
  AtomicOutputFile f(path, what);
  f.stream().write(contents.data(), static_cast<std::streamsize>(contents.size()));
  f.commit();
}

void check_output_file(const std::string& path, const std::string& what) {
  if (path.empty()) throw ConfigError("empty " + what + " file name");
  const std::string name = what + " " + quoted(path);
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) throw ConfigError("cannot write " + name + ": it is a directory");
    if (!S_ISREG(st.st_mode)) {
      if (::access(path.c_str(), W_OK) != 0) throw ConfigError("cannot write " + name + ": " + std::strerror(errno));
      return;
    }
  }
  const std::string dir = directory_of(path);
  if (::stat(dir.c_str(), &st) != 0)
    throw ConfigError("cannot write " + name + ": directory " + quoted(dir) + " does not exist");
  if (!S_ISDIR(st.st_mode)) throw ConfigError("cannot write " + name + ": " + quoted(dir) + " is not a directory");
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    throw ConfigError("cannot write " + name + ": directory " + quoted(dir) + ": " + std::strerror(errno));
}

void check_output_dir(const std::string& dir, const std::string& what) {
  if (dir.empty()) throw ConfigError("empty " + what + " directory name");
  // The nearest part of the path that exists must be a writable directory.
  fs::path p = fs::path(dir);
  struct stat st {};
  while (::stat(p.c_str(), &st) != 0) {
    const int err = errno;
    fs::path parent = p.parent_path();
    if (parent.empty()) parent = ".";  // a relative path starts in the working directory
    if (err != ENOENT || parent == p)
      throw ConfigError("cannot write " + what + " " + quoted(dir) + ": " + std::strerror(err));
    p = parent;
  }
  if (!S_ISDIR(st.st_mode))
    throw ConfigError("cannot write " + what + " " + quoted(dir) + ": " + quoted(p.string()) + " is not a directory");
  if (::access(p.c_str(), W_OK | X_OK) != 0)
    throw ConfigError("cannot write " + what + " " + quoted(dir) + ": " + quoted(p.string()) + ": " +
                      std::strerror(errno));
}

bool same_file(const std::string& a, const std::string& b) {
  std::error_code ea, eb;
  const fs::path pa = fs::weakly_canonical(fs::absolute(a, ea), ea);
  const fs::path pb = fs::weakly_canonical(fs::absolute(b, eb), eb);
  if (!ea && !eb && pa == pb) return true;
  struct stat sa {}, sb {};
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

int finish_stdout(int status) {
  std::cout.flush();
  const bool stream_ok = static_cast<bool>(std::cout);
  errno = 0;
  int err = 0;
  bool ok = std::fflush(stdout) == 0;
  if (!ok) err = errno;
  ok = ok && stream_ok && !std::ferror(stdout);
  if (ok && std::fclose(stdout) != 0) {
    ok = false;
    err = errno;
  }
  if (ok) return status;
  std::fprintf(stderr, "smpemu: error: cannot write standard output%s%s\n", err ? ": " : "", err ? std::strerror(err) : "");
  return kExitUsage;
}

}  // namespace smpemu
