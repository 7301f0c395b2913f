/*
 * mm/swap.cc - the per-zone LRU list: add, release, isolate, put back.
 */
#include "mm/swap.h"

#include <cerrno>

#include "kernel/oracle.h"

/* Cost (assumed: a list insertion or removal on a hot struct page): the list work done
 * under lru_lock besides the lock and flag sync points. */
static constexpr smpemu::Cycles kLruListCycles = 20;

void lru_cache_add_anon(struct page *page)
{
	struct zone *z = page->zone;
	spin_lock(&z->lru_lock);
	if (PageLRU(page))
		report_check("bad-page", "lru_cache_add of pfn " + std::to_string(page->pfn) + " already on the LRU", true);
	cpu_work(kLruListCycles);
	set_bit(PG_lru, &page->flags);
	list_add(&page->lru, &z->lru_list);
	z->nr_lru++;
	spin_unlock(&z->lru_lock);
}

void __page_cache_release(struct page *page)
{
	/* A plain read, as PageAnon's: with the count at 0 nobody else may set or clear
	 * PG_lru (isolation needs a reference first), so the bit cannot be racing. */
	if (!((page->flags.v >> PG_lru) & 1UL))
		return;
	struct zone *z = page->zone;
	spin_lock(&z->lru_lock);
	/* still set: nobody can isolate a page whose count is 0 */
	cpu_work(kLruListCycles);
	clear_bit(PG_lru, &page->flags);
	list_del_init(&page->lru);
	z->nr_lru--;
	spin_unlock(&z->lru_lock);
}

unsigned long isolate_lru_pages(struct zone *zone, unsigned long nr, std::vector<struct page *> *out,
				unsigned long *lru_size)
{
	unsigned long taken = 0, looked = 0;
	spin_lock(&zone->lru_lock);
	*lru_size = zone->nr_lru;
	struct list_head *pos = zone->lru_list.prev;
	while (taken < nr && looked < 2 * nr && pos != &zone->lru_list) {
		struct page *page = list_entry(pos, struct page, lru);
		pos = pos->prev;
		looked++;
		cpu_work(kLruListCycles);
		/* a page on its way to the allocator: its last put_page takes it off */
		if (!get_page_unless_zero(page))
			continue;
		clear_bit(PG_lru, &page->flags);
		list_del_init(&page->lru);
		zone->nr_lru--;
		out->push_back(page);
		taken++;
	}
	spin_unlock(&zone->lru_lock);
	return looked;
}

int isolate_lru_page(struct page *page)
{
	struct zone *z = page->zone;
	int ret = -EBUSY;
	spin_lock(&z->lru_lock);
	if (PageLRU(page) && get_page_unless_zero(page)) {
		cpu_work(kLruListCycles);
		clear_bit(PG_lru, &page->flags);
		list_del_init(&page->lru);
		z->nr_lru--;
		ret = 0;
	}
	spin_unlock(&z->lru_lock);
	return ret;
}

void putback_lru_page(struct page *page)
{
	struct zone *z = page->zone;
	spin_lock(&z->lru_lock);
	cpu_work(kLruListCycles);
	set_bit(PG_lru, &page->flags);
	list_add(&page->lru, &z->lru_list);
	z->nr_lru++;
	spin_unlock(&z->lru_lock);
	put_page(page);
}
