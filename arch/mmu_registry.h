/*
 * arch/mmu_registry.h - the registry of MMU models (--arch): name, one-line doc, create.
 *
 * Kept apart from arch/mmu.h so that the command line (modern C++, no kernel shim
 * macros) can validate and list the models; struct mmu and its operations are in
 * arch/mmu.h. The table is constant (arch/mmu.cc); x86 comes first and is the default.
 *
 * Context: host side (before and after Machine::run()).
 */
#pragma once

#include <cstddef>
#include <string>

namespace smpemu {
class Machine;
}
struct mmu;

struct mmu_type {
	const char *name;	/* --arch NAME */
	const char *doc;	/* one line for `smpemu list` */
	/* create - a new instance with empty per-CPU state for every CPU of @m (host
	 * side, before Machine::run()). */
	struct mmu *(*create)(smpemu::Machine *m);
};

/* The registry, in the order `smpemu list` prints it; x86 first (the default). */
extern const struct mmu_type mmu_types[];
extern const size_t nr_mmu_types;
/* find_mmu_type - the model named @name, or NULL. */
const struct mmu_type *find_mmu_type(const char *name);
/* mmu_type_names - "x86, none": the registry's names, for messages. */
std::string mmu_type_names(void);
