/*
 * mm/swap.h - the LRU list of reclaimable pages: adding a page, taking it off when it is
 * freed, isolating pages for reclaim and putting them back.
 *
 * Models: mm/swap.c and the isolation half of mm/vmscan.c of 2.6.35, reduced to one list
 * per zone holding anonymous pages. File pages are not reclaimed by this emulator: the
 * page cache keeps them until truncate. There are no per-CPU pagevecs: each add takes
 * lru_lock, where the kernel batches 14 adds per CPU, so the lock is hotter here.
 * Aging is a CLOCK on one list: reclaim takes pages from the tail and sends a page whose
 * ptes were referenced since its last scan back to the head (the kernel's active and
 * inactive lists collapsed into one second chance).
 *
 * Invariants: PG_lru <=> the page is on its zone's lru_list; zone->nr_lru counts them.
 * The list holds no reference: the last put_page() takes the page off it
 * (__page_cache_release) before freeing the frame; an isolated page (off the list,
 * PG_lru clear) is pinned by the isolator's reference.
 *
 * Locking: zone->lru_lock (spinlock_t, class "lru_lock", innermost in the mm order with
 * swap_lock and tree_lock): page_add_new_anon_rmap takes it under the pte lock, and so
 * does the last put_page of a page try_to_unmap drops.
 * Context: task context; never sleeps.
 */
#pragma once

#include <vector>

#include "mm/page.h"

/* lru_cache_add_anon - put a new anonymous page (not yet on a list) at the head of its
 * zone's list. */
void lru_cache_add_anon(struct page *page);
/* __page_cache_release - the page's last reference is gone: off the LRU if it is on it. */
void __page_cache_release(struct page *page);
/*
 * isolate_lru_pages - take up to @nr pages from the tail of @zone's list, each with a
 * reference taken and PG_lru cleared, into @out (tail first); looks at most 2 * @nr
 * pages (one being freed meanwhile is skipped) and returns that number. *@lru_size:
 * the list's length when the lock was taken.
 */
unsigned long isolate_lru_pages(struct zone *zone, unsigned long nr, std::vector<struct page *> *out,
				unsigned long *lru_size);
/* isolate_lru_page - take @page off its LRU list with a reference (PG_lru cleared); 0,
 * or -EBUSY if it is not on the list (or is being freed). */
int isolate_lru_page(struct page *page);
/* putback_lru_page - an isolated page back at the head of its zone's list; drops the
 * isolation reference (which may free it). */
void putback_lru_page(struct page *page);
