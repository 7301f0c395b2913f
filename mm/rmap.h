/*
 * mm/rmap.h - anonymous reverse mapping: anon_vma, anon_vma_chain, the anon_vma slab
 * with SLAB_DESTROY_BY_RCU semantics, the root lock in four locking models, and the
 * rmap of anonymous pages (page_add_new_anon_rmap, page_dup_rmap, vma_address).
 *
 * Models: mm/rmap.c from 2.6.35 (Rik van Riel's anon_vma_chain and "always lock the root
 * (oldest) anon_vma") through 3.8 (Ingo Molnar's rwsem), docs/MM.md "Anonymous memory
 * and rmap". Every anon vma has an anon_vma of its own (vma->anon_vma: where its new
 * pages go) and is linked, through one anon_vma_chain each, to its own anon_vma and to
 * those of every ancestor it was forked from (vma->anon_vma_chain, the same_vma list).
 * An anon_vma lists, through the chains' same_anon_vma links, every vma that may map
 * one of its pages. A family of anon_vmas shares one root (the oldest), whose lock
 * protects every same_anon_vma list of the family.
 *
 * Invariants:
 *  - anon_vma->root is the family's root; root->root == root. Every non-root anon_vma
 *    holds a reference on its root, so the root is freed last.
 *  - Chains are added at the tail of same_anon_vma, so a walk visits a parent's vma
 *    before its fork child's. On a vma's same_vma list its own anon_vma's chain comes
 *    first (list_add at the head), its oldest ancestor's last.
 *  - refcount: 1 for the chains (dropped when the last chain goes), plus one per
 *    reference taken by get_anon_vma (the mutex model's page_lock_anon_vma, migration,
 *    children on their root). An anon_vma is freed when it reaches 0.
 *  - A page of an anon vma has PG_anon and page->anon_vma = the vma's anon_vma at the
 *    time it was first mapped, page->index = its linear page index in that vma.
 *
 * The slab (vm_globals.anon_vma_cache): a freed anon_vma goes back to the slab at once
 * and may be handed out again at once, but only as another anon_vma: its memory stays
 * an anon_vma until an RCU grace period has passed (SLAB_DESTROY_BY_RCU). The lock
 * inside is initialised once, by the slab's constructor, when the memory first becomes
 * an anon_vma; a lock taken on a reused anon_vma is therefore still a lock. Which free
 * object an allocation gets is drawn from the seeded stream "mm.anon_vma_slab", so runs
 * meet reuse often and reproducibly. After a grace period a free object's slab page may
 * be given back (also drawn): from then on its memory is no anon_vma, and any access is
 * a fatal "use-after-free" report naming the allocation and the release
 * (ObjectTracker, emu/rcu.h).
 *
 * Locking (knob anon_lock; order: mmap_sem > page lock > i_mmap lock > anon_vma >
 * page_table_lock / ptl):
 *  - spin (2.6.35-2.6.39): the root's spinlock_t.
 *  - mutex (3.0): the root's struct mutex; page_lock_anon_vma takes a reference first.
 *  - trylock (3.0 with "Optimize page_lock_anon_vma() fast-path"): the mutex, tried
 *    under RCU first; anon_vma_free waits for a holder it sees.
 *  - rwsem (3.8): the root's rw_semaphore; rmap walkers read, everyone else writes.
 *  - spin_noroot (2.6.34, the first anon_vma_chain kernel): each anon_vma's own
 *    spinlock protects its own list; there is no family lock, so vma_adjust can exclude
 *    only the walkers of the vma's own anon_vma (the root of 2.6.35 fixed that).
 *  The lock class is "anon_vma" in every model.
 *  - vma->anon_vma, vma->anon_vma_chain (same_vma): mmap_sem for writing, or mmap_sem
 *    for reading plus page_table_lock (anon_vma_prepare).
 *  - anon_vma->head (same_anon_vma): the root lock (spin_noroot: its own lock).
 *
 * Context: task context; the spin model's lock holders must not sleep.
 */
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_set>
#include <vector>

#include "emu/rng.h"
#include "kernel/mutex.h"
#include "kernel/rcupdate.h"
#include "kernel/rwsem.h"
#include "mm/mm_types.h"

struct vm_area_struct;

/* The root lock's model (knob anon_lock). */
enum anon_lock_model {
	ANON_LOCK_SPIN,		/* 2.6.35-2.6.39 spinlock, RCU held across a walk */
	ANON_LOCK_MUTEX,	/* 3.0 mutex, page_lock_anon_vma takes a reference */
	ANON_LOCK_TRYLOCK,	/* 3.0 + the trylock fast path and the free side's wait */
	ANON_LOCK_RWSEM,	/* 3.8 rwsem, walkers read */
	ANON_LOCK_SPIN_NOROOT,	/* 2.6.34: each anon_vma's own spinlock, no family lock */
};

/* How page migration keeps the anon_vma of a page it unmaps (knob anon_pin). */
enum anon_pin_model {
	ANON_PIN_REFCOUNT,	/* 2.6.35: a reference (page_get_anon_vma) */
	ANON_PIN_RCU_ONLY,	/* 2.6.34: rcu_read_lock only (bug: freed under migration) */
};

struct anon_vma {
	struct anon_vma *root;		/* the family's oldest; under the root lock to read (fixed) */
	atomic_t refcount;		/* see the invariants */
	struct list_head head;		/* chains (same_anon_vma), oldest vma first; root lock */
	/* The lock, as the model has it (only the root's is ever taken). Initialised once,
	 * by the slab's constructor: a reused anon_vma keeps it. */
	spinlock_t lock;
	struct mutex mutex;
	struct rw_semaphore rwsem;
	/* Slab and oracle state (host side, written by the slab only). */
	std::uint32_t obj;		/* ObjectTracker id of this memory's incarnation */
	unsigned long gen;		/* bumped on every allocation and free */
	bool in_use;			/* allocated (not on the slab's free list) */
	bool released;			/* the slab page was given back (not an anon_vma now) */
	int walkers;			/* rmap walkers holding the root lock now (statistics) */
	unsigned id;			/* for reports: allocation counter */
};

struct anon_vma_chain {
	struct vm_area_struct *vma;
	struct anon_vma *anon_vma;
	struct list_head same_vma;	/* on vma->anon_vma_chain: mmap_sem (+ page_table_lock) */
	struct list_head same_anon_vma;	/* on anon_vma->head: the root lock */
};

/* The anon_vma slab (anon_vma_cachep, SLAB_DESTROY_BY_RCU). Host side of one machine. */
struct anon_vma_slab {
	std::vector<std::unique_ptr<struct anon_vma>> all;
	std::vector<struct anon_vma *> free;		/* freed, still anon_vmas */
	std::vector<struct anon_vma *> released;	/* slab page given back */
	/* anon_vma_chain_cachep (no RCU rule: chains are reached under the root lock) */
	std::vector<std::unique_ptr<struct anon_vma_chain>> chains;
	std::vector<struct anon_vma_chain *> free_chains;
	smpemu::Rng rng{0, ""};				/* "mm.anon_vma_slab" (vm_init) */
	unsigned next_id;
	/* release records queued on RCU and not yet run (freed by vm_exit if the run ends) */
	std::unordered_set<void *> pending;
	/* statistics */
	unsigned long allocs, reuses, releases;
};

/* anon_vma_slab_init/exit - host side, from vm_init/vm_exit. */
void anon_vma_slab_init(struct phys_mem *mem);
void anon_vma_slab_exit(struct phys_mem *mem);

/* anon_vma_alloc - a new anon_vma (its own root, refcount 1, no chains); NULL without
 * memory (never, here). anon_vma_free - give it back to the slab (refcount 0, no chains);
 * in the trylock and rwsem models it first waits for a holder of the root lock.
 * Context: task context. */
struct anon_vma *anon_vma_alloc(void);
void anon_vma_free(struct anon_vma *anon_vma);

/* check_anon_vma - the anon_vma's memory is still an anon_vma (use-after-free report
 * otherwise); @what names the access. */
void check_anon_vma(struct anon_vma *anon_vma, const char *what);

/* References (refcount). put_anon_vma frees it at 0, then drops the root's reference. */
void get_anon_vma(struct anon_vma *anon_vma);
void put_anon_vma(struct anon_vma *anon_vma);
/* __put_anon_vma - the last reference is gone (refcount already 0): free it, then drop
 * the root's reference. */
void __put_anon_vma(struct anon_vma *anon_vma);

/* The root lock, for writing (every model) or for reading (rwsem model: shared).
 * Context: may sleep unless anon_lock=spin. */
void anon_vma_lock_write(struct anon_vma *anon_vma);
void anon_vma_unlock_write(struct anon_vma *anon_vma);
void anon_vma_lock_read(struct anon_vma *anon_vma);
void anon_vma_unlock_read(struct anon_vma *anon_vma);

/* vma side. Locking: mmap_sem for writing, except anon_vma_prepare (for reading). */
/* anon_vma_prepare - give @vma an anon_vma (a compatible neighbour's or a new one)
 * before its first anonymous page; 0 or -ENOMEM. Takes the root lock and, nested
 * inside it, page_table_lock. */
int anon_vma_prepare(struct vm_area_struct *vma);
/* anon_vma_clone - link @dst to every anon_vma @src is linked to (split, merge,
 * mremap); 0 or -ENOMEM. */
int anon_vma_clone(struct vm_area_struct *dst, struct vm_area_struct *src);
/* anon_vma_fork - at fork: clone @pvma's chains into @vma, then give @vma a new
 * anon_vma of its own in @pvma's family. 0 or -ENOMEM. */
int anon_vma_fork(struct vm_area_struct *vma, struct vm_area_struct *pvma);
/* unlink_anon_vmas - remove @vma from every anon_vma it is linked to; anon_vmas left
 * without chains are freed after their root lock is released. */
void unlink_anon_vmas(struct vm_area_struct *vma);

/* Mapcount of anonymous pages. Locking: the pte lock of the pte being set. */
/* page_add_new_anon_rmap - @page (new, exclusive) is mapped at @address of @vma; it
 * goes on the LRU (mm/swap.h). */
void page_add_new_anon_rmap(struct page *page, struct vm_area_struct *vma, unsigned long address);
/* page_add_anon_rmap - swap-in mapped @page (locked; maybe mapped elsewhere already)
 * at @address of @vma. A page mapped for the first time takes the root of the vma's
 * anon_vma family (it may be shared with other processes); one that was anonymous before
 * keeps its anon_vma. */
void page_add_anon_rmap(struct page *page, struct vm_area_struct *vma, unsigned long address);
/* page_dup_rmap - fork copied a pte mapping @page. */
static inline void page_dup_rmap(struct page *page) { atomic_inc(&page->_mapcount); }
/* page_anon_vma - the anon_vma an anonymous page was mapped under (a plain read of a
 * field fixed while the page is mapped: READ_ONCE, a sync point on the page's line). */
static inline struct anon_vma *page_anon_vma(struct page *page) { return READ_ONCE(page->anon_vma); }

/* vma_address - where @page is mapped in @vma, or -EFAULT if its index is outside it. */
unsigned long vma_address(struct page *page, struct vm_area_struct *vma);
