/*
 * mm/numa.h - automatic NUMA balancing of 3.8: hinting faults mark where a task uses
 * its memory, and a misplaced page migrates to the node of the CPU that touched it.
 *
 * Models: Peter Zijlstra's and Mel Gorman's NUMA balancing as merged in 3.8 (seed 000,
 * Ingo Molnar's "sched/numa" thread), docs/MM.md "NUMA balancing":
 *  - task_numa_work (kernel/sched/fair.c), run by a task on its way back to user mode:
 *    at most once per scan period per mm (the thread that wins a cmpxchg on
 *    mm->numa_next_scan scans), it marks the next numa_scan_size pages of the mm's
 *    anonymous vmas from mm->numa_scan_offset on with change_prot_numa, under mmap_sem
 *    for reading, and wraps around at the end.
 *  - change_prot_numa (mm/mprotect.c with prot_numa): every present pte of a page mapped
 *    once becomes a NUMA hinting pte (arch/pgtable.h: pte_mknuma), then the range's TLB
 *    entries are flushed, so the next access faults.
 *  - do_numa_page (mm/memory.c): under the pte lock, recheck pte_same, clear the hint
 *    (the pte is usable again), take a page reference, ask mpol_misplaced (with NUMA
 *    balancing on, the default policy is 3.8's MPOL_F_MOF "migrate on fault to the
 *    faulting CPU's node"), unlock, and if misplaced numamigrate_misplaced_page.
 *  - numamigrate_misplaced_page (3.8's migrate_misplaced_page, mm/migrate.c; named apart
 *    from the 2012 lazy prototype's, mm/migrate.h): skip a page mapped more than once,
 *    apply the per-node rate limit (numa_ratelimit pages per 100 ms window), isolate the
 *    page (its own reference replaces the caller's) and migrate_pages(MIGRATE_ASYNC) to
 *    a frame on the target node allocated without sleeping or falling back.
 * Every migration goes through try_to_unmap and remove_migration_ptes, both walks of the
 * page's anon_vma under its root lock: with all threads of one process faulting, that
 * one lock is what they queue on (anon_lock=mutex), or share (anon_lock=rwsem, 3.8).
 *
 * Knobs (vm_tunables, declared by the workloads that use them): numa_balancing,
 * numa_scan_period_us, numa_scan_size, numa_ratelimit.
 *
 * Locking: task_numa_work takes mmap_sem for reading; change_prot_numa and do_numa_page
 * the pte lock; migration its own (page lock > anon_vma > ptl). Context: task context.
 */
#pragma once

#include "mm/mm.h"

/* change_prot_numa - mark [@start, @end) of @vma for hinting faults; returns the number
 * of ptes marked. Locking: mmap_sem held (read); takes each pte lock. */
unsigned long change_prot_numa(struct vm_area_struct *vma, unsigned long start, unsigned long end);

/* do_numa_page - the hinting fault on NUMA pte @pte at @addr (slot @ptep of table @pmd).
 * Returns VM_FAULT_MINOR: the access retries. Locking: mmap_sem held (read). */
int do_numa_page(struct mm_struct *mm, struct vm_area_struct *vma, unsigned long addr, pte_t pte,
		 pgtable_slot_t *ptep, pgtable_slot_t *pmd);

/* numamigrate_misplaced_page - move @page, for which the caller holds a reference (it is
 * dropped here), to node @nid. true if it moved. */
bool numamigrate_misplaced_page(struct page *page, int nid);

/* task_numa_work - the scanner's turn for @mm, on the caller's way back to user mode
 * (with numa_balancing off: nothing). Context: a task of @mm, no locks held. */
void task_numa_work(struct mm_struct *mm);
