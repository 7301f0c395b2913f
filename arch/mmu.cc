/*
 * arch/mmu.cc - the registry of MMU models and the no-op model.
 */
#include "arch/mmu.h"

#include <cstring>

#include "arch/powerpc/hash_utils.h"
#include "arch/walk.h"
#include "arch/x86/tlb.h"
#include "mm/mm.h"

/* ---- the no-op model ----------------------------------------------------- */

static pteval_t nommu_pte_update(struct mmu *mmu, struct mm_struct *mm, unsigned long addr, pgtable_slot_t *ptep,
				 pteval_t clr, pteval_t set, unsigned int flags)
{
	return native_pte_update(ptep, clr, set, flags);
}

static void nommu_update_mmu_cache(struct mmu *mmu, struct vm_area_struct *vma, unsigned long addr,
				   pgtable_slot_t *ptep)
{
}

/* No TLB: every access walks, so nothing outlives a pte change and flushes are empty. */
static int nommu_translate(struct mmu *mmu, struct mm_struct *mm, unsigned long addr, bool write, unsigned long *pfn)
{
	pte_t pte;
	const int ret = hw_walk(mm, addr, write, &pte);
	if (ret == 0)
		*pfn = pte_pfn(pte);
	return ret;
}

static void nommu_flush_tlb_mm(struct mmu *mmu, struct mm_struct *mm) {}
static void nommu_flush_tlb_range(struct mmu *mmu, struct mm_struct *mm, unsigned long start, unsigned long end) {}
static void nommu_flush_tlb_page(struct mmu *mmu, struct mm_struct *mm, unsigned long addr) {}
static void nommu_tlb_flush(struct mmu *mmu, struct mmu_gather *tlb) {}
static void nommu_stats(struct mmu *mmu, mmu_stat_fn fn, void *arg) {}
void mmu_nop_lazy(struct mmu *mmu) {}
void mmu_nop_pte_unlock(struct mmu *mmu, const void *ptl) {}
static void nommu_destroy(struct mmu *mmu) {} /* static: nothing to free */

static const struct mmu_ops nommu_ops = {
	.pte_update = nommu_pte_update,
	.update_mmu_cache = nommu_update_mmu_cache,
	.translate = nommu_translate,
	.flush_tlb_mm = nommu_flush_tlb_mm,
	.flush_tlb_range = nommu_flush_tlb_range,
	.flush_tlb_page = nommu_flush_tlb_page,
	.tlb_flush = nommu_tlb_flush,
	.enter_lazy_mmu = mmu_nop_lazy,
	.leave_lazy_mmu = mmu_nop_lazy,
	.pte_unlock = mmu_nop_pte_unlock,
	.stats = nommu_stats,
	.destroy = nommu_destroy,
};

static struct mmu *nommu_create(smpemu::Machine *m, const struct mmu_setup *setup)
{
	return &nommu;
}

/* ---- the registry --------------------------------------------------------- */

static const struct mmu_knob ppc64_knobs[] = {
	{"hash_flush", "leave_lazy", "leave_lazy|tlb_flush_only",
	 "ppc64-hash: when batched hash flushes happen: leave_lazy (before the pte lock is released), "
	 "tlb_flush_only (after it, from tlb_flush: planted bug, duplicate HPTEs)"},
	{"tlbie_lock", "off", "on|off", "ppc64-hash: serialise global tlbie under one lock (CPUs before POWER5)"},
	{"ctxsw_batch_flush", "on", "on|off",
	 "ppc64-hash: __switch_to flushes an active hash batch and marks the thread TLF_LAZY_MMU (off: bug, with "
	 "pte_lock=rt)"},
};

const struct mmu_type mmu_types[] = {
	{"x86", "x86-64: per-CPU L1/L2 TLBs, hardware page walker setting A/D bits, IPI shootdown", nullptr, 0,
	 x86_mmu_create},
	{"ppc64-hash",
	 "powerpc book3s64 hash MMU: per-CPU D-ERAT and TLB, global hashed page table, hash_page miss handler, "
	 "batched hash flushes, tlbie/tlbiel, RCU page-table freeing (default machine power7)",
	 ppc64_knobs, sizeof(ppc64_knobs) / sizeof(ppc64_knobs[0]), ppc64_mmu_create},
	{"none", "no TLB: every access walks the page tables (A/D bits set), flushes do nothing; "
		 "mm/ without TLB effects",
	 nullptr, 0, nommu_create},
};
const size_t nr_mmu_types = sizeof(mmu_types) / sizeof(mmu_types[0]);

struct mmu nommu = {&nommu_ops, &mmu_types[2], false};

const char *mmu_knob_value(const struct mmu_setup *setup, const char *name)
{
	if (setup && setup->knobs) {
		auto it = setup->knobs->find(name);
		if (it != setup->knobs->end())
			return it->second.c_str();
	}
	for (size_t i = 0; i < nr_mmu_types; i++)
		for (size_t k = 0; k < mmu_types[i].nr_knobs; k++)
			if (std::strcmp(mmu_types[i].knobs[k].name, name) == 0)
				return mmu_types[i].knobs[k].def;
	return "";
}

const struct mmu_type *find_mmu_type(const char *name)
{
	for (size_t i = 0; i < nr_mmu_types; i++)
		if (std::strcmp(mmu_types[i].name, name) == 0)
			return &mmu_types[i];
	return nullptr;
}

std::string mmu_type_names(void)
{
	std::string s;
	for (size_t i = 0; i < nr_mmu_types; i++)
		s += std::string(i ? ", " : "") + mmu_types[i].name;
	return s;
}

void update_mmu_cache(struct vm_area_struct *vma, unsigned long addr, pgtable_slot_t *ptep)
{
	struct mmu *mmu = mm_mmu(vma->vm_mm);
	mmu->ops->update_mmu_cache(mmu, vma, addr, ptep);
}
