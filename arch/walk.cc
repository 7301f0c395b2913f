/*
 * arch/walk.cc - the page walker shared by the MMU models.
 */
#include "arch/walk.h"

#include <cerrno>
#include <string>
#include <vector>

#include "kernel/oracle.h"
#include "mm/history.h"
#include "mm/pgtable.h"

static bool usable(pte_t pte, bool write)
{
	return pte_hw_present(pte) && (!write || pte_write(pte));
}

int hw_walk(struct mm_struct *mm, unsigned long addr, bool write, pte_t *out)
{
	pgtable_slot_t *ptep = lookup_pte(mm, addr);
	pte_t pte = ptep ? ptep_get(ptep) : __pte(0);
	if (!usable(pte, write))
		return -EFAULT;
	const pteval_t want = pte.pte | _PAGE_ACCESSED | (write ? _PAGE_DIRTY : 0);
	if (want != pte.pte && cmpxchg(ptep, pte.pte, want) != pte.pte) {
		pte = ptep_get(ptep); /* changed meanwhile: use what is there now */
		if (!usable(pte, write))
			return -EFAULT;
	}
	*out = pte;
	return 0;
}

void check_cached_translation(struct mm_struct *mm, unsigned long addr, unsigned long pfn, const char *what,
			      caller_ip_t ip)
{
	smp_rmb(); /* take this CPU's turn: the frame state is the state now */
	const enum frame_state s = frame_state_of(mm->mem, pfn);
	if (s == FRAME_ALLOCATED)
		return;
	addr &= PAGE_MASK;
	std::vector<struct report_side> sides;
	frame_sides(&sides, mm, smp_processor_id(), addr, pfn);
	report_check("use-after-free-frame",
		     std::string("stale ") + what + " on CPU " + std::to_string(smp_processor_id()) + ": mm " +
			     std::to_string(mm->id) + " page " + report_hex(addr) + " -> pfn " + std::to_string(pfn) +
			     ", which is " + (s == FRAME_FREE ? "free" : "a page table"),
		     true, sides, ip);
}
