/*
 * arch/powerpc/hash_utils.h - the powerpc hash MMU (--arch ppc64-hash): the MMU's
 * translation through the D-ERAT, the TLB and the hashed page table, the software miss
 * handler hash_page(), and flush_hash_page() with tlbie / tlbiel. The role of Linux's
 * arch/powerpc/mm/hash_utils_64.c and hash_low_64.S (__hash_page_4K) on book3s64.
 *
 * Models (docs/MM.md "The powerpc hash MMU"):
 *  - translate: ERAT, then TLB, then the MMU searches the vpn's primary and secondary
 *    HPTE groups (arch/powerpc/htab.h). A miss, or a store through a read-only HPTE,
 *    raises a storage interrupt whose handler is hash_page();
 *  - hash_page runs with IRQs off and without the pte lock: it walks the Linux page
 *    table locklessly, takes the pte's BUSY bit with a compare-and-exchange (failing on
 *    a pte that forbids the access: a real page fault for the caller), sets ACCESSED,
 *    DIRTY on a store, and HASHPTE; if the pte already had HASHPTE it first tries to
 *    update the HPTE in the slot the pte records (F_SECOND, F_GIX), else it inserts a
 *    new HPTE: primary group, secondary group, or, both full, evicts a seeded-random
 *    slot of one of them and retries; then it stores the pte with the slot and BUSY
 *    clear (the release). An HPTE is writable only if the pte is RW and DIRTY, so the
 *    first store after a load faults once more to set DIRTY (as in Linux);
 *  - pte_update: every pte change waits while BUSY is set, swaps the pte atomically and,
 *    if the old pte had HASHPTE, calls hpte_need_flush (arch/powerpc/tlb_hash.h);
 *  - flush_hash_page: invalidate the HPTE in the slot the old pte recorded if it still
 *    maps the vpn, then tlbiel (this CPU) or tlbie (every CPU; under a global lock with
 *    tlbie_lock=on, as CPUs without MMU_FTR_LOCKLESS_TLBIE need) for the vpn;
 *  - flush_tlb_mm / range / page do nothing: the hash flushes happened in pte_update
 *    (hash_flush=leave_lazy), or they drain this CPU's batch (tlb_flush_only);
 *  - page-table pages are freed after an RCU-sched grace period (HAVE_RCU_TABLE_FREE):
 *    no IPI waits for hash_page's IRQs-off walk, so only RCU keeps tables alive for it;
 *  - update_mmu_cache preloads the HPTE of a pte just installed (hash_preload), so the
 *    access that took the page fault finds it: the same BUSY-bit insertion as hash_page,
 *    without the interrupt's cost.
 *
 * Linux pte bits of the model (arch/pgtable.h's arch-private bits 58..52):
 *   HASHPTE 52 (an HPTE may exist), BUSY 53, F_SECOND 54, F_GIX 57..55 (slot 0-7).
 *
 * Oracle: a translation used from the ERAT, the TLB or an HPTE whose frame is free or a
 * page table is a fatal "use-after-free-frame" report (as for x86's TLB).
 *
 * Costs (struct ppc64_params; docs/COSTS.md): group line loads and pte sync points are
 * costed by the coherence model; the fixed parts are marked there.
 *
 * Locking: see each function. Per-CPU caches and batches are touched only by their CPU,
 * except tlbie (arch/powerpc/erat.h). Context: IRQs off for translate and hash_page.
 */
#pragma once

#include "arch/mmu.h"
#include "arch/powerpc/erat.h"
#include "arch/powerpc/htab.h"
#include "arch/powerpc/tlb_hash.h"
#include "kernel/percpu.h"
#include "kernel/spinlock.h"

#define _PAGE_HASHPTE (1UL << 52)
#define _PAGE_BUSY (1UL << 53)
#define _PAGE_F_SECOND (1UL << 54)
#define _PAGE_F_GIX_SHIFT 55
#define _PAGE_F_GIX (7UL << _PAGE_F_GIX_SHIFT)
#define _PAGE_HPTEFLAGS (_PAGE_BUSY | _PAGE_HASHPTE | _PAGE_F_SECOND | _PAGE_F_GIX)

/* Knob hash_flush (arch/powerpc/tlb_hash.h). */
enum hash_flush_point {
	HASH_FLUSH_LEAVE_LAZY,
	HASH_FLUSH_TLB_FLUSH_ONLY,
};

struct ppc64_params {
	enum hash_flush_point hash_flush = HASH_FLUSH_LEAVE_LAZY;
	bool tlbie_lock = false;	/* serialise tlbie under native_tlbie_lock (pre-POWER5 CPUs) */
	bool ctxsw_batch_flush = true;	/* __switch_to flushes an active batch (tlb_hash.h) */
	/* Costs, cycles (docs/COSTS.md, power7 column). */
	smpemu::Cycles erat_miss = 14;		/* D-ERAT miss that hits the TLB (assumed) */
	smpemu::Cycles hpt_search = 30;		/* TLB miss: the MMU's search, besides its group line loads (assumed) */
	smpemu::Cycles hash_fault = 300;	/* storage interrupt entry/exit and hash_page's own work (assumed) */
	smpemu::Cycles tlbiel = 400;		/* local invalidation of one page ("~400 tlbiel", assumed) */
	smpemu::Cycles tlbie = 1860;		/* global: tlbiel + one chip-to-chip hop of 1460 ("tlbie ~ 1 hop", assumed) */
};

struct ppc64_cleared_pte {
	const void *ptl;
	struct mm_struct *mm;
	unsigned long ea;
};

/* A ppc64-hash MMU instance: a struct mmu (its ops are ppc64_mmu_ops). */
struct ppc64_mmu : mmu {
	struct ppc64_params p;
	smpemu::Machine *m;				/* the machine it was created for */
	struct htab htab;
	per_cpu_var<struct ppc_cpu_tlb> cpu;		/* each written by its CPU (and tlbie) */
	per_cpu_var<struct ppc64_tlb_batch> batch;	/* each written by its CPU */
	/* oracle bookkeeping, per CPU: ptes cleared under a pte lock still held */
	per_cpu_var<std::vector<struct ppc64_cleared_pte>> cleared;
	spinlock_t tlbie_lock;				/* class "tlbie_lock"; with p.tlbie_lock */
	bool warned_batch, warned_stale;		/* the oracles warn once per run */
	/* Statistics, written by the CPU that does the work. */
	unsigned long tlbie_count, tlbiel_count, batch_flushes;
	unsigned long lazy_switches;			/* switches out of an active batch (tlb_hash.h) */
	unsigned long flush_calls, flush_cycles;	/* hash flushes and their cycles */
};

/* ppc64_mmu_create - the registry's create (arch/mmu_registry.h). */
struct mmu *ppc64_mmu_create(smpemu::Machine *m, const struct mmu_setup *setup);

/* hash_page - the storage-interrupt handler for @ea of @mm, a load or (@write) a store:
 * 0 when an HPTE now allows the access (retry it), or -EFAULT (a page fault for the
 * caller: no pte, or one that forbids the access). Context: IRQs off; no lock held. */
int hash_page(struct ppc64_mmu *mmu, struct mm_struct *mm, unsigned long ea, bool write);

/* flush_hash_page - invalidate the HPTE the old pte @pte of @ea recorded, and the TLBs:
 * this CPU's only (@local) or every CPU's. Context: preemption off. */
void flush_hash_page(struct ppc64_mmu *mmu, struct mm_struct *mm, unsigned long ea, pteval_t pte, bool local);

/* mm_is_local - @mm's cpumask is just this CPU (the flush may be tlbiel). */
bool mm_is_local(struct mm_struct *mm);
