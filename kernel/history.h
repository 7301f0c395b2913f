/*
 * Kernel shim: what two-sided bug reports remember (emu/history.h, emu/splat.h).
 *
 * An oracle that finds a race knows the side it is on (the task running now); the
 * other side happened earlier. Code that may be the other side records a track_t (task,
 * CPU, cycle and call path) where it acts: a fault installing a pte, a truncate
 * writing i_size, a free. The records live in bounded histories (struct
 * keyed_history, or a field of the object) and cost one test of history_on() when the
 * machine runs with --history off.
 *
 * Context: any, inside Machine::run(); outside it history_on() is false.
 */
#pragma once

#include "emu/history.h"
#include "emu/machine.h"
#include "kernel/callpath.h"

typedef smpemu::Track track_t;
template <class Rec>
using keyed_history = smpemu::KeyedHistory<Rec>;

/* history_on - whether this run keeps histories (MachineParams::history). */
static inline bool history_on(void)
{
	const smpemu::Machine *m = smpemu::this_machine();
	return m && m->params().history;
}

/* track_now - where and when the caller is now (an empty track if history is off). */
static inline track_t track_now(caller_ip_t ip = _RET_IP_)
{
	return history_on() ? smpemu::this_machine()->track(ip) : track_t{};
}
