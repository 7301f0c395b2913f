/*
 * Kernel shim: cross-CPU function calls and conditional waits.
 *
 * smp_call_function_single_async() sends an IPI to @cpu that runs csd->func(csd->info)
 * there in IRQ context (emu: Machine::send_ipi; costs ipi_send on the sender, delivery
 * after ipi_latency plus a line transfer, delayed while the target has IRQs off). The
 * csd must stay alive until the function has run. atomic_cond_read_acquire() waits
 * until @cond holds for the atomic's value without emulating every spin (the engine
 * parks the CPU on the line).
 *
 * Context: task context, inside Machine::run().
 */
#pragma once

#include "kernel/atomic.h"

typedef void (*smp_call_func_t)(void *info);

struct call_single_data {
	smp_call_func_t func;
	void *info;
};

static inline void __csd_trampoline(smpemu::Machine &, void *arg)
{
	struct call_single_data *csd = static_cast<struct call_single_data *>(arg);
	csd->func(csd->info);
}

static inline void smp_call_function_single_async(int cpu, struct call_single_data *csd)
{
	smpemu::running_machine("smp_call_function_single_async()").send_ipi(cpu, __csd_trampoline, csd);
}

template <typename Cond>
static inline int atomic_cond_read_acquire(atomic_t *v, Cond cond)
{
	return smpemu::running_machine("atomic_cond_read_acquire()").spin_until(v->line, v->counter, cond);
}
