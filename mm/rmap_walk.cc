/*
 * mm/rmap_walk.cc - page_lock_anon_vma_read in four models, rmap_walk, page_referenced,
 * try_to_unmap.
 */
#include "mm/rmap_walk.h"

#include <algorithm>
#include <cerrno>

#include "kernel/oracle.h"
#include "mm/anon_shadow.h"
#include "mm/exec.h"
#include "mm/filemap.h"
#include "mm/migrate.h"
#include "mm/swapfile.h"

/* Cost (assumed; no published figure): visiting one vma of a walk besides its sync
 * points (the chain or tree step and vma_address). */
static constexpr smpemu::Cycles kRmapVmaCycles = 40;

/* The trylock and rwsem models' slow path, and the mutex model: pin, then sleep. */
static struct anon_vma *lock_pinned(struct anon_vma *anon_vma, struct page *page, bool drop_ref)
{
	if (!atomic_inc_not_zero(&anon_vma->refcount)) {
		rcu_read_unlock();
		return nullptr; /* being freed */
	}
	if (!page_mapped(page)) {
		rcu_read_unlock();
		put_anon_vma(anon_vma);
		return nullptr;
	}
	rcu_read_unlock(); /* the reference keeps it now: we may sleep */
	anon_vma_lock_read(anon_vma);
	if (drop_ref && atomic_dec_and_test(&anon_vma->refcount)) {
		/* we held the last reference: nobody maps the page any more */
		anon_vma_unlock_read(anon_vma);
		__put_anon_vma(anon_vma);
		return nullptr;
	}
	return anon_vma;
}

static void note_walker(struct anon_vma *anon_vma, int delta)
{
	struct anon_vma *root = anon_vma->root;
	root->walkers += delta;
	struct vm_stats *s = &vm_globals()->stats;
	s->rmap_max_walkers = std::max<unsigned long>(s->rmap_max_walkers, static_cast<unsigned long>(root->walkers));
}

struct anon_vma *page_lock_anon_vma_read(struct page *page)
{
	KFUNC();
	const enum anon_lock_model model = vm_globals()->t.anon_lock;
	rcu_read_lock();
	struct anon_vma *anon_vma = PageAnon(page) ? page_anon_vma(page) : nullptr;
	if (!anon_vma || !page_mapped(page)) {
		rcu_read_unlock();
		return nullptr;
	}
	check_anon_vma(anon_vma, "page_lock_anon_vma_read");
	switch (model) {
	case ANON_LOCK_SPIN:
	case ANON_LOCK_SPIN_NOROOT:
		/* RCU is held until the unlock: the memory stays an anon_vma */
		anon_vma_lock_write(anon_vma);
		break;
	case ANON_LOCK_MUTEX:
		anon_vma = lock_pinned(anon_vma, page, false);
		break;
	case ANON_LOCK_TRYLOCK:
	case ANON_LOCK_RWSEM: {
		struct anon_vma *root = anon_vma->root;
		check_anon_vma(root, "page_lock_anon_vma_read (root)");
		const bool got = model == ANON_LOCK_TRYLOCK ? mutex_trylock(&root->mutex) : down_read_trylock(&root->rwsem);
		if (got) {
			/* still mapped: still its anon_vma, and anon_vma_free waits for us */
			if (!page_mapped(page)) {
				/* the root we locked: anon_vma may be another family's by now */
				if (model == ANON_LOCK_TRYLOCK)
					mutex_unlock(&root->mutex);
				else
					up_read(&root->rwsem);
				anon_vma = nullptr;
			}
			rcu_read_unlock();
			break;
		}
		anon_vma = lock_pinned(anon_vma, page, true);
		break;
	}
	}
	if (anon_vma)
		note_walker(anon_vma, 1);
	return anon_vma;
}

void page_unlock_anon_vma_read(struct anon_vma *anon_vma)
{
	note_walker(anon_vma, -1);
	switch (vm_globals()->t.anon_lock) {
	case ANON_LOCK_SPIN:
	case ANON_LOCK_SPIN_NOROOT:
		anon_vma_unlock_write(anon_vma);
		rcu_read_unlock();
		break;
	case ANON_LOCK_MUTEX:
		anon_vma_unlock_write(anon_vma);
		put_anon_vma(anon_vma);
		break;
	case ANON_LOCK_TRYLOCK:
	case ANON_LOCK_RWSEM:
		anon_vma_unlock_read(anon_vma);
		break;
	}
}

/*
 * The oracle of the models that lock without RCU (mutex, trylock, rwsem): the anon_vma a
 * walker holds the root lock of is not freed before the walker unlocks it (the mutex
 * model's reference, the trylock and rwsem models' wait in anon_vma_free). The spin
 * model needs no such rule: RCU keeps the memory an anon_vma.
 */
static void check_walked_anon_vma(struct anon_vma *anon_vma, unsigned long gen, struct anon_vma *root)
{
	const enum anon_lock_model model = vm_globals()->t.anon_lock;
	if (model == ANON_LOCK_SPIN || model == ANON_LOCK_SPIN_NOROOT)
		return;
	if (anon_vma->gen == gen && anon_vma->root == root)
		return;
	report_check("anon-vma-freed-under-walker",
		     "anon_vma " + std::to_string(anon_vma->id) +
			     " was freed while an rmap walker held its root lock without a reference" +
			     (anon_vma->root != root ? " (handed out again, now in another family: the walker "
						       "would unlock the wrong root)"
						     : "") +
			     ": anon_vma_free did not wait for the holder",
		     true);
}

static bool rmap_walk_file(struct page *page, rmap_one_t rmap_one, void *arg);

/* One vma of a walk: false to stop. */
static bool rmap_visit(struct page *page, struct vm_area_struct *vma, rmap_one_t rmap_one, void *arg)
{
	cpu_work(kRmapVmaCycles);
	vm_globals()->stats.rmap_vmas_visited++;
	const unsigned long address = vma_address(page, vma);
	if (address == static_cast<unsigned long>(-EFAULT))
		return true; /* the page's index is outside this vma */
	return rmap_one(page, vma, address, arg);
}

/* Every vma @anon_vma's chains list, oldest first, until @rmap_one says stop. Locking:
 * the anon_vma's lock held by the caller. */
static void walk_chains(struct anon_vma *anon_vma, struct page *page, rmap_one_t rmap_one, void *arg,
			const char *what)
{
	for (struct list_head *l = anon_vma->head.next; l != &anon_vma->head; l = l->next) {
		check_anon_vma(anon_vma, what);
		struct anon_vma_chain *avc = list_entry(l, struct anon_vma_chain, same_anon_vma);
		if (!rmap_visit(page, avc->vma, rmap_one, arg))
			break;
	}
}

static bool rmap_walk_anon(struct page *page, rmap_one_t rmap_one, void *arg)
{
	struct anon_vma *anon_vma = page_lock_anon_vma_read(page);
	if (!anon_vma)
		return false;
	/* host-side snapshot for the oracle (no sync point) */
	const unsigned long gen = anon_vma->gen;
	struct anon_vma *root = anon_vma->root;
	walk_chains(anon_vma, page, rmap_one, arg, "rmap_walk_anon");
	check_walked_anon_vma(anon_vma, gen, root);
	page_unlock_anon_vma_read(anon_vma);
	return true;
}

bool rmap_walk_pinned(struct page *page, rmap_one_t rmap_one, void *arg)
{
	KFUNC();
	if (!PageAnon(page))
		return rmap_walk_file(page, rmap_one, arg);
	vm_globals()->stats.rmap_walks++;
	struct anon_vma *anon_vma = page_anon_vma(page);
	if (!anon_vma)
		return false;
	anon_vma_lock_read(anon_vma);
	note_walker(anon_vma, 1);
	walk_chains(anon_vma, page, rmap_one, arg, "rmap_walk (migration)");
	note_walker(anon_vma, -1);
	anon_vma_unlock_read(anon_vma);
	return true;
}

static bool rmap_walk_file(struct page *page, rmap_one_t rmap_one, void *arg)
{
	struct address_space *mapping = page->mapping;
	if (!mapping)
		return false;
	i_mmap_lock_write(mapping);
	for (struct vm_area_struct *vma : mapping->i_mmap) {
		if (vma->vm_pgoff > page->index)
			break; /* ordered by pgoff: no later vma can cover the page */
		if (!rmap_visit(page, vma, rmap_one, arg))
			break;
	}
	i_mmap_unlock_write(mapping);
	return true;
}

bool rmap_walk(struct page *page, rmap_one_t rmap_one, void *arg)
{
	KFUNC();
	vm_globals()->stats.rmap_walks++;
	return PageAnon(page) ? rmap_walk_anon(page, rmap_one, arg) : rmap_walk_file(page, rmap_one, arg);
}

pgtable_slot_t *page_check_address(struct page *page, struct mm_struct *mm, unsigned long address,
				   spinlock_t **ptlp)
{
	pgtable_slot_t *pmd = pmd_lookup(mm, address);
	if (!pmd || pgtable_entry_none(READ_ONCE(*pmd)))
		return nullptr;
	pgtable_slot_t *pte = pte_offset_map_lock(mm, pmd, address, ptlp);
	if (!pte)
		return nullptr;
	const pte_t v = ptep_get(pte);
	if (pte_present(v) && pte_pfn(v) == page->pfn)
		return pte;
	pte_unmap_unlock(pte, *ptlp);
	return nullptr;
}

struct referenced_arg {
	int referenced;
	int mapcount; /* ptes still to find: the walk may stop at 0 */
};

static bool page_referenced_one(struct page *page, struct vm_area_struct *vma, unsigned long address, void *argp)
{
	struct referenced_arg *arg = static_cast<struct referenced_arg *>(argp);
	struct mm_struct *mm = vma->vm_mm;
	spinlock_t *ptl;
	pgtable_slot_t *pte = page_check_address(page, mm, address, &ptl);
	if (!pte)
		return true;
	arg->mapcount--;
	/* test and clear the accessed bit (atomically: the hardware may set it meanwhile) */
	const pte_t old = __pte(pte_update(mm, address, pte, _PAGE_ACCESSED, 0UL, 0));
	if (pte_young(old)) {
		arg->referenced++;
		flush_tlb_page(vma, address); /* a TLB would set A again only after a miss */
	}
	pte_unmap_unlock(pte, ptl);
	return arg->mapcount > 0;
}

int page_referenced(struct page *page)
{
	KFUNC();
	struct referenced_arg arg = {0, page_mapcount(page)};
	if (arg.mapcount <= 0)
		return 0;
	rmap_walk(page, page_referenced_one, &arg);
	return arg.referenced;
}

struct ttu_arg {
	unsigned flags;
	int ret;
};

static bool try_to_unmap_one(struct page *page, struct vm_area_struct *vma, unsigned long address, void *argp)
{
	struct ttu_arg *arg = static_cast<struct ttu_arg *>(argp);
	struct mm_struct *mm = vma->vm_mm;
	const bool migration = (arg->flags & TTU_ACTION_MASK) == TTU_MIGRATION;
	/*
	 * 2.6.35: exec moves its temporary stack's ptes without the anon_vma lock, so an
	 * entry made there could move away from where remove_migration_ptes looks: leave
	 * such pages mapped (the migration fails and is retried later). Knob skip_temp_stack.
	 */
	if (migration && is_vma_temporary_stack(vma) && vm_globals()->t.skip_temp_stack) {
		vm_globals()->stats.migrate_temp_stack_skips++;
		return true;
	}
	spinlock_t *ptl;
	pgtable_slot_t *pte = page_check_address(page, mm, address, &ptl);
	if (!pte)
		return true;
	if (!(arg->flags & TTU_IGNORE_ACCESS)) {
		/* ptep_clear_flush_young: in use since the last scan, keep it */
		const pte_t old = __pte(pte_update(mm, address, pte, _PAGE_ACCESSED, 0UL, 0));
		if (pte_young(old)) {
			flush_tlb_page(vma, address);
			pte_unmap_unlock(pte, ptl);
			arg->ret = SWAP_FAIL;
			return false;
		}
	}
	const bool anon = PageAnon(page);
	/* stable: the page is locked, and only its lock holder adds or deletes the cache */
	const bool swapcache = anon && PageSwapCache(page);
	if (anon) {
		if (!swapcache && !migration) {
			pte_unmap_unlock(pte, ptl);
			report_check("bad-page", "try_to_unmap: anonymous pfn " + std::to_string(page->pfn) +
							 " is not in the swap cache: its ptes have nowhere to point",
				     true);
			return false;
		}
		shadow_swapout_begin(mm, address, page->pfn);
	}
	/* no CPU may keep the translation once the pte names the slot */
	const pte_t pteval = ptep_clear_flush(vma, address, pte);
	if (pte_dirty(pteval))
		SetPageDirty(page);
	if (swapcache) {
		const swp_entry_t entry = {page->private_};
		swap_duplicate(entry);
		set_pte_at(mm, address, pte, swp_entry_to_pte(entry));
		shadow_swapout_end(mm, address);
		vm_globals()->stats.swap_ptes_set++;
	} else if (anon) {
		/* migration: the pte names the page until remove_migration_ptes */
		set_pte_at(mm, address, pte, swp_entry_to_pte(make_migration_entry(page->pfn, pte_write(pteval))));
		migration_entry_made(page->pfn);
		shadow_swapout_end(mm, address);
	}
	page_remove_rmap(page);
	put_page(page); /* the pte's reference; the caller holds its own */
	pte_unmap_unlock(pte, ptl);
	return page_mapped(page);
}

int try_to_unmap(struct page *page, unsigned flags)
{
	KFUNC();
	BUG_ON(!PageLocked(page));
	struct ttu_arg arg = {flags, SWAP_AGAIN};
	rmap_walk(page, try_to_unmap_one, &arg);
	if (arg.ret != SWAP_FAIL && !page_mapped(page))
		return SWAP_SUCCESS;
	return arg.ret;
}
