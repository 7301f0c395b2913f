/*
 * Kernel shim: CPU topology and NUMA distances, as mm/ sees them.
 *
 * A NUMA node is a die of the machine profile (emu/topology.h: "an L3 / NUMA node on the
 * profiles we model"). Node ids are dense: the dies the machine's CPUs sit on, numbered
 * in increasing die id. node_distance() is the cache-line transfer cost between the
 * first CPUs of the two nodes (10-like "local" is the same-die cost).
 *
 * Context: any (host-side setup or inside Machine::run()); no sync points.
 */
#pragma once

#include <vector>

#include "emu/machine.h"

/* nr_cpu_ids of machine @m. */
static inline int nr_cpu_ids_on(const smpemu::Machine *m)
{
	return m->ncpus();
}

/* The global die id CPU @cpu sits on (mm maps dies to dense node ids). */
static inline int cpu_to_die_on(const smpemu::Machine *m, int cpu)
{
	return m->topology().place(cpu).die;
}

/* Transfer cost between CPUs @a and @b: the distance metric for NUMA fallback. */
static inline unsigned long cpu_distance_on(const smpemu::Machine *m, int a, int b)
{
	return static_cast<unsigned long>(m->costs().transfer[static_cast<int>(m->topology().distance(a, b))]);
}

/* Cycles per second of the profile (to turn published ns into cycles). */
static inline unsigned long long cpu_clock_hz(void)
{
	return smpemu::running_machine("cpu_clock_hz()").costs().clock_hz;
}

static inline int nr_cpu_ids(void)
{
	return smpemu::running_machine("nr_cpu_ids()", "nr_cpu_ids_on(&m)").ncpus();
}
