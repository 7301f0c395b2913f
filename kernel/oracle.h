/*
 * Kernel shim: named oracle reports from mm/ and arch/ checks.
 *
 * report_check() files a bug report with check name @check (e.g. "bad-page",
 * "use-after-free-frame") and @msg; a fatal one stops the run and does not return.
 * Like BUG_ON()/WARN_ON() but with the check named for signatures and tests.
 *
 * Context: any, inside Machine::run().
 */
#pragma once

#include <cstdio>
#include <string>

#include "emu/machine.h"

/* report_hex - "0x..." for addresses in reports (signatures treat it as a number). */
static inline std::string report_hex(unsigned long v)
{
	char buf[24];
	std::snprintf(buf, sizeof buf, "%#lx", v);
	return buf;
}

static inline void report_check(const char *check, const std::string &msg, bool fatal)
{
	smpemu::this_machine()->report_bug(check, msg, fatal);
}
