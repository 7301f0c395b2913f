/*
 * mm/mmu_gather.h - the mmu_gather: the batch that lets an unmap clear many ptes, flush
 * the TLBs once, and only then free the pages and page tables it cleared. Two models
 * (knob mmu_gather, struct vm_tunables):
 *
 *  - percpu (<= 2.6.38): one struct per CPU (get_cpu_var), so tlb_gather_mmu disables
 *    preemption until tlb_finish_mmu; FREE_PTE_NR (506) pages, flushed and freed when
 *    full (inside the pte lock). unmap_vmas finishes and regathers every ZAP_BLOCK_SIZE
 *    to let the scheduler in.
 *  - preemptible (3.0, Peter Zijlstra's series in the seed-001 thread): the gather
 *    lives on the caller's stack, nothing disables preemption; it holds MMU_GATHER_BUNDLE
 *    (8) pages in a local batch and chains extra batches of MAX_GATHER_BATCH (510) pages,
 *    each a page taken with GFP_NOWAIT when the last one fills (if none can be had it
 *    works with what it has). When every batch is full, __tlb_remove_page says so and
 *    zap_pte_range breaks out, drops the pte lock, flushes and goes on.
 *
 * Fast mode (knob tlb_fast_mode, both models): with one possible CPU, pages are freed at
 * once instead of after the flush (2.6.11's tlb->nr == ~0U, 3.0's tlb->fast_mode). Safe
 * while preemption stays off from gather to finish (percpu): no other task can run on
 * the only CPU before the flush. With the preemptible gather it is the bug removed in
 * 2013 ("arch, mm: Remove tlb_fast_mode()"): the gatherer is preempted between freeing a
 * page and flushing, and a thread of the same mm on the same CPU uses the stale TLB
 * entry to the freed frame (use-after-free-frame).
 *
 * Invariant (I1): with fast mode off, no page or page table is freed before a TLB flush
 * that follows its last clear and covers every CPU that may cache a translation of it.
 *
 * Locking: a gather is used by one task only (percpu: its CPU's, with preemption off;
 * preemptible: its own). Gathers and extra batches come from per-machine host pools in
 * struct vm_globals (like the vma slab), so nothing depends on host addresses.
 *
 * Context: task context. The percpu gather makes the region atomic; the preemptible one
 * may be used under a spinning i_mmap lock too (its allocation never sleeps).
 */
#pragma once

#include <memory>
#include <vector>

struct mm_struct;
struct page;
struct mmu_table_batch;

#define FREE_PTE_NR 506		/* pages per percpu mmu_gather (2.6.11 asm-generic/tlb.h) */
#define MMU_GATHER_BUNDLE 8	/* the preemptible gather's on-stack pages (3.0) */
#define MAX_GATHER_BATCH 510	/* pages in one extra batch page (3.0, 64-bit: 4 KiB less the header) */

/* mmu_gather models (knob mmu_gather). */
enum gather_model {
	GATHER_PERCPU,		/* <= 2.6.38: per-CPU, preemption off from gather to finish */
	GATHER_PREEMPTIBLE,	/* 3.0: on-stack, chained batches, no preempt_disable */
};

struct mmu_gather_batch {
	struct mmu_gather_batch *next;
	unsigned int nr;		/* pages held */
	unsigned int max;		/* capacity: FREE_PTE_NR, MMU_GATHER_BUNDLE or MAX_GATHER_BATCH */
	struct page *backing;		/* the GFP_NOWAIT page holding this batch; NULL for the local one */
	struct page *pages[MAX_GATHER_BATCH];
};

struct mmu_gather {
	struct mm_struct *mm;
	bool need_flush;
	bool fullmm;
	bool fast_mode;			/* free pages at once (one possible CPU and knob tlb_fast_mode) */
	bool in_use;			/* between tlb_gather_mmu and tlb_finish_mmu */
	bool percpu;			/* the model this gather was taken with */
	unsigned long start, end;	/* range cleared since the last flush */
	struct mmu_gather_batch local;	/* pages[] used up to local.max */
	struct mmu_gather_batch *active;	/* the batch being filled */
	std::vector<struct page *> tables;	/* page-table pages freed after the flush */
	struct mmu_table_batch *batch;		/* RCU-freed tables (mm/table_free.h), or NULL */
};

/* The host pools behind the preemptible gathers and their extra batches (vm_globals;
 * freed with it: a gather a run leaves behind needs nothing else). */
struct mmu_gather_pool {
	std::vector<std::unique_ptr<struct mmu_gather>> gathers;
	std::vector<struct mmu_gather *> free_gathers;
	std::vector<std::unique_ptr<struct mmu_gather_batch>> batches;
	std::vector<struct mmu_gather_batch *> free_batches;
};

/* tlb_gather_mmu - start a gather for @mm (@fullmm: the whole mm goes, exit_mmap). percpu:
 * disables preemption until tlb_finish_mmu. */
struct mmu_gather *tlb_gather_mmu(struct mm_struct *mm, bool fullmm);
/* tlb_remove_page - @page (mapped at @addr) was cleared: free it after the flush (at once
 * in fast mode). percpu: flushes when the gather is full. preemptible: see
 * __tlb_remove_page. Locking: the pte lock that covered its pte may be held. */
void tlb_remove_page(struct mmu_gather *tlb, struct page *page, unsigned long addr);
/* __tlb_remove_page - the preemptible gather's form: false when every batch is full and
 * no new one could be had, so the caller must flush (after dropping its pte lock). The
 * percpu model flushes itself and always returns true. */
bool __tlb_remove_page(struct mmu_gather *tlb, struct page *page, unsigned long addr);
/* pte_free_tlb - page table @table was unlinked: free it after the flush (or through
 * RCU, mm/table_free.h). */
void pte_free_tlb(struct mmu_gather *tlb, struct page *table);
/* tlb_flush_mmu - flush the TLBs of the range gathered so far, then free its pages.
 * Context: no pte lock held unless percpu (2.6 flushed a full gather inside it). */
void tlb_flush_mmu(struct mmu_gather *tlb);
/* tlb_finish_mmu - flush, free, and end the gather (percpu: preemption back on). */
void tlb_finish_mmu(struct mmu_gather *tlb, unsigned long start, unsigned long end);
/* tlb_gather_preemptible - whether this machine's gathers are the 3.0 ones. */
bool tlb_gather_preemptible(void);
