/*
 * mm/page.h - physical frames: setup, references, mapcount, the page lock, frame data.
 *
 * Models: struct page life-cycle in mm/page_alloc.c, mm/swap.c (put_page), and the page
 * lock in mm/filemap.c, on the data of mm/mm_types.h.
 *
 * Rules (checked; each violation is a fatal bug report):
 *  - "bad-page": put_page() on a page whose count is already 0; freeing a page that is
 *    still mapped (_mapcount >= 0), locked, or already free; page_remove_rmap() below -1.
 *  - "use-after-free-frame": reading or writing the contents of a free frame.
 *
 * Lock order (docs/MM.md, "Locks (classes) and order"): i_mutex > mmap_sem > page_lock > i_mmap_lock >
 * anon_vma > page_table_lock / ptl > lru_lock / zone_lock. lock_page() is a sleeping
 * lock: taking it while holding any spinlock is sleep-in-atomic, and taking it while
 * holding page_table_lock, ptl or zone_lock is also reported as a lock-order warning
 * (lockdep only learns an order after seeing both sides; this states it up front).
 */
#pragma once

#include "mm/mm_types.h"

/* phys_mem_init - @pages_per_node frames on every NUMA node of @m (host side, before
 * Machine::run()). Frames are numbered node by node; all start free. Attaches @mem as
 * @m's memory for machine_mem() until phys_mem_exit(). */
void phys_mem_init(struct phys_mem *mem, smpemu::Machine *m, unsigned long pages_per_node);
void phys_mem_exit(struct phys_mem *mem);

/* machine_mem - the phys_mem of the Machine running on this host thread. */
struct phys_mem *machine_mem(void);

static inline unsigned long page_to_pfn(const struct page *page) { return page->pfn; }
static inline struct page *pfn_to_page(struct phys_mem *mem, unsigned long pfn) { return &mem->pages[pfn]; }
static inline int page_to_nid(const struct page *page) { return page->nid; }
static inline bool pfn_valid(const struct phys_mem *mem, unsigned long pfn) { return pfn < mem->pages.size(); }
static inline enum frame_state frame_state_of(const struct phys_mem *mem, unsigned long pfn)
{
	return static_cast<enum frame_state>(mem->state[pfn]);
}

/*
 * NUMA cost of streaming over a whole frame (clearing it, copying it, a user memset):
 * @cycles is what it costs on the CPU's own node; a frame on another node costs
 * (memory + extra) / memory times that, where extra is node_access_extra(), the
 * inter-node part of a line transfer to that node. With @other (a copy), the average of
 * the two frames' extras. On one node, or for local frames, exactly @cycles.
 * Context: task context (charges the calling CPU).
 */
void page_stream(smpemu::Cycles cycles, struct page *page, struct page *other = nullptr);
/* node_access_extra - cycles a memory line of node @nid costs CPU @cpu beyond a local one. */
unsigned long node_access_extra(const struct phys_mem *mem, int cpu, int nid);

/* Page flag helpers (atomic bit operations, sync points on the page's line). */
static inline bool PageLocked(struct page *p) { return test_bit(PG_locked, &p->flags); }
static inline bool PageUptodate(struct page *p) { return test_bit(PG_uptodate, &p->flags); }
static inline void SetPageUptodate(struct page *p) { set_bit(PG_uptodate, &p->flags); }
static inline bool PageDirty(struct page *p) { return test_bit(PG_dirty, &p->flags); }
static inline void SetPageDirty(struct page *p) { set_bit(PG_dirty, &p->flags); }
static inline void ClearPageDirty(struct page *p) { clear_bit(PG_dirty, &p->flags); }
static inline bool TestClearPageDirty(struct page *p) { return test_and_clear_bit(PG_dirty, &p->flags); }
/* PageAnon - a plain read: the flag is set before the page is first mapped and stays
 * until it is freed (the kernel tests page->mapping's low bit the same way). */
static inline bool PageAnon(struct page *p) { return (p->flags.v >> PG_anon) & 1UL; }
static inline void SetPageAnon(struct page *p) { set_bit(PG_anon, &p->flags); }
static inline bool PageSwapCache(struct page *p) { return test_bit(PG_swapcache, &p->flags); }
static inline void SetPageSwapCache(struct page *p) { set_bit(PG_swapcache, &p->flags); }
static inline void ClearPageSwapCache(struct page *p) { clear_bit(PG_swapcache, &p->flags); }
static inline bool PageLRU(struct page *p) { return test_bit(PG_lru, &p->flags); }
static inline bool PageReserved(struct page *p) { return test_bit(PG_reserved, &p->flags); }
static inline void SetPageReserved(struct page *p) { set_bit(PG_reserved, &p->flags); }

/* References. Context: any. get_page() on a free page is a bad-page report. */
void get_page(struct page *page);
/* get_page_unless_zero - take a reference unless the page is (being) freed. */
bool get_page_unless_zero(struct page *page);
/* put_page - drop a reference; the last one frees the frame (__free_page). */
void put_page(struct page *page);
static inline int page_count(struct page *page) { return atomic_read(&page->_count); }

/* Mapcount. Locking: the caller holds the pte lock of the pte it installs/clears. */
static inline int page_mapcount(struct page *page) { return atomic_read(&page->_mapcount) + 1; }
static inline bool page_mapped(struct page *page) { return atomic_read(&page->_mapcount) >= 0; }
/* page_add_rmap - one more pte maps @page (the caller holds a reference for it). */
void page_add_rmap(struct page *page);
/* page_remove_rmap - a pte mapping @page was cleared. */
void page_remove_rmap(struct page *page);

/*
 * The page lock: PG_locked plus the page's wait queue; waiters queue exclusively in
 * arrival order and unlock_page() wakes the first, which then tries again, so a newcomer
 * can take the lock between the unlock and the wake-up ("FIFO-ish", as in the kernel).
 *
 * Context: lock_page() in task context, may sleep; trylock_page()/unlock_page() any.
 * Lockdep class "page_lock" (instance "page_lock#PFN").
 */
void lock_page(struct page *page, caller_ip_t ip = _RET_IP_);
bool trylock_page(struct page *page, caller_ip_t ip = _RET_IP_);
void unlock_page(struct page *page, caller_ip_t ip = _RET_IP_);
/* page_check_unlocked - host side, end of a completed run: "" if no page is locked, else
 * which (oracle "page-left-locked": every lock_page has its unlock_page). */
std::string page_check_unlocked(const struct phys_mem *mem);
/* wait_on_page_locked - sleep until the page is unlocked (without taking the lock). */
void wait_on_page_locked(struct page *page);

/*
 * Frame contents: one emulated word per frame, a sync point on the frame's line.
 * Touching a free frame is a fatal use-after-free-frame report. @what names the access.
 */
unsigned long frame_read(struct page *page, const char *what);
void frame_write(struct page *page, unsigned long val, const char *what);
