/*
 * Kernel shim: named oracle reports from mm/ and arch/ checks.
 *
 * report_check() files a bug report with check name @check (e.g. "bad-page",
 * "use-after-free-frame") and @msg; a fatal one stops the run and does not return.
 * Like BUG_ON()/WARN_ON() but with the check named for signatures and tests; the
 * report_side overload adds the earlier sides of a race (KASAN's "Freed by task").
 *
 * Context: any, inside Machine::run().
 */
#pragma once

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "emu/machine.h"
#include "kernel/callpath.h"
#include "kernel/history.h"

/* report_hex - "0x..." for addresses in reports (signatures treat it as a number). */
static inline std::string report_hex(unsigned long v)
{
	char buf[24];
	std::snprintf(buf, sizeof buf, "%#lx", v);
	return buf;
}

/*
 * One earlier side of a race, for the report: @what says what that side did ("The pte
 * was installed", "It sampled i_size = 1052672"), @track who did it, where and when
 * (kernel/history.h). An empty track prints as "not recorded"; a @note is a line of its
 * own (what did not happen has no track).
 */
struct report_side {
	std::string what;
	track_t track;
	bool note = false;
};

/*
 * The report's key (what fuzz signatures group by) is the code site of the check; its
 * details give the call path, the locks held, the earlier @sides of the race and the
 * recent events of every task involved.
 */
static inline void report_check(const char *check, const std::string &msg, bool fatal,
				const std::vector<struct report_side> &sides, caller_ip_t ip = _RET_IP_)
{
	smpemu::Machine *m = &smpemu::running_machine("report_check()");
	const smpemu::Track now = m->track(ip);
	smpemu::BugReport b;
	b.check = check;
	b.message = msg;
	b.fatal = fatal;
	b.key = now.path.site_str();
	b.details = "\n" + smpemu::splat_rule('=') + "BUG: " + check + " in " + smpemu::function_name(now.path.site) +
		    "\n" + msg + "\ndetected " + smpemu::track_text(now) +
		    (now.task ? smpemu::held_locks_text(*now.task) : std::string());
	std::vector<const smpemu::Task *> involved;
	for (const struct report_side &s : sides) {
		b.details += "\n" + s.what + (s.note ? std::string("\n") : " " + smpemu::track_text(s.track));
		if (s.track.task && s.track.task != now.task &&
		    std::find(involved.begin(), involved.end(), s.track.task) == involved.end())
			involved.push_back(s.track.task);
	}
	m->report(std::move(b), involved);
}

static inline void report_check(const char *check, const std::string &msg, bool fatal, caller_ip_t ip = _RET_IP_)
{
	report_check(check, msg, fatal, {}, ip);
}
