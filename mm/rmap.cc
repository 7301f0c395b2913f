/*
 * mm/rmap.cc - the anon_vma slab, references and the root lock, anon_vma_prepare /
 * clone / fork / unlink, and the mapcount of new anonymous pages.
 */
#include "mm/rmap.h"

#include <algorithm>
#include <cerrno>
#include <string>

#include "kernel/oracle.h"
#include "mm/mm.h"
#include "mm/page.h"
#include "mm/swap.h"

/* Costs (assumed; no published figure, docs/COSTS.md): a slab allocation or free of a
 * small object from the per-CPU cache, besides its sync points. */
static constexpr smpemu::Cycles kSlabCycles = 60;

/* How many of the most recently freed anon_vmas an allocation may be handed (the
 * per-CPU slab is LIFO; the draw among the last few stands for other CPUs' frees). */
static constexpr std::size_t kReuseWindow = 4;

/* An RCU callback's record: after a grace period the slab may give back the page of a
 * free object (drawn), unless it was handed out again meanwhile (gen changed). */
struct anon_vma_release {
	rcu_head rcu;
	struct anon_vma *anon_vma;
	unsigned long gen;
};

static struct anon_vma_slab *anon_slab(void)
{
	return &vm_globals()->anon_vma_cache;
}

void anon_vma_slab_init(struct phys_mem *mem)
{
	struct anon_vma_slab *s = &mem->vm->anon_vma_cache;
	s->rng = mem->m->rng("mm.anon_vma_slab");
	s->next_id = 1;
	s->allocs = s->reuses = s->releases = 0;
}

void anon_vma_slab_exit(struct phys_mem *mem)
{
	for (void *r : mem->vm->anon_vma_cache.pending)
		delete static_cast<struct anon_vma_release *>(r); /* the run ended first */
}

void check_anon_vma(struct anon_vma *anon_vma, const char *what)
{
	obj_check(anon_vma->obj, what);
}

/* The slab's constructor: runs once, when the memory first becomes an anon_vma. */
static void anon_vma_ctor(struct anon_vma *anon_vma)
{
	mm_spin_lock_init(machine_mem(), &anon_vma->lock, "anon_vma");
	mutex_init(&anon_vma->mutex, "anon_vma");
	init_rwsem(&anon_vma->rwsem, "anon_vma");
	atomic_init(&anon_vma->refcount, 0);
	INIT_LIST_HEAD(&anon_vma->head);
}

struct anon_vma *anon_vma_alloc(void)
{
	struct anon_vma_slab *s = anon_slab();
	struct anon_vma *anon_vma;
	cpu_work(kSlabCycles);
	if (!s->free.empty()) {
		const std::size_t n = s->free.size();
		const std::size_t pick = n - 1 - static_cast<std::size_t>(s->rng.below(std::min(n, kReuseWindow)));
		anon_vma = s->free[pick];
		s->free.erase(s->free.begin() + static_cast<std::ptrdiff_t>(pick));
		s->reuses++;
	} else if (!s->released.empty()) {
		/* a new slab page where an old one was: a new incarnation of the memory */
		anon_vma = s->released.back();
		s->released.pop_back();
		anon_vma->released = false;
		anon_vma->obj = obj_alloc("anon_vma");
	} else {
		s->all.push_back(std::make_unique<struct anon_vma>());
		anon_vma = s->all.back().get();
		anon_vma_ctor(anon_vma);
		anon_vma->obj = obj_alloc("anon_vma");
	}
	s->allocs++;
	anon_vma->in_use = true;
	anon_vma->gen++;
	anon_vma->id = s->next_id++;
	anon_vma->root = anon_vma;
	atomic_set(&anon_vma->refcount, 1);
	INIT_LIST_HEAD(&anon_vma->head);
	return anon_vma;
}

static void anon_vma_release_rcu(rcu_head *head)
{
	struct anon_vma_release *r = static_cast<struct anon_vma_release *>(head->data);
	struct anon_vma_slab *s = anon_slab();
	struct anon_vma *anon_vma = r->anon_vma;
	s->pending.erase(r);
	if (!anon_vma->in_use && !anon_vma->released && anon_vma->gen == r->gen && s->rng.chance(1, 2)) {
		s->free.erase(std::find(s->free.begin(), s->free.end(), anon_vma));
		s->released.push_back(anon_vma);
		anon_vma->released = true;
		obj_free(anon_vma->obj);
		s->releases++;
	}
	delete r;
}

/* Is the root lock held by anyone (a load of the lock word)? */
static bool anon_vma_is_locked(struct anon_vma *root, enum anon_lock_model model)
{
	switch (model) {
	case ANON_LOCK_SPIN:
	case ANON_LOCK_SPIN_NOROOT:
		return spin_is_locked(&root->lock);
	case ANON_LOCK_MUTEX:
	case ANON_LOCK_TRYLOCK:
		return mutex_is_locked(&root->mutex);
	case ANON_LOCK_RWSEM:
		return rwsem_is_locked(&root->rwsem);
	}
	return false;
}

void anon_vma_free(struct anon_vma *anon_vma)
{
	struct vm_globals *vm = vm_globals();
	const enum anon_lock_model model = vm->t.anon_lock;
	check_anon_vma(anon_vma, "anon_vma_free");
	if (!list_empty(&anon_vma->head) || anon_vma->refcount.counter != 0 || !anon_vma->in_use)
		report_check("bad-anon-vma",
			     "anon_vma_free: anon_vma " + std::to_string(anon_vma->id) + " still has chains or references",
			     true);
	if (model == ANON_LOCK_TRYLOCK || model == ANON_LOCK_RWSEM) {
		/*
		 * A page_lock_anon_vma_read fast path may hold the root lock without a
		 * reference: it took the lock, then saw the page still mapped. Our last put
		 * (a full barrier) came after the page was unmapped, and this read of the lock
		 * after that put: either the walker's recheck fails, or we see it and wait.
		 */
		struct anon_vma *root = anon_vma->root;
		if (anon_vma_is_locked(root, model)) {
			vm->stats.anon_vma_free_waits++;
			anon_vma_lock_write(anon_vma);
			anon_vma_unlock_write(anon_vma);
		}
	}
	struct anon_vma_slab *s = anon_slab();
	cpu_work(kSlabCycles);
	anon_vma->in_use = false;
	anon_vma->gen++;
	s->free.push_back(anon_vma);
	struct anon_vma_release *r = new struct anon_vma_release();
	r->anon_vma = anon_vma;
	r->gen = anon_vma->gen;
	/* no rcu.object: records of one anon_vma may run on several CPUs in any order, and
	 * each checks by gen whether its free is still the latest */
	r->rcu.data = r;
	s->pending.insert(r);
	call_rcu(&r->rcu, anon_vma_release_rcu);
}

void get_anon_vma(struct anon_vma *anon_vma)
{
	check_anon_vma(anon_vma, "get_anon_vma");
	atomic_inc(&anon_vma->refcount);
}

void __put_anon_vma(struct anon_vma *anon_vma)
{
	struct anon_vma *root = anon_vma->root;
	anon_vma_free(anon_vma);
	if (root != anon_vma && atomic_dec_and_test(&root->refcount))
		anon_vma_free(root);
}

void put_anon_vma(struct anon_vma *anon_vma)
{
	check_anon_vma(anon_vma, "put_anon_vma");
	if (atomic_dec_and_test(&anon_vma->refcount))
		__put_anon_vma(anon_vma);
}

/* ---- the root lock --------------------------------------------------------- */

void anon_vma_lock_write(struct anon_vma *anon_vma)
{
	check_anon_vma(anon_vma, "anon_vma_lock");
	struct anon_vma *root = anon_vma->root;
	check_anon_vma(root, "anon_vma_lock (root)");
	switch (vm_globals()->t.anon_lock) {
	case ANON_LOCK_SPIN:
		spin_lock(&root->lock);
		break;
	case ANON_LOCK_SPIN_NOROOT:
		spin_lock(&anon_vma->lock); /* 2.6.34: this anon_vma's list only */
		break;
	case ANON_LOCK_MUTEX:
	case ANON_LOCK_TRYLOCK:
		mutex_lock(&root->mutex);
		break;
	case ANON_LOCK_RWSEM:
		down_write(&root->rwsem);
		break;
	}
}

void anon_vma_unlock_write(struct anon_vma *anon_vma)
{
	check_anon_vma(anon_vma, "anon_vma_unlock");
	struct anon_vma *root = anon_vma->root;
	check_anon_vma(root, "anon_vma_unlock (root)");
	switch (vm_globals()->t.anon_lock) {
	case ANON_LOCK_SPIN:
		spin_unlock(&root->lock);
		break;
	case ANON_LOCK_SPIN_NOROOT:
		spin_unlock(&anon_vma->lock);
		break;
	case ANON_LOCK_MUTEX:
	case ANON_LOCK_TRYLOCK:
		mutex_unlock(&root->mutex);
		break;
	case ANON_LOCK_RWSEM:
		up_write(&root->rwsem);
		break;
	}
}

void anon_vma_lock_read(struct anon_vma *anon_vma)
{
	if (vm_globals()->t.anon_lock != ANON_LOCK_RWSEM) {
		anon_vma_lock_write(anon_vma);
		return;
	}
	check_anon_vma(anon_vma, "anon_vma_lock_read");
	check_anon_vma(anon_vma->root, "anon_vma_lock_read (root)");
	down_read(&anon_vma->root->rwsem);
}

void anon_vma_unlock_read(struct anon_vma *anon_vma)
{
	if (vm_globals()->t.anon_lock != ANON_LOCK_RWSEM) {
		anon_vma_unlock_write(anon_vma);
		return;
	}
	check_anon_vma(anon_vma, "anon_vma_unlock_read");
	check_anon_vma(anon_vma->root, "anon_vma_unlock_read (root)");
	up_read(&anon_vma->root->rwsem);
}

/* ---- chains ---------------------------------------------------------------- */

static struct anon_vma_chain *anon_vma_chain_alloc(void)
{
	struct anon_vma_slab *s = anon_slab();
	struct anon_vma_chain *avc;
	cpu_work(kSlabCycles);
	if (!s->free_chains.empty()) {
		avc = s->free_chains.back(); /* LIFO, as the slab */
		s->free_chains.pop_back();
	} else {
		s->chains.push_back(std::make_unique<struct anon_vma_chain>());
		avc = s->chains.back().get();
	}
	*avc = anon_vma_chain{};
	INIT_LIST_HEAD(&avc->same_vma);
	INIT_LIST_HEAD(&avc->same_anon_vma);
	return avc;
}

static void anon_vma_chain_free(struct anon_vma_chain *avc)
{
	cpu_work(kSlabCycles);
	anon_slab()->free_chains.push_back(avc);
}

/* Link @avc between @vma and @anon_vma. Locking: the root lock (same_anon_vma) and
 * mmap_sem for writing or page_table_lock (same_vma). */
static void anon_vma_chain_link(struct vm_area_struct *vma, struct anon_vma_chain *avc,
				struct anon_vma *anon_vma)
{
	avc->vma = vma;
	avc->anon_vma = anon_vma;
	list_add(&avc->same_vma, &vma->anon_vma_chain);
	list_add_tail(&avc->same_anon_vma, &anon_vma->head); /* parents before children */
}

/*
 * A neighbour's anon_vma @vma may share: an adjacent vma of the same kind with an
 * anon_vma that only it uses (a single chain), so that its pages' indices stay linear
 * across both (2.6.35's find_mergeable_anon_vma, simplified to the flags test).
 */
static struct anon_vma *find_mergeable_anon_vma(struct vm_area_struct *vma)
{
	struct vm_area_struct *near[2] = {vma_prev(vma), vma_next(vma)};
	for (struct vm_area_struct *n : near) {
		if (!n || !n->anon_vma || n->vm_file != vma->vm_file || n->vm_flags != vma->vm_flags)
			continue;
		const bool adjacent = n->vm_end == vma->vm_start || n->vm_start == vma->vm_end;
		const bool linear = n->vm_pgoff + ((vma->vm_start - n->vm_start) >> PAGE_SHIFT) == vma->vm_pgoff;
		const bool single = n->anon_vma_chain.next->next == &n->anon_vma_chain;
		if (adjacent && linear && single)
			return n->anon_vma;
	}
	return nullptr;
}

int anon_vma_prepare(struct vm_area_struct *vma)
{
	if (vma->anon_vma)
		return 0;
	KFUNC();
	struct mm_struct *mm = vma->vm_mm;
	struct anon_vma_chain *avc = anon_vma_chain_alloc();
	struct anon_vma *allocated = nullptr;
	struct anon_vma *anon_vma = find_mergeable_anon_vma(vma);
	if (!anon_vma) {
		anon_vma = anon_vma_alloc();
		allocated = anon_vma;
	}
	anon_vma_lock_write(anon_vma);
	/* page_table_lock: another thread's fault may be preparing the same vma */
	spin_lock(&mm->page_table_lock);
	if (!vma->anon_vma) {
		vma->anon_vma = anon_vma;
		anon_vma_chain_link(vma, avc, anon_vma);
		allocated = nullptr;
		avc = nullptr;
	}
	spin_unlock(&mm->page_table_lock);
	anon_vma_unlock_write(anon_vma);
	if (allocated)
		put_anon_vma(allocated); /* lost the race: nothing links it */
	if (avc)
		anon_vma_chain_free(avc);
	return 0;
}

int anon_vma_clone(struct vm_area_struct *dst, struct vm_area_struct *src)
{
	KFUNC();
	/* oldest first, so dst's same_vma list ends up in src's order */
	for (struct list_head *l = src->anon_vma_chain.prev; l != &src->anon_vma_chain; l = l->prev) {
		struct anon_vma_chain *pavc = list_entry(l, struct anon_vma_chain, same_vma);
		struct anon_vma *anon_vma = pavc->anon_vma;
		struct anon_vma_chain *avc = anon_vma_chain_alloc();
		anon_vma_lock_write(anon_vma);
		anon_vma_chain_link(dst, avc, anon_vma);
		anon_vma_unlock_write(anon_vma);
	}
	return 0;
}

int anon_vma_fork(struct vm_area_struct *vma, struct vm_area_struct *pvma)
{
	if (!pvma->anon_vma)
		return 0;
	KFUNC();
	/* the parent's anon_vmas first: the child may map every page the parent maps */
	const int err = anon_vma_clone(vma, pvma);
	if (err)
		return err;
	/* then one of its own, for the pages it will COW */
	struct anon_vma *anon_vma = anon_vma_alloc();
	struct anon_vma_chain *avc = anon_vma_chain_alloc();
	anon_vma->root = pvma->anon_vma->root;
	get_anon_vma(anon_vma->root); /* the root outlives the family */
	vma->anon_vma = anon_vma;
	anon_vma_lock_write(anon_vma);
	anon_vma_chain_link(vma, avc, anon_vma);
	anon_vma_unlock_write(anon_vma);
	return 0;
}

void unlink_anon_vmas(struct vm_area_struct *vma)
{
	if (list_empty(&vma->anon_vma_chain))
		return;
	KFUNC();
	std::vector<struct anon_vma *> empty;
	for (struct list_head *l = vma->anon_vma_chain.next, *n = l->next; l != &vma->anon_vma_chain;
	     l = n, n = l->next) {
		struct anon_vma_chain *avc = list_entry(l, struct anon_vma_chain, same_vma);
		struct anon_vma *anon_vma = avc->anon_vma;
		anon_vma_lock_write(anon_vma);
		list_del_init(&avc->same_anon_vma);
		const bool last = list_empty(&anon_vma->head);
		anon_vma_unlock_write(anon_vma);
		/* freeing takes the root lock (trylock/rwsem models): after unlocking */
		if (last)
			empty.push_back(anon_vma);
		list_del_init(&avc->same_vma);
		anon_vma_chain_free(avc);
	}
	for (struct anon_vma *anon_vma : empty)
		put_anon_vma(anon_vma);
	vma->anon_vma = nullptr;
}

/* ---- the rmap of anonymous pages -------------------------------------------- */

void page_add_new_anon_rmap(struct page *page, struct vm_area_struct *vma, unsigned long address)
{
	struct anon_vma *anon_vma = vma->anon_vma;
	BUG_ON(!anon_vma);
	SetPageUptodate(page); /* its contents are valid: zeroed or copied (__SetPageUptodate) */
	SetPageAnon(page);
	page->index = linear_page_index(vma, address);
	WRITE_ONCE(page->anon_vma, anon_vma);
	atomic_set(&page->_mapcount, 0); /* the page is ours alone: no increment needed */
	lru_cache_add_anon(page);
}

void page_add_anon_rmap(struct page *page, struct vm_area_struct *vma, unsigned long address)
{
	BUG_ON(!PageLocked(page) || !vma->anon_vma);
	if (atomic_inc_return(&page->_mapcount) != 0)
		return; /* not the first pte */
	if (PageAnon(page))
		return; /* mapped before: it keeps its anon_vma (2.6.36 __page_set_anon_rmap) */
	/* not exclusive to this vma: the oldest anon_vma, whose walk finds every vma of
	 * the family */
	page->index = linear_page_index(vma, address);
	WRITE_ONCE(page->anon_vma, vma->anon_vma->root);
	SetPageAnon(page);
}

unsigned long vma_address(struct page *page, struct vm_area_struct *vma)
{
	const unsigned long pgoff = page->index;
	const unsigned long address = vma->vm_start + ((pgoff - vma->vm_pgoff) << PAGE_SHIFT);
	if (pgoff < vma->vm_pgoff || address < vma->vm_start || address >= vma->vm_end)
		return static_cast<unsigned long>(-EFAULT);
	return address;
}
