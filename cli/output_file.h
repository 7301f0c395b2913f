// Files smpemu writes (records from run/fuzz/shrink, traces from --trace) and its
// standard output: lost output must never read as success.
//
// What it models: an output file is written to a temporary name in its own directory
// and renamed into place once every byte is written, flushed, synced and closed, so a
// reader finds the old file or the whole new one, never half of one (and a failed write
// leaves nothing behind, not even the temporary). A target that exists and is not a
// regular file (/dev/null, /dev/stdout, a FIFO) is written in place: renaming over a
// device would replace the device node. Every failure is a one-line ConfigError naming
// the file. check_output_file() does the checks that can be done before a long run.
//
// Concurrency: AtomicOutputFile objects are independent; temporary names are unique
// per process (pid and a counter) and created exclusively (O_EXCL).
#pragma once

#include <memory>
#include <ostream>
#include <string>

namespace smpemu {

/// An output file being written.
class AtomicOutputFile {
 public:
  /// Opens a temporary next to `path` (or `path` itself if it is not a regular file).
  /// `what` names the kind in messages ("record", "trace"). Throws ConfigError.
  AtomicOutputFile(const std::string& path, const std::string& what);
  /// Removes the temporary unless commit() succeeded.
  ~AtomicOutputFile();
  AtomicOutputFile(const AtomicOutputFile&) = delete;
  AtomicOutputFile& operator=(const AtomicOutputFile&) = delete;

  /// Where the contents go; write errors are kept and reported by commit().
  std::ostream& stream();
  /// Flushes, syncs and closes the temporary and renames it to the path. Throws
  /// ConfigError ("cannot write trace 'x': No space left on device"), after removing
  /// the temporary.
  void commit();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Writes `contents` to `path` through an AtomicOutputFile. Throws ConfigError.
void write_file_atomically(const std::string& path, const std::string& contents, const std::string& what = "file");

/// Checks, before a run, that `path` can be written: not empty, not a directory, its
/// directory exists and is writable. Throws ConfigError ("cannot write record 'x/y':
/// directory 'x' does not exist").
void check_output_file(const std::string& path, const std::string& what);

/// Checks that `dir` can be created or written into (fuzz --record DIR): an existing
/// `dir` must be a writable directory, else its nearest existing parent must be one.
void check_output_dir(const std::string& dir, const std::string& what);

/// True when `a` and `b` name the same file: equal after making them absolute and
/// resolving the parts that exist (./x is x, a symlink is its target), or the same
/// inode when both exist.
bool same_file(const std::string& a, const std::string& b);

/// Flushes and closes standard output (std::cout and stdio). If anything written to
/// it was lost (a full disk, a closed pipe, /dev/full), prints one line on stderr and
/// returns kExitUsage (2); otherwise returns `status`. Called once, at the end of main.
int finish_stdout(int status);

}  // namespace smpemu
