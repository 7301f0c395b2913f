/*
 * mm/swap_state.cc - the swap cache, add_to_swap, swap-in (read_swap_cache_async,
 * do_swap_page) and the swap cache side of freeing an unmapped page.
 */
#include "mm/swap_state.h"

#include <cerrno>

#include "kernel/oracle.h"
#include "kernel/topology.h"
#include "mm/memory.h"
#include "mm/migrate.h"
#include "mm/swap.h"

/* Cost (assumed: a radix tree insert or delete besides the tree_lock sync points). */
static constexpr smpemu::Cycles kSwapTreeCycles = 60;

void swap_cache_init(struct phys_mem *mem, struct swap_cache *sc)
{
	rwlock_init_on(mem->m, &sc->tree_lock, "tree_lock");
	sc->tree.clear();
	sc->nrpages = 0;
}

static struct swap_cache *swapper(void)
{
	return &vm_globals()->swapper;
}

void add_to_swap_cache(struct page *page, swp_entry_t entry)
{
	struct swap_cache *sc = swapper();
	BUG_ON(!PageLocked(page) || PageSwapCache(page));
	get_page(page);
	SetPageSwapCache(page);
	page->private_ = entry.val;
	write_lock(&sc->tree_lock);
	cpu_work(kSwapTreeCycles);
	const bool fresh = sc->tree.emplace(entry.val, page).second;
	sc->nrpages++;
	write_unlock(&sc->tree_lock);
	if (!fresh)
		report_check("bad-swap", "add_to_swap_cache: swap entry offset " + std::to_string(swp_offset(entry)) +
						 " already has a cache page", true);
}

void __delete_from_swap_cache(struct page *page)
{
	struct swap_cache *sc = swapper();
	cpu_work(kSwapTreeCycles);
	sc->tree.erase(page->private_);
	sc->nrpages--;
	page->private_ = 0;
	ClearPageSwapCache(page);
}

void delete_from_swap_cache(struct page *page)
{
	struct swap_cache *sc = swapper();
	const swp_entry_t entry = {page->private_};
	write_lock(&sc->tree_lock);
	__delete_from_swap_cache(page);
	write_unlock(&sc->tree_lock);
	swapcache_free(entry);
	put_page(page);
}

bool add_to_swap(struct page *page)
{
	KFUNC();
	BUG_ON(!PageLocked(page) || !PageAnon(page));
	const swp_entry_t entry = get_swap_page();
	if (!entry.val)
		return false;
	add_to_swap_cache(page, entry);
	SetPageDirty(page); /* its slot holds nothing yet */
	return true;
}

struct page *lookup_swap_cache(swp_entry_t entry)
{
	struct swap_cache *sc = swapper();
	read_lock(&sc->tree_lock);
	auto it = sc->tree.find(entry.val);
	struct page *page = it == sc->tree.end() ? nullptr : it->second;
	/* removal takes tree_lock for writing after freezing the count: not under us */
	if (page)
		get_page(page);
	read_unlock(&sc->tree_lock);
	return page;
}

struct page *read_swap_cache_async(swp_entry_t entry)
{
	KFUNC();
	struct page *fresh = nullptr;
	for (;;) {
		struct page *found = lookup_swap_cache(entry);
		if (found) {
			if (fresh)
				put_page(fresh);
			return found;
		}
		if (!fresh) {
			fresh = alloc_page(GFP_HIGHUSER_MOVABLE); /* may reclaim: look again after */
			if (!fresh)
				return nullptr;
			continue;
		}
		const int err = swapcache_prepare(entry);
		if (err == -EEXIST) {
			/* another task is adding its page, or reclaim is removing one */
			vm_globals()->stats.swapin_races++;
			schedule_timeout_uninterruptible(1); /* 2.6.36: one timer tick */
			continue;
		}
		if (err) {
			put_page(fresh); /* -ENOENT: the entry was freed meanwhile */
			return nullptr;
		}
		const bool locked = trylock_page(fresh); /* ours alone: cannot fail */
		BUG_ON(!locked);
		add_to_swap_cache(fresh, entry);
		lru_cache_add_anon(fresh);
		swap_readpage(fresh); /* unlocks it when the read completes */
		return fresh;
	}
}

void free_swap_cache(struct page *page)
{
	if (PageSwapCache(page) && !page_mapped(page) && trylock_page(page)) {
		try_to_free_swap(page);
		unlock_page(page);
	}
}

int do_swap_page(struct mm_struct *mm, struct vm_area_struct *vma, unsigned long address, bool write,
		 pgtable_slot_t *pmd, pte_t orig)
{
	KFUNC();
	struct vm_globals *vm = vm_globals();
	const swp_entry_t entry = pte_to_swp_entry(orig);
	if (is_migration_entry(entry)) {
		/* the page is being migrated: wait for it, then fault again */
		migration_entry_wait(mm, pmd, address);
		return VM_FAULT_MINOR;
	}
	int ret = VM_FAULT_MINOR;
	spinlock_t *ptl;
	pgtable_slot_t *pte;
	struct page *page = lookup_swap_cache(entry);
	if (!page) {
		page = read_swap_cache_async(entry);
		if (!page) {
			/* the entry was freed (another fault mapped it, or a zap), or no memory */
			pte = pte_offset_map_lock(mm, pmd, address, &ptl);
			const bool same = pte && ptep_get(pte).pte == orig.pte;
			if (pte)
				pte_unmap_unlock(pte, ptl);
			return same ? VM_FAULT_OOM : VM_FAULT_MINOR;
		}
		ret = VM_FAULT_MAJOR;
		vm->stats.swapin_faults++;
	}
	lock_page(page); /* waits for the read */
	if (!PageSwapCache(page) || page->private_ != entry.val) {
		/* reclaim or another fault took it out of the cache meanwhile: retry */
		unlock_page(page);
		put_page(page);
		return VM_FAULT_MINOR;
	}
	if (!PageUptodate(page))
		report_check("bad-swap", "do_swap_page: swap cache page pfn " + std::to_string(page->pfn) + " is not up to date",
			     true);
	/* migrate-on-fault (lazy migration, mm/mempolicy.h): first touch after mbind */
	const int nid = check_migrate_misplaced_page(page, vma, address, write);
	if (nid >= 0)
		page = migrate_misplaced_page(page, nid);
	pte = pte_offset_map_lock(mm, pmd, address, &ptl);
	if (!pte || ptep_get(pte).pte != orig.pte) {
		/* another thread mapped it back, or the range was zapped */
		if (pte)
			pte_unmap_unlock(pte, ptl);
		unlock_page(page);
		put_page(page);
		return VM_FAULT_MINOR;
	}
	/* the lookup's reference is the pte's from now on */
	pte_t newpte = mk_pte(page, vma->vm_page_prot);
	if (write && reuse_swap_page(page)) {
		newpte = pte_mkdirty(pte_mkwrite(newpte));
		write = false;
	}
	page_add_anon_rmap(page, vma, address);
	set_pte_at(mm, address, pte, newpte);
	note_pte_origin(mm, address, page, nullptr);
	swap_free(entry);
	if (vm_swap_full())
		try_to_free_swap(page);
	unlock_page(page);
	if (write)
		return do_wp_page(mm, vma, address, pte, ptl, newpte) == VM_FAULT_OOM ? VM_FAULT_OOM : ret;
	update_mmu_cache(vma, address, pte);
	pte_unmap_unlock(pte, ptl);
	return ret;
}
