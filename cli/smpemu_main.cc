#include "cli/smpemu_main.h"

#include <csignal>
#include <exception>
#include <new>
#include <string>

#include "cli/app.h"
#include "cli/options.h"
#include "cli/output_file.h"
#include "cli/runner.h"

namespace smpemu {

int smpemu_main(int argc, char** argv) {
  // A file-size limit (ulimit -f) makes a write fail with EFBIG, reported like any
  // other write error (and the half-written temporary removed), instead of killing us.
  std::signal(SIGXFSZ, SIG_IGN);
  // Repro commands name this binary: an experiment's workloads exist only in it.
  if (argc > 0 && argv[0] && *argv[0]) {
    const std::string self = argv[0];
    set_program_name(self.substr(self.find_last_of('/') + 1));
  }
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

}  // namespace smpemu
