/*
 * mm/swapfile.cc - the swap device: slot allocation, swap counts, SWAP_HAS_CACHE, the
 * emulated device I/O and the end-of-run count check.
 */
#include "mm/swapfile.h"

#include <cerrno>
#include <map>
#include <string>

#include "kernel/oracle.h"
#include "kernel/topology.h"
#include "mm/mm.h"
#include "mm/swap_state.h"

/* Cost (assumed: a byte-map scan step and the bookkeeping of a count change). */
static constexpr smpemu::Cycles kSwapMapCycles = 30;

void swap_info_init(struct phys_mem *mem, struct swap_info_struct *si, unsigned long slots, unsigned read_us,
		    unsigned write_us)
{
	spin_lock_init_on(mem->m, &si->lock, "swap_lock");
	si->max = slots ? slots + 1 : 0; /* + the header */
	si->swap_map.assign(si->max, 0u);
	si->data.assign(si->max, 0UL);
	si->inuse_pages = 0;
	si->cluster_next = 1;
	si->read_us = read_us;
	si->write_us = write_us;
}

static struct swap_info_struct *swap_info(void)
{
	return &vm_globals()->swap_info;
}

static std::string entry_name(swp_entry_t entry)
{
	return "swap entry " + std::to_string(swp_type(entry)) + ":" + std::to_string(swp_offset(entry));
}

/* The slot's map entry, or a fatal report for an entry no device has. Locking: swap_lock. */
static unsigned *swap_map_of(struct swap_info_struct *si, swp_entry_t entry, const char *who)
{
	const unsigned long offset = swp_offset(entry);
	if (swp_type(entry) != 0 || offset == 0 || offset >= si->max) {
		spin_unlock(&si->lock);
		report_check("bad-swap", std::string(who) + ": bad swap file entry (" + entry_name(entry) + ")", true);
		return nullptr;
	}
	return &si->swap_map[offset];
}

/* Frees the slot when nothing refers to it. Locking: swap_lock. */
static void swap_entry_settle(struct swap_info_struct *si, unsigned long offset)
{
	if (si->swap_map[offset] == 0) {
		si->inuse_pages--;
		vm_globals()->stats.swap_slots_freed++;
	}
}

swp_entry_t get_swap_page(void)
{
	struct swap_info_struct *si = swap_info();
	swp_entry_t entry = {0};
	if (si->max <= 1)
		return entry;
	spin_lock(&si->lock);
	if (si->inuse_pages < si->max - 1) {
		/* next fit from cluster_next, as scan_swap_map does without clusters */
		unsigned long off = si->cluster_next;
		for (unsigned long n = 0; n < si->max; n++, off++) {
			if (off >= si->max)
				off = 1;
			cpu_work(kSwapMapCycles);
			if (si->swap_map[off] == 0) {
				si->swap_map[off] = SWAP_HAS_CACHE;
				si->inuse_pages++;
				si->cluster_next = off + 1;
				entry = swp_entry(0, off);
				break;
			}
		}
	}
	spin_unlock(&si->lock);
	return entry;
}

void swap_duplicate(swp_entry_t entry)
{
	struct swap_info_struct *si = swap_info();
	spin_lock(&si->lock);
	unsigned *map = swap_map_of(si, entry, "swap_duplicate");
	if ((*map & SWAP_COUNT_MASK) == 0 && !(*map & SWAP_HAS_CACHE)) {
		spin_unlock(&si->lock);
		report_check("bad-swap", "swap_duplicate: unused swap offset (" + entry_name(entry) + ")", true);
		return;
	}
	cpu_work(kSwapMapCycles);
	(*map)++;
	spin_unlock(&si->lock);
}

/* One swap pte naming @entry is gone: its count drops, the slot is freed at 0. Returns
 * the map entry left (count | SWAP_HAS_CACHE). */
static unsigned swap_count_dec(swp_entry_t entry, const char *who)
{
	struct swap_info_struct *si = swap_info();
	spin_lock(&si->lock);
	unsigned *map = swap_map_of(si, entry, who);
	if ((*map & SWAP_COUNT_MASK) == 0) {
		spin_unlock(&si->lock);
		report_check("bad-swap", std::string(who) + ": unused swap offset entry (" + entry_name(entry) + ")", true);
		return 0;
	}
	cpu_work(kSwapMapCycles);
	(*map)--;
	const unsigned left = *map;
	swap_entry_settle(si, swp_offset(entry));
	spin_unlock(&si->lock);
	return left;
}

void swap_free(swp_entry_t entry)
{
	swap_count_dec(entry, "swap_free");
}

int swapcache_prepare(swp_entry_t entry)
{
	struct swap_info_struct *si = swap_info();
	spin_lock(&si->lock);
	unsigned *map = swap_map_of(si, entry, "swapcache_prepare");
	int err = 0;
	if (*map & SWAP_HAS_CACHE)
		err = -EEXIST;
	else if ((*map & SWAP_COUNT_MASK) == 0)
		err = -ENOENT;
	else
		*map |= SWAP_HAS_CACHE;
	spin_unlock(&si->lock);
	return err;
}

void swapcache_free(swp_entry_t entry)
{
	struct swap_info_struct *si = swap_info();
	spin_lock(&si->lock);
	unsigned *map = swap_map_of(si, entry, "swapcache_free");
	if (!(*map & SWAP_HAS_CACHE)) {
		spin_unlock(&si->lock);
		report_check("bad-swap", "swapcache_free: " + entry_name(entry) + " has no cache page", true);
		return;
	}
	*map &= ~SWAP_HAS_CACHE;
	swap_entry_settle(si, swp_offset(entry));
	spin_unlock(&si->lock);
}

int page_swapcount(struct page *page)
{
	struct swap_info_struct *si = swap_info();
	const swp_entry_t entry = {page->private_};
	spin_lock(&si->lock);
	unsigned *map = swap_map_of(si, entry, "page_swapcount");
	const int count = static_cast<int>(*map & SWAP_COUNT_MASK);
	spin_unlock(&si->lock);
	return count;
}

bool vm_swap_full(void)
{
	/* the kernel's nr_swap_pages * 2 < total_swap_pages, read without the lock */
	const struct swap_info_struct *si = swap_info();
	return si->max > 1 && si->inuse_pages * 2 > si->max - 1;
}

bool reuse_swap_page(struct page *page)
{
	int count = page_mapcount(page);
	if (count <= 1 && PageSwapCache(page)) {
		count += page_swapcount(page);
		if (count == 1) {
			delete_from_swap_cache(page);
			SetPageDirty(page);
		}
	}
	return count <= 1;
}

bool try_to_free_swap(struct page *page)
{
	if (!PageSwapCache(page) || page_swapcount(page))
		return false;
	delete_from_swap_cache(page);
	SetPageDirty(page);
	return true;
}

void free_swap_and_cache(swp_entry_t entry)
{
	if (swap_count_dec(entry, "free_swap_and_cache") != SWAP_HAS_CACHE)
		return;
	/* the last swap pte is gone: its cache page is garbage unless someone holds it */
	struct page *page = lookup_swap_cache(entry);
	if (!page)
		return;
	if (trylock_page(page)) {
		if (PageSwapCache(page) && !page_mapped(page) && page->private_ == entry.val)
			try_to_free_swap(page);
		unlock_page(page);
	}
	put_page(page);
}

/* The device latency of @us microseconds, slept by the caller. */
static void swap_io_wait(unsigned us)
{
	const smpemu::Cycles cycles = static_cast<smpemu::Cycles>(static_cast<unsigned long long>(us) * cpu_clock_hz() / 1000000ULL);
	sleep_until(local_clock() + cycles);
}

void swap_readpage(struct page *page)
{
	KFUNC();
	struct swap_info_struct *si = swap_info();
	const swp_entry_t entry = {page->private_};
	swap_io_wait(si->read_us);
	frame_write(page, si->data[swp_offset(entry)], "swap_readpage");
	vm_globals()->stats.pswpin++;
	SetPageUptodate(page);
	unlock_page(page);
}

void swap_writepage(struct page *page)
{
	KFUNC();
	struct swap_info_struct *si = swap_info();
	const swp_entry_t entry = {page->private_};
	ClearPageDirty(page); /* clear_page_dirty_for_io: a store after this redirties it */
	const unsigned long val = frame_read(page, "swap_writepage");
	swap_io_wait(si->write_us);
	si->data[swp_offset(entry)] = val;
	vm_globals()->stats.pswpout++;
}

/* Host-side: counts @mm's swap ptes by offset (migration entries name pages, not slots). */
static void count_swap_ptes(const struct phys_mem *mem, const struct mm_struct *mm,
			    std::map<unsigned long, unsigned> *counts, unsigned long *found)
{
	for_each_pte_host(mem, mm, [&](unsigned long, pte_t v) {
		if (!is_swap_pte(v))
			return;
		const swp_entry_t e = pte_to_swp_entry(v);
		if (non_swap_entry(e))
			return;
		(*counts)[swp_offset(e)]++;
		(*found)++;
	});
}

std::string swap_check_entry(const struct phys_mem *mem, swp_entry_t entry)
{
	std::map<unsigned long, unsigned> counts;
	unsigned long found = 0;
	for (const struct mm_struct *mm : mem->live_mms)
		if (mm->pgd)
			count_swap_ptes(mem, mm, &counts, &found);
	const auto it = counts.find(swp_offset(entry));
	const unsigned ptes = it == counts.end() ? 0 : it->second;
	const unsigned map = mem->vm->swap_info.swap_map[swp_offset(entry)] & SWAP_COUNT_MASK;
	if (map == ptes)
		return "";
	return "has swap count " + std::to_string(map) + " while " + std::to_string(ptes) + " swap ptes name " +
	       entry_name(entry);
}

std::string swap_check_counts(const struct phys_mem *mem, unsigned long *swap_ptes)
{
	const struct vm_globals *vm = mem->vm;
	const struct swap_info_struct *si = &vm->swap_info;
	std::map<unsigned long, unsigned> counts;
	*swap_ptes = 0;
	for (const struct mm_struct *mm : mem->live_mms)
		if (mm->pgd)
			count_swap_ptes(mem, mm, &counts, swap_ptes);
	for (const auto &[off, n] : counts)
		if (off == 0 || off >= si->max)
			return std::to_string(n) + " swap ptes name offset " + std::to_string(off) +
			       ", which the swap device does not have";
	unsigned long inuse = 0;
	for (unsigned long off = 1; off < si->max; off++) {
		const unsigned map = si->swap_map[off];
		const auto it = counts.find(off);
		const unsigned ptes = it == counts.end() ? 0 : it->second;
		const bool cached = vm->swapper.tree.count(swp_entry(0, off).val) != 0;
		if (map)
			inuse++;
		if ((map & SWAP_COUNT_MASK) != ptes || ((map & SWAP_HAS_CACHE) != 0) != cached)
			return "swap count of " + entry_name(swp_entry(0, off)) + " is " +
			       std::to_string(map & SWAP_COUNT_MASK) + ((map & SWAP_HAS_CACHE) ? " with" : " without") +
			       " the cache flag, but " + std::to_string(ptes) + " swap ptes name it and the swap cache " +
			       (cached ? "holds" : "does not hold") + " a page for it";
	}
	if (inuse != si->inuse_pages)
		return std::to_string(si->inuse_pages) + " swap slots are counted in use, but " + std::to_string(inuse) +
		       " are";
	return "";
}
