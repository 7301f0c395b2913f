/*
 * mm/migrate.h - page migration: move an isolated anonymous page to another frame while
 * processes keep it mapped, with migration entries standing in for its ptes meanwhile.
 *
 * Models: mm/migrate.c of 2.6.35 (Christoph Lameter's migration with Mel Gorman's 2010
 * fixes for compaction), docs/MM.md "Page migration". unmap_and_move:
 *  1. take a target frame from the caller's allocator; a page whose only reference is
 *     the isolation's was freed under us: done;
 *  2. lock the page: trylock, and sleep for it only when forced (passes 3 to 10);
 *  3. pin its anon_vma (knob anon_pin: a reference, as 2.6.35 does, or only RCU, as
 *     2.6.34 did, which lets an exiting process free it in the middle);
 *  4. try_to_unmap(TTU_MIGRATION): each pte becomes a migration entry, READ or WRITE as
 *     the pte was (mm/swapops.h), naming the old pfn;
 *  5. unmapped: move_to_new_page - lock the new page, give it the old one's identity
 *     (anon_vma, index), migrate_page_move_mapping (a swap cache page changes slots
 *     under tree_lock once its count is exactly the expected one), copy data and flags,
 *     remove_migration_ptes(old, new): an rmap walk of the new page that turns each
 *     entry naming old back into a pte, now for new;
 *  6. failed: remove_migration_ptes(old, old) restores the old ptes;
 *  7. unpin, unlock the old page, put both back on the LRU (the old one is freed there
 *     when it moved).
 * migrate_pages tries each page of a list up to 10 passes while some return -EAGAIN.
 *
 * Only anonymous pages migrate: the LRU holds no file pages here (mm/swap.h), so the
 * kernel's file paths (the page cache slot, buffers, orphaned pages truncated while
 * isolated) do not arise, and there is no writeback to wait for (swap_writepage is
 * synchronous under the page lock, mm/swapfile.h).
 *
 * Oracles (fatal reports):
 *  - "migration-entry-left": unlock_page of a page that migration entries still name
 *    (checked eagerly: the 2010 races leave one behind and unlock the page);
 *  - "migration-entry-unlocked": a fault meets a migration entry whose page is not
 *    locked (the kernel's BUG_ON in migration_entry_to_page);
 *  - "anon-vma-freed-under-migration": remove_migration_ptes walks an anon_vma that was
 *    freed, and handed out again, since migration looked it up (anon_pin=rcu_only).
 * The entries are counted host-side per pfn (vm_globals::migration_ptes) where they are
 * made, copied and dropped; the end-of-run check compares the count with the ptes.
 *
 * Locking: the page lock of the old page for the whole move (the new page's inside it);
 * then the anon_vma root lock for each walk, the pte lock for each pte, tree_lock for
 * the swap cache slot: the mm order (page lock > anon_vma > ptl > tree_lock).
 * Context: task context; may sleep (lock_page when forced, page allocation by the caller's
 * allocator) except between the anon_pin=rcu_only pin and unpin.
 */
#pragma once

#include <string>
#include <vector>

#include "mm/mm.h"
#include "mm/swapops.h"

/* new_page_t - the caller's allocator of a target frame for @page (count 1), or NULL. */
typedef struct page *new_page_t(struct page *page, void *priv);

/*
 * migrate_pages - move every page of @from (isolated from the LRU, each pinned by the
 * isolation's reference) to a frame from @get_new_page. Pages that moved, and those that
 * failed for good, leave @from (put back on the LRU, the moved ones freed there); those
 * still failing with -EAGAIN after 10 passes stay for the caller's putback_lru_pages.
 * Returns the number of pages not moved, or -ENOMEM when @get_new_page ran dry.
 */
enum migrate_mode {
	MIGRATE_SYNC,	/* from the fourth pass on, sleep for a busy page lock */
	MIGRATE_ASYNC,	/* never sleep for it (NUMA balancing, from a fault) */
};
int migrate_pages(std::vector<struct page *> *from, new_page_t *get_new_page, void *priv,
		  enum migrate_mode mode = MIGRATE_SYNC);

/*
 * migrate_pages_unmap_only - lazy migration (mbind MPOL_MF_LAZY, 2006/2012 prototype):
 * each isolated page of @pages is only unmapped, into the swap cache (add_to_swap if it
 * is not there) with a normal try_to_unmap, so its ptes become swap ptes and the first
 * fault on one migrates it if its policy says so (migrate_misplaced_page). Gives up
 * easily: a page freed under us (count 1) or whose lock is busy stays as it is. Every
 * page goes back on the LRU. Returns the number not unmapped.
 * Oracle "unmap-only-state": an unmapped page has mapcount 0, is in the swap cache, and
 * its slot's count equals the swap ptes naming it.
 * Context: the task owning the pages' mm, holding its mmap_sem for writing; may sleep.
 */
int migrate_pages_unmap_only(std::vector<struct page *> *pages);
/* unmap_only_check - the oracle "unmap-only-state" on @page, which migrate_pages_unmap_only
 * has just unmapped: nothing maps it, it is in the swap cache, and its slot's count is
 * the number of swap ptes naming it (host-side walk). Locking: @page locked. */
void unmap_only_check(struct page *page);

/*
 * migrate_misplaced_page - migrate-on-fault (do_swap_page): move locked swap cache
 * @page, unmapped, for which the fault holds a reference, to a new frame on node @nid
 * (MIGRATE_FAULT: the fault's reference is expected besides the cache's and the
 * isolation's). Allocates without sleeping and without falling back; the new page takes
 * the swap cache slot, the old one is unlocked and freed. Returns the page the fault
 * goes on with: the new one, locked and holding the fault's reference, or @page itself
 * when it could not move (not on the LRU, no frame on @nid, another reference).
 * Oracle "migrate-mapped-page": the page must not be mapped (check_migrate_misplaced_page
 * tests it; knob mof_check=off plants the omission).
 */
struct page *migrate_misplaced_page(struct page *page, int nid);

/* remove_migration_ptes - an rmap walk of @new_page (locked, with @old's anon_vma and
 * index; pinned by the caller) turning each entry naming @old into a pte for
 * @new_page; @new_page == @old restores the old ptes. */
void remove_migration_ptes(struct page *old, struct page *new_page);

/* putback_lru_pages - every page of @pages back on its LRU (drops the isolations). */
void putback_lru_pages(std::vector<struct page *> *pages);

/*
 * migration_entry_wait - do_swap_page met migration entry @entry at @address: under the
 * pte lock check it is still there, then wait (with a reference) until its page is
 * unlocked; the caller returns and the access faults again.
 */
void migration_entry_wait(struct mm_struct *mm, pgtable_slot_t *pmd, unsigned long address);

/* Host-side bookkeeping of migration entries (no sync points): one more pte holds an
 * entry for @pfn (try_to_unmap, fork), or one fewer (remove_migration_ptes, zap). */
void migration_entry_made(unsigned long pfn);
void migration_entry_dropped(unsigned long pfn);
/* migration_check_unlock - unlock_page(@page): no entry may still name it. */
void migration_check_unlock(struct page *page);
/* migration_check_entries - end of run: the entries in page tables match the count,
 * and none is left (all migrations finished). "" or what is wrong. */
std::string migration_check_entries(const struct phys_mem *mem);
