/*
 * mm/history.h - the earlier sides of the mm oracles' races, for two-sided reports.
 *
 * Models: nothing in the kernel; the part of KASAN/KCSAN reports that says who freed or
 * changed the object ("Freed by task ..."). When an oracle of this slice fires, the
 * task it runs in is one side; these records give the other:
 *
 *  - pte-beyond-eof, truncate-mapped-page: the fault that installed the pte (its path,
 *    and when it sampled i_size and truncate_count), and the mapping's last truncate
 *    (when it wrote i_size, when it bumped truncate_count);
 *  - shadow-memory: the last write of the file page's value (or, for a private page,
 *    the last user store into its frame), and the fault that installed the reader's pte;
 *  - use-after-free-frame (stale TLB): the free of the frame and the TLB fill.
 *
 * Invariants: a record is what happened last for its key among those the bounded
 * history still holds (emu/history.h); a pte origin counts only while the pte still
 * maps the pfn it recorded, so a pte changed by a path that records nothing never
 * borrows an older pte's story. Nothing here is a sync point, costs cycles or reaches
 * the digest; with --history off every note is one test and every report says "not
 * recorded".
 *
 * Locking: none: host-side state of the running machine, written by the fiber that
 * runs (one at a time), at the turn of the operation it records.
 * Context: task context, inside Machine::run().
 */
#pragma once

#include <vector>

#include "kernel/oracle.h"

struct address_space;
struct mm_struct;
struct page;

/* What a file fault read before it installed its pte (do_no_page's samples). */
struct fault_sample {
	track_t size;			/* where ->nopage read i_size; empty: not a fault */
	unsigned long size_pages;	/* the size it saw, in pages */
	track_t count;			/* where it sampled truncate_count; empty: it did not */
	unsigned long count_val;
	track_t recheck;		/* where it rechecked the count under the pte lock */
	unsigned long recheck_val;
};

struct pte_origin {
	unsigned long pfn;		/* the page this pte was installed for */
	track_t installed;
	struct fault_sample sample;	/* of the fault that installed it, or of the original's */
	track_t copied_from;		/* a COW copy: where the pte it replaced was installed */
};

/* The last truncate of a mapping (address_space->last_truncate). */
struct truncate_record {
	track_t size_write;		/* vmtruncate's i_size_write */
	unsigned long old_pages, new_pages;
	track_t count_bump;		/* unmap_mapping_range's truncate_count++ */
	unsigned long count;		/* the value it stored */
};

struct shadow_write {
	unsigned long val;
	track_t who;
};

/* The machine's histories (in struct vm_globals). */
struct mm_history {
	keyed_history<struct pte_origin> ptes;		/* by (mm id, page number) */
	keyed_history<struct shadow_write> shadow;	/* by (file id, page index); private
							 * frames by (0, pfn): file ids start at 1 */
	keyed_history<track_t> frees;			/* by pfn */
	keyed_history<track_t> tlb_fills;		/* by (cpu, mm id, page number) */
};

/* sample_now - note in @t and @val that the caller read @v here and now (the fault's
 * samples); nothing when history is off. */
static inline void sample_now(track_t *t, unsigned long *val, unsigned long v, caller_ip_t ip = _RET_IP_)
{
	if (history_on()) {
		*t = smpemu::this_machine()->track(ip);
		*val = v;
	}
}

/* Notes. Each is one test of history_on() when history is off. */
void note_pte_origin(struct mm_struct *mm, unsigned long addr, struct page *page, const struct fault_sample *fs,
		     caller_ip_t ip = _RET_IP_);
/* note_pte_cow - do_wp_page replaced the pte at @addr by one for its COW copy @page: the
 * copy inherits the original pte's fault samples (a race that installed the original
 * installed the copy too), and remembers where the original was installed. */
void note_pte_cow(struct mm_struct *mm, unsigned long addr, struct page *page, caller_ip_t ip = _RET_IP_);
/* note_pte_moved - mremap moved the pte at @from to @to: its origin goes with it. */
void note_pte_moved(struct mm_struct *mm, unsigned long from, unsigned long to);
void note_truncate_size(struct address_space *mapping, unsigned long old_pages, unsigned long new_pages,
			caller_ip_t ip = _RET_IP_);
void note_truncate_count(struct address_space *mapping, unsigned long count, caller_ip_t ip = _RET_IP_);
void note_shadow_write(struct address_space *mapping, unsigned long index, unsigned long val,
		       caller_ip_t ip = _RET_IP_);
void note_frame_free(unsigned long pfn, caller_ip_t ip = _RET_IP_);
/* note_private_store - a user store of @val into private frame @pfn (mm/anon_shadow.h). */
void note_private_store(unsigned long pfn, unsigned long val, caller_ip_t ip = _RET_IP_);
void note_tlb_fill(struct mm_struct *mm, int cpu, unsigned long addr, caller_ip_t ip = _RET_IP_);

/* The sides for a report, appended to @sides. */
void pte_origin_sides(std::vector<struct report_side> *sides, struct mm_struct *mm, unsigned long addr,
		      unsigned long pfn);
void truncate_sides(std::vector<struct report_side> *sides, struct address_space *mapping);
void shadow_sides(std::vector<struct report_side> *sides, struct address_space *mapping, unsigned long index);
void private_store_sides(std::vector<struct report_side> *sides, unsigned long pfn);
/* frame_free_side - who freed frame @pfn last (for a report on a free frame). */
void frame_free_side(std::vector<struct report_side> *sides, unsigned long pfn);
void frame_sides(std::vector<struct report_side> *sides, struct mm_struct *mm, int cpu, unsigned long addr,
		 unsigned long pfn);
