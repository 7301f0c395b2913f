/*
 * arch/powerpc/tlb_hash.h - the per-CPU flush batch of the powerpc hash MMU: the role
 * of Linux's arch/powerpc/mm/tlb_hash64.c and <asm/tlbflush.h> for book3s64.
 *
 * Models (2.6.2x-3.x, docs/MM.md "The powerpc hash MMU"): a Linux pte that has an HPTE
 * (HASHPTE) and changes goes through hpte_need_flush(), from pte_update(). With the
 * CPU's ppc64_tlb_batch inactive, the HPTE is invalidated at once; active (between
 * arch_enter_lazy_mmu_mode() and arch_leave_lazy_mmu_mode(), which mm/ calls inside the
 * pte lock), the old pte and its address are appended, and __flush_tlb_pending()
 * invalidates them all when the batch holds 192 entries (PPC64_TLB_BATCH_NR), when an
 * entry of another mm comes, when lazy mode is left, and from tlb_flush(). A flush is
 * local (tlbiel) when the mm's cpumask is just this CPU, else global (tlbie).
 *
 * Knob hash_flush (struct ppc64_params):
 *  - leave_lazy (the rule since lazy MMU mode, and Ben Herrenschmidt's in the seed-001
 *    thread): flushed before the pte lock is released;
 *  - tlb_flush_only (planted bug; the older scheme where the batch was always on and
 *    drained only by tlb_flush() and flush_tlb_*(), after the pte lock is dropped):
 *    another CPU can fault a new pte in and hash_page can insert a second HPTE for the
 *    vpn while the old one is still valid (duplicate-hpte), or a stale HPTE translates
 *    to a page that was freed.
 *
 * Oracles, at every release of a pte lock (arch_pte_unlock(), from pte_unmap_unlock()):
 *  - "hash-batch-pending": no CPU's batch may hold an entry added under that lock;
 *  - "stale-hpte": no pte that was cleared under that lock may still have a valid HPTE.
 * Both are warnings (the run goes on; each is reported once per run); their
 * consequences, duplicate-hpte and use-after-free-frame, are fatal.
 *
 * Locking: a batch is per CPU and used with preemption off (the pte lock, or the old
 * mmu_gather), or across a preemption with the context-switch flush below; only its
 * CPU writes it. The oracles read every CPU's batch host-side.
 */
#pragma once

#include "arch/mmu.h"

struct ppc64_mmu;
struct spinlock;

#define PPC64_TLB_BATCH_NR 192

struct ppc64_tlb_batch {
	bool active;
	unsigned long index;
	struct mm_struct *mm;
	pteval_t pte[PPC64_TLB_BATCH_NR];
	unsigned long vaddr[PPC64_TLB_BATCH_NR];
	/* oracle bookkeeping: the pte lock under which each entry was added */
	const void *ptl[PPC64_TLB_BATCH_NR];
};

/* hpte_need_flush - *@ptep (for @addr of @mm, under @ptl) changed from @old, which had
 * HASHPTE: invalidate its HPTE now or batch it. Context: preemption off (pte lock). */
void hpte_need_flush(struct ppc64_mmu *mmu, struct mm_struct *mm, unsigned long addr, pteval_t old,
		     const void *ptl);
/* __flush_tlb_pending - invalidate every HPTE of @batch (this CPU's) and empty it. */
void __flush_tlb_pending(struct ppc64_mmu *mmu, struct ppc64_tlb_batch *batch);
/* flush_tlb_pending - this CPU's batch, if it holds anything. */
void flush_tlb_pending(struct ppc64_mmu *mmu);

/*
 * The context switch (knob ctxsw_batch_flush, on by default): as 3.0's __switch_to, a
 * task switched out while its CPU's batch is active (possible only when a lazy MMU
 * region can be preempted: pte locks that sleep, knob pte_lock=rt) gets _TLF_LAZY_MMU,
 * the batch is flushed and deactivated; the flag reactivates the batch when the task
 * runs again. Off (the bug): the batch stays active on the CPU with the preempted task's
 * entries, so another task's pte_update there outside lazy mode (a COW break's
 * ptep_clear_flush) is batched instead of flushed, past the release of its pte lock:
 * hash-batch-pending, and a second HPTE for the address when it refaults
 * (duplicate-hpte).
 */
#define TLF_LAZY_MMU 0x1u	/* the thread was switched out in lazy MMU mode */
void ppc64_register_switch_hooks(struct ppc64_mmu *mmu);

/* The lazy-MMU hooks and the pte-unlock oracles (struct mmu_ops). */
void ppc64_enter_lazy_mmu(struct ppc64_mmu *mmu);
void ppc64_leave_lazy_mmu(struct ppc64_mmu *mmu);
void ppc64_pte_unlock_check(struct ppc64_mmu *mmu, const void *ptl);
