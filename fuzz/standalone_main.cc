// A small driver that runs a libFuzzer harness (LLVMFuzzerTestOneInput) without
// libFuzzer, so every build (g++, no sanitizer runtime needed) runs the parser harnesses
// as ctest tests: every file of a seed corpus first, then deterministic mutations of
// them from a fixed seed, for a bounded number of inputs and seconds.
//
//     <harness>_standalone CORPUS_DIR [--iterations N] [--seconds S] [--seed X] [--verbose]
//
// Mutations (1 to 4 stacked per input): flip a bit, set a byte to an interesting one
// (0, 0xff, quotes, brackets, separators, digits, newline), insert an interesting token
// ("-1", "4294967296", "18446744073709551616", "1e308", "null", "[]", "{}", ...), cut
// the input short, delete or duplicate a range, splice in part of another corpus file.
// The random stream is splitmix64 from --seed, so a run is reproducible; the input
// number and the seed are printed with a finding.
//
// A finding is anything but a normal return: an exception escaping the harness (it must
// catch the reader's own ConfigError), or a crash or abort (the signal handler prints
// the input, escaped, and re-raises so the process dies of it). The harness's stdout
// and stderr go to /dev/null unless --verbose (the options harness prints usage
// errors); the driver reports on the original stderr.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz/fuzz_support.h"

namespace {

/// The input being run, for the signal handler.
const std::string* g_current = nullptr;
int g_report_fd = 2;

void write_all(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w <= 0) return;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

/// Writes `s` escaped (printable ASCII as is, other bytes as \xNN); signal-safe.
void write_escaped(int fd, const std::string& s) {
  static const char hex[] = "0123456789abcdef";
  for (const char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      write_all(fd, &ch, 1);
    } else {
      const char e[4] = {'\\', 'x', hex[c >> 4], hex[c & 0xf]};
      write_all(fd, e, 4);
    }
  }
}

extern "C" void on_fatal_signal(int sig) {
  const char* msg = "\nstandalone fuzz driver: fatal signal on input: \"";
  write_all(g_report_fd, msg, std::strlen(msg));
  if (g_current) write_escaped(g_report_fd, *g_current);
  write_all(g_report_fd, "\"\n", 2);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

struct Rng {  // splitmix64
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::size_t below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(next() % n); }
};

const char kBytes[] = {'\0', '\x7f', '\xff', '"', '\\', '[', ']', '{', '}', ',', ':', '-', '0', '1', '9',
                       '\n', ' ', 'e', '.', '/', '='};
const char* const kTokens[] = {"-1", "0", "1", "4294967296", "18446744073709551615", "18446744073709551616",
                               "-9223372036854775808", "1e308", "1.5", "null", "true", "false", "\"\"", "[]",
                               "{}", "[[0,0]]", "\"\\u0000\"", "\"\\n\"", "\\u0001", "\\u00ff", "\\n", "\\\"", "\\ud800", "1099511627777", ",", "\"x\":1,",
                               "--runs", "--jobs", "--record", "--trace", "/dev/null", "/proc/self/mem", "/tmp",
                               "fuzz", "run", "replay", "merge", "diff", "shrink", "compare", "abba", "--seeds",
                               "# tracer: nop\n"};

std::string mutate(std::string s, const std::vector<std::string>& corpus, Rng& rng) {
  const int rounds = 1 + static_cast<int>(rng.below(4));
  for (int r = 0; r < rounds; ++r) {
    switch (rng.below(8)) {
      case 0:
        if (!s.empty()) s[rng.below(s.size())] ^= static_cast<char>(1u << rng.below(8));
        break;
      case 1:
        if (!s.empty()) s[rng.below(s.size())] = kBytes[rng.below(sizeof kBytes)];
        break;
      case 2:
        s.insert(rng.below(s.size() + 1), kTokens[rng.below(sizeof kTokens / sizeof kTokens[0])]);
        break;
      case 3:
        s.resize(rng.below(s.size() + 1));
        break;
      case 4:
        if (!s.empty()) {
          const std::size_t a = rng.below(s.size()), n = 1 + rng.below(std::min<std::size_t>(16, s.size() - a));
          s.erase(a, n);
        }
        break;
      case 5:
        if (!s.empty() && s.size() < (1u << 20)) {
          const std::size_t a = rng.below(s.size()), n = 1 + rng.below(std::min<std::size_t>(64, s.size() - a));
          s.insert(rng.below(s.size() + 1), s.substr(a, n));
        }
        break;
      case 6:
        if (!corpus.empty()) {
          const std::string& o = corpus[rng.below(corpus.size())];
          if (!o.empty()) {
            const std::size_t a = rng.below(o.size()), n = 1 + rng.below(o.size() - a);
            s.insert(rng.below(s.size() + 1), o.substr(a, n));
          }
        }
        break;
      default: {  // replace a number in the text by an interesting one
        const std::size_t at = s.find_first_of("0123456789", rng.below(s.size() + 1));
        if (at != std::string::npos) {
          const std::size_t end = s.find_first_not_of("0123456789", at);
          s.replace(at, (end == std::string::npos ? s.size() : end) - at, kTokens[rng.below(6)]);
        }
        break;
      }
    }
  }
  return s;
}

/// Runs one input; returns false (after reporting) on an escaped exception.
bool run_one(const std::string& input, const std::string& label) {
  g_current = &input;
  try {
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
  } catch (const std::exception& e) {
    std::string m = "standalone fuzz driver: " + label + ": exception escaped the harness: " + e.what() +
                    "\n  input: \"";
    write_all(g_report_fd, m.data(), m.size());
    write_escaped(g_report_fd, input);
    write_all(g_report_fd, "\"\n", 2);
    return false;
  } catch (...) {
    const std::string m = "standalone fuzz driver: " + label + ": non-standard exception escaped the harness\n";
    write_all(g_report_fd, m.data(), m.size());
    return false;
  }
  g_current = nullptr;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR [--iterations N] [--seconds S] [--seed X] [--verbose]\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  std::uint64_t iterations = 20000, seed = 1;
  double seconds = 5;
  bool verbose = false;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--verbose") verbose = true;
    else if (i + 1 < argc && a == "--iterations") iterations = std::stoull(argv[++i]);
    else if (i + 1 < argc && a == "--seconds") seconds = std::stod(argv[++i]);
    else if (i + 1 < argc && a == "--seed") seed = std::stoull(argv[++i]);
    else {
      std::fprintf(stderr, "unknown argument '%s'\n", a.c_str());
      return 2;
    }
  }
  std::vector<std::string> names, corpus;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.is_regular_file()) names.push_back(e.path().string());
  if (ec || names.empty()) {
    std::fprintf(stderr, "no corpus files in '%s'\n", dir.c_str());
    return 2;
  }
  std::sort(names.begin(), names.end());  // directory order is not deterministic
  for (const auto& n : names) {
    std::ifstream f(n, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    corpus.push_back(ss.str());
  }

  g_report_fd = ::dup(2);
  if (!verbose) {
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::close(null);
  }
  for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) std::signal(sig, on_fatal_signal);

  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < corpus.size(); ++i)
    if (!run_one(corpus[i], names[i])) return 1;
  Rng rng{seed};
  std::uint64_t done = 0;
  for (; done < iterations; ++done) {
    if (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() > seconds) break;
    const std::size_t i = rng.below(corpus.size());
    const std::string input = mutate(corpus[i], corpus, rng);
    if (!run_one(input, "mutation " + std::to_string(done) + " of " + names[i] + " (seed " + std::to_string(seed) +
                            ")"))
      return 1;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::string m = "standalone fuzz driver: " + std::to_string(corpus.size()) + " corpus files and " +
                        std::to_string(done) + " mutations in " + std::to_string(secs) + " s, no finding\n";
  write_all(g_report_fd, m.data(), m.size());
  return 0;
}
