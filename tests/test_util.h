// Helpers shared by the tests: building a bare Machine, running a workload in-process,
// and running the smpemu binary as a user would (exit status, stdout, stderr).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#include "arch/profiles.h"
#include "cli/runner.h"
#include "emu/machine.h"

namespace smpemu::testing {

/// A Machine of `cpus` CPUs on the opteron48 profile, with default parameters but the seed.
inline std::unique_ptr<Machine> opteron_machine(int cpus, std::uint64_t seed = 1) {
  MachineParams p;
  p.cpus = cpus;
  p.seed = seed;
  const machine_profile* prof = find_machine_profile("opteron48");
  return std::make_unique<Machine>(p, build_topology(prof, cpus), prof->costs);
}

inline RunConfig spin_config(int cpus, std::uint64_t seed, const std::string& lock, const std::string& duration) {
  RunConfig cfg;
  cfg.workload = "spinlock-contention";
  cfg.params.cpus = cpus;
  cfg.params.seed = seed;
  cfg.set["lock"] = lock;
  cfg.set["duration"] = duration;
  return cfg;
}

/// abba on 4 CPUs with lock `lock` (mutex or spin) under `strategy`.
inline RunConfig abba_config(std::uint64_t seed, const std::string& strategy, const std::string& lock = "mutex") {
  RunConfig cfg;
  cfg.workload = "abba";
  cfg.params.cpus = 4;
  cfg.params.seed = seed;
  cfg.params.strategy = strategy;
  cfg.set["lock"] = lock;
  return cfg;
}

struct Exec {
  int status = -1;
  std::string out;
  std::string err;
};

inline std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

/// A fresh, empty directory under the test temp dir (name + pid).
inline std::string make_temp_dir(const std::string& name) {
  const auto p = std::filesystem::path(::testing::TempDir()) / (name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p.string();
}

/// Runs a shell command line; returns exit status and both streams (redirected to
/// temporary files after the whole line, unless `out_redirect` replaces stdout's).
inline Exec run_command(const std::string& line, const std::string& out_redirect = "") {
  char out_tmpl[] = "/tmp/smpemu_outXXXXXX";
  char err_tmpl[] = "/tmp/smpemu_errXXXXXX";
  const int fo = ::mkstemp(out_tmpl);
  const int fe = ::mkstemp(err_tmpl);
  ::close(fo);
  ::close(fe);
  const std::string out = out_redirect.empty() ? std::string(">") + out_tmpl : out_redirect;
  const std::string cmd = "{ " + line + " ; } " + out + " 2>" + err_tmpl;
  const int rc = std::system(cmd.c_str());
  Exec e;
  e.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  e.out = slurp(out_tmpl);
  e.err = slurp(err_tmpl);
  ::unlink(out_tmpl);
  ::unlink(err_tmpl);
  return e;
}

/// Runs `smpemu ARGS` through the shell; returns exit status and both streams.
inline Exec run_smpemu(const std::string& args) { return run_command(std::string(SMPEMU_BINARY) + " " + args); }

/// `smpemu ARGS` must fail as a usage error: exit 2, nothing on stdout, exactly one
/// line on stderr, and that line mentions `mentions`.
inline void expect_usage_error(const std::string& args, const std::string& mentions) {
  const Exec e = run_smpemu(args);
  EXPECT_EQ(e.status, 2) << args;
  EXPECT_TRUE(e.out.empty()) << args << ": " << e.out;
  EXPECT_EQ(std::count(e.err.begin(), e.err.end(), '\n'), 1) << args << ": " << e.err;
  EXPECT_NE(e.err.find(mentions), std::string::npos) << args << ": " << e.err;
}

}  // namespace smpemu::testing
