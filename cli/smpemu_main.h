// The whole `smpemu` program as a library function, for binaries that add their own
// workloads (docs/WRITING_A_WORKLOAD.md): an experiment's main() is
// `return smpemu::smpemu_main(argc, argv);`, and every command (list, run, fuzz, replay,
// shrink, compare, merge, diff) sees the workloads linked into that binary, registered
// by their static WorkloadRegistrar. smpemu_add_experiment() (CMake) provides that
// main() through the smpemu::main library.
//
// Exit status: 0 no bug, 1 a bug was reported, 2 usage or configuration error (one line
// on stderr); `replay` adds 3 for a digest mismatch. Whatever a command throws ends here
// as one line and exit status 2, never as an abort; so does output to stdout that was
// lost (finish_stdout).
//
// Concurrency: call once per process, from its main thread (it sets process-wide
// signal dispositions and the log level).
#pragma once

namespace smpemu {

/// Runs `smpemu ARGV...` (argv[0] is the program name) and returns the exit status.
int smpemu_main(int argc, char** argv);

}  // namespace smpemu
