/*
 * arch/pgtable.h - the page-table layout every MMU model shares, and the pte update
 * hooks: the role of the kernel's <asm/pgtable.h>.
 *
 * Models: four levels, pgd -> pud -> pmd -> pte, 512 entries per level, 4 KiB pages,
 * 48-bit virtual addresses (pgd index bits 47..39, pud 38..30, pmd 29..21, pte 20..12).
 * Every MMU of the emulator walks the same radix tree: x86 in hardware, the powerpc hash
 * MMU in its software miss handler (as Linux's book3s64 keeps a radix-format Linux page
 * table beside the hashed page table).
 *
 * pte format (the generic part):
 *   bit 0 present, 1 RW, 2 user, 5 accessed (young), 6 dirty; bits 51..12 the pfn.
 *   A not-present pte with _PAGE_FILE set records a file page index (remap_file_pages):
 *   the index sits in bits 51..12 where a present pte has its pfn.
 *   A not-present, non-none pte without _PAGE_FILE is a swap pte: the swap type in
 *   bits 5..1, the slot offset in bits 51..12 (the arch half of <linux/swapops.h>;
 *   generic code builds and reads them through mm/swapops.h). Offset 0 of type 0 would
 *   be pte_none: slot 0 of a swap device is its header and never handed out.
 *   A NUMA hinting pte (3.8's _PAGE_NUMA, bit 8, x86's _PAGE_GLOBAL reused): the pfn and
 *   protection of a present pte with _PAGE_PRESENT cleared and _PAGE_NUMA set. The MMU
 *   sees it as not present (an access faults: the NUMA hinting fault); everything else
 *   sees a present pte (pte_present() is true, it is mapped, counted, zapped, copied).
 *   Bits 58..52 (_PAGE_ARCH_MASK) belong to the MMU model: generic code never sets them,
 *   keeps them across pte_modify(), and ignores them in pte_none() (as Linux ppc64's
 *   _PTE_NONE_MASK ignores the hash flags). The ppc64 hash MMU keeps HASHPTE, BUSY,
 *   F_SECOND and F_GIX there; x86 uses none of them.
 * Upper-level entries hold the next table's pfn and _PAGE_TABLE.
 *
 * Invariants: pte_pfn() and pte_to_pgoff() never see arch-private bits; a pte built by
 * mk_pte() or pfn_pte() from a generic pgprot has none.
 *
 * Concurrency: the accessors here are pure functions of a pte value. Changing a pte in
 * memory goes through pte_update() (the MMU's hook, arch/mmu.h): the single point where
 * the MMU model sees every pte change.
 *
 * Context: any.
 */
#pragma once

#include "kernel/compiler.h"
#include "mm/page.h"

typedef unsigned long pteval_t;
typedef struct { pteval_t pte; } pte_t;
typedef struct { unsigned long pgprot; } pgprot_t;
/* A slot in a table of any level: the entry word and its coherence line. */
typedef shared<unsigned long> pgtable_slot_t;

#define _PAGE_PRESENT (1UL << 0)
#define _PAGE_RW (1UL << 1)
#define _PAGE_USER (1UL << 2)
#define _PAGE_ACCESSED (1UL << 5)
#define _PAGE_DIRTY (1UL << 6)
#define _PAGE_FILE _PAGE_DIRTY		/* only in a not-present pte */
#define _PAGE_NUMA (1UL << 8)		/* a present pte the MMU must not use (hinting) */
#define _PAGE_ARCH_SHIFT 52
#define _PAGE_ARCH_MASK (0x7fUL << _PAGE_ARCH_SHIFT)	/* bits 58..52: the MMU model's own */
#define PTE_PFN_MASK (((1UL << 52) - 1) & PAGE_MASK)
#define _PAGE_TABLE (_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED)
/* What pte_modify() may change: the protection bits of a pgprot. */
#define _PAGE_CHG_PROT (_PAGE_RW | _PAGE_USER)

#define PAGE_NONE ((pgprot_t){0})
#define PAGE_READONLY ((pgprot_t){_PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED})
#define PAGE_SHARED ((pgprot_t){_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED})

/* PTRS_PER_TABLE (512) is the size of a table frame, mm/mm_types.h. */
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
static inline bool pte_none(pte_t p) { return (p.pte & ~_PAGE_ARCH_MASK) == 0; }
/* pte_present - mapped, as far as mm/ is concerned (a NUMA hinting pte included). */
static inline bool pte_present(pte_t p) { return p.pte & (_PAGE_PRESENT | _PAGE_NUMA); }
/* pte_hw_present - usable by the MMU's walker (not a NUMA hinting pte). */
static inline bool pte_hw_present(pte_t p) { return p.pte & _PAGE_PRESENT; }
/* NUMA hinting (change_prot_numa, do_numa_page): make the MMU fault on a mapped pte. */
static inline bool pte_numa(pte_t p) { return (p.pte & (_PAGE_NUMA | _PAGE_PRESENT)) == _PAGE_NUMA; }
static inline pte_t pte_mknuma(pte_t p) { return __pte((p.pte & ~_PAGE_PRESENT) | _PAGE_NUMA); }
static inline pte_t pte_mknonnuma(pte_t p) { return __pte((p.pte & ~_PAGE_NUMA) | _PAGE_PRESENT | _PAGE_ACCESSED); }
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
/* pte_modify - @pte with the protection of @prot; pfn, A/D and arch bits are kept. */
static inline pte_t pte_modify(pte_t pte, pgprot_t prot)
{
	return __pte((pte.pte & ~_PAGE_CHG_PROT) | (prot.pgprot & _PAGE_CHG_PROT));
}

/* File ptes of nonlinear vmas (not present; the page index where the pfn would be). */
#define PTE_FILE_SHIFT PAGE_SHIFT
static inline bool pte_file(pte_t p) { return !pte_present(p) && (p.pte & _PAGE_FILE); }
static inline unsigned long pte_to_pgoff(pte_t p) { return (p.pte & PTE_PFN_MASK) >> PTE_FILE_SHIFT; }
static inline pte_t pgoff_to_pte(unsigned long pgoff) { return __pte((pgoff << PTE_FILE_SHIFT) | _PAGE_FILE); }

/*
 * Swap ptes, in the arch's own entry format (the kernel's __swp_type / __swp_offset /
 * __swp_entry on an arch swp_entry_t): pte-shaped, converted to and from the generic
 * swp_entry_t by mm/swapops.h.
 */
#define __SWP_TYPE_SHIFT 1
#define __SWP_TYPE_BITS 5
#define __SWP_TYPE_MASK (((1UL << __SWP_TYPE_BITS) - 1) << __SWP_TYPE_SHIFT)
#define __SWP_OFFSET_SHIFT PAGE_SHIFT
#define __SWP_OFFSET_MASK PTE_PFN_MASK
typedef struct { pteval_t val; } arch_swp_entry_t;
static inline unsigned __swp_type(arch_swp_entry_t e) { return static_cast<unsigned>((e.val & __SWP_TYPE_MASK) >> __SWP_TYPE_SHIFT); }
static inline unsigned long __swp_offset(arch_swp_entry_t e) { return (e.val & __SWP_OFFSET_MASK) >> __SWP_OFFSET_SHIFT; }
static inline arch_swp_entry_t __swp_entry(unsigned type, unsigned long offset)
{
	return (arch_swp_entry_t){(static_cast<pteval_t>(type) << __SWP_TYPE_SHIFT) |
				  ((offset << __SWP_OFFSET_SHIFT) & __SWP_OFFSET_MASK)};
}
/* The entry bits of a swap pte (arch-private bits dropped), and the pte of an entry. */
static inline arch_swp_entry_t __pte_to_swp_entry(pte_t p) { return (arch_swp_entry_t){p.pte & (__SWP_TYPE_MASK | __SWP_OFFSET_MASK)}; }
static inline pte_t __swp_entry_to_pte(arch_swp_entry_t e) { return __pte(e.val); }
/* is_swap_pte - neither none, present nor a file pte. */
static inline bool is_swap_pte(pte_t p) { return !pte_none(p) && !pte_present(p) && !pte_file(p); }

/* Upper-level entries, as raw values. */
static inline bool pgtable_entry_none(unsigned long e) { return e == 0; }
static inline unsigned long pgtable_entry_pfn(unsigned long e) { return (e & PTE_PFN_MASK) >> PAGE_SHIFT; }
