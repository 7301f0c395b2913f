/*
 * arch/powerpc/tlb_hash.cc - ppc64_tlb_batch: hpte_need_flush, __flush_tlb_pending,
 * lazy MMU mode and the pte-unlock oracles.
 */
#include "arch/powerpc/tlb_hash.h"

#include <string>

#include "arch/powerpc/hash_utils.h"
#include "kernel/oracle.h"
#include "mm/mm.h"

/* With hash_flush=tlb_flush_only the batch is always on (the older scheme): entries wait
 * for tlb_flush() or a flush_tlb_*(). */
static bool batch_active(const struct ppc64_mmu *mmu, const struct ppc64_tlb_batch *batch)
{
	return batch->active || mmu->p.hash_flush == HASH_FLUSH_TLB_FLUSH_ONLY;
}

void __flush_tlb_pending(struct ppc64_mmu *mmu, struct ppc64_tlb_batch *batch)
{
	KFUNC();
	const smpemu::Cycles t0 = local_clock();
	const bool local = mm_is_local(batch->mm);
	for (unsigned long i = 0; i < batch->index; i++)
		flush_hash_page(mmu, batch->mm, batch->vaddr[i], batch->pte[i], local);
	batch->index = 0;
	mmu->batch_flushes++;
	mmu->flush_calls++;
	mmu->flush_cycles += local_clock() - t0;
}

void flush_tlb_pending(struct ppc64_mmu *mmu)
{
	struct ppc64_tlb_batch *batch = this_cpu_ptr(&mmu->batch);
	if (batch->index)
		__flush_tlb_pending(mmu, batch);
}

void hpte_need_flush(struct ppc64_mmu *mmu, struct mm_struct *mm, unsigned long addr, pteval_t old, const void *ptl)
{
	struct ppc64_tlb_batch *batch = this_cpu_ptr(&mmu->batch);
	addr &= PAGE_MASK;
	if (!batch_active(mmu, batch)) {
		const smpemu::Cycles t0 = local_clock();
		flush_hash_page(mmu, mm, addr, old, mm_is_local(mm));
		mmu->flush_calls++;
		mmu->flush_cycles += local_clock() - t0;
		return;
	}
	/* One mm per batch: flush another mm's entries first. */
	if (batch->index && batch->mm != mm)
		__flush_tlb_pending(mmu, batch);
	if (batch->index == 0)
		batch->mm = mm;
	batch->pte[batch->index] = old;
	batch->vaddr[batch->index] = addr;
	batch->ptl[batch->index] = ptl;
	if (++batch->index == PPC64_TLB_BATCH_NR)
		__flush_tlb_pending(mmu, batch);
}

void ppc64_enter_lazy_mmu(struct ppc64_mmu *mmu)
{
	this_cpu_ptr(&mmu->batch)->active = true;
}

void ppc64_leave_lazy_mmu(struct ppc64_mmu *mmu)
{
	struct ppc64_tlb_batch *batch = this_cpu_ptr(&mmu->batch);
	if (mmu->p.hash_flush == HASH_FLUSH_LEAVE_LAZY && batch->index)
		__flush_tlb_pending(mmu, batch);
	batch->active = false;
}

/* __switch_to's part (struct ppc64_mmu's hooks on the Machine): host-side test first. */
static bool ppc64_switch_out_needed(void *arg)
{
	return this_cpu_ptr(&static_cast<struct ppc64_mmu *>(arg)->batch)->active;
}

static void ppc64_switch_out(void *arg, std::uint32_t *local_flags)
{
	struct ppc64_mmu *mmu = static_cast<struct ppc64_mmu *>(arg);
	struct ppc64_tlb_batch *batch = this_cpu_ptr(&mmu->batch);
	mmu->lazy_switches++;
	*local_flags |= TLF_LAZY_MMU;
	if (batch->index)
		__flush_tlb_pending(mmu, batch);
	batch->active = false;
}

static void ppc64_switch_in(void *arg, std::uint32_t *local_flags)
{
	if (!(*local_flags & TLF_LAZY_MMU))
		return;
	*local_flags &= ~TLF_LAZY_MMU;
	this_cpu_ptr(&static_cast<struct ppc64_mmu *>(arg)->batch)->active = true;
}

void ppc64_register_switch_hooks(struct ppc64_mmu *mmu)
{
	set_switch_hooks_on(mmu->m, ppc64_switch_out_needed, ppc64_switch_out, ppc64_switch_in, mmu);
}

/* hash-batch-pending: an entry added under @ptl still waits in some CPU's batch. */
static void check_batches(struct ppc64_mmu *mmu, const void *ptl)
{
	if (mmu->warned_batch)
		return;
	for (size_t c = 0; c < mmu->batch.copies.size(); c++) {
		const struct ppc64_tlb_batch &b = mmu->batch.copies[c];
		for (unsigned long i = 0; i < b.index; i++) {
			if (b.ptl[i] != ptl)
				continue;
			mmu->warned_batch = true;
			report_check("hash-batch-pending",
				     "pte lock released while CPU " + std::to_string(c) + "'s hash flush batch still holds " +
					     std::to_string(b.index) + " entries of mm " + std::to_string(b.mm->id) +
					     ", the first under this lock at " + report_hex(b.vaddr[i]) +
					     ": its HPTE is still valid, so a new pte for that address can get a second one",
				     false);
			return;
		}
	}
}

/* stale-hpte: a pte this CPU cleared under @ptl has no valid HPTE left. */
static void check_cleared(struct ppc64_mmu *mmu, const void *ptl)
{
	std::vector<struct ppc64_cleared_pte> *cl = this_cpu_ptr(&mmu->cleared);
	size_t keep = 0;
	for (size_t i = 0; i < cl->size(); i++) {
		const struct ppc64_cleared_pte c = (*cl)[i];
		if (c.ptl != ptl) {
			(*cl)[keep++] = c;
			continue;
		}
		if (mmu->warned_stale || !pte_none(__pte(peek_pte(c.mm, c.ea))))
			continue;
		struct hpte_slot s;
		if (!htab_find_valid(&mmu->htab, hpt_vpn(c.mm, c.ea), hpt_hash(c.mm, c.ea), &s))
			continue;
		mmu->warned_stale = true;
		report_check("stale-hpte",
			     "pte lock released with a valid HPTE (group " + std::to_string(s.group) + " slot " +
				     std::to_string(s.slot) + ") for mm " + std::to_string(c.mm->id) + " address " +
				     report_hex(c.ea) + ", whose pte is none",
			     false);
	}
	cl->resize(keep);
}

void ppc64_pte_unlock_check(struct ppc64_mmu *mmu, const void *ptl)
{
	check_batches(mmu, ptl);
	check_cleared(mmu, ptl);
}
