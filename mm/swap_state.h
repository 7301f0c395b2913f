/*
 * mm/swap_state.h - the swap cache (swap entry <-> page), swap-out's add_to_swap, and
 * swap-in: read_swap_cache_async and the fault on a swap pte, do_swap_page.
 *
 * Models: mm/swap_state.c and do_swap_page of mm/memory.c, 2.6.35 with 2.6.36's retry
 * (a reader meeting SWAP_HAS_CACHE without a cache page sleeps a jiffy and looks again).
 * The swap cache is the kernel's swapper_space: a tree keyed by the entry value.
 * A page in it has PG_swapcache, page->private_ = its entry, and one reference held by
 * the cache. An anonymous page goes in when reclaim picks it (add_to_swap), so that
 * try_to_unmap can turn its ptes into swap ptes naming the slot; it leaves when reclaim
 * frees it (mm/vmscan.h), when nothing names the slot any more (try_to_free_swap,
 * free_swap_and_cache), or when a write fault makes it exclusive (reuse_swap_page).
 * A fault on a swap pte finds the page in the cache, or reads it from the device into a
 * new page that it adds to the cache first, so racing faulters share one page.
 *
 * Invariants: a page is in the tree <=> PG_swapcache; its entry's SWAP_HAS_CACHE is
 * set meanwhile. A swap cache page is anonymous once it has been mapped.
 *
 * Locking: the tree and nrpages: tree_lock (rwlock_t, class "tree_lock"); lookups read,
 * insertion and removal write. Adding and removing a page: the page lock.
 * Context: task context.
 */
#pragma once

#include <map>

#include "mm/swapfile.h"

struct swap_cache {
	rwlock_t tree_lock;
	std::map<unsigned long, struct page *> tree;	/* by entry value */
	unsigned long nrpages;
};

struct vm_area_struct;

/* swap_cache_init - host side, from vm_init. */
void swap_cache_init(struct phys_mem *mem, struct swap_cache *sc);

/* add_to_swap_cache - @page (locked, not in the cache) holds @entry's contents from
 * now on; the cache takes a reference. The caller holds SWAP_HAS_CACHE on @entry. */
void add_to_swap_cache(struct page *page, swp_entry_t entry);
/* __delete_from_swap_cache - out of the tree. Locking: page locked, tree_lock written. */
void __delete_from_swap_cache(struct page *page);
/* delete_from_swap_cache - out of the cache: SWAP_HAS_CACHE cleared, the cache's
 * reference dropped. Locking: page locked. */
void delete_from_swap_cache(struct page *page);
/* add_to_swap - give locked anonymous @page a slot and put it in the swap cache, dirty
 * (it has never been written there). false if the device is full. */
bool add_to_swap(struct page *page);
/* lookup_swap_cache - @entry's cache page with a reference, or NULL. */
struct page *lookup_swap_cache(swp_entry_t entry);
/*
 * read_swap_cache_async - @entry's cache page with a reference: found, or a new page
 * added to the cache and the LRU, locked while the device reads it (the caller waits
 * with lock_page). NULL if the entry was freed meanwhile or there is no memory.
 * Context: may sleep (the allocator's reclaim, the retry).
 */
struct page *read_swap_cache_async(swp_entry_t entry);
/* free_swap_cache - a page leaving an unmap (the gather's free path): drop it from the
 * swap cache if nothing maps it or names its slot and it is not locked. */
void free_swap_cache(struct page *page);

/*
 * do_swap_page - a fault on swap pte @orig of @vma at @address (pmd @pmd): map the page
 * back, from the swap cache or read from the device. A store maps it writable if
 * reuse_swap_page allows, else goes on to do_wp_page. Returns VM_FAULT_MINOR,
 * VM_FAULT_MAJOR (it read the device) or VM_FAULT_OOM. Locking: mmap_sem for reading.
 */
int do_swap_page(struct mm_struct *mm, struct vm_area_struct *vma, unsigned long address, bool write,
		 pgtable_slot_t *pmd, pte_t orig);
