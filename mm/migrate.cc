/*
 * mm/migrate.cc - migrate_pages, unmap_and_move, move_to_new_page, remove_migration_ptes,
 * migration_entry_wait, and the migration-entry oracle.
 */
#include "mm/migrate.h"

#include <cerrno>

#include "kernel/oracle.h"
#include "mm/exec.h"
#include "mm/anon_shadow.h"
#include "mm/page_alloc.h"
#include "mm/rmap_walk.h"
#include "mm/swap.h"

/* migrate_pages' passes; from the fourth on it sleeps for the page lock (2.6.35). */
static constexpr int kMigratePasses = 10;
static constexpr int kForcePass = 3;
/* Copying the 4 KiB frame (migrate_page_copy: copy_highpage; assumed as a COW copy,
 * docs/COSTS.md) and the struct page bookkeeping of a move. */
static constexpr smpemu::Cycles kMigrateCopyCycles = 600;
static constexpr smpemu::Cycles kMigratePrepCycles = 60;

/* ---- the oracle's count of entries ------------------------------------------ */

void migration_entry_made(unsigned long pfn)
{
	vm_globals()->migration_ptes[pfn]++;
	vm_globals()->stats.migration_ptes_set++;
}

void migration_entry_dropped(unsigned long pfn)
{
	auto &map = vm_globals()->migration_ptes;
	const auto it = map.find(pfn);
	if (it == map.end() || it->second == 0) {
		report_check("bad-swap", "a migration entry for pfn " + std::to_string(pfn) +
						 " was dropped, but none was counted", true);
		return;
	}
	if (--it->second == 0)
		map.erase(it);
}

/* vma_on_chains - host side: the vma of @mm that @page's anon_vma lists and that is out
 * of the mm's tree (vma_adjust takes it out while it changes its fields), or NULL. */
static struct vm_area_struct *vma_on_chains(struct page *page, const struct mm_struct *mm)
{
	struct anon_vma *av = page->anon_vma.v;
	if (!av)
		return nullptr;
	for (struct list_head *l = av->head.next; l != &av->head; l = l->next) {
		struct vm_area_struct *vma = list_entry(l, struct anon_vma_chain, same_anon_vma)->vma;
		if (vma->vm_mm != mm)
			continue;
		const auto it = mm->mm_rb.find(vma->vm_end);
		if (it == mm->mm_rb.end() || it->second != vma)
			return vma;
	}
	return nullptr;
}

/* where_entries - host side, for a report: every pte holding an entry for @pfn, with
 * its vma. */
static std::string where_entries(unsigned long pfn)
{
	struct phys_mem *mem = machine_mem();
	struct page *page = pfn_to_page(mem, pfn);
	std::string out;
	for (struct mm_struct *mm : mem->live_mms) {
		if (!mm->pgd)
			continue;
		for_each_pte_host(mem, mm, [&](unsigned long addr, pte_t pte) {
			if (!is_migration_pte(pte) || migration_entry_to_pfn(pte_to_swp_entry(pte)) != pfn)
				return;
			if (!out.empty())
				out += "; ";
			out += "mm " + std::to_string(mm->id) + " at " + report_hex(addr);
			const auto v = mm->mm_rb.upper_bound(addr);
			struct vm_area_struct *vma = nullptr;
			if (v != mm->mm_rb.end() && v->second->vm_start <= addr) {
				vma = v->second;
				out += ", vma";
			} else {
				vma = vma_on_chains(page, mm);
				if (!vma) {
					out += ", in no vma";
					return;
				}
				out += ", in no vma of the tree; the anon_vma lists one out of it (in the middle of "
				       "vma_adjust):";
			}
			out += " [" + report_hex(vma->vm_start) + ", " + report_hex(vma->vm_end) + ") pgoff " +
			       std::to_string(vma->vm_pgoff) +
			       (is_vma_temporary_stack(vma) ? ", exec's temporary stack" : "");
			/* where an rmap walk looks for this page in that vma, from its fields now */
			const unsigned long looks = vma_address(page, vma);
			if (looks != addr)
				out += looks == static_cast<unsigned long>(-EFAULT)
					       ? ", whose fields put the page outside it"
					       : ", whose fields make rmap look at " + report_hex(looks);
		});
	}
	return out.empty() ? "in no page table of a live mm" : out;
}

void migration_check_unlock(struct page *page)
{
	const auto &map = vm_globals()->migration_ptes;
	if (map.empty())
		return;
	const auto it = map.find(page->pfn);
	if (it == map.end())
		return;
	report_check("migration-entry-left",
		     "unlock_page of pfn " + std::to_string(page->pfn) + " while " + std::to_string(it->second) +
			     " migration entr" + (it->second == 1 ? "y" : "ies") + " still name it (" +
			     where_entries(page->pfn) +
			     "): remove_migration_ptes missed it, and the next fault there will hit the BUG in "
			     "migration_entry_to_page",
		     true);
}

std::string migration_check_entries(const struct phys_mem *mem)
{
	unsigned long found = 0;
	std::map<unsigned long, unsigned> seen;
	for (const struct mm_struct *mm : mem->live_mms)
		if (mm->pgd)
			for_each_pte_host(mem, mm, [&](unsigned long, pte_t pte) {
				if (is_migration_pte(pte)) {
					seen[migration_entry_to_pfn(pte_to_swp_entry(pte))]++;
					found++;
				}
			});
	std::map<unsigned long, unsigned> counted(mem->vm->migration_ptes.begin(), mem->vm->migration_ptes.end());
	if (seen != counted)
		return std::to_string(found) + " migration entries are in page tables, but the count of those made "
		       "and dropped disagrees";
	if (found)
		return std::to_string(found) + " migration entries are left at the end of the run (first for pfn " +
		       std::to_string(seen.begin()->first) + ")";
	return "";
}

/* ---- the fault side --------------------------------------------------------- */

/* migration_entry_to_page - the page @entry names, which must be locked (the kernel's
 * BUG_ON(!PageLocked(p)) in include/linux/swapops.h). */
static struct page *migration_entry_to_page(swp_entry_t entry)
{
	struct page *page = pfn_to_page(machine_mem(), migration_entry_to_pfn(entry));
	if (!PageLocked(page))
		report_check("migration-entry-unlocked",
			     "kernel BUG in migration_entry_to_page: a migration entry names pfn " +
				     std::to_string(page->pfn) +
				     ", which is not locked: the migration that made it finished and left it behind",
			     true);
	return page;
}

void migration_entry_wait(struct mm_struct *mm, pgtable_slot_t *pmd, unsigned long address)
{
	KFUNC();
	spinlock_t *ptl;
	pgtable_slot_t *ptep = pte_offset_map_lock(mm, pmd, address, &ptl);
	if (!ptep)
		return;
	const pte_t pte = ptep_get(ptep);
	if (!is_migration_pte(pte)) {
		pte_unmap_unlock(ptep, ptl);
		return;
	}
	struct page *page = migration_entry_to_page(pte_to_swp_entry(pte));
	/* a page being freed: just fault again */
	if (!get_page_unless_zero(page)) {
		pte_unmap_unlock(ptep, ptl);
		return;
	}
	pte_unmap_unlock(ptep, ptl);
	vm_globals()->stats.migration_waits++;
	wait_on_page_locked(page);
	put_page(page);
}

/* ---- remove_migration_ptes ---------------------------------------------------- */

/* Restore one pte of @vma at @addr whose migration entry names @old, for @new.
 * Locking: the anon_vma root lock (the walk), @new locked; takes the pte lock. */
static bool remove_migration_pte(struct page *new_page, struct vm_area_struct *vma, unsigned long addr, void *arg)
{
	struct page *old = static_cast<struct page *>(arg);
	struct mm_struct *mm = vma->vm_mm;
	pgtable_slot_t *pmd = pmd_lookup(mm, addr);
	if (!pmd || pgtable_entry_none(READ_ONCE(*pmd)))
		return true;
	spinlock_t *ptl;
	pgtable_slot_t *ptep = pte_offset_map_lock(mm, pmd, addr, &ptl);
	if (!ptep)
		return true;
	const pte_t pte = ptep_get(ptep);
	if (!is_migration_pte(pte) || migration_entry_to_pfn(pte_to_swp_entry(pte)) != old->pfn) {
		pte_unmap_unlock(ptep, ptl);
		return true;
	}
	const swp_entry_t entry = pte_to_swp_entry(pte);
	get_page(new_page);
	pte_t fresh = pte_mkold(mk_pte(new_page, vma->vm_page_prot));
	if (is_write_migration_entry(entry))
		fresh = pte_mkwrite(fresh);
	set_pte_at(mm, addr, ptep, fresh);
	page_add_anon_rmap(new_page, vma, addr);
	note_pte_origin(mm, addr, new_page, nullptr);
	migration_entry_dropped(old->pfn);
	vm_globals()->stats.migration_ptes_restored++;
	update_mmu_cache(vma, addr, ptep);
	pte_unmap_unlock(ptep, ptl);
	return true;
}

/* The anon_vma unmap_and_move pinned, and what it looked like then (for the oracle). */
struct migrate_pin {
	struct anon_vma *anon_vma;
	unsigned long gen;
	bool rcu;	/* anon_pin=rcu_only: rcu_read_lock held, no reference */
};

void remove_migration_ptes(struct page *old, struct page *new_page)
{
	KFUNC();
	rmap_walk_pinned(new_page, remove_migration_pte, old);
}

/* remove_migration_ptes with the oracle of anon_pin=rcu_only. */
static void remove_migration_ptes_pinned(struct page *old, struct page *new_page, const struct migrate_pin *pin)
{
	if (pin->rcu) {
		struct anon_vma *av = pin->anon_vma;
		if (av->gen != pin->gen && av->in_use)
			report_check("anon-vma-freed-under-migration",
				     "remove_migration_ptes walks anon_vma " + std::to_string(av->id) +
					     ", which was freed and handed out again since migration unmapped pfn " +
					     std::to_string(old->pfn) +
					     ": with only rcu_read_lock (anon_pin=rcu_only) nothing kept it; 2.6.35 takes a "
					     "reference",
				     true);
	}
	remove_migration_ptes(old, new_page);
}

/* ---- move_to_new_page --------------------------------------------------------- */

/*
 * migrate_page_move_mapping - a page in the swap cache changes its slot to @new_page,
 * if nobody but the cache and @extra holders (the isolation; MIGRATE_FAULT: and the
 * fault) holds it; one that is not must be held by those alone. 0 or -EAGAIN.
 * Locking: both pages locked; takes tree_lock.
 */
static int migrate_page_move_mapping(struct page *new_page, struct page *page, int extra)
{
	if (!PageSwapCache(page))
		return page_count(page) == extra ? 0 : -EAGAIN;
	struct swap_cache *sc = &vm_globals()->swapper;
	write_lock(&sc->tree_lock);
	const auto it = sc->tree.find(page->private_);
	/* page_freeze_refs: the cache and the expected holders, and nobody who looked it up */
	if (it == sc->tree.end() || it->second != page || atomic_cmpxchg(&page->_count, extra + 1, 0) != extra + 1) {
		write_unlock(&sc->tree_lock);
		return -EAGAIN;
	}
	get_page(new_page); /* the cache's reference */
	new_page->private_ = page->private_;
	SetPageSwapCache(new_page);
	it->second = new_page;
	atomic_set(&page->_count, extra + 1); /* page_unfreeze_refs */
	ClearPageSwapCache(page);
	page->private_ = 0;
	put_page(page); /* the cache's reference on the old page (the expected ones remain) */
	write_unlock(&sc->tree_lock);
	return 0;
}

/* migrate_page_copy - contents and state flags. Locking: both pages locked. */
static void migrate_page_copy(struct page *new_page, struct page *page)
{
	page_stream(kMigrateCopyCycles, new_page, page);
	frame_write(new_page, frame_read(page, "migrate_page_copy"), "migrate_page_copy");
	if (PageUptodate(page))
		SetPageUptodate(new_page);
	if (TestClearPageDirty(page))
		SetPageDirty(new_page);
}

/* take_identity - lock fresh @new_page and give it @page's place in the rmap (anon_vma,
 * index) before any pte names it; drop_identity undoes that when the move fails. */
static void take_identity(struct page *new_page, struct page *page, const char *who)
{
	if (!trylock_page(new_page))
		report_check("bad-page", std::string(who) + ": the new pfn " + std::to_string(new_page->pfn) +
						 " is locked (kernel BUG)",
			     true);
	cpu_work(kMigratePrepCycles);
	new_page->index = page->index;
	WRITE_ONCE(new_page->anon_vma, READ_ONCE(page->anon_vma));
	SetPageAnon(new_page);
}

static void drop_identity(struct page *new_page)
{
	WRITE_ONCE(new_page->anon_vma, static_cast<struct anon_vma *>(nullptr));
	clear_bit(PG_anon, &new_page->flags);
}

/* move_to_new_page - @page (locked, unmapped) into @new_page. 0 or -EAGAIN. */
static int move_to_new_page(struct page *new_page, struct page *page, bool remap, const struct migrate_pin *pin)
{
	take_identity(new_page, page, "move_to_new_page");
	int rc = migrate_page_move_mapping(new_page, page, 1);
	if (!rc) {
		migrate_page_copy(new_page, page);
		if (remap)
			remove_migration_ptes_pinned(page, new_page, pin);
	} else {
		drop_identity(new_page); /* not ours after all: back to the allocator as it came */
	}
	unlock_page(new_page);
	return rc;
}

/* ---- unmap_and_move --------------------------------------------------------------- */

static void note_fail(enum migrate_fail_reason why)
{
	vm_globals()->stats.migrate_fail[why]++;
}

/* page_get_anon_vma - a reference on a mapped anonymous page's anon_vma, or NULL. */
static struct anon_vma *page_get_anon_vma(struct page *page)
{
	rcu_read_lock();
	struct anon_vma *anon_vma = page_mapped(page) ? page_anon_vma(page) : nullptr;
	if (anon_vma && !atomic_inc_not_zero(&anon_vma->refcount))
		anon_vma = nullptr;
	rcu_read_unlock();
	if (anon_vma && !page_mapped(page)) {
		put_anon_vma(anon_vma); /* unmapped meanwhile (after the unlock: it may sleep) */
		anon_vma = nullptr;
	}
	return anon_vma;
}

/*
 * unmap_and_move - move isolated @page to a frame from @get_new_page. 0 (moved, or
 * freed under us), -EAGAIN (lock busy, still mapped, or unexpected references: try
 * again), -ENOMEM (no frame). On anything but -EAGAIN the page has left @from and is back on
 * the LRU (freed there if it moved).
 */
static int unmap_and_move(new_page_t *get_new_page, void *priv, struct page *page, bool force)
{
	struct vm_globals *vm = vm_globals();
	struct page *new_page = get_new_page(page, priv);
	if (!new_page) {
		note_fail(MIGRATE_FAIL_NOMEM);
		return -ENOMEM;
	}
	int rc = 0;
	struct migrate_pin pin = {nullptr, 0, false};
	bool remap = true, moved = false;
	if (page_count(page) == 1) {
		/* only the isolation holds it: it was freed under us, done */
		vm->stats.migrate_freed++;
		goto move_newpage;
	}
	rc = -EAGAIN;
	if (!trylock_page(page)) {
		if (!force) {
			note_fail(MIGRATE_FAIL_LOCKED);
			goto move_newpage;
		}
		lock_page(page);
	}
	/* pin the anon_vma so remove_migration_ptes can walk it after the unmap */
	if (!page_mapped(page)) {
		if (!PageSwapCache(page)) {
			/* unmapped and not in the swap cache: on its way out */
			note_fail(MIGRATE_FAIL_NO_ANON_VMA);
			goto unlock;
		}
		remap = false; /* nothing to restore; its anon_vma may be gone */
	} else if (vm->t.anon_pin == ANON_PIN_RCU_ONLY) {
		rcu_read_lock();
		pin.rcu = true;
		pin.anon_vma = page_anon_vma(page);
		pin.gen = pin.anon_vma->gen;
	} else {
		pin.anon_vma = page_get_anon_vma(page);
		if (!pin.anon_vma) {
			if (!PageSwapCache(page)) {
				note_fail(MIGRATE_FAIL_NO_ANON_VMA);
				goto unlock;
			}
			remap = false;
		}
	}
	try_to_unmap(page, TTU_MIGRATION | TTU_IGNORE_ACCESS);
	if (!page_mapped(page)) {
		rc = move_to_new_page(new_page, page, remap, &pin);
		if (rc)
			note_fail(MIGRATE_FAIL_REFS);
		moved = !rc;
	} else {
		note_fail(MIGRATE_FAIL_MAPPED); /* rc stays -EAGAIN: a later pass may find it unmappable */
	}
	if (rc && remap)
		remove_migration_ptes_pinned(page, page, &pin);
	if (pin.rcu)
		rcu_read_unlock();
	else if (pin.anon_vma)
		put_anon_vma(pin.anon_vma);
unlock:
	unlock_page(page);
move_newpage:
	if (rc != -EAGAIN) {
		/* moved (or freed), or failed for good: off the caller's list */
		putback_lru_page(page);
	}
	if (moved) {
		vm->stats.pgmigrate_success++;
		putback_lru_page(new_page); /* the allocation's reference becomes the ptes' and the LRU's */
	} else {
		put_page(new_page); /* unused: back to the allocator */
	}
	return rc;
}

int migrate_pages(std::vector<struct page *> *from, new_page_t *get_new_page, void *priv, enum migrate_mode mode)
{
	KFUNC();
	int nr_failed = 0;
	bool retry = true;
	for (int pass = 0; pass < kMigratePasses && retry; pass++) {
		retry = false;
		std::vector<struct page *> again;
		for (size_t i = 0; i < from->size(); i++) {
			struct page *page = (*from)[i];
			cond_resched();
			const int rc = unmap_and_move(get_new_page, priv, page, mode == MIGRATE_SYNC && pass >= kForcePass);
			if (rc == -ENOMEM) {
				/* out of target frames: the rest stays for the caller */
				again.insert(again.end(), from->begin() + static_cast<long>(i), from->end());
				*from = std::move(again);
				vm_globals()->stats.pgmigrate_fail += static_cast<unsigned long>(nr_failed) + from->size();
				return -ENOMEM;
			}
			if (rc == -EAGAIN) {
				again.push_back(page);
				retry = true;
			} else if (rc) {
				nr_failed++;
			}
		}
		*from = std::move(again);
	}
	vm_globals()->stats.pgmigrate_fail += static_cast<unsigned long>(nr_failed) + from->size();
	return nr_failed + static_cast<int>(from->size());
}

void putback_lru_pages(std::vector<struct page *> *pages)
{
	for (struct page *page : *pages)
		putback_lru_page(page);
	pages->clear();
}

/* ---- lazy migration: unmap only, migrate on fault ------------------------------- */

void unmap_only_check(struct page *page)
{
	std::string bad;
	if (page_mapped(page))
		bad = "is still mapped (mapcount " + std::to_string(page_mapcount(page)) + ")";
	else if (!PageSwapCache(page))
		bad = "is not in the swap cache";
	else
		bad = swap_check_entry(machine_mem(), swp_entry_t{page->private_});
	if (!bad.empty())
		report_check("unmap-only-state", "migrate_pages_unmap_only left pfn " + std::to_string(page->pfn) +
							 " in a state migrate-on-fault cannot take: it " + bad,
			     true);
}

/* Unmap one isolated page into the swap cache; true if it is unmapped now. */
static bool unmap_only_one(struct page *page)
{
	if (page_count(page) == 1)
		return false; /* freed under us: only the isolation holds it */
	if (!trylock_page(page))
		return false; /* give up easily: we are being lazy */
	bool unmapped = false;
	/* (no writeback to skip: swap writes are synchronous, mm/swapfile.h) */
	if (PageAnon(page) && (PageSwapCache(page) || add_to_swap(page))) {
		try_to_unmap(page, TTU_UNMAP | TTU_IGNORE_ACCESS);
		unmapped = !page_mapped(page);
		if (unmapped)
			unmap_only_check(page);
	}
	unlock_page(page);
	return unmapped;
}

int migrate_pages_unmap_only(std::vector<struct page *> *pages)
{
	KFUNC();
	struct vm_globals *vm = vm_globals();
	int nr_failed = 0;
	for (struct page *page : *pages) {
		cond_resched();
		if (unmap_only_one(page))
			vm->stats.lazy_unmapped++;
		else
			nr_failed++;
		putback_lru_page(page); /* whether unmapped or not, as migrate_pages */
	}
	pages->clear();
	/* The kernel drains this CPU's LRU pagevecs here so the fault path finds the pages
	 * on the LRU; there are none in this model (mm/swap.h): each add took lru_lock. */
	vm->stats.lazy_failed += static_cast<unsigned long>(nr_failed);
	return nr_failed;
}

struct page *migrate_misplaced_page(struct page *page, int nid)
{
	KFUNC();
	struct vm_globals *vm = vm_globals();
	/* off the LRU, so reclaim and compaction leave it alone while it moves */
	if (isolate_lru_page(page)) {
		vm->stats.mof_fail++;
		return page;
	}
	/* on @nid or not at all, without sleeping: the fault holds a page lock */
	struct page *new_page = alloc_pages_node(nid, GFP_NOWAIT | __GFP_THISNODE, 0);
	if (!new_page) {
		putback_lru_page(page);
		vm->stats.mof_fail++;
		return page;
	}
	if (page_mapped(page))
		report_check("migrate-mapped-page", "migrate-on-fault moves pfn " + std::to_string(page->pfn) +
							    " while " + std::to_string(page_mapcount(page)) +
							    " pte(s) map it: they keep the old frame, which is freed under them",
			     true);
	take_identity(new_page, page, "migrate_misplaced_page");
	/* MIGRATE_FAULT: the swap cache's, the isolation's and the fault's references */
	if (migrate_page_move_mapping(new_page, page, 2)) {
		drop_identity(new_page);
		unlock_page(new_page);
		put_page(new_page);
		putback_lru_page(page);
		vm->stats.mof_fail++;
		return page;
	}
	migrate_page_copy(new_page, page);
	lru_cache_add_anon(new_page);
	vm->stats.mof_migrations++;
	vm->stats.pgmigrate_success++;
	unlock_page(page); /* a faulter waiting for it finds it out of the cache: it retries */
	putback_lru_page(page); /* the isolation's reference */
	put_page(page);		/* the fault's: the old frame is free */
	return new_page;	/* locked; the allocation's reference is the fault's now */
}
