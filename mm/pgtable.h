/*
 * mm/pgtable.h - x86-64-style 4-level page tables and a minimal struct mm_struct.
 *
 * Models: pgd -> pud -> pmd -> pte, 512 entries per level, 4 KiB pages, 48-bit virtual
 * addresses (pgd index bits 47..39, pud 38..30, pmd 29..21, pte 20..12). Table pages
 * come from the page allocator and are in frame state page-table while in use. Entries
 * live in struct pgtable_page (mm/mm_types.h), 8 per coherence line: every entry read or
 * write is a sync point, so lockless readers (the hardware walker, gup_fast-like walks)
 * race with updaters exactly as on real hardware.
 *
 * Entry format (x86): bit 0 present, 1 RW, 2 user, 5 accessed (young), 6 dirty, bits
 * 51..12 the pfn. Upper-level entries point to the next table page by pfn.
 *
 * Locking:
 *  - Upper levels (pgd/pud/pmd entries) are populated under mm->page_table_lock; once
 *    populated they stay until free_page_tables() (no pmd-level freeing yet).
 *  - pte entries: the pte lock, which is mm->page_table_lock, or with mm->split_ptlock
 *    the per-table lock of the pte page (the kernel's split ptlock since 2.6.15). Both
 *    classes ("page_table_lock", "ptl") are level 6 of the lock order in
 *    shared/MM_BRIEF.md: inside mmap_sem, the page lock, i_mmap_lock and anon_vma.
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

#include <map>

#include "mm/page_alloc.h"

struct vm_area_struct;

typedef unsigned long pteval_t;
typedef struct { pteval_t pte; } pte_t;
typedef struct { unsigned long pmd; } pmd_t;
typedef struct { unsigned long pud; } pud_t;
typedef struct { unsigned long pgd; } pgd_t;
typedef struct { unsigned long pgprot; } pgprot_t;
/* A slot in a table of any level: the entry word and its line. */
typedef shared<unsigned long> pgtable_slot_t;

#define _PAGE_PRESENT (1UL << 0)
#define _PAGE_RW (1UL << 1)
#define _PAGE_USER (1UL << 2)
#define _PAGE_ACCESSED (1UL << 5)
#define _PAGE_DIRTY (1UL << 6)
#define PTE_PFN_MASK (((1UL << 52) - 1) & PAGE_MASK)
#define _PAGE_TABLE (_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED)

#define PAGE_NONE ((pgprot_t){0})
#define PAGE_READONLY ((pgprot_t){_PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED})
#define PAGE_SHARED ((pgprot_t){_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED})

#define PGDIR_SHIFT 39
#define PUD_SHIFT 30
#define PMD_SHIFT 21
#define PTRS_PER_PGD PTRS_PER_TABLE
#define PTRS_PER_PUD PTRS_PER_TABLE
#define PTRS_PER_PMD PTRS_PER_TABLE
#define PTRS_PER_PTE PTRS_PER_TABLE
#define PMD_SIZE (1UL << PMD_SHIFT)
#define PMD_MASK (~(PMD_SIZE - 1))
#define TASK_SIZE (1UL << 47)

static inline unsigned pgd_index(unsigned long a) { return (a >> PGDIR_SHIFT) & (PTRS_PER_PGD - 1); }
static inline unsigned pud_index(unsigned long a) { return (a >> PUD_SHIFT) & (PTRS_PER_PUD - 1); }
static inline unsigned pmd_index(unsigned long a) { return (a >> PMD_SHIFT) & (PTRS_PER_PMD - 1); }
static inline unsigned pte_index(unsigned long a) { return (a >> PAGE_SHIFT) & (PTRS_PER_PTE - 1); }

static inline pteval_t pte_val(pte_t p) { return p.pte; }
static inline pte_t __pte(pteval_t v) { return (pte_t){v}; }
static inline bool pte_none(pte_t p) { return p.pte == 0; }
static inline bool pte_present(pte_t p) { return p.pte & _PAGE_PRESENT; }
static inline bool pte_write(pte_t p) { return p.pte & _PAGE_RW; }
static inline bool pte_dirty(pte_t p) { return p.pte & _PAGE_DIRTY; }
static inline bool pte_young(pte_t p) { return p.pte & _PAGE_ACCESSED; }
static inline unsigned long pte_pfn(pte_t p) { return (p.pte & PTE_PFN_MASK) >> PAGE_SHIFT; }
static inline pte_t pfn_pte(unsigned long pfn, pgprot_t prot) { return __pte((pfn << PAGE_SHIFT) | prot.pgprot); }
static inline pte_t mk_pte(struct page *page, pgprot_t prot) { return pfn_pte(page_to_pfn(page), prot); }
static inline pte_t pte_mkdirty(pte_t p) { return __pte(p.pte | _PAGE_DIRTY); }
static inline pte_t pte_mkclean(pte_t p) { return __pte(p.pte & ~_PAGE_DIRTY); }
static inline pte_t pte_mkyoung(pte_t p) { return __pte(p.pte | _PAGE_ACCESSED); }
static inline pte_t pte_mkold(pte_t p) { return __pte(p.pte & ~_PAGE_ACCESSED); }
static inline pte_t pte_mkwrite(pte_t p) { return __pte(p.pte | _PAGE_RW); }
static inline pte_t pte_wrprotect(pte_t p) { return __pte(p.pte & ~_PAGE_RW); }
/* Upper-level entries, as raw values. */
static inline bool pgtable_entry_none(unsigned long e) { return e == 0; }
static inline unsigned long pgtable_entry_pfn(unsigned long e) { return (e & PTE_PFN_MASK) >> PAGE_SHIFT; }

struct mm_struct {
	struct page *pgd;		/* top-level table page */
	spinlock_t page_table_lock;	/* upper levels; the pte lock unless split_ptlock */
	struct rw_semaphore mmap_sem;	/* class "mmap_sem"; vmas (later) */
	atomic_t mm_users;		/* users of the address space (threads, get_task_mm) */
	atomic_t mm_count;		/* references to the struct; mm_users counts as one */
	cpumask_t cpu_vm_mask;		/* CPUs that may hold its translations in a TLB */
	bool split_ptlock;		/* per-pte-table locks instead of page_table_lock */
	unsigned id;			/* from a counter, for reports */
	unsigned long nr_ptes;		/* pte tables; under page_table_lock */
	struct phys_mem *mem;
	/* vmas by vm_end (the kernel's mm_rb and mmap list); under mmap_sem. */
	std::map<unsigned long, struct vm_area_struct *> mm_rb;
	int map_count;
};

/* mm_alloc - a new mm with an empty pgd (users 1, count 1); NULL without memory.
 * Context: task context. */
struct mm_struct *mm_alloc(bool split_ptlock);
static inline void mmget(struct mm_struct *mm) { atomic_inc(&mm->mm_users); }
static inline void mmgrab(struct mm_struct *mm) { atomic_inc(&mm->mm_count); }
/* mmput - drop a user; the last one frees the page tables (free_page_tables) and
 * drops the users' mm_count reference. */
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
static inline void pte_unmap_unlock(pgtable_slot_t *pte, spinlock_t *ptl) { spin_unlock(ptl); }
/* get_locked_pte - @addr's pte slot with its lock held, allocating every level on the
 * way; NULL (nothing held) on ENOMEM. */
pgtable_slot_t *get_locked_pte(struct mm_struct *mm, unsigned long addr, spinlock_t **ptlp);

/* pte accessors. Locking: set/clear under the pte lock; ptep_get() also lockless. */
static inline pte_t ptep_get(pgtable_slot_t *ptep) { return __pte(READ_ONCE(*ptep)); }
static inline void set_pte_at(struct mm_struct *mm, unsigned long addr, pgtable_slot_t *ptep, pte_t pte)
{
	WRITE_ONCE(*ptep, pte.pte);
}
static inline void pte_clear(struct mm_struct *mm, unsigned long addr, pgtable_slot_t *ptep)
{
	WRITE_ONCE(*ptep, 0UL);
}
/* ptep_get_and_clear - atomically (xchg: the hardware may set A/D bits meanwhile). */
static inline pte_t ptep_get_and_clear(struct mm_struct *mm, unsigned long addr, pgtable_slot_t *ptep)
{
	return __pte(xchg(ptep, 0UL));
}

/* pmd_lookup - @addr's pmd slot if the upper levels exist (lockless), else NULL;
 * pmd_alloc_for - the same, populating upper levels; NULL on ENOMEM. */
pgtable_slot_t *pmd_lookup(struct mm_struct *mm, unsigned long addr);
pgtable_slot_t *pmd_alloc_for(struct mm_struct *mm, unsigned long addr);
/* pte_free - give back a pte table page that is no longer linked (after the TLB flush
 * that covers it: mmu_gather). */
void pte_free(struct mm_struct *mm, struct page *table);
/* peek_pte - host-side walk for oracles: @addr's pte value, 0 if an upper level is
 * none. No sync points, no cost; never used by emulated code. */
pteval_t peek_pte(struct mm_struct *mm, unsigned long addr);

/* lookup_pte - lockless walk (the hardware walker, gup_fast): @addr's pte slot, or NULL
 * if an upper level is none. Reports use-after-free-pagetable if it reaches a table
 * frame that is not a page table any more. */
pgtable_slot_t *lookup_pte(struct mm_struct *mm, unsigned long addr);

/* follow_pte - @addr's pte slot with its lock held in *@ptlp if the pte is present;
 * -EFAULT (nothing held) otherwise. */
int follow_pte(struct mm_struct *mm, unsigned long addr, pgtable_slot_t **ptepp, spinlock_t **ptlp);

/* walk_pte_range - calls @fn for every pte slot of [@start, @end) whose pte table
 * exists, with that table's pte lock held; stops early if @fn returns nonzero and
 * returns that value. Upper levels are read locklessly. */
typedef int (*pte_fn_t)(struct mm_struct *mm, pgtable_slot_t *ptep, unsigned long addr, void *arg);
int walk_pte_range(struct mm_struct *mm, unsigned long start, unsigned long end, pte_fn_t fn, void *arg);

/* install_page - a minimal fault-side install: map @page at @addr with @prot if the pte
 * is none (takes a reference and a mapcount). Returns 0, -EBUSY (already mapped) or
 * -ENOMEM. Locking: takes the pte lock. */
int install_page(struct mm_struct *mm, unsigned long addr, struct page *page, pgprot_t prot);
/* zap_page - clear @addr's pte if present and drop its mapcount and reference (no TLB
 * flush yet: the caller flushes; arch/x86/tlb.h). Returns the old pte. */
pte_t zap_page(struct mm_struct *mm, unsigned long addr);

/* free_page_tables - free every table page of @mm (pte tables first, pgd last). Every
 * pte must be none or non-present (bad-page otherwise). Locking: the caller is the last
 * user (mmput), no lock is taken. */
void free_page_tables(struct mm_struct *mm);
