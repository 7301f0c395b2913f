/*
 * mm/compaction.cc - compact_zone, its two scanners, and compact_nodes.
 */
#include "mm/compaction.h"

#include <algorithm>

#include "mm/migrate.h"
#include "mm/page_alloc.h"
#include "mm/swap.h"
#include "mm/vmscan.h"

/* Looking at one pfn in the migrate scanner besides its sync points (assumed: a flag
 * test and a list step). */
static constexpr smpemu::Cycles kMigrateScanCycles = 10;
/* The free scanner's block, in pfns. */
static constexpr unsigned long kFreeBlock = 32;

/* too_many_isolated - more pages off the LRU for compaction than half what is on it. */
static bool too_many_isolated(struct zone *zone)
{
	spin_lock(&zone->lru_lock);
	const bool many = zone->nr_isolated > zone->nr_lru / 2;
	spin_unlock(&zone->lru_lock);
	return many;
}

/* isolate_migratepages - the migrate scanner: up to COMPACT_CLUSTER_MAX LRU pages of
 * [migrate_pfn, free_pfn) into cc->migratepages. Returns the number isolated. */
static unsigned long isolate_migratepages(struct compact_control *cc)
{
	struct zone *zone = cc->zone;
	struct phys_mem *mem = machine_mem();
	struct vm_globals *vm = vm_globals();
	while (too_many_isolated(zone)) {
		vm->stats.compact_throttled++;
		/* congestion_wait(BLK_RW_ASYNC, HZ/10) */
		schedule_timeout_uninterruptible(std::max<unsigned long>(1, HZ / 10));
	}
	unsigned long pfn = cc->migrate_pfn, isolated = 0;
	const unsigned long start = pfn;
	spin_lock_irq(&zone->lru_lock);
	for (; pfn < cc->free_pfn && isolated < COMPACT_CLUSTER_MAX; pfn++) {
		if (pfn != start && (pfn - start) % SWAP_CLUSTER_MAX == 0) {
			/* give the lock and the CPU a break */
			spin_unlock_irq(&zone->lru_lock);
			cond_resched();
			spin_lock_irq(&zone->lru_lock);
		}
		cpu_work(kMigrateScanCycles);
		struct page *page = pfn_to_page(mem, pfn);
		if (!PageLRU(page))
			continue;
		/* __isolate_lru_page: a page being freed is skipped */
		if (!get_page_unless_zero(page))
			continue;
		clear_bit(PG_lru, &page->flags);
		list_del_init(&page->lru);
		zone->nr_lru--;
		zone->nr_isolated++;
		cc->migratepages.push_back(page);
		isolated++;
	}
	spin_unlock_irq(&zone->lru_lock);
	cc->migrate_pfn = pfn;
	vm->stats.compact_isolated += isolated;
	return isolated;
}

/* isolate_freepages - the free scanner: blocks below free_pfn, down to the migrate
 * scanner, until there are as many free pages as pages to move. */
static void isolate_freepages(struct compact_control *cc)
{
	while (cc->freepages.size() < cc->migratepages.size() && cc->free_pfn > cc->migrate_pfn) {
		const unsigned long low = cc->free_pfn > cc->migrate_pfn + kFreeBlock ? cc->free_pfn - kFreeBlock
										     : cc->migrate_pfn;
		vm_globals()->stats.compact_free_isolated += isolate_freepages_block(cc->zone, low, cc->free_pfn,
										    &cc->freepages);
		cc->free_pfn = low;
		if (cc->zone->nr_free <= cc->zone->pages_min)
			break; /* nothing more to take without eating the reserve */
	}
}

/* compaction_alloc - migrate_pages' allocator: a page from the free scanner. */
static struct page *compaction_alloc(struct page *, void *priv)
{
	struct compact_control *cc = static_cast<struct compact_control *>(priv);
	if (cc->freepages.empty())
		isolate_freepages(cc);
	if (cc->freepages.empty())
		return nullptr;
	struct page *page = cc->freepages.back();
	cc->freepages.pop_back();
	return page;
}

/* The isolated pages are all back (moved, freed or on the LRU): not isolated now. */
static void end_isolation(struct zone *zone, unsigned long nr)
{
	spin_lock_irq(&zone->lru_lock);
	zone->nr_isolated -= nr;
	spin_unlock_irq(&zone->lru_lock);
}

unsigned long compact_zone(struct zone *zone)
{
	KFUNC();
	struct vm_globals *vm = vm_globals();
	struct compact_control cc;
	cc.zone = zone;
	cc.migrate_pfn = zone->start_pfn;
	cc.free_pfn = zone->start_pfn + zone->spanned_pages;
	const unsigned long moved_before = vm->stats.pgmigrate_success;
	while (cc.migrate_pfn < cc.free_pfn) {
		const unsigned long nr = isolate_migratepages(&cc);
		if (!nr)
			continue;
		if (migrate_pages(&cc.migratepages, compaction_alloc, &cc))
			putback_lru_pages(&cc.migratepages);
		end_isolation(zone, nr);
	}
	/* release_freepages */
	for (struct page *page : cc.freepages)
		put_page(page);
	vm->stats.compact_passes++;
	return vm->stats.pgmigrate_success - moved_before;
}

unsigned long compact_nodes(void)
{
	struct phys_mem *mem = machine_mem();
	unsigned long moved = 0;
	for (pg_data_t &pgdat : mem->nodes)
		moved += compact_zone(&pgdat.node_zone);
	return moved;
}
