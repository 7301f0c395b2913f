/*
 * Kernel shim: cpumask_t, a set of CPUs read locklessly by other CPUs.
 *
 * One shared word (and coherence line) per 64 CPUs; set/clear are atomic bit operations
 * (sync points), cpumask_test_cpu() a load, for_each_cpu() loads each word once and
 * visits CPUs in increasing order (deterministic).
 *
 * Context: cpumask_init_on() at setup; the rest inside Machine::run().
 */
#pragma once

#include <vector>

#include "kernel/bitops.h"

struct cpumask {
	std::vector<shared<unsigned long>> bits;
};
typedef struct cpumask cpumask_t;

static inline void cpumask_init_on(smpemu::Machine *m, cpumask_t *mask)
{
	const int words = (m->ncpus() + 63) / 64;
	mask->bits.resize(static_cast<size_t>(words));
	for (auto &w : mask->bits)
		shared_init(&w, m->new_line(), 0UL);
}

static inline void cpumask_set_cpu(int cpu, cpumask_t *mask)
{
	set_bit(cpu % 64, &mask->bits[static_cast<size_t>(cpu / 64)]);
}

static inline void cpumask_clear_cpu(int cpu, cpumask_t *mask)
{
	clear_bit(cpu % 64, &mask->bits[static_cast<size_t>(cpu / 64)]);
}

static inline bool cpumask_test_cpu(int cpu, const cpumask_t *mask)
{
	return test_bit(cpu % 64, &mask->bits[static_cast<size_t>(cpu / 64)]);
}

/* Host-side (not a sync point): for checks after a run. */
static inline bool cpumask_test_cpu_nosync(int cpu, const cpumask_t *mask)
{
	return (mask->bits[static_cast<size_t>(cpu / 64)].v >> (cpu % 64)) & 1;
}

/* Calls @fn(cpu) for every CPU in @mask, in increasing order; one load per word. */
template <typename Fn>
static inline void for_each_cpu(const cpumask_t *mask, Fn fn)
{
	for (size_t w = 0; w < mask->bits.size(); w++) {
		unsigned long v = READ_ONCE(mask->bits[w]);
		for (int b = 0; v; b++, v >>= 1)
			if (v & 1)
				fn(static_cast<int>(w * 64 + b));
	}
}
