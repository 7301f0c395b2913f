/*
 * mm/rmap_walk.h - walking the reverse map of a page: every pte that maps it, found
 * through its anon_vma (anonymous pages) or its file's i_mmap tree (file pages); the
 * anon_vma read lock in the four models of knob anon_lock; page_referenced and
 * try_to_unmap.
 *
 * Models: mm/rmap.c of 2.6.35 (spin), 3.0 (mutex plus a reference, and Peter
 * Zijlstra's trylock fast path) and 3.8 (Ingo Molnar's rwsem read side), docs/MM.md
 * "Anonymous memory and rmap". page_lock_anon_vma_read(page):
 *  - spin: under rcu_read_lock, read the page's anon_vma; fail if the page is not
 *    mapped; spin on the root lock. RCU stays held until the unlock: the memory stays an
 *    anon_vma (type-stable slab) even if it is freed meanwhile.
 *  - mutex: under RCU, take a reference if the refcount is not zero, recheck that the
 *    page is mapped, leave RCU, sleep on the root mutex. Unlock drops the reference.
 *  - trylock: under RCU, try the root mutex; if taken, recheck mapped (fail and unlock if
 *    not) and hold it without a reference: anon_vma_free waits for a holder it sees.
 *    Otherwise the mutex model's slow path, dropping the reference once locked (if it
 *    was the last, unlock, free and fail).
 *  - rwsem: the trylock model with down_read_trylock / down_read: walkers share the
 *    lock; writers (chains, vma_adjust, mremap) exclude them.
 *
 * Invariants: the walk visits the vmas of the page's anon_vma in chain order (a parent
 * before its fork children); a vma where the page's index falls outside is skipped.
 *
 * Locking: the anon_vma lock (read) or the file's i_mmap lock, then each pte lock.
 * Context: task context; the spin model's walk must not sleep.
 */
#pragma once

#include "mm/mm.h"

/* The walker's side of the anon_vma lock; NULL if the page is not mapped (any more) or
 * not anonymous. */
struct anon_vma *page_lock_anon_vma_read(struct page *page);
void page_unlock_anon_vma_read(struct anon_vma *anon_vma);

/*
 * rmap_walk - call @rmap_one(page, vma, address, arg) for every vma that may map @page
 * (anon or file), under the lock above; stops when it returns false. Returns false if
 * the page could not be locked for a walk (not mapped).
 */
typedef bool (*rmap_one_t)(struct page *page, struct vm_area_struct *vma, unsigned long address, void *arg);
bool rmap_walk(struct page *page, rmap_one_t rmap_one, void *arg);
/* rmap_walk_pinned - the walk of migration (2.6.35 rmap_walk): the caller pinned the
 * anon_vma, so it is locked as page_anon_vma(@page) says, without page_lock_anon_vma's
 * check that the page is mapped (a page under migration is not). */
bool rmap_walk_pinned(struct page *page, rmap_one_t rmap_one, void *arg);

/* page_check_address - @page's pte at @address of @mm, locked (*@ptlp), if it maps
 * @page; NULL (nothing held) otherwise. */
pgtable_slot_t *page_check_address(struct page *page, struct mm_struct *mm, unsigned long address,
				   spinlock_t **ptlp);

/*
 * try_to_unmap - remove every pte mapping locked @page (rmap walk). An anonymous page
 * must be in the swap cache: each of its ptes becomes a swap pte naming its slot (the
 * slot's count raised per pte); a file page's ptes are cleared (linear vmas only:
 * ptes of nonlinear vmas are not found, and the page stays mapped). A dirty pte dirties
 * the page. Unless TTU_IGNORE_ACCESS, a pte found young (accessed since the last scan)
 * stops the walk: the page is in use (its bit is cleared, as page_referenced does).
 * Returns SWAP_SUCCESS (no pte maps it now), SWAP_AGAIN (some still do) or SWAP_FAIL
 * (a young pte). Migration entries (the kernel's TTU_MIGRATION) are not modelled yet.
 * Locking: page locked by the caller; takes the rmap lock, then each pte lock.
 */
enum ttu_flags {
	TTU_UNMAP = 0,			/* reclaim: anon ptes become swap ptes */
	TTU_MIGRATION = 1,		/* migration: anon ptes become migration entries (a page
					 * in the swap cache gets swap ptes, as in 2.6.35) */
	TTU_ACTION_MASK = 0xff,
	TTU_IGNORE_ACCESS = (1 << 9),	/* unmap young ptes too */
};
#define SWAP_SUCCESS 0
#define SWAP_AGAIN 1
#define SWAP_FAIL 2
int try_to_unmap(struct page *page, unsigned flags);

/*
 * page_referenced - how many of @page's ptes had the accessed bit set; clears them
 * (flushing the TLB of those that had it). Context: the page need not be locked.
 */
int page_referenced(struct page *page);
