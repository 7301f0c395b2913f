/*
 * Machine profiles: the topology and cost table of each machine the emulator models.
 *
 * A profile describes one physical machine: sockets x dies x cores x SMT threads, the
 * socket interconnect (how many hops apart two sockets are), and the cycle costs of
 * coherence, IPIs and context switches. Each figure names its source (docs/COSTS.md);
 * figures marked (assumed) have no published source yet.
 *
 * CPU numbering (Linux x86 style): within one machine, cores are numbered socket-major,
 * then die, then core; logical CPU i is SMT thread (i / ncores) of core (i % ncores).
 * So the first ncores CPUs are distinct cores and their SMT siblings follow.
 *
 * More CPUs than the profile has: the machine is replicated. CPU i belongs to copy
 * i / profile_cpus, which adds whole sockets; two sockets in different copies are the
 * farthest distance apart (2 hops), as if the copies were joined by one more link.
 *
 * Locking: none; profiles are constant data.
 */
#pragma once

#include <string>
#include <vector>

#include "emu/topology.h"

struct machine_profile {
	const char *name;
	const char *description;
	int sockets;
	int dies_per_socket;
	int cores_per_die;
	int threads_per_core;
	/* Hops between two different sockets of one machine copy: 1 or 2. */
	int (*socket_hops)(int a, int b);
	smpemu::CostTable costs;
	/* Where the numbers come from, one citation per line. */
	const char *sources;
};

/* All profiles, in a fixed order. */
const std::vector<const machine_profile *> &machine_profiles();

/* The profile called @name, or NULL. */
const machine_profile *find_machine_profile(const std::string &name);

/* Logical CPUs of one copy of the machine. */
int machine_profile_cpus(const machine_profile *p);

/* Topology of @ncpus CPUs on @p, replicating the machine past its own CPU count. */
smpemu::Topology build_topology(const machine_profile *p, int ncpus);
