/*
 * arch/powerpc/htab.h - the hashed page table of the powerpc hash MMU (book3s64, 4 KiB
 * pages, 256 MB segments): the role of Linux's arch/powerpc/mm/hash_native_64.c and of
 * the hashing helpers of <asm/mmu-hash64.h>.
 *
 * Models: one global table of HPTE groups (PTEGs) of 8 HPTEs each. A user address (ea)
 * of an mm becomes a virtual address through its segment's VSID:
 *   proto-VSID = (context << 19) | (ea >> 28)   (context: the mm's id)
 *   VSID       = proto-VSID * 200730139 mod (2^36 - 1)   (2.6's VSID_MULTIPLIER/VSID_BITS)
 *   vpn        = (VSID << 28 | (ea & 0x0fffffff)) >> 12
 * The primary hash is VSID ^ ((ea & 0x0fffffff) >> 12), the secondary its complement;
 * a hash selects the group (hash & htab_hash_mask). The table has one group per two
 * pages of RAM, rounded up to a power of two, at least 2^11 groups (Linux's
 * htab_get_table_size(); docs/COSTS.md).
 *
 * An HPTE is two doublewords: v (the vpn, valid, secondary-hash and the software lock
 * bit HPTE_LOCK_BIT) and r (the real page and the protection). A group is 8 x 16 bytes,
 * one 128-byte POWER7 cache line: its eight v words share one coherence line, so the
 * MMU's search of a group is one line load, and the kernel's insertions, evictions and
 * invalidations contend on it.
 *
 * Operations (the kernel's ppc_md.hpte_* on bare metal):
 *  - native_hpte_insert: the first invalid slot of a group, locked with HPTE_LOCK_BIT;
 *    r is written before v becomes valid (v's store is the release);
 *  - native_hpte_remove: evicts a valid slot of a full group, starting at a seeded
 *    random slot (the kernel reads the timebase). As in Linux, the evicted entry is not
 *    flushed from the TLBs and its Linux pte keeps HASHPTE: the translation stays
 *    architecturally valid until the pte's own flush, which always ends in a tlbie
 *    (native_hpte_invalidate), whether or not the HPTE is still there;
 *  - native_hpte_updatepp: change the protection of the HPTE in a slot if it still maps
 *    the vpn; -1 if it was evicted;
 *  - native_hpte_invalidate: clear the slot if it still maps the vpn.
 * TLB invalidation (tlbie / tlbiel) is the caller's (arch/powerpc/hash_utils.h).
 *
 * Oracle: two valid HPTEs for one vpn is an architecture violation (the MMU may use
 * either): native_hpte_insert checks both groups of the vpn before it makes a new entry
 * valid and files a fatal "duplicate-hpte" report.
 *
 * Concurrency: HPTE words are shared; every load and store of a v word is a sync point
 * on its group's line. r and the owner fields are written only by the holder of the
 * slot's HPTE_LOCK_BIT, and read after v was seen valid. Groups are allocated on first
 * use (host memory only: the emulated table exists whole from boot; a group nobody
 * touched reads as empty).
 *
 * Context: IRQs off (hash_page, flushes under the pte lock).
 */
#pragma once

#include <memory>
#include <vector>

#include "emu/rng.h"
#include "kernel/bitops.h"

struct mm_struct;

#define HPTES_PER_GROUP 8
#define HTAB_MIN_GROUPS (1UL << 11)

/* v word */
#define HPTE_V_VALID 0x1UL
#define HPTE_V_SECONDARY 0x2UL
#define HPTE_LOCK_BIT 3	/* software lock of the slot (Linux HPTE_LOCK_BIT) */
#define HPTE_V_VPN_SHIFT 7
/* r word */
#define HPTE_R_RW 0x1UL	/* writable (the kernel's PP bits: 0b10 read-write, 0b11 read-only) */
#define HPTE_R_PFN_SHIFT 12

struct hpte_group {
	shared<unsigned long> v[HPTES_PER_GROUP];	/* on the group's line */
	unsigned long r[HPTES_PER_GROUP];		/* under the slot's lock */
	/* Host bookkeeping for reports (under the slot's lock): whose ea the entry maps. */
	unsigned mm_id[HPTES_PER_GROUP];
	unsigned long ea[HPTES_PER_GROUP];
};

struct htab {
	smpemu::Machine *m;
	unsigned long hash_mask;	/* groups - 1 */
	std::vector<std::unique_ptr<struct hpte_group>> groups;	/* by index, made on first use */
	smpemu::Rng evict_rng{0, ""};	/* native_hpte_remove's starting slot (the timebase) */
	/* Statistics (the CPU that does the operation writes them; one fiber at a time). */
	unsigned long inserts, secondary_inserts, evictions, updates, invalidations;
};

/* The address of an HPTE slot: group index and slot in it. */
struct hpte_slot {
	unsigned long group;
	unsigned slot;
};

/* htab_init - an empty table for @ram_pages pages of RAM (host side). */
void htab_init(struct htab *h, smpemu::Machine *m, unsigned long ram_pages);
/* htab_groups_for - the table size Linux picks for @ram_pages pages of RAM. */
unsigned long htab_groups_for(unsigned long ram_pages);

/* get_vsid - the VSID of @ea's segment in the address space with context @context. */
unsigned long get_vsid(unsigned long context, unsigned long ea);
/* hpt_vpn - the virtual page number of @ea in @mm. */
unsigned long hpt_vpn(const struct mm_struct *mm, unsigned long ea);
/* hpt_hash - the primary hash of @ea in @mm (the group is hash & hash_mask; the
 * secondary group ~hash & hash_mask). */
unsigned long hpt_hash(const struct mm_struct *mm, unsigned long ea);
static inline unsigned long hpt_group(const struct htab *h, unsigned long hash, bool secondary)
{
	return (secondary ? ~hash : hash) & h->hash_mask;
}

/* htab_group - group @idx, made on first use (host memory; needs the running machine). */
struct hpte_group *htab_group(struct htab *h, unsigned long idx);

/*
 * htab_search - the MMU's search on a TLB miss: the primary, then the secondary group
 * of @vpn, one line load each; 0 and the slot with its r word, or -1.
 */
int htab_search(struct htab *h, unsigned long vpn, unsigned long hash, struct hpte_slot *out, unsigned long *r);

/*
 * native_hpte_insert - make a valid HPTE for @vpn -> @pfn (@rw: writable) in group
 * @group (@secondary: it is the vpn's secondary group) for @ea of @mm; the slot (0..7),
 * or -1 if the group is full. Checks the duplicate-hpte oracle first.
 */
int native_hpte_insert(struct htab *h, unsigned long group, bool secondary, unsigned long vpn, unsigned long hash,
		       unsigned long pfn, bool rw, struct mm_struct *mm, unsigned long ea);
/* native_hpte_remove - evict one valid HPTE of full group @group (no TLB flush, as in
 * Linux); its slot, or -1 if none could be evicted. */
int native_hpte_remove(struct htab *h, unsigned long group);
/* native_hpte_updatepp - set the protection of @s to @rw if it still maps @vpn: 0, or -1
 * (the HPTE is gone: the caller inserts a new one). The caller invalidates the TLBs. */
int native_hpte_updatepp(struct htab *h, struct hpte_slot s, unsigned long vpn, bool rw);
/* native_hpte_invalidate - clear @s if it still maps @vpn; true if it did. The caller
 * invalidates the TLBs (always: an evicted HPTE may still be cached). */
bool native_hpte_invalidate(struct htab *h, struct hpte_slot s, unsigned long vpn);

/* htab_find_valid - host-side (no sync point, no cost): a valid HPTE for @vpn in its
 * groups, for oracles; true and its slot if one exists. @skip is not considered. */
bool htab_find_valid(struct htab *h, unsigned long vpn, unsigned long hash, struct hpte_slot *out,
		     const struct hpte_slot *skip = nullptr);
