/*
 * Kernel shim: BUG_ON and WARN_ON.
 *
 * A BUG_ON that fires is a fatal bug report (the run stops, exit status 1) with the
 * condition, file and line; a WARN_ON is a warning report and the run goes on. Neither
 * crashes the emulator.
 *
 * Context: any, inside Machine::run().
 */
#pragma once

#include <string>

#include "kernel/compiler.h"

static inline void __report_bug(const char *check, const char *cond, const char *file, int line, bool fatal)
{
	smpemu::running_machine(fatal ? "BUG_ON()" : "WARN_ON()").report_bug(check, std::string(cond) + " at " + file + ":" + std::to_string(line),
					   fatal);
}

#define BUG_ON(cond)								\
	do {									\
		if (cond)							\
			__report_bug("BUG_ON", #cond, __FILE__, __LINE__, true);	\
	} while (0)

#define BUG() __report_bug("BUG_ON", "BUG()", __FILE__, __LINE__, true)

#define WARN_ON(cond)								\
	({									\
		const bool __warn = !!(cond);					\
		if (__warn)							\
			__report_bug("WARN_ON", #cond, __FILE__, __LINE__, false);	\
		__warn;								\
	})
