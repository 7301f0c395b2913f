/*
 * mm/anon_shadow.cc - the private-page shadow oracle (mm/anon_shadow.h).
 */
#include "mm/anon_shadow.h"

#include <cerrno>
#include <string>
#include <vector>

#include "kernel/oracle.h"

void shadow_forget(struct mm_struct *mm, unsigned long addr)
{
	mm->shadow.erase(addr >> PAGE_SHIFT);
}

void shadow_move(struct mm_struct *mm, unsigned long from, unsigned long to)
{
	auto it = mm->shadow.find(from >> PAGE_SHIFT);
	if (it == mm->shadow.end()) {
		mm->shadow.erase(to >> PAGE_SHIFT);
		return;
	}
	const unsigned long val = it->second;
	mm->shadow.erase(it);
	mm->shadow[to >> PAGE_SHIFT] = val;
}

void shadow_fork(struct mm_struct *child, struct mm_struct *parent)
{
	child->shadow = parent->shadow;
}

static void shadow_report(struct mm_struct *mm, unsigned long addr, struct page *page, unsigned long val,
			  const std::string &expected, caller_ip_t ip = _RET_IP_)
{
	std::vector<struct report_side> sides;
	private_store_sides(&sides, page->pfn);
	pte_origin_sides(&sides, mm, addr, page->pfn);
	report_check("shadow-memory",
		     "user load at " + report_hex(addr) + " of mm " + std::to_string(mm->id) + " (private, pfn " +
			     std::to_string(page->pfn) + (PageAnon(page) ? ", anonymous" : ", file page") + ") read " +
			     report_hex(val) + " but " + expected,
		     true, sides, ip);
}

/*
 * A store through a stale TLB entry lands in @page wherever it is mapped now (mremap
 * moved its pte: the value moves with it), or nowhere (it is being unmapped: the store
 * is lost with the page, as on hardware).
 */
void shadow_swapout_begin(struct mm_struct *mm, unsigned long addr, unsigned long pfn)
{
	mm->swapping_out[addr >> PAGE_SHIFT] = pfn;
}

void shadow_swapout_end(struct mm_struct *mm, unsigned long addr)
{
	mm->swapping_out.erase(addr >> PAGE_SHIFT);
}

static void stale_store(struct mm_struct *mm, unsigned long addr, struct page *page, unsigned long val)
{
	if (!PageAnon(page))
		return;
	auto out = mm->swapping_out.find(addr >> PAGE_SHIFT);
	if (out != mm->swapping_out.end() && out->second == page->pfn) {
		/* the page goes to swap with this store in it */
		mm->shadow[addr >> PAGE_SHIFT] = val;
		note_private_store(page->pfn, val);
		return;
	}
	for (auto &e : mm->mm_rb) {
		const unsigned long a = vma_address(page, e.second);
		if (a == static_cast<unsigned long>(-EFAULT))
			continue;
		const pteval_t v = peek_pte(mm, a);
		/* mapped, or being migrated: a store that lands between try_to_unmap's pte
		 * change and its TLB flush is in the frame the migration then copies */
		const bool migrating = is_migration_pte(__pte(v)) && migration_entry_to_pfn(pte_to_swp_entry(__pte(v))) == page->pfn;
		if ((pte_present(__pte(v)) && pte_pfn(__pte(v)) == page->pfn) || migrating) {
			mm->shadow[a >> PAGE_SHIFT] = val;
			note_private_store(page->pfn, val);
		}
	}
}

bool shadow_private_access(struct mm_struct *mm, struct vm_area_struct *vma, unsigned long addr, struct page *page,
			   bool write, unsigned long val)
{
	if (vma->vm_flags & VM_SHARED)
		return false;
	const unsigned long pn = addr >> PAGE_SHIFT;
	const pteval_t now = peek_pte(mm, addr);
	if (!pte_present(__pte(now)) || pte_pfn(__pte(now)) != page->pfn) {
		/* through a translation the pte has lost (unmapped or moved, not yet flushed) */
		if (write)
			stale_store(mm, addr, page, val);
		return true;
	}
	if (write) {
		mm->shadow[pn] = val;
		note_private_store(page->pfn, val);
		return true;
	}
	auto it = mm->shadow.find(pn);
	const bool anon = PageAnon(page) || page == vm_globals()->zero_page;
	if (!anon) {
		/* a file page through a private vma: this process never stored here (or lost it) */
		if (it != mm->shadow.end())
			shadow_report(mm, addr, page, val,
				      "this process stored " + report_hex(it->second) + " there last (its COW copy is lost)");
		return !vma->vm_file;
	}
	const unsigned long expected = it != mm->shadow.end() ? it->second : 0;
	if (it == mm->shadow.end() && vma->vm_file)
		return true; /* a COW copy made by a fork's parent before it was recorded: nothing to say */
	if (val != expected)
		shadow_report(mm, addr, page, val,
			      it != mm->shadow.end() ? "this process stored " + report_hex(expected) + " there last"
						     : std::string("the page was never stored to (it must read 0)"));
	return true;
}
