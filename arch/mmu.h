/*
 * arch/mmu.h - the MMU model behind the mm code: an operations table, the registry of
 * models (--arch), and the dispatch points mm/ calls (the role of the kernel's
 * <asm/mmu.h>, with the pte hook of <asm/pgtable.h>; the flushes are in
 * arch/tlbflush.h).
 *
 * Models: what an MMU does with the Linux page table (arch/pgtable.h):
 *  - pte_update: every change of a pte in memory goes through it (set_pte_at,
 *    pte_clear, ptep_get_and_clear, ptep_set_wrprotect, ptep_clear_flush in
 *    mm/pgtable.h are built on it), so a model that caches translations outside the
 *    tree (the powerpc hashed page table) sees each change, as Linux book3s64's
 *    pte_update() does;
 *  - update_mmu_cache: a new pte was installed (ppc64 may preload the hash table);
 *  - translate: one user access: a hardware walk through a TLB on x86, a hash lookup
 *    and a software miss handler on powerpc;
 *  - the TLB flushes and the mmu_gather flush (arch/tlbflush.h);
 *  - enter_lazy_mmu / leave_lazy_mmu: mm/ brackets a run of pte changes made under one
 *    pte lock (zap, mprotect, mremap) with them, as Linux's arch_enter_lazy_mmu_mode();
 *    powerpc batches its hash flushes there;
 *  - pte_unlock: a pte lock is about to be released (the MMU checks its rules there).
 * A model whose lockless walkers are not held off by the flush (no IPI: powerpc's
 * hash_page) sets rcu_table_free, and mm/ then frees page-table pages after an RCU-sched
 * grace period (Linux's HAVE_RCU_TABLE_FREE).
 *
 * Each Machine's physical memory has exactly one MMU (phys_mem::mmu). It starts as
 * &nommu, the no-op model (no TLB: every access walks the tree; flushes have nothing to
 * do), so mm/ never tests for "no MMU"; vm_init() installs the configured one.
 *
 * An instance is a struct that embeds struct mmu as its first member; its operations
 * reach their instance with container_of() (arch/x86/tlb.h shows how). The registry
 * lists every model: name, one-line doc, create. Adding a model: docs/ARCH.md.
 *
 * Concurrency: ops run on the CPU that calls them, in the caller's context (see each
 * op); per-CPU state of a model is touched only by its CPU. The registry is a constant
 * table.
 */
#pragma once

#include <cstddef>

#include "arch/mmu_registry.h"
#include "arch/pgtable.h"
#include "kernel/bitops.h"

struct mm_struct;
struct mmu_gather;
struct vm_area_struct;
struct mmu;

/* pte_update flags */
#define PTE_UPDATE_STORE 0x1	/* replace the whole pte (@clr == ~0UL) by a plain store: the
				 * old value is not read and 0 is returned. Only for a pte the
				 * caller owns under its pte lock (set_pte_at, pte_clear), where
				 * losing a racing accessed/dirty update is acceptable, as with
				 * the kernel's native_set_pte on x86. */

/* mmu_stat_fn - receives one named counter of a model (workload metrics). */
typedef void (*mmu_stat_fn)(void *arg, const char *name, unsigned long value);

struct mmu_ops {
	/* pte_update - clear @clr and set @set in *@ptep at @addr of @mm, atomically
	 * unless PTE_UPDATE_STORE; returns the old pte value. Locking: the pte lock. */
	pteval_t (*pte_update)(struct mmu *mmu, struct mm_struct *mm, unsigned long addr, pgtable_slot_t *ptep,
			       pteval_t clr, pteval_t set, unsigned int flags);
	/* update_mmu_cache - *@ptep at @addr of @vma was just installed. Locking: pte lock. */
	void (*update_mmu_cache)(struct mmu *mmu, struct vm_area_struct *vma, unsigned long addr,
				 pgtable_slot_t *ptep);
	/* translate - @addr of @mm for a load or (@write) a store on this CPU: 0 and the
	 * pfn, or -EFAULT (a page fault for the caller). Context: IRQs off for the caller's
	 * access (mm/user_access.h). */
	int (*translate)(struct mmu *mmu, struct mm_struct *mm, unsigned long addr, bool write, unsigned long *pfn);
	/* Flushes (arch/tlbflush.h): return when no CPU may use a flushed translation.
	 * Context: task context, IRQs on (they may wait for other CPUs). */
	void (*flush_tlb_mm)(struct mmu *mmu, struct mm_struct *mm);
	void (*flush_tlb_range)(struct mmu *mmu, struct mm_struct *mm, unsigned long start, unsigned long end);
	void (*flush_tlb_page)(struct mmu *mmu, struct mm_struct *mm, unsigned long addr);
	void (*tlb_flush)(struct mmu *mmu, struct mmu_gather *tlb);
	/* Lazy MMU mode, entered and left under a pte lock (preemption off). */
	void (*enter_lazy_mmu)(struct mmu *mmu);
	void (*leave_lazy_mmu)(struct mmu *mmu);
	/* pte_unlock - the pte lock @ptl is about to be released. Context: @ptl held. */
	void (*pte_unlock)(struct mmu *mmu, const void *ptl);
	/* stats - hands each counter of the model to @fn (host side, after the run). */
	void (*stats)(struct mmu *mmu, mmu_stat_fn fn, void *arg);
	/* destroy - frees the instance (host side, after the run). */
	void (*destroy)(struct mmu *mmu);
};

/* An MMU instance: embedded first in each model's own struct (x86: struct x86_tlb). */
struct mmu {
	const struct mmu_ops *ops;
	const struct mmu_type *type;
	bool rcu_table_free;	/* page tables are freed after a grace period (set by create) */
};

/* no-op operations for models that need nothing there (x86, none) */
void mmu_nop_lazy(struct mmu *mmu);
void mmu_nop_pte_unlock(struct mmu *mmu, const void *ptl);

/* The no-op model, shared by every phys_mem until vm_init(): it has no state. */
extern struct mmu nommu;

/* A Machine's MMU, found from an mm (no lookup: the mm's physical memory holds it). */
static inline struct mmu *mm_mmu(const struct mm_struct *mm)
{
	return mm->mem->mmu;
}

/*
 * native_pte_update - pte_update for a model whose ptes are plain memory words (x86,
 * the no-op model): a store, an exchange when everything is replaced, else one atomic
 * read-modify-write (lock cmpxchg).
 */
static inline pteval_t native_pte_update(pgtable_slot_t *ptep, pteval_t clr, pteval_t set, unsigned int flags)
{
	if (flags & PTE_UPDATE_STORE) {
		WRITE_ONCE(*ptep, set);
		return 0;
	}
	if (clr == ~0UL)
		return xchg(ptep, set);
	return fetch_andnot_or(ptep, clr, set);
}

/* pte_update - the dispatch point of every pte change (see struct mmu_ops). */
static inline pteval_t pte_update(struct mm_struct *mm, unsigned long addr, pgtable_slot_t *ptep, pteval_t clr,
				  pteval_t set, unsigned int flags)
{
	struct mmu *mmu = mm_mmu(mm);
	return mmu->ops->pte_update(mmu, mm, addr, ptep, clr, set, flags);
}

/* Lazy MMU mode around a run of pte changes under one pte lock (Linux's names). */
static inline void arch_enter_lazy_mmu_mode(struct mm_struct *mm)
{
	struct mmu *mmu = mm_mmu(mm);
	mmu->ops->enter_lazy_mmu(mmu);
}

static inline void arch_leave_lazy_mmu_mode(struct mm_struct *mm)
{
	struct mmu *mmu = mm_mmu(mm);
	mmu->ops->leave_lazy_mmu(mmu);
}

/* update_mmu_cache - tell the MMU that a pte was installed (kernel signature). */
void update_mmu_cache(struct vm_area_struct *vma, unsigned long addr, pgtable_slot_t *ptep);

/* mmu_translate - the MMU's translation of one user access (see struct mmu_ops). */
static inline int mmu_translate(struct mm_struct *mm, unsigned long addr, bool write, unsigned long *pfn)
{
	struct mmu *mmu = mm_mmu(mm);
	return mmu->ops->translate(mmu, mm, addr, write, pfn);
}
