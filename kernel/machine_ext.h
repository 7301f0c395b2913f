/*
 * Kernel shim: per-machine state of kernel-style code (Machine extensions).
 *
 * A subsystem that keeps one object per machine (mm's struct phys_mem, as the kernel
 * keeps one mem_map) attaches it to the Machine once with machine_ext_set_on() and
 * finds it from any task with machine_ext<T>(): one slot per type T, an O(1) lookup
 * (emu/machine.h, Machine::extension()). The Machine does not own what is attached:
 * detach it (attach nullptr) before freeing it. Neither call is a sync point, and
 * neither is observable in the digest or a trace.
 *
 * Context: machine_ext() anywhere (nullptr when no Machine runs on this host thread);
 * machine_ext_on() and machine_ext_set_on() at setup and teardown, outside run(), or
 * from a task of that machine.
 */
#pragma once

#include "emu/machine.h"

/* machine_ext - the running Machine's extension of type @T, or nullptr if none. */
template <typename T>
static inline T *machine_ext(void)
{
	const smpemu::Machine *m = smpemu::this_machine();
	return m ? m->extension<T>() : nullptr;
}

/* machine_ext_on - @m's extension of type @T, or nullptr (setup code, outside run()). */
template <typename T>
static inline T *machine_ext_on(const smpemu::Machine *m)
{
	return m->extension<T>();
}

/* machine_ext_set_on - attach @ext as @m's extension of type @T (nullptr detaches). */
template <typename T>
static inline void machine_ext_set_on(smpemu::Machine *m, T *ext)
{
	m->set_extension<T>(ext);
}
