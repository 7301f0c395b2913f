/*
 * mm/swapops.h - swap entries: the generic swp_entry_t (a swap type and a slot offset)
 * and its conversion to and from a pte through the arch's format (arch/pgtable.h).
 *
 * Models: include/linux/swapops.h. The generic value keeps the type in the top
 * MAX_SWAPFILES_SHIFT bits and the offset below, so entries compare and sort by
 * (type, offset) and the swap cache can key on the value. The top two types are
 * reserved for migration entries (the kernel's SWP_MIGRATION_READ / _WRITE), which
 * look like swap entries in a pte but name a page, not a slot.
 *
 * Invariants: swp_entry_to_pte(e) is a not-present pte that is neither none nor a file
 * pte whenever e.val != 0; pte_to_swp_entry(swp_entry_to_pte(e)) == e.
 *
 * Context: any: pure functions of a value.
 */
#pragma once

#include "arch/pgtable.h"

#define MAX_SWAPFILES_SHIFT 5
#define SWP_MIGRATION_NUM 2
#define MAX_SWAPFILES ((1 << MAX_SWAPFILES_SHIFT) - SWP_MIGRATION_NUM)

typedef struct {
	unsigned long val;
} swp_entry_t;

#define SWP_TYPE_SHIFT (64 - MAX_SWAPFILES_SHIFT)
#define SWP_OFFSET_MASK ((1UL << SWP_TYPE_SHIFT) - 1)

static inline swp_entry_t swp_entry(unsigned type, unsigned long offset)
{
	return (swp_entry_t){(static_cast<unsigned long>(type) << SWP_TYPE_SHIFT) | (offset & SWP_OFFSET_MASK)};
}
static inline unsigned swp_type(swp_entry_t e) { return static_cast<unsigned>(e.val >> SWP_TYPE_SHIFT); }
static inline unsigned long swp_offset(swp_entry_t e) { return e.val & SWP_OFFSET_MASK; }

/* pte_to_swp_entry - the entry of swap pte @pte (arch bits dropped). */
static inline swp_entry_t pte_to_swp_entry(pte_t pte)
{
	const arch_swp_entry_t a = __pte_to_swp_entry(pte);
	return swp_entry(__swp_type(a), __swp_offset(a));
}
static inline pte_t swp_entry_to_pte(swp_entry_t e) { return __swp_entry_to_pte(__swp_entry(swp_type(e), swp_offset(e))); }

/* non_swap_entry - a migration entry (a reserved type), not a slot of a swap device. */
static inline bool non_swap_entry(swp_entry_t e) { return swp_type(e) >= MAX_SWAPFILES; }

/*
 * Migration entries (include/linux/swapops.h of 2.6.35): while page migration has a
 * page unmapped, each pte that mapped it holds an entry naming the page's pfn, READ or
 * WRITE as the pte was, so the fault that meets it can wait for the migration and the
 * page can be mapped back with the same permission. Invariant (mm/migrate.h): an entry
 * naming pfn X exists only while page X is locked.
 */
#define SWP_MIGRATION_READ MAX_SWAPFILES
#define SWP_MIGRATION_WRITE (MAX_SWAPFILES + 1)

static inline swp_entry_t make_migration_entry(unsigned long pfn, bool write)
{
	return swp_entry(write ? SWP_MIGRATION_WRITE : SWP_MIGRATION_READ, pfn);
}
static inline bool is_migration_entry(swp_entry_t e)
{
	return swp_type(e) == SWP_MIGRATION_READ || swp_type(e) == SWP_MIGRATION_WRITE;
}
static inline bool is_write_migration_entry(swp_entry_t e) { return swp_type(e) == SWP_MIGRATION_WRITE; }
/* make_migration_entry_read - the READ form of @e (fork of a COW mapping, mprotect). */
static inline swp_entry_t make_migration_entry_read(swp_entry_t e) { return swp_entry(SWP_MIGRATION_READ, swp_offset(e)); }
static inline unsigned long migration_entry_to_pfn(swp_entry_t e) { return swp_offset(e); }
/* is_migration_pte - @pte is not present and holds a migration entry. */
static inline bool is_migration_pte(pte_t pte)
{
	return is_swap_pte(pte) && is_migration_entry(pte_to_swp_entry(pte));
}
