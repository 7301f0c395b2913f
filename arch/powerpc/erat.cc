/*
 * arch/powerpc/erat.cc - the D-ERAT and TLB of one CPU.
 */
#include "arch/powerpc/erat.h"

void ppc_cpu_tlb_init(struct ppc_cpu_tlb *t)
{
	t->erat.assign(POWER7_DERAT_ENTRIES, erat_entry{});
	t->tlb.assign(POWER7_TLB_SETS * POWER7_TLB_WAYS, erat_entry{});
	t->stamp = 0;
	t->erat_hits = t->tlb_hits = t->hpt_hits = t->hash_faults = t->tlbiel = t->tlbie_received = 0;
}

static size_t tlb_set_base(unsigned long vpn)
{
	return (vpn % POWER7_TLB_SETS) * POWER7_TLB_WAYS;
}

static struct erat_entry *find_in(struct ppc_cpu_tlb *t, struct erat_entry *first, size_t n, unsigned long vpn)
{
	for (size_t i = 0; i < n; i++)
		if (first[i].mm_id != 0 && first[i].vpn == vpn) {
			first[i].used = ++t->stamp;
			return &first[i];
		}
	return nullptr;
}

struct erat_entry *erat_lookup(struct ppc_cpu_tlb *t, unsigned long vpn)
{
	return find_in(t, t->erat.data(), t->erat.size(), vpn);
}

struct erat_entry *ptlb_lookup(struct ppc_cpu_tlb *t, unsigned long vpn)
{
	return find_in(t, t->tlb.data() + tlb_set_base(vpn), POWER7_TLB_WAYS, vpn);
}

/* Replace @e's own entry if cached (a store refilling a read-only one), else an invalid
 * way, else the least recently used. */
static void fill_in(struct ppc_cpu_tlb *t, struct erat_entry *first, size_t n, const struct erat_entry &e)
{
	size_t victim = 0;
	for (size_t i = 0; i < n; i++) {
		if (first[i].mm_id == 0 || first[i].vpn == e.vpn) {
			victim = i;
			break;
		}
		if (first[i].used < first[victim].used)
			victim = i;
	}
	first[victim] = e;
	first[victim].used = ++t->stamp;
}

void erat_fill(struct ppc_cpu_tlb *t, const struct erat_entry &e)
{
	fill_in(t, t->erat.data(), t->erat.size(), e);
}

void ptlb_fill(struct ppc_cpu_tlb *t, const struct erat_entry &e)
{
	fill_in(t, t->tlb.data() + tlb_set_base(e.vpn), POWER7_TLB_WAYS, e);
}

void ppc_tlb_invalidate(struct ppc_cpu_tlb *t, unsigned long vpn)
{
	for (struct erat_entry &e : t->erat)
		if (e.vpn == vpn)
			e.mm_id = 0;
	struct erat_entry *set = t->tlb.data() + tlb_set_base(vpn);
	for (size_t i = 0; i < POWER7_TLB_WAYS; i++)
		if (set[i].vpn == vpn)
			set[i].mm_id = 0;
}
