/*
 * mm/vmscan.h - page reclaim: direct reclaim by an allocation that found its node short
 * of free frames, shrinking a batch of LRU pages by swapping them out.
 *
 * Models: do_try_to_free_pages, shrink_page_list and __remove_mapping of mm/vmscan.c,
 * 2.6.35, for anonymous pages, called from the allocator by the task that needs memory;
 * there is no kswapd. A batch is SWAP_CLUSTER_MAX (32) pages isolated from the tail of
 * a zone's LRU list (mm/swap.h). For each page, with its lock tried (never waited for):
 *  1. page_referenced: a page whose ptes were accessed since its last scan goes back to
 *     the head of the list (second chance);
 *  2. add_to_swap if it has no slot yet (a full device keeps it);
 *  3. try_to_unmap(TTU_UNMAP): its ptes become swap ptes (a young pte keeps it);
 *  4. if dirty, swap_writepage (the device write, the page staying locked);
 *  5. __remove_mapping: under tree_lock, freeze the count from 2 (the isolation's
 *     reference and the swap cache's) to 0 -- failing if anyone else took one, e.g. a
 *     fault that found it in the swap cache -- take it out of the swap cache and free it.
 * Pages it cannot free go back to the LRU.
 *
 * Locking: page lock (trylock), then the rmap and pte locks inside try_to_unmap, then
 * tree_lock and swap_lock. Context: task context with no spinlock held: it sleeps (the
 * device, the anon_vma lock in the sleeping models).
 */
#pragma once

#include "mm/page.h"

#define SWAP_CLUSTER_MAX 32UL
#define DEF_PRIORITY 12

/*
 * try_to_free_pages - reclaim SWAP_CLUSTER_MAX pages if it can: at each priority from
 * DEF_PRIORITY down to 0, scan (LRU size >> priority) pages (at least a batch) of each
 * zone in node @nid's zonelist order, stopping once a batch is freed. A page seen
 * referenced at one priority is taken at a later one unless used again meanwhile.
 * Returns the number freed: 0 means nothing could be (the caller's OOM).
 */
unsigned long try_to_free_pages(int nid);
