/*
 * mm/compaction.h - memory compaction: move the movable pages at the bottom of a zone
 * into its free pages at the top, the driver that keeps page migration busy.
 *
 * Models: mm/compaction.c of 2.6.35 (Mel Gorman), as /proc/sys/vm/compact_memory runs
 * it: every zone in turn, each pass until its two scanners meet.
 *  - The migrate scanner walks pfns up from the bottom of the zone and isolates LRU
 *    pages, COMPACT_CLUSTER_MAX (32) at a time, under zone->lru_lock, which it drops
 *    every SWAP_CLUSTER_MAX pfns (cond_resched in between). Before each batch it waits
 *    while compaction has more of the zone's pages isolated than half its LRU
 *    (too_many_isolated, which in the kernel also counts reclaim's isolations; the
 *    kernel's congestion_wait(HZ/10) is a sleep of HZ/10 jiffies here).
 *  - The free scanner walks down from the top in blocks of 32 pfns and takes every free
 *    page of a block under zone->lock (leaving the zone's pages_min), until it has as
 *    many as the migrate scanner isolated.
 *  - migrate_pages (mm/migrate.h) moves the batch, drawing targets from the free list;
 *    what did not move goes back to the LRU. When the migrate scanner reaches the free
 *    scanner the pass is done and the unused free pages are given back.
 * The kernel scans in pageblocks of 512 pages and checks each block's migrate type; one
 * zone of a few thousand frames here has no such structure, so both scanners work on
 * 32-page blocks and every LRU page is movable (anonymous: mm/swap.h).
 *
 * Locking: zone->lru_lock for isolation, zone->lock for free pages, then migration's own
 * (page lock > anon_vma > ptl). Context: task context, may sleep.
 */
#pragma once

#include <vector>

#include "mm/mm.h"

#define COMPACT_CLUSTER_MAX 32UL

/* One zone's compaction in progress (the kernel's struct compact_control). */
struct compact_control {
	struct zone *zone;
	std::vector<struct page *> freepages;	/* isolated free pages, targets */
	std::vector<struct page *> migratepages;	/* isolated LRU pages to move */
	unsigned long migrate_pfn;	/* the migrate scanner's next pfn (going up) */
	unsigned long free_pfn;		/* the free scanner's bound: it scans below (going down) */
};

/* compact_zone - one pass over @zone; returns the number of pages migrated. */
unsigned long compact_zone(struct zone *zone);

/* compact_nodes - /proc/sys/vm/compact_memory: a pass over every node's zone. */
unsigned long compact_nodes(void);
