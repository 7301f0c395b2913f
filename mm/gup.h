/*
 * mm/gup.h - the lockless page-table walk of get_user_pages_fast(), and of coprocessor
 * fault handlers that walk another process's tables (Cell SPE faults calling hash_page
 * for the SPE's context: seed 001's "foreign walker").
 *
 * Models: with IRQs off for the whole walk (the walker contract of RCU table freeing,
 * mm/table_free.h, and what x86's shootdown IPI waits for), read the pmd entry, follow it
 * to the pte table and read the pte; no lock, no reference on the tables. The walker
 * may hold only mm_count (mmgrab), not mm_users: nothing keeps the tables but the IRQs-off
 * region and whatever the MMU's table freeing waits for.
 *
 * Oracle: the pte table's frame must still be a page table after the pte was read (the
 * read is a sync point, so a free that happened meanwhile is visible): else a fatal
 * "use-after-free-pagetable" report.
 *
 * Context: any; the walker disables IRQs itself. Locking: none.
 */
#pragma once

#include "arch/pgtable.h"

struct mm_struct;

/* gup_fast_pte - @addr's pte in @mm read locklessly with IRQs off: 0 and *@out, or
 * -EFAULT if the pmd entry is none. */
int gup_fast_pte(struct mm_struct *mm, unsigned long addr, pte_t *out);
