/*
 * mm/page_alloc.h - the page allocator: per-node free lists, NUMA placement.
 *
 * Models: the zoned allocator of mm/page_alloc.c reduced to order-0 pages, one zone
 * (ZONE_NORMAL) per node. A node is a die of the machine (kernel/topology.h): on the
 * profiles we model a die is an L3 with its memory controller, which is what the
 * kernel's SRAT describes as a node (Opteron: 8 nodes of 6 cores).
 *
 * Placement: alloc_page() takes from the node of the CPU it runs on, then falls back to
 * the other nodes in increasing distance (cache-line transfer cost from the node's
 * first CPU; ties by node id). alloc_pages_node(nid, ...) starts at @nid; with
 * __GFP_THISNODE it never falls back.
 *
 * Reclaim: an allocation that may sleep (__GFP_WAIT) leaves each zone's pages_min
 * frames to those that may not (the kernel's min watermark and ALLOC_HARDER); when no
 * zone can give it a frame it reclaims (try_to_free_pages, mm/vmscan.h) and tries again,
 * and gives up (NULL: the fault's VM_FAULT_OOM) after MAX_RECLAIM_RETRIES rounds that
 * freed nothing. pages_min is 0 unless the user limited the frame count (knob frames):
 * the workloads' own sizing has no room for a reserve, and with it reclaim starts only
 * where an allocation would have failed. Where set, it follows init_per_zone_wmark_min
 * of 2.6 mm/page_alloc.c: min_free_kbytes = sqrt(16 * memory in KiB), clamped to
 * [128, 65536], shared among the zones by size.
 *
 * Free lists are LIFO (a freed page is the next one handed out, as the kernel's hot
 * per-cpu lists do); initially in increasing pfn order. Everything is deterministic.
 *
 * Locking: zone->lock (spinlock_t, class "zone_lock", innermost in the mm lock order;
 * taken with IRQs off, as RCU callbacks free page-table pages from IRQ context)
 * protects the free list, nr_free, the zone statistics and the frame states of its
 * pages. Context: any task context; the allocator never sleeps.
 */
#pragma once

#include <vector>

#include "mm/mempolicy.h"
#include "mm/page.h"

typedef unsigned gfp_t;
#define __GFP_THISNODE 0x1u	/* no fallback to other nodes */
#define __GFP_ZERO 0x2u		/* frame content word zeroed */
#define __GFP_WAIT 0x4u		/* may sleep: direct reclaim when short of frames */
#define GFP_KERNEL __GFP_WAIT
#define GFP_HIGHUSER_MOVABLE __GFP_WAIT	/* user pages (one zone here: as GFP_KERNEL) */
#define GFP_NOWAIT 0x0u		/* never sleeps; may take frames below pages_min */

/* numa_node_id - the node of the CPU the caller runs on. */
int numa_node_id(void);
/* cpu_to_node - the node of @cpu in @mem. */
static inline int cpu_to_node(const struct phys_mem *mem, int cpu) { return mem->cpu_node[static_cast<size_t>(cpu)]; }
static inline int nr_node_ids(const struct phys_mem *mem) { return static_cast<int>(mem->nodes.size()); }

/* alloc_pages_node - one page (@order must be 0) from node @nid or, unless
 * __GFP_THISNODE, the nearest node with free memory; NULL if none. The page has
 * _count 1, _mapcount -1, no mapping, flags clear. */
struct page *alloc_pages_node(int nid, gfp_t gfp_mask, unsigned int order);
/* alloc_pages_nodemask - as alloc_pages_node, from the nodes of @allowed only (NULL:
 * any), nearest to @nid first (MPOL_BIND). */
struct page *alloc_pages_nodemask(int nid, gfp_t gfp_mask, unsigned int order, const nodemask_t *allowed);
/* alloc_page - alloc_pages_node(numa_node_id(), ...). */
struct page *alloc_page(gfp_t gfp_mask);
/* __free_pages / __free_page - return a page whose count dropped to 0 (put_page() does
 * that); checks: not mapped, not locked, not reserved, not already free (bad-page). */
void __free_pages(struct page *page, unsigned int order);
static inline void __free_page(struct page *page) { __free_pages(page, 0); }
/* free_page_refs - drop the allocation reference: put_page(). */
static inline void free_page_ref(struct page *page) { put_page(page); }

/* isolate_freepages_block - compaction's free scanner: take every free page of @z in
 * [@start_pfn, @end_pfn) off the free list, as allocated pages (count 1), into @out,
 * leaving pages_min free; returns how many. Locking: takes zone->lock. */
unsigned long isolate_freepages_block(struct zone *z, unsigned long start_pfn, unsigned long end_pfn,
				      std::vector<struct page *> *out);
/* setup_per_zone_pages_min - every zone's pages_min from the formula above (host side,
 * from vm_init when the frame count is the user's). */
void setup_per_zone_pages_min(struct phys_mem *mem);

/* Host-side statistics (no sync points, for checks after or between runs). */
unsigned long nr_free_pages_node(const struct phys_mem *mem, int nid);
unsigned long nr_free_pages(const struct phys_mem *mem);
