/*
 * mm/gup.cc - the lockless IRQs-off walk.
 */
#include "mm/gup.h"

#include <cerrno>
#include <string>

#include "kernel/oracle.h"
#include "mm/pgtable.h"

/* The walk's own work besides its loads (assumed: a few dozen instructions). */
static constexpr smpemu::Cycles kWalkCycles = 30;

int gup_fast_pte(struct mm_struct *mm, unsigned long addr, pte_t *out)
{
	KFUNC();
	unsigned long flags;
	local_irq_save(flags);
	int ret = -EFAULT;
	pgtable_slot_t *pmd = pmd_lookup(mm, addr);
	const unsigned long e = pmd ? READ_ONCE(*pmd) : 0;
	if (!pgtable_entry_none(e)) {
		const unsigned long pfn = pgtable_entry_pfn(e);
		if (frame_state_of(mm->mem, pfn) == FRAME_PAGETABLE) {
			struct pgtable_page *t = page_table_of(mm->mem, pfn);
			cpu_work(kWalkCycles);
			*out = __pte(READ_ONCE(t->ent[pte_index(addr)]));
			if (frame_state_of(mm->mem, pfn) != FRAME_PAGETABLE)
				report_check("use-after-free-pagetable",
					     "lockless walk of mm " + std::to_string(mm->id) + " read the pte of " +
						     report_hex(addr) + " from pfn " + std::to_string(pfn) +
						     ", freed while the walk had IRQs off",
					     true);
			ret = 0;
		}
	}
	local_irq_restore(flags);
	return ret;
}
