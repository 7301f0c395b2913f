/*
 * mm/vmscan.cc - direct reclaim: shrink_page_list over isolated LRU pages.
 */
#include "mm/vmscan.h"

#include <algorithm>
#include <vector>

#include "mm/mm.h"
#include "mm/page_alloc.h"
#include "mm/rmap_walk.h"
#include "mm/swap.h"
#include "mm/swap_state.h"

/* __remove_mapping - take locked, unmapped, clean @page out of the swap cache if only
 * the isolation and the cache hold it; its count is then 0. */
static bool __remove_mapping(struct page *page)
{
	struct swap_cache *sc = &vm_globals()->swapper;
	write_lock(&sc->tree_lock);
	/* page_freeze_refs: nobody may have found it in the cache meanwhile */
	if (atomic_cmpxchg(&page->_count, 2, 0) != 2) {
		write_unlock(&sc->tree_lock);
		return false;
	}
	if (PageDirty(page)) {
		atomic_set(&page->_count, 2); /* page_unfreeze_refs: redirtied, keep it */
		write_unlock(&sc->tree_lock);
		return false;
	}
	const swp_entry_t entry = {page->private_};
	__delete_from_swap_cache(page);
	write_unlock(&sc->tree_lock);
	swapcache_free(entry);
	return true;
}

/* What became of one page. */
enum page_fate { PAGE_FREED, PAGE_KEEP };

static enum page_fate shrink_page(struct page *page)
{
	struct vm_stats *st = &vm_globals()->stats;
	if (!trylock_page(page))
		return PAGE_KEEP;
	if (!PageAnon(page)) {
		/* anonymous pages only on this LRU; a freed and reused frame may be a file's */
		unlock_page(page);
		return PAGE_KEEP;
	}
	if (page_referenced(page) > 0) {
		st->pgactivate++;
		unlock_page(page);
		return PAGE_KEEP;
	}
	if (!PageSwapCache(page) && !add_to_swap(page)) {
		st->swap_full++;
		unlock_page(page);
		return PAGE_KEEP;
	}
	if (page_mapped(page) && try_to_unmap(page, TTU_UNMAP) != SWAP_SUCCESS) {
		unlock_page(page);
		return PAGE_KEEP;
	}
	if (PageDirty(page))
		swap_writepage(page);
	if (!__remove_mapping(page)) {
		unlock_page(page);
		return PAGE_KEEP;
	}
	/* the count is 0: nobody can look at it now (waiters hold references) */
	unlock_page(page);
	__free_page(page);
	return PAGE_FREED;
}

/*
 * shrink_zone - scan (the zone's LRU size >> @priority) pages, at least one batch, in
 * batches of SWAP_CLUSTER_MAX, until *@reclaimed reaches SWAP_CLUSTER_MAX.
 */
static void shrink_zone(struct zone *zone, int priority, unsigned long *reclaimed)
{
	KFUNC();
	struct vm_stats *st = &vm_globals()->stats;
	unsigned long scanned = 0, target = SWAP_CLUSTER_MAX;
	std::vector<struct page *> batch;
	while (scanned < target && *reclaimed < SWAP_CLUSTER_MAX) {
		unsigned long lru_size;
		batch.clear();
		const unsigned long looked = isolate_lru_pages(zone, SWAP_CLUSTER_MAX, &batch, &lru_size);
		target = std::max(target, lru_size >> priority);
		scanned += looked;
		st->pgscan += looked;
		if (!looked)
			break;
		for (struct page *page : batch) {
			if (shrink_page(page) == PAGE_FREED) {
				(*reclaimed)++;
				st->pgsteal++;
				continue;
			}
			putback_lru_page(page);
		}
	}
}

unsigned long try_to_free_pages(int nid)
{
	KFUNC();
	struct phys_mem *mem = machine_mem();
	vm_globals()->stats.direct_reclaims++;
	unsigned long reclaimed = 0;
	/* the kernel's priorities: a growing share of each list, until a batch is freed */
	for (int priority = DEF_PRIORITY; priority >= 0 && reclaimed < SWAP_CLUSTER_MAX; priority--) {
		for (int other : mem->nodes[static_cast<size_t>(nid)].zonelist) {
			shrink_zone(&mem->nodes[static_cast<size_t>(other)].node_zone, priority, &reclaimed);
			if (reclaimed >= SWAP_CLUSTER_MAX)
				break;
		}
		cond_resched();
	}
	return reclaimed;
}
