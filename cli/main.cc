// The smpemu command line (docs/USAGE.md): the program is cli/smpemu_main.h, and each
// command lives in cli/cmd_<name>.cc. This main() is also the smpemu::main library that
// an experiment built with smpemu_add_experiment() links (docs/WRITING_A_WORKLOAD.md).
#include "cli/smpemu_main.h"

int main(int argc, char** argv) { return smpemu::smpemu_main(argc, argv); }
