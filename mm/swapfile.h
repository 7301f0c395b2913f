/*
 * mm/swapfile.h - the swap device: its slots, their swap counts, and its emulated I/O.
 *
 * Models: mm/swapfile.c and mm/page_io.c of 2.6.35 for one swap device (type 0), with
 * the SWAP_HAS_CACHE scheme of 2.6.32 on: a slot's map entry counts the swap ptes that
 * name it, plus a flag for the swap cache page that holds its contents. The count is a
 * 31-bit field: there are no swap count continuation pages (the kernel's 6-bit count
 * overflows into them past 62 references).
 *
 * The device is a vector of content words, one per slot, like a file's "disk"; reading
 * or writing a slot costs the device latency (knobs swap_read_us / swap_write_us,
 * defaults after Intel's X25-M SATA SSD of 2008: 85 us read and 115 us write latency,
 * from its product specification), slept by the task doing the I/O: I/O is synchronous
 * here. swap_readpage is called with the page locked and unlocks it when the read has
 * completed, as end_swap_bio_read does; swap_writepage keeps the page locked through the
 * write (the kernel unlocks it at submission and marks it PG_writeback until the write
 * completes; with no PG_writeback here, the page lock stands for both).
 *
 * Invariants:
 *  - Slot 0 is the header: never handed out (its pte would be pte_none).
 *  - A slot is free <=> its map entry is 0. inuse_pages counts the others.
 *  - map[offset] & SWAP_HAS_CACHE <=> the swap cache holds a page for the entry, or one
 *    is being added (swapcache_prepare won the slot for a reader).
 *  - The count (map & SWAP_COUNT_MASK) equals the number of swap ptes naming the slot in
 *    every live mm (checked at the end of a run by swap_check_counts).
 * Violations are fatal "bad-swap" reports (the kernel's "swap_free: Unused swap offset
 * entry" / "Bad swap file entry" messages).
 *
 * Locking: swap_lock (spinlock_t, class "swap_lock", innermost in the mm order with
 * lru_lock and tree_lock) protects map, inuse_pages and cluster_next. The device
 * contents are written by the task holding the slot's page lock.
 * Context: task context; swap_readpage / swap_writepage sleep, the rest do not.
 */
#pragma once

#include <string>
#include <vector>

#include "mm/page.h"
#include "mm/swapops.h"

#define SWAP_HAS_CACHE 0x80000000u
#define SWAP_COUNT_MASK 0x7fffffffu

struct swap_info_struct {
	spinlock_t lock;			/* swap_lock */
	std::vector<unsigned> swap_map;		/* by offset: count | SWAP_HAS_CACHE */
	std::vector<unsigned long> data;	/* the device: one content word per slot */
	unsigned long max;			/* slots, the header included */
	unsigned long inuse_pages;		/* slots in use; under lock */
	unsigned long cluster_next;		/* where the next allocation scan starts; under lock */
	unsigned read_us, write_us;		/* device latency (knobs) */
};

/* swap_info_init - a device of @slots usable slots (0: no swap) with the given latencies
 * (host side, from vm_init). */
void swap_info_init(struct phys_mem *mem, struct swap_info_struct *si, unsigned long slots, unsigned read_us,
		    unsigned write_us);

/* get_swap_page - a free slot with SWAP_HAS_CACHE set (for add_to_swap); val 0 if the
 * device is full or absent. */
swp_entry_t get_swap_page(void);
/* swap_duplicate - one more swap pte names @entry (fork, try_to_unmap). */
void swap_duplicate(swp_entry_t entry);
/* swap_free - a swap pte naming @entry is gone (do_swap_page mapped the page back). */
void swap_free(swp_entry_t entry);
/* swapcache_prepare - claim SWAP_HAS_CACHE for a reader about to add a page: 0, -EEXIST
 * (another task's page holds it or is being added) or -ENOENT (the slot is free: the
 * entry was freed meanwhile). */
int swapcache_prepare(swp_entry_t entry);
/* swapcache_free - the swap cache gave up @entry's page: clear SWAP_HAS_CACHE. */
void swapcache_free(swp_entry_t entry);
/* swap_check_entry - host side, oracle: "" if @entry's count equals the swap ptes of
 * live mms naming it, else what differs. */
std::string swap_check_entry(const struct phys_mem *mem, swp_entry_t entry);
/* page_swapcount - swap ptes naming the entry of swap cache page @page. */
int page_swapcount(struct page *page);
/* vm_swap_full - more than half of the device is in use. */
bool vm_swap_full(void);

/*
 * reuse_swap_page - may a write fault reuse anonymous @page in place? Only if one pte
 * or swap pte refers to it in all; if so and it is in the swap cache, it leaves the
 * cache (its slot would go stale) and becomes dirty. Locking: page locked.
 */
bool reuse_swap_page(struct page *page);
/* try_to_free_swap - drop @page from the swap cache if no swap pte names its entry
 * (it stays dirty: the slot is gone). Locking: page locked. Returns whether it did. */
bool try_to_free_swap(struct page *page);
/* free_swap_and_cache - a zapped swap pte: drop the count, and the cache page too if
 * nothing else holds it and its lock can be had without waiting. */
void free_swap_and_cache(swp_entry_t entry);

/* swap_readpage - read @page's slot into it and unlock it. Context: page locked by the
 * caller; sleeps for the read latency. */
void swap_readpage(struct page *page);
/* swap_writepage - write @page to its slot (clean afterwards). Context: page locked; sleeps
 * for the write latency. */
void swap_writepage(struct page *page);

/*
 * swap_check_counts - every slot's count equals the swap ptes naming it in @mem's live
 * mms, its cache flag the swap cache's entry, and inuse_pages the slots in use. Returns
 * the first disagreement as a sentence ("" if none) and in *@swap_ptes the swap ptes
 * found. Host side after a run that completed (no sync points; mid-run, or after a run
 * stopped mid-operation, counts may legitimately be in flux).
 */
std::string swap_check_counts(const struct phys_mem *mem, unsigned long *swap_ptes);
