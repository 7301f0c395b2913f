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
 * __GFP_THISNODE it never falls back. Out of memory returns NULL (no reclaim yet).
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

#include "mm/page.h"

typedef unsigned gfp_t;
#define __GFP_THISNODE 0x1u	/* no fallback to other nodes */
#define __GFP_ZERO 0x2u		/* frame content word zeroed */
#define GFP_KERNEL 0x0u
#define GFP_NOWAIT 0x0u		/* the allocator never sleeps anyway */

/* numa_node_id - the node of the CPU the caller runs on. */
int numa_node_id(void);
/* cpu_to_node - the node of @cpu in @mem. */
static inline int cpu_to_node(const struct phys_mem *mem, int cpu) { return mem->cpu_node[static_cast<size_t>(cpu)]; }
static inline int nr_node_ids(const struct phys_mem *mem) { return static_cast<int>(mem->nodes.size()); }

/* alloc_pages_node - one page (@order must be 0) from node @nid or, unless
 * __GFP_THISNODE, the nearest node with free memory; NULL if none. The page has
 * _count 1, _mapcount -1, no mapping, flags clear. */
struct page *alloc_pages_node(int nid, gfp_t gfp_mask, unsigned int order);
/* alloc_page - alloc_pages_node(numa_node_id(), ...). */
struct page *alloc_page(gfp_t gfp_mask);
/* __free_pages / __free_page - return a page whose count dropped to 0 (put_page() does
 * that); checks: not mapped, not locked, not reserved, not already free (bad-page). */
void __free_pages(struct page *page, unsigned int order);
static inline void __free_page(struct page *page) { __free_pages(page, 0); }
/* free_page_refs - drop the allocation reference: put_page(). */
static inline void free_page_ref(struct page *page) { put_page(page); }

/* Host-side statistics (no sync points, for checks after or between runs). */
unsigned long nr_free_pages_node(const struct phys_mem *mem, int nid);
unsigned long nr_free_pages(const struct phys_mem *mem);
