/*
 * arch/powerpc/htab.cc - the hashed page table: hashing, search, insert, evict, update,
 * invalidate.
 */
#include "arch/powerpc/htab.h"

#include <string>

#include "kernel/oracle.h"
#include "mm/mm.h"

/* 2.6's VSID scrambling for 256 MB segments: VSID_MULTIPLIER_256M and VSID_BITS_256M. */
static constexpr unsigned long kVsidMultiplier = 200730139UL;
static constexpr unsigned long kVsidModulus = (1UL << 36) - 1;
static constexpr unsigned kSidShift = 28; /* 256 MB segments */

unsigned long htab_groups_for(unsigned long ram_pages)
{
	/* One group per two pages, a power of two, at least 2^11 (htab_get_table_size). */
	unsigned long want = ram_pages / 2, groups = HTAB_MIN_GROUPS;
	while (groups < want)
		groups <<= 1;
	return groups;
}

void htab_init(struct htab *h, smpemu::Machine *m, unsigned long ram_pages)
{
	h->m = m;
	const unsigned long groups = htab_groups_for(ram_pages);
	h->hash_mask = groups - 1;
	h->groups.clear();
	h->groups.resize(groups);
	h->evict_rng = m->rng("mmu.hpte_remove");
	h->inserts = h->secondary_inserts = h->evictions = h->updates = h->invalidations = 0;
}

unsigned long get_vsid(unsigned long context, unsigned long ea)
{
	const unsigned long proto = (context << 19) | (ea >> kSidShift);
	return static_cast<unsigned long>((static_cast<unsigned __int128>(proto) * kVsidMultiplier) % kVsidModulus);
}

unsigned long hpt_vpn(const struct mm_struct *mm, unsigned long ea)
{
	const unsigned long va = (get_vsid(mm->id, ea) << kSidShift) | (ea & ((1UL << kSidShift) - 1));
	return va >> PAGE_SHIFT;
}

unsigned long hpt_hash(const struct mm_struct *mm, unsigned long ea)
{
	return get_vsid(mm->id, ea) ^ ((ea & ((1UL << kSidShift) - 1)) >> PAGE_SHIFT);
}

struct hpte_group *htab_group(struct htab *h, unsigned long idx)
{
	std::unique_ptr<struct hpte_group> &g = h->groups[idx];
	if (!g) {
		g = std::make_unique<struct hpte_group>();
		const smpemu::LineId line = h->m->new_line();
		for (int i = 0; i < HPTES_PER_GROUP; i++) {
			shared_init(&g->v[i], line, 0UL);
			g->r[i] = 0;
			g->mm_id[i] = 0;
			g->ea[i] = 0;
		}
	}
	return g.get();
}

static unsigned long hpte_v(unsigned long vpn, bool secondary)
{
	return (vpn << HPTE_V_VPN_SHIFT) | HPTE_V_VALID | (secondary ? HPTE_V_SECONDARY : 0);
}

static bool hpte_matches(unsigned long v, unsigned long vpn)
{
	return (v & HPTE_V_VALID) && (v >> HPTE_V_VPN_SHIFT) == vpn;
}

int htab_search(struct htab *h, unsigned long vpn, unsigned long hash, struct hpte_slot *out, unsigned long *r)
{
	for (int sec = 0; sec < 2; sec++) {
		const unsigned long gi = hpt_group(h, hash, sec);
		struct hpte_group *g = htab_group(h, gi);
		(void)READ_ONCE(g->v[0]); /* the group is one line: one load reads all eight */
		for (unsigned i = 0; i < HPTES_PER_GROUP; i++) {
			const unsigned long v = g->v[i].v;
			if (hpte_matches(v, vpn) && ((v & HPTE_V_SECONDARY) != 0) == (sec == 1)) {
				*out = {gi, i};
				*r = g->r[i];
				return 0;
			}
		}
	}
	return -1;
}

bool htab_find_valid(struct htab *h, unsigned long vpn, unsigned long hash, struct hpte_slot *out,
		     const struct hpte_slot *skip)
{
	for (int sec = 0; sec < 2; sec++) {
		const unsigned long gi = hpt_group(h, hash, sec);
		const struct hpte_group *g = h->groups[gi].get();
		if (!g)
			continue;
		for (unsigned i = 0; i < HPTES_PER_GROUP; i++) {
			if (skip && skip->group == gi && skip->slot == i)
				continue;
			if (hpte_matches(g->v[i].v, vpn)) {
				*out = {gi, i};
				return true;
			}
		}
	}
	return false;
}

/* Lock slot @i of @g (HPTE_LOCK_BIT): spin while another CPU holds it. */
static void native_lock_hpte(struct hpte_group *g, unsigned i)
{
	while (test_and_set_bit(HPTE_LOCK_BIT, &g->v[i]))
		smp_cond_load_relaxed(&g->v[i], [](unsigned long v) { return !(v & (1UL << HPTE_LOCK_BIT)); });
}

static void native_unlock_hpte(struct hpte_group *g, unsigned i)
{
	clear_bit_unlock(HPTE_LOCK_BIT, &g->v[i]);
}

/* The duplicate-hpte oracle: no other valid HPTE may map @vpn when a new one becomes
 * valid in @s. */
static void check_duplicate(struct htab *h, unsigned long vpn, unsigned long hash, struct hpte_slot s,
			    struct mm_struct *mm, unsigned long ea)
{
	struct hpte_slot other;
	if (!htab_find_valid(h, vpn, hash, &other, &s))
		return;
	const struct hpte_group *og = h->groups[other.group].get();
	report_check("duplicate-hpte",
		     "two valid HPTEs for one virtual address (architecture violation): mm " + std::to_string(mm->id) +
			     " ea " + report_hex(ea) + " vpn " + report_hex(vpn) + " is being inserted in group " +
			     std::to_string(s.group) + " slot " + std::to_string(s.slot) + " while group " +
			     std::to_string(other.group) + " slot " + std::to_string(other.slot) + " still maps it to pfn " +
			     std::to_string(og->r[other.slot] >> HPTE_R_PFN_SHIFT) +
			     " (an HPTE whose flush was not done before its pte lock was released?)",
		     true);
}

int native_hpte_insert(struct htab *h, unsigned long group, bool secondary, unsigned long vpn, unsigned long hash,
		       unsigned long pfn, bool rw, struct mm_struct *mm, unsigned long ea)
{
	struct hpte_group *g = htab_group(h, group);
	for (unsigned i = 0; i < HPTES_PER_GROUP; i++) {
		if (READ_ONCE(g->v[i]) & HPTE_V_VALID)
			continue;
		native_lock_hpte(g, i);
		if (g->v[i].v & HPTE_V_VALID) {
			native_unlock_hpte(g, i);
			continue;
		}
		check_duplicate(h, vpn, hash, {group, i}, mm, ea);
		g->r[i] = (pfn << HPTE_R_PFN_SHIFT) | (rw ? HPTE_R_RW : 0);
		g->mm_id[i] = mm->id;
		g->ea[i] = ea;
		/* eieio; then v, valid and unlocked, in one store (the release) */
		WRITE_ONCE(g->v[i], hpte_v(vpn, secondary));
		h->inserts++;
		if (secondary)
			h->secondary_inserts++;
		return static_cast<int>(i);
	}
	return -1;
}

int native_hpte_remove(struct htab *h, unsigned long group)
{
	struct hpte_group *g = htab_group(h, group);
	const unsigned start = static_cast<unsigned>(h->evict_rng.below(HPTES_PER_GROUP));
	for (unsigned k = 0; k < HPTES_PER_GROUP; k++) {
		const unsigned i = (start + k) % HPTES_PER_GROUP;
		if (!(READ_ONCE(g->v[i]) & HPTE_V_VALID))
			continue;
		native_lock_hpte(g, i);
		if (!(g->v[i].v & HPTE_V_VALID)) {
			native_unlock_hpte(g, i);
			continue;
		}
		WRITE_ONCE(g->v[i], 0UL); /* invalid and unlocked */
		h->evictions++;
		return static_cast<int>(i);
	}
	return -1;
}

int native_hpte_updatepp(struct htab *h, struct hpte_slot s, unsigned long vpn, bool rw)
{
	struct hpte_group *g = htab_group(h, s.group);
	native_lock_hpte(g, s.slot);
	if (!hpte_matches(g->v[s.slot].v, vpn)) {
		native_unlock_hpte(g, s.slot);
		return -1;
	}
	g->r[s.slot] = (g->r[s.slot] & ~HPTE_R_RW) | (rw ? HPTE_R_RW : 0);
	native_unlock_hpte(g, s.slot);
	h->updates++;
	return 0;
}

bool native_hpte_invalidate(struct htab *h, struct hpte_slot s, unsigned long vpn)
{
	struct hpte_group *g = htab_group(h, s.group);
	native_lock_hpte(g, s.slot);
	if (!hpte_matches(g->v[s.slot].v, vpn)) {
		native_unlock_hpte(g, s.slot);
		return false;
	}
	WRITE_ONCE(g->v[s.slot], 0UL);
	h->invalidations++;
	return true;
}
