/*
 * mm/history.cc - recording and printing the earlier sides of the mm oracles' races.
 */
#include "mm/history.h"

#include "mm/filemap.h"
#include "mm/mm.h"

typedef smpemu::HistoryKey history_key;

static struct mm_history *mm_hist(void)
{
	struct phys_mem *mem = history_on() ? machine_mem() : nullptr;
	return mem && mem->vm ? &mem->vm->hist : nullptr;
}

/* (mm or file id, page number); a TLB entry adds its CPU above the id. */
static history_key page_key(unsigned long id, unsigned long addr)
{
	return history_key{id, addr >> PAGE_SHIFT};
}

void note_pte_origin(struct mm_struct *mm, unsigned long addr, struct page *page, const struct fault_sample *fs,
		     caller_ip_t ip)
{
	struct mm_history *h = mm_hist();
	if (!h)
		return;
	struct pte_origin o;
	o.pfn = page->pfn;
	o.installed = smpemu::this_machine()->track(ip);
	if (fs)
		o.sample = *fs;
	h->ptes.put(page_key(mm->id, addr), o);
}

void note_pte_cow(struct mm_struct *mm, unsigned long addr, struct page *page, caller_ip_t ip)
{
	struct mm_history *h = mm_hist();
	if (!h)
		return;
	struct pte_origin o = {};
	const struct pte_origin *orig = h->ptes.get(page_key(mm->id, addr));
	if (orig) {
		o.sample = orig->sample;
		o.copied_from = orig->installed;
	}
	o.pfn = page->pfn;
	o.installed = smpemu::this_machine()->track(ip);
	h->ptes.put(page_key(mm->id, addr), o);
}

void note_pte_moved(struct mm_struct *mm, unsigned long from, unsigned long to)
{
	struct mm_history *h = mm_hist();
	if (!h)
		return;
	const struct pte_origin *o = h->ptes.get(page_key(mm->id, from));
	if (!o)
		return;
	const struct pte_origin moved = *o;
	h->ptes.erase(page_key(mm->id, from));
	h->ptes.put(page_key(mm->id, to), moved);
}

void note_truncate_size(struct address_space *mapping, unsigned long old_pages, unsigned long new_pages,
			caller_ip_t ip)
{
	if (!history_on())
		return;
	struct truncate_record *r = &mapping->last_truncate;
	*r = truncate_record{};
	r->size_write = smpemu::this_machine()->track(ip);
	r->old_pages = old_pages;
	r->new_pages = new_pages;
}

void note_truncate_count(struct address_space *mapping, unsigned long count, caller_ip_t ip)
{
	if (!history_on())
		return;
	mapping->last_truncate.count_bump = smpemu::this_machine()->track(ip);
	mapping->last_truncate.count = count;
}

void note_shadow_write(struct address_space *mapping, unsigned long index, unsigned long val, caller_ip_t ip)
{
	struct mm_history *h = mm_hist();
	if (h)
		h->shadow.put(history_key{mapping->id, index},
			      shadow_write{val, smpemu::this_machine()->track(ip)});
}

void note_private_store(unsigned long pfn, unsigned long val, caller_ip_t ip)
{
	struct mm_history *h = mm_hist();
	if (h)
		h->shadow.put(history_key{0, pfn}, shadow_write{val, smpemu::this_machine()->track(ip)});
}

void private_store_sides(std::vector<struct report_side> *sides, unsigned long pfn)
{
	struct mm_history *h = mm_hist();
	const struct shadow_write *w = h ? h->shadow.get(history_key{0, pfn}) : nullptr;
	const std::string what = "The frame (pfn " + std::to_string(pfn) + ") was last stored to";
	if (w)
		sides->push_back({what + " (" + report_hex(w->val) + ")", w->who});
	else
		sides->push_back({what, track_t{}});
}

void note_frame_free(unsigned long pfn, caller_ip_t ip)
{
	struct mm_history *h = mm_hist();
	if (h)
		h->frees.put(history_key{pfn, 0}, smpemu::this_machine()->track(ip));
}

void note_tlb_fill(struct mm_struct *mm, int cpu, unsigned long addr, caller_ip_t ip)
{
	struct mm_history *h = mm_hist();
	if (h)
		h->tlb_fills.put(page_key((unsigned long)cpu << 32 | mm->id, addr),
				 smpemu::this_machine()->track(ip));
}

static const struct pte_origin *pte_origin_of(struct mm_struct *mm, unsigned long addr, unsigned long pfn)
{
	struct mm_history *h = mm_hist();
	const struct pte_origin *o = h ? h->ptes.get(page_key(mm->id, addr)) : nullptr;
	return o && o->pfn == pfn ? o : nullptr;
}

void pte_origin_sides(std::vector<struct report_side> *sides, struct mm_struct *mm, unsigned long addr,
		      unsigned long pfn)
{
	const struct pte_origin *o = pte_origin_of(mm, addr, pfn);
	const std::string pte = "The pte of mm " + std::to_string(mm->id) + " at " + report_hex(addr & PAGE_MASK) +
				" (pfn " + std::to_string(pfn) + ") was installed";
	if (!o) {
		sides->push_back({pte, track_t{}});
		return;
	}
	sides->push_back({pte, o->installed});
	const bool copy = !o->copied_from.empty();
	if (copy)
		sides->push_back({"It is the COW copy of a pte installed", o->copied_from});
	const struct fault_sample &s = o->sample;
	if (s.size.empty())
		return; /* not a fault's install: nothing sampled */
	sides->push_back({std::string(copy ? "That" : "Its") + " fault read i_size (" + std::to_string(s.size_pages) +
				  " pages)",
			  s.size});
	if (s.count.empty())
		sides->push_back({std::string(copy ? "That" : "Its") +
					  " fault never sampled truncate_count, so nothing told it of a truncate "
				  "(fault_recheck=off).",
				  track_t{}, true});
	else
		sides->push_back({std::string(copy ? "That" : "Its") + " fault sampled truncate_count = " +
					  std::to_string(s.count_val),
				  s.count});
	if (!s.recheck.empty())
		sides->push_back({"and found truncate_count = " + std::to_string(s.recheck_val) +
					  " again under the pte lock",
				  s.recheck});
}

void truncate_sides(std::vector<struct report_side> *sides, struct address_space *mapping)
{
	const struct truncate_record &r = mapping->last_truncate;
	if (r.size_write.empty()) {
		sides->push_back({"The last truncate of file " + std::to_string(mapping->id), track_t{}});
		return;
	}
	sides->push_back({"The truncate of file " + std::to_string(mapping->id) + " from " +
				  std::to_string(r.old_pages) + " to " + std::to_string(r.new_pages) +
				  " pages wrote i_size",
			  r.size_write});
	sides->push_back({"It bumped truncate_count to " + std::to_string(r.count), r.count_bump});
}

void shadow_sides(std::vector<struct report_side> *sides, struct address_space *mapping, unsigned long index)
{
	struct mm_history *h = mm_hist();
	const struct shadow_write *w = h ? h->shadow.get(history_key{mapping->id, index}) : nullptr;
	const std::string what = "Page " + std::to_string(index) + " of file " + std::to_string(mapping->id);
	if (w)
		sides->push_back({what + " was last written (" + std::to_string(w->val) + ")", w->who});
	else
		sides->push_back({what + " was last written", track_t{}});
}

void frame_free_side(std::vector<struct report_side> *sides, unsigned long pfn)
{
	struct mm_history *h = mm_hist();
	const track_t *freed = h ? h->frees.get(history_key{pfn, 0}) : nullptr;
	sides->push_back({"The frame (pfn " + std::to_string(pfn) + ") was freed", freed ? *freed : track_t{}});
}

void frame_sides(std::vector<struct report_side> *sides, struct mm_struct *mm, int cpu, unsigned long addr,
		 unsigned long pfn)
{
	struct mm_history *h = mm_hist();
	const track_t *fill =
		h ? h->tlb_fills.get(page_key((unsigned long)cpu << 32 | mm->id, addr)) : nullptr;
	sides->push_back({"The TLB entry was filled", fill ? *fill : track_t{}});
	pte_origin_sides(sides, mm, addr, pfn);
	frame_free_side(sides, pfn);
}
