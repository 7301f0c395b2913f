// The smpemu command line (docs/USAGE.md).
// Each command lives in cli/cmd_<name>.cc; cli/app.h parses and dispatches.
//
// Exit status: 0 no bug, 1 a bug was reported, 2 usage or configuration error (one line
// on stderr); `replay` adds 3 for a digest mismatch. Whatever a command throws ends here
// as one line and exit status 2, never as an abort; so does output to stdout that was
// lost (finish_stdout).
#include <csignal>
#include <exception>
#include <new>

#include "cli/app.h"
#include "cli/options.h"
#include "cli/output_file.h"

using namespace smpemu;

int main(int argc, char** argv) {
  // A file-size limit (ulimit -f) makes a write fail with EFBIG, reported like any
  // other write error (and the half-written temporary removed), instead of killing us.
  std::signal(SIGXFSZ, SIG_IGN);
  try {
    return finish_stdout(run_cli(argc, argv));
  } catch (const std::bad_alloc&) {
    return usage_error("out of host memory");
  } catch (const std::exception& e) {
    return usage_error(e.what());
  } catch (...) {
    return usage_error("unexpected exception");
  }
}
