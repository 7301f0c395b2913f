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
#include <map>
#include <string>

namespace smpemu {
class Machine;
}
struct mmu;

/* A knob of one model (--set NAME=VALUE of mm workloads; refused with another --arch). */
struct mmu_knob {
	const char *name;
	const char *def;	/* default value */
	const char *choices;	/* the allowed values, "a|b" */
	const char *doc;	/* one line for `smpemu list` */
};

/* What create() gets: the machine's RAM and the values of the model's knobs. */
struct mmu_setup {
	unsigned long ram_pages;				/* frames of emulated RAM */
	const std::map<std::string, std::string> *knobs;	/* by name; every knob of the model */
};

struct mmu_type {
	const char *name;	/* --arch NAME */
	const char *doc;	/* one line for `smpemu list` */
	const struct mmu_knob *knobs;	/* the model's knobs, nr_knobs of them */
	size_t nr_knobs;
	/* create - a new instance with empty per-CPU state for every CPU of @m (host
	 * side, before Machine::run()). */
	struct mmu *(*create)(smpemu::Machine *m, const struct mmu_setup *setup);
};

/* mmu_knob_value - the value of knob @name in @setup (its default if absent). */
const char *mmu_knob_value(const struct mmu_setup *setup, const char *name);

/* The registry, in the order `smpemu list` prints it; x86 first (the default). */
extern const struct mmu_type mmu_types[];
extern const size_t nr_mmu_types;
/* find_mmu_type - the model named @name, or NULL. */
const struct mmu_type *find_mmu_type(const char *name);
/* mmu_type_names - "x86, ppc64-hash, none": the registry's names, for messages. */
std::string mmu_type_names(void);
