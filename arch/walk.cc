/*
 * arch/walk.cc - the page walker shared by the MMU models.
 */
#include "arch/walk.h"

#include <cerrno>

#include "mm/pgtable.h"

static bool usable(pte_t pte, bool write)
{
	return pte_present(pte) && (!write || pte_write(pte));
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
