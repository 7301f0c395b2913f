/*
 * mm/table_free.h - RCU page-table freeing (Linux's HAVE_RCU_TABLE_FREE: powerpc's
 * pte_freelist_batch before 3.0, generic tlb_remove_table from 3.0), for an MMU whose
 * lockless walkers no TLB flush waits for (struct mmu.rcu_table_free: the powerpc hash
 * MMU, whose hash_page walks with IRQs off and gets no IPI).
 *
 * Models (3.0's mm/memory.c, docs/MM.md "RCU page-table freeing"):
 *  - tlb_remove_table: the mmu_gather's pte_free_tlb for such an MMU. With the
 *    mm_users shortcut (knob mm_users_shortcut=on) a table of an mm with fewer than two
 *    users is freed at once: the assumption, dubious since Cell SPU faults and other
 *    foreign walkers hold only mm_count, that nobody else can be walking it. Otherwise
 *    the table joins the gather's batch, a page of up to MAX_TABLE_BATCH entries taken
 *    with GFP_NOWAIT; if that page cannot be had (knob table_batch_fail: the percent of
 *    attempts that fail, a seeded stream), tlb_remove_table_one sends a synchronous IPI
 *    to every other CPU, which cannot run until each has left its IRQs-off walk, and then
 *    frees the table;
 *  - tlb_table_flush (from tlb_flush_mmu, after the TLB flush, and when a batch is full)
 *    hands the batch to call_rcu; the callback frees its tables and the batch page after
 *    a grace period. With --rcu sched (the default) an IRQs-off region is a read-side
 *    section, so every IRQs-off walker that could have found a table is done; with --rcu
 *    preempt it is not (what call_rcu instead of call_rcu_sched would break).
 *
 * Walker contract: IRQs (or preemption) off for the whole walk, and no sleeping.
 *
 * Locking: the gather is per CPU with preemption off (mm/memory.h); the batch is the
 * gather's. Context: task context; the callback runs in IRQ context.
 */
#pragma once

#include <vector>

#include "kernel/rcupdate.h"

struct mmu_gather;
struct page;
struct phys_mem;

/* One batch page's worth of tables: its header and 509 pointers fill a 4 KiB page. */
#define MAX_TABLE_BATCH 509

struct mmu_table_batch {
	rcu_head rcu;
	struct phys_mem *mem;
	struct page *page;			/* the GFP_NOWAIT page holding the batch */
	std::vector<struct page *> tables;	/* at most MAX_TABLE_BATCH */
};

/* tlb_remove_table - free @table (a pte table unlinked by free_pgtables) once no walker
 * can reach it. */
void tlb_remove_table(struct mmu_gather *tlb, struct page *table);
/* tlb_table_flush - hand the gather's batch to RCU. */
void tlb_table_flush(struct mmu_gather *tlb);
