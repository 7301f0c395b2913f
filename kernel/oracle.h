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
#include "kernel/callpath.h"

/* report_hex - "0x..." for addresses in reports (signatures treat it as a number). */
static inline std::string report_hex(unsigned long v)
{
	char buf[24];
	std::snprintf(buf, sizeof buf, "%#lx", v);
	return buf;
}

/*
 * The report's key (what fuzz signatures group by) is the code site of the check; its
 * details give the call path, the locks held and the recent events of the task.
 */
static inline void report_check(const char *check, const std::string &msg, bool fatal, caller_ip_t ip = _RET_IP_)
{
	smpemu::Machine *m = smpemu::this_machine();
	const smpemu::Track now = m->track(ip);
	smpemu::BugReport b;
	b.check = check;
	b.message = msg;
	b.fatal = fatal;
	b.key = now.path.site_str();
	b.details = "\n" + smpemu::splat_rule('=') + "BUG: " + check + " in " + smpemu::function_name(now.path.site) +
		    "\n" + msg + "\ndetected " + smpemu::track_text(now) +
		    (now.task ? smpemu::held_locks_text(*now.task) : std::string());
	m->report(std::move(b));
}
