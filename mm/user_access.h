/*
 * mm/user_access.h - a user-mode load or store as the CPU executes it: translation by
 * the machine's MMU model (mmu_translate, arch/mmu.h: a TLB and hardware walker on x86),
 * the frame access, and on a miss the page fault (do_page_fault: find_vma under
 * mmap_sem for reading, handle_mm_fault), then retry. Arch-neutral: the MMU model
 * decides only how a translation is found and cached.
 *
 * An instruction is atomic with respect to interrupts: the translation and the access
 * run with IRQs off, so a shootdown IPI is handled before the translation or after the
 * access, never between them (as on hardware, where an interrupt is taken between
 * instructions). The fault handler runs with IRQs on.
 *
 * Oracle (shadow memory, mm/filemap.h): a load from a file page through a shared or
 * private mapping must return what was last written to that page of the file; a store
 * through a shared mapping updates the file's shadow. Private pages (anonymous, and
 * COW copies of file pages) are checked against the process's own shadow
 * (mm/anon_shadow.h).
 *
 * Context: task context of a user task (IRQs on, preemption on, no locks held).
 */
#pragma once

#include "mm/mm.h"

/* Results of user_access besides 0. */
#define USER_SEGV (-14)		/* no vma, or a store to a read-only vma */
#define USER_SIGBUS (-7)	/* beyond the end of the file */
#define USER_NOMEM (-12)

/*
 * user_access - load (*@val = ...) or store (@write: *@val) the word of @mm's page at
 * @addr. Returns 0, USER_SEGV, USER_SIGBUS or USER_NOMEM. *@faults counts the page faults
 * taken (may be NULL). A nonzero @stream makes the access the first of a user loop over
 * the whole page (a memset, a copy): after it, @stream cycles more on the frame's node,
 * scaled by the frame's distance as page_stream() does (mm/page.h).
 */
int user_access(struct mm_struct *mm, unsigned long addr, bool write, unsigned long *val, unsigned long *faults,
		smpemu::Cycles stream = 0);
