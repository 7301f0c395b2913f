/*
 * arch/walk.h - the page walker of an MMU model: how hardware (x86) or a software miss
 * handler (powerpc hash) reads the Linux page table (arch/pgtable.h) for one access.
 *
 * Models: a lockless walk, every level's entry load a sync point (so it races with
 * updaters as a hardware walker does), then, for a usable pte, the accessed bit (and
 * the dirty bit on a store) set with one locked update of the pte, as the x86 walker
 * does in hardware and the ppc64 hash fault path does in __hash_page. The update is not
 * a pte_update(): the MMU itself makes it, not the kernel.
 *
 * Oracles: a walk that reaches a table frame which is not a page table any more is a
 * fatal "use-after-free-pagetable" report (lookup_pte, mm/pgtable.h); a translation an
 * MMU uses from a cache of its own (TLB, ERAT, hashed page table) whose frame is free or
 * has become a page table is a fatal "use-after-free-frame" report
 * (check_cached_translation: the mmu_gather rule, no page is freed before a flush that
 * follows its last clear and covers every CPU that may cache a translation through it).
 *
 * Context: any CPU context; takes no lock. The caller keeps IRQs off while it uses the
 * result (a walk is part of one instruction).
 */
#pragma once

#include "arch/pgtable.h"
#include "kernel/callpath.h"

/*
 * hw_walk - walk @mm's tables for @addr, a load or (@write) a store. Returns 0 with the
 * pte used in *@out (accessed/dirty as set by the walk), or -EFAULT: no present pte, or
 * a store to a read-only one.
 */
int hw_walk(struct mm_struct *mm, unsigned long addr, bool write, pte_t *out);

/*
 * check_cached_translation - the stale-translation oracle: @addr of @mm translated to
 * @pfn from the MMU cache @what ("TLB entry", "HPTE") on this CPU; after a sync point
 * (the frame state is the state now) the frame must still be data. The report's site is
 * @ip, the MMU's use of the cache.
 */
void check_cached_translation(struct mm_struct *mm, unsigned long addr, unsigned long pfn, const char *what,
			      caller_ip_t ip = _RET_IP_);
