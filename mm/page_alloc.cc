/*
 * mm/page_alloc.cc - order-0 page allocator over per-node zones.
 */
#include "mm/page_alloc.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "arch/mmu.h"
#include "kernel/oracle.h"
#include "mm/history.h"
#include "mm/mm.h"
#include "mm/vmscan.h"

/* Cost of preparing a page on allocation / free (struct page init, list ops), cycles
 * (assumed: a few dozen instructions on a hot struct page). */
static constexpr smpemu::Cycles kPagePrepCycles = 40;
/* Looking at one pfn in compaction's free scanner (assumed: a test of the buddy flag). */
static constexpr smpemu::Cycles kFreeScanCycles = 5;

int numa_node_id(void)
{
	return cpu_to_node(machine_mem(), smp_processor_id());
}

/*
 * zone->lock is taken with IRQs off when pages may be freed from IRQ context: the RCU
 * callbacks that free page tables for an MMU with rcu_table_free (the kernel always uses
 * spin_lock_irqsave here). Where nothing frees pages from IRQ context (x86, none) a plain
 * spin_lock is equivalent and keeps the schedules, and digests, recorded before.
 */
static bool zone_lock_irqsave(struct zone *z, struct phys_mem *mem)
{
	if (!mem->mmu->rcu_table_free) {
		spin_lock(&z->lock);
		return false;
	}
	unsigned long flags;
	spin_lock_irqsave(&z->lock, flags);
	return flags;
}

static void zone_unlock_irqrestore(struct zone *z, struct phys_mem *mem, bool flags)
{
	if (!mem->mmu->rcu_table_free)
		spin_unlock(&z->lock);
	else
		spin_unlock_irqrestore(&z->lock, flags);
}

/* Takes the first free page of @z if more than @reserve are free, or NULL.
 * Locking: takes zone->lock. */
static struct page *rmqueue(struct zone *z, bool remote, unsigned long reserve)
{
	struct phys_mem *mem = machine_mem();
	struct page *page = nullptr;
	const bool flags = zone_lock_irqsave(z, mem);
	if (!list_empty(&z->free_list) && z->nr_free > reserve) {
		page = list_first_entry(&z->free_list, struct page, lru);
		list_del_init(&page->lru);
		z->nr_free--;
		z->nr_alloc++;
		if (remote)
			z->nr_alloc_remote++;
		if (mem->state[page->pfn] != FRAME_FREE)
			report_check("bad-page", "allocator found pfn " + std::to_string(page->pfn) +
							 " on the free list but not free", true);
		mem->state[page->pfn] = FRAME_ALLOCATED;
	}
	zone_unlock_irqrestore(z, mem, flags);
	return page;
}

/* prep_new_page - a page just taken off a free list becomes an allocated page. */
static void prep_new_page(struct page *page, gfp_t gfp_mask)
{
	cpu_work(kPagePrepCycles);
	/* The page is ours alone: the stores publish its new identity. */
	page->mapping = nullptr;
	page->anon_vma.v = nullptr; /* plain: nobody looks at a free page's anon_vma */
	page->index = 0;
	page->private_ = 0;
	WRITE_ONCE(page->flags, 0UL);
	atomic_set(&page->_mapcount, -1);
	atomic_set(&page->_count, 1);
	if (gfp_mask & __GFP_ZERO)
		frame_write(page, 0, "__GFP_ZERO");
}

/* Rounds of direct reclaim that free nothing before an allocation fails (the kernel
 * loops while reclaim makes progress, then calls the OOM killer; here the fault fails). */
static constexpr int MAX_RECLAIM_RETRIES = 4;

/* get_page_from_freelist - a frame from @nid's zonelist, leaving pages_min in each zone
 * to allocations that may not sleep. */
static struct page *get_page_from_freelist(struct phys_mem *mem, int nid, gfp_t gfp_mask,
					   const nodemask_t *allowed)
{
	for (int other : mem->nodes[static_cast<size_t>(nid)].zonelist) {
		if (other != nid && (gfp_mask & __GFP_THISNODE))
			break;
		if (allowed && !allowed->test(static_cast<size_t>(other)))
			continue;
		struct zone *z = &mem->nodes[static_cast<size_t>(other)].node_zone;
		struct page *page = rmqueue(z, other != nid, (gfp_mask & __GFP_WAIT) ? z->pages_min : 0);
		if (page)
			return page;
	}
	return nullptr;
}

struct page *alloc_pages_node(int nid, gfp_t gfp_mask, unsigned int order)
{
	return alloc_pages_nodemask(nid, gfp_mask, order, nullptr);
}

struct page *alloc_pages_nodemask(int nid, gfp_t gfp_mask, unsigned int order, const nodemask_t *allowed)
{
	struct phys_mem *mem = machine_mem();
	BUG_ON(order != 0);
	BUG_ON(nid < 0 || nid >= nr_node_ids(mem));
	struct page *page = get_page_from_freelist(mem, nid, gfp_mask, allowed);
	/* (no vm layer, as in the allocator's own tests: nothing to reclaim) */
	const bool may_reclaim = (gfp_mask & __GFP_WAIT) && mem->vm;
	for (int fruitless = 0; !page && may_reclaim && fruitless < MAX_RECLAIM_RETRIES;) {
		might_sleep();
		if (!try_to_free_pages(nid))
			fruitless++;
		page = get_page_from_freelist(mem, nid, gfp_mask, allowed);
	}
	if (!page) {
		if (may_reclaim)
			mem->vm->stats.reclaim_oom++;
		return nullptr;
	}
	prep_new_page(page, gfp_mask);
	return page;
}

struct page *alloc_page(gfp_t gfp_mask)
{
	return alloc_pages_node(numa_node_id(), gfp_mask, 0);
}

void __free_pages(struct page *page, unsigned int order)
{
	struct phys_mem *mem = machine_mem();
	BUG_ON(order != 0);
	const std::string name = "pfn " + std::to_string(page->pfn);
	if (page_mapped(page))
		report_check("bad-page", "freeing " + name + " which is still mapped (mapcount " +
						 std::to_string(page_mapcount(page)) + ")", true);
	const unsigned long flags = READ_ONCE(page->flags);
	if (flags & BIT(PG_locked))
		report_check("bad-page", "freeing locked " + name, true);
	if (flags & BIT(PG_reserved))
		report_check("bad-page", "freeing reserved " + name, true);
	if (flags & BIT(PG_lru))
		report_check("bad-page", "freeing " + name + " which is still on the LRU", true);
	if (flags & BIT(PG_swapcache))
		report_check("bad-page", "freeing " + name + " which is still in the swap cache", true);
	cpu_work(kPagePrepCycles);
	struct zone *z = page->zone;
	const bool irqflags = zone_lock_irqsave(z, mem);
	if (mem->state[page->pfn] == FRAME_FREE) {
		zone_unlock_irqrestore(z, mem, irqflags);
		report_check("bad-page", "double free of " + name, true);
		return;
	}
	mem->state[page->pfn] = FRAME_FREE;
	note_frame_free(page->pfn);
	list_add(&page->lru, &z->free_list);
	z->nr_free++;
	zone_unlock_irqrestore(z, mem, irqflags);
}

unsigned long isolate_freepages_block(struct zone *z, unsigned long start_pfn, unsigned long end_pfn,
				      std::vector<struct page *> *out)
{
	struct phys_mem *mem = machine_mem();
	const size_t first = out->size();
	const bool flags = zone_lock_irqsave(z, mem);
	for (unsigned long pfn = start_pfn; pfn < end_pfn && z->nr_free > z->pages_min; pfn++) {
		cpu_work(kFreeScanCycles);
		if (mem->state[pfn] != FRAME_FREE)
			continue;
		struct page *page = pfn_to_page(mem, pfn);
		list_del_init(&page->lru);
		z->nr_free--;
		z->nr_alloc++;
		mem->state[pfn] = FRAME_ALLOCATED;
		out->push_back(page);
	}
	zone_unlock_irqrestore(z, mem, flags);
	for (size_t i = first; i < out->size(); i++)
		prep_new_page((*out)[i], 0);
	return out->size() - first;
}

void setup_per_zone_pages_min(struct phys_mem *mem)
{
	unsigned long total = 0;
	for (const pg_data_t &pgdat : mem->nodes)
		total += pgdat.node_zone.spanned_pages;
	/* min_free_kbytes = sqrt(16 * KiB), in [128, 65536] (2.6 init_per_zone_wmark_min) */
	const unsigned long kib = total * (PAGE_SIZE / 1024);
	unsigned long min_kib = static_cast<unsigned long>(std::sqrt(static_cast<double>(kib * 16)));
	min_kib = std::clamp(min_kib, 128UL, 65536UL);
	const unsigned long min_pages = min_kib / (PAGE_SIZE / 1024);
	for (pg_data_t &pgdat : mem->nodes) {
		struct zone *z = &pgdat.node_zone;
		z->pages_min = total ? min_pages * z->spanned_pages / total : 0;
	}
}

unsigned long nr_free_pages_node(const struct phys_mem *mem, int nid)
{
	return mem->nodes[static_cast<size_t>(nid)].node_zone.nr_free;
}

unsigned long nr_free_pages(const struct phys_mem *mem)
{
	unsigned long n = 0;
	for (const pg_data_t &pgdat : mem->nodes)
		n += pgdat.node_zone.nr_free;
	return n;
}
