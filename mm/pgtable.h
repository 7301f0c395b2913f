/*
 * mm/pgtable.h - page-table allocation, walks, locking and teardown; mm_struct life;
 * the pte update helpers.
 *
 * Models: the 4-level tree whose layout and entry format arch/pgtable.h defines. Table
 * pages come from the page allocator and are in frame state page-table while in use.
 * Entries live in struct pgtable_page (mm/mm_types.h), 8 per coherence line: every entry
 * read or write is a sync point, so lockless readers (the MMU's walker, gup_fast-like
 * walks) race with updaters exactly as on real hardware. Every pte change goes through
 * the MMU model's pte_update() (arch/mmu.h).
 *
 * Locking:
 *  - Upper levels (pgd/pud/pmd entries) are populated under mm->page_table_lock; once
 *    populated they stay until free_page_tables() (no pmd-level freeing yet).
 *  - pte entries: the pte lock, which is mm->page_table_lock, or with mm->split_ptlock
 *    the per-table lock of the pte page (the kernel's split ptlock since 2.6.15). Both
 *    classes ("page_table_lock", "ptl") are near the inside of the lock order of
 *    docs/MM.md: inside mmap_sem, the page lock, i_mmap_lock and anon_vma.
 *  - Lockless readers use lookup_pte() and ptep_get(); a new table's entries are zeroed
 *    before the write barrier that precedes publishing it.
 *
 * Oracles: a lockless walk that reaches a table frame which is no longer a page table
 * (freed, or reused as data) is a fatal "use-after-free-pagetable" report;
 * free_page_tables() finding a present pte is a fatal "bad-page" report (pages must be
 * unmapped first).
 *
 * Context: task context; table allocation never sleeps (the allocator does not).
 */
#pragma once

#include <functional>

#include <map>

#include "arch/mmu.h"
#include "arch/tlbflush.h"
#include "mm/page_alloc.h"

struct vm_area_struct;

/* mm_spin_lock_init - a spinlock_t of mm/ (pte locks, page_table_lock, anon_vma->lock):
 * a spinlock, or with knob pte_lock=rt the sleeping lock PREEMPT_RT makes of every
 * spinlock_t. Context: inside Machine::run(). */
void mm_spin_lock_init(struct phys_mem *mem, spinlock_t *l, const char *cls);

/* mm_alloc - a new mm with an empty pgd (users 1, count 1); NULL without memory.
 * Context: task context. */
struct mm_struct *mm_alloc(bool split_ptlock);
static inline void mmget(struct mm_struct *mm) { atomic_inc(&mm->mm_users); }
static inline void mmgrab(struct mm_struct *mm) { atomic_inc(&mm->mm_count); }
/* mmput - drop a user; the last one unmaps everything (exit_mmap), frees the page
 * tables (free_page_tables) and drops the users' mm_count reference (mm/fork.cc). */
void mmput(struct mm_struct *mm);
/* mmdrop - drop a reference to the struct; the last one frees it. */
void mmdrop(struct mm_struct *mm);

/* The table page an upper-level or pte slot lives in. */
struct pgtable_page *page_table_of(struct phys_mem *mem, unsigned long pfn);

/* Offsets: the slot for @addr in the next level. The upper-level entry is loaded (a
 * sync point) and must be present. Context: lockless is fine; see lookup_pte(). */
pgtable_slot_t *pgd_offset(struct mm_struct *mm, unsigned long addr);
pgtable_slot_t *pud_offset(struct mm_struct *mm, pgtable_slot_t *pgd, unsigned long addr);
pgtable_slot_t *pmd_offset(struct mm_struct *mm, pgtable_slot_t *pud, unsigned long addr);
pgtable_slot_t *pte_offset_map(struct mm_struct *mm, pgtable_slot_t *pmd, unsigned long addr);

/* *_alloc - the slot for @addr in the next level, allocating the table if the entry is
 * none (populated under page_table_lock; a racing populator's table is freed). NULL on
 * out of memory. */
pgtable_slot_t *pud_alloc(struct mm_struct *mm, pgtable_slot_t *pgd, unsigned long addr);
pgtable_slot_t *pmd_alloc(struct mm_struct *mm, pgtable_slot_t *pud, unsigned long addr);
int __pte_alloc(struct mm_struct *mm, pgtable_slot_t *pmd, unsigned long addr);

/* pte_lockptr - the lock protecting the pte table that @pmd points to. */
spinlock_t *pte_lockptr(struct mm_struct *mm, pgtable_slot_t *pmd);
/* pte_offset_map_lock - lock the pte table and return @addr's slot; NULL (nothing
 * locked) if the pmd entry is none. */
pgtable_slot_t *pte_offset_map_lock(struct mm_struct *mm, pgtable_slot_t *pmd, unsigned long addr,
				    spinlock_t **ptlp);
/* pte_alloc_map_lock - same, allocating the pte table if needed; NULL on ENOMEM. */
pgtable_slot_t *pte_alloc_map_lock(struct mm_struct *mm, pgtable_slot_t *pmd, unsigned long addr,
				   spinlock_t **ptlp);
/* pte_unmap_unlock - release a pte lock; the MMU model checks its rules for a released
 * pte lock first (struct mmu_ops pte_unlock: ppc64-hash's batch must be empty). */
static inline void pte_unmap_unlock(pgtable_slot_t *pte, spinlock_t *ptl)
{
	struct mmu *mmu = machine_mem()->mmu;
	mmu->ops->pte_unlock(mmu, ptl);
	spin_unlock(ptl);
}
/* pte_slot_lockptr - the pte lock of the table holding @ptep, @addr's slot (the table
 * is found from the slot: its entries are the first member of struct pgtable_page). */
static inline spinlock_t *pte_slot_lockptr(struct mm_struct *mm, unsigned long addr, pgtable_slot_t *ptep)
{
	if (!mm->split_ptlock)
		return &mm->page_table_lock;
	return &reinterpret_cast<struct pgtable_page *>(ptep - pte_index(addr))->ptl;
}
/* get_locked_pte - @addr's pte slot with its lock held, allocating every level on the
 * way; NULL (nothing held) on ENOMEM. */
pgtable_slot_t *get_locked_pte(struct mm_struct *mm, unsigned long addr, spinlock_t **ptlp);

/* pte accessors, built on the MMU's pte_update(). Locking: changes under the pte lock;
 * ptep_get() also lockless. */
static inline pte_t ptep_get(pgtable_slot_t *ptep) { return __pte(READ_ONCE(*ptep)); }
static inline void set_pte_at(struct mm_struct *mm, unsigned long addr, pgtable_slot_t *ptep, pte_t pte)
{
	pte_update(mm, addr, ptep, ~0UL, pte.pte, PTE_UPDATE_STORE);
}
static inline void pte_clear(struct mm_struct *mm, unsigned long addr, pgtable_slot_t *ptep)
{
	pte_update(mm, addr, ptep, ~0UL, 0UL, PTE_UPDATE_STORE);
}
/* ptep_get_and_clear - atomically (xchg: the hardware may set A/D bits meanwhile). */
static inline pte_t ptep_get_and_clear(struct mm_struct *mm, unsigned long addr, pgtable_slot_t *ptep)
{
	return __pte(pte_update(mm, addr, ptep, ~0UL, 0UL, 0));
}
/* ptep_set_wrprotect - clear RW atomically, keeping A/D bits set meanwhile. */
static inline void ptep_set_wrprotect(struct mm_struct *mm, unsigned long addr, pgtable_slot_t *ptep)
{
	pte_update(mm, addr, ptep, _PAGE_RW, 0UL, 0);
}
/* ptep_set_numa - make a present pte a NUMA hinting one atomically (no moment where it
 * reads none: a store through a stale translation meanwhile still finds its page). */
static inline void ptep_set_numa(struct mm_struct *mm, unsigned long addr, pgtable_slot_t *ptep)
{
	pte_update(mm, addr, ptep, _PAGE_PRESENT, _PAGE_NUMA, 0);
}
/* ptep_clear_flush - clear the pte at @addr of @vma and flush its translation from every
 * CPU before returning the old value: nobody keeps using the old page through it. */
pte_t ptep_clear_flush(struct vm_area_struct *vma, unsigned long addr, pgtable_slot_t *ptep);

/* pmd_lookup - @addr's pmd slot if the upper levels exist (lockless), else NULL;
 * pmd_alloc_for - the same, populating upper levels; NULL on ENOMEM. */
pgtable_slot_t *pmd_lookup(struct mm_struct *mm, unsigned long addr);
pgtable_slot_t *pmd_alloc_for(struct mm_struct *mm, unsigned long addr);
/* pte_free - give back a pte table page that is no longer linked (after the TLB flush
 * that covers it: mmu_gather). */
void pte_free(struct mm_struct *mm, struct page *table);
/* __pte_free - the same for a table of @mem whose mm may be gone (RCU callbacks). */
void __pte_free(struct phys_mem *mem, struct page *table);
/* peek_pte - host-side walk for oracles: @addr's pte value, 0 if an upper level is
 * none. No sync points, no cost; never used by emulated code. */
pteval_t peek_pte(struct mm_struct *mm, unsigned long addr);
/* for_each_pte_host - host-side walk for oracles: @fn(address, pte) for every pte that
 * is not none in @mm's tables. No sync points, no cost; never used by emulated code. */
void for_each_pte_host(const struct phys_mem *mem, const struct mm_struct *mm,
		       const std::function<void(unsigned long, pte_t)> &fn);

/* lookup_pte - lockless walk (the hardware walker, gup_fast): @addr's pte slot, or NULL
 * if an upper level is none. Reports use-after-free-pagetable if it reaches a table
 * frame that is not a page table any more. */
pgtable_slot_t *lookup_pte(struct mm_struct *mm, unsigned long addr);

/* follow_pte - @addr's pte slot with its lock held in *@ptlp if the pte is present;
 * -EFAULT (nothing held) otherwise. */
int follow_pte(struct mm_struct *mm, unsigned long addr, pgtable_slot_t **ptepp, spinlock_t **ptlp);

/* walk_pte_range - calls @fn for every pte slot of [@start, @end) whose pte table
 * exists, with that table's pte lock held and in lazy MMU mode; stops early if @fn returns nonzero and
 * returns that value. Upper levels are read locklessly. */
typedef int (*pte_fn_t)(struct mm_struct *mm, pgtable_slot_t *ptep, unsigned long addr, void *arg);
int walk_pte_range(struct mm_struct *mm, unsigned long start, unsigned long end, pte_fn_t fn, void *arg);

/* install_page - a minimal fault-side install: map @page at @addr with @prot if the pte
 * is none (takes a reference and a mapcount). Returns 0, -EBUSY (already mapped) or
 * -ENOMEM. Locking: takes the pte lock. */
int install_page(struct mm_struct *mm, unsigned long addr, struct page *page, pgprot_t prot);
/* zap_page - clear @addr's pte if present and drop its mapcount and reference (no TLB
 * flush yet: the caller flushes; arch/tlbflush.h). Returns the old pte. */
pte_t zap_page(struct mm_struct *mm, unsigned long addr);

/* free_page_tables - free every table page of @mm (pte tables first, pgd last). Every
 * pte must be none or non-present (bad-page otherwise). Locking: the caller is the last
 * user (mmput), no lock is taken. */
void free_page_tables(struct mm_struct *mm);
