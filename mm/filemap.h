/*
 * mm/filemap.h - struct address_space: a file's page cache, its reverse map of vmas
 * (i_mmap tree + nonlinear list), i_size and truncate_count; the nopage handler.
 *
 * Models: the 2.6.11 address_space and inode fields this slice needs (i_size, i_sem as
 * i_mutex), mm/filemap.c (find_get_page, add_to_page_cache, filemap_nopage) and the
 * backing store of a file as one content word per page ("disk").
 *
 * i_mmap: linear vmas ordered by (vm_pgoff, vm_seq). The kernel uses a prio tree; an
 * ordered set gives the same answer to "every vma overlapping [first, last]" (the
 * query walks vmas whose vm_pgoff <= last and filters by their last index), which is
 * O(vmas) rather than O(log n + hits): cheap at the hundreds of vmas workloads use, and
 * the emulated cost is charged per vma visited either way.
 *
 * Locking (docs/MM.md order: i_mutex > mmap_sem > page_lock > i_mmap_lock >
 * page_table_lock > tree_lock):
 *  - i_mutex (class "i_mutex"): truncate and extend (the kernel's i_sem).
 *  - i_size: written under i_mutex with WRITE_ONCE, read locklessly (i_size_read).
 *  - i_mmap, i_mmap_nonlinear, every vma's vm_truncate_count, truncate_count (written):
 *    the i_mmap lock: spinlock_t class "i_mmap_lock", or with lockbreak=mutex_nobreak
 *    a struct mutex class "i_mmap_mutex" (3.0). truncate_count is read locklessly by
 *    faults (READ_ONCE), so it is a shared word.
 *  - page_tree, nrpages: tree_lock (rwlock_t as in 2.6.11, class "tree_lock"): lookups
 *    read-lock it, insertion and removal write-lock it.
 *  - A page's mapping/index: set when added to the cache, cleared by truncate under the
 *    page lock.
 *
 * Oracles kept here (host-side, no sync points):
 *  - eof_limit: page index from which no pte may map this file; set when
 *    unmap_mapping_range returns for a truncate, cleared when i_size grows again.
 *  - shadow: the value last written to each file page through a shared mapping (or read
 *    from disk), reset when truncate discards the page; a user read of a file page that
 *    differs is a fatal "shadow-memory" report (nothing written may be lost).
 *
 * Context: task context.
 */
#pragma once

#include <map>
#include <set>
#include <vector>

#include "mm/mm.h"

struct vma_pgoff_less {
	bool operator()(const struct vm_area_struct *a, const struct vm_area_struct *b) const
	{
		return a->vm_pgoff != b->vm_pgoff ? a->vm_pgoff < b->vm_pgoff : a->vm_seq < b->vm_seq;
	}
};

struct address_space {
	unsigned id;
	shared<unsigned long> i_size;		/* bytes */
	struct mutex i_mutex;
	/* page cache */
	rwlock_t tree_lock;
	std::map<unsigned long, struct page *> page_tree;	/* by index */
	unsigned long nrpages;
	/* reverse map */
	std::set<struct vm_area_struct *, vma_pgoff_less> i_mmap;
	struct list_head i_mmap_nonlinear;
	bool i_mmap_sleeps;			/* i_mmap_mutex instead of i_mmap_lock */
	spinlock_t i_mmap_lock;
	struct mutex i_mmap_mutex;
	shared<unsigned long> truncate_count;
	unsigned long truncate_count_mask;	/* (1 << truncate_count_bits) - 1 */
	/* backing store and oracles */
	std::vector<unsigned long> disk;	/* content of each page on disk; 0 = hole */
	std::vector<unsigned long> shadow;	/* last value written, by page index */
	unsigned long eof_limit;		/* ~0UL: no truncate in force */
	struct truncate_record last_truncate;	/* for reports (mm/history.h); i_mutex */
	unsigned long max_pages;		/* the file never grows past this */
};

/* address_space_init - a file of @pages pages (i_size = @pages * PAGE_SIZE) that can
 * grow to @max_pages; disk contents are (id << 32 | index + 1). The i_mmap lock is a
 * mutex under lockbreak=mutex_nobreak (vm_init first). Host side (before run). */
void address_space_init(struct phys_mem *mem, struct address_space *mapping, unsigned id, unsigned long pages,
			unsigned long max_pages);
/* address_space_exit - drop the page cache references (host side, after run). */
void address_space_exit(struct address_space *mapping);

static inline unsigned long i_size_read(struct address_space *mapping) { return READ_ONCE(mapping->i_size); }
/* i_size_write - Locking: i_mutex held. Growing clears eof_limit (the oracle). */
void i_size_write(struct address_space *mapping, unsigned long size);

/* The i_mmap lock, spinlock or mutex as the mapping was set up. */
void i_mmap_lock_write(struct address_space *mapping);
void i_mmap_unlock_write(struct address_space *mapping);
/* need_lockbreak - someone waits for the i_mmap lock and we may break for them:
 * 2.6.10's break_lock, only under CONFIG_PREEMPT (0 for the mutex). */
bool i_mmap_need_lockbreak(struct address_space *mapping);

/* vma_prio_tree_insert/remove, vma_nonlinear_insert: Locking: i_mmap lock held. */
void vma_prio_tree_insert(struct vm_area_struct *vma, struct address_space *mapping);
void vma_prio_tree_remove(struct vm_area_struct *vma, struct address_space *mapping);

/* find_get_page - the cached page at @index with a reference, or NULL. */
struct page *find_get_page(struct address_space *mapping, unsigned long index);
/*
 * read_cache_page - the page at @index with a reference, reading it from disk into a
 * new page if it is not cached (a racing reader's page wins). NULL without memory.
 * Context: may sleep (the page lock).
 */
struct page *read_cache_page(struct address_space *mapping, unsigned long index);
/* remove_from_page_cache - Locking: page locked. Drops nothing: the caller puts the
 * cache's reference. */
void remove_from_page_cache(struct page *page);

/* Fault results, as 2.6.11's VM_FAULT_* and NOPAGE_*. */
#define VM_FAULT_SIGBUS 0
#define VM_FAULT_MINOR 1
#define VM_FAULT_MAJOR 2
#define VM_FAULT_OOM (-1)

/*
 * filemap_nopage - ->nopage of a file vma: the page at @address with a reference, or
 * NULL with *@type = VM_FAULT_SIGBUS (beyond i_size) or VM_FAULT_OOM. Reads i_size
 * locklessly (the value the truncate_count recheck protects). @fs (the emulator's
 * addition, may be NULL) notes where and what it read, for the reports.
 */
struct page *filemap_nopage(struct vm_area_struct *vma, unsigned long address, int *type,
			    struct fault_sample *fs);

/* Oracles. shadow_check_read: @val was read through @mm's pte at @addr from file page
 * @page at @index; shadow_note_write: @val was written to it. Context: the turn of the
 * access. */
void shadow_check_read(struct mm_struct *mm, unsigned long addr, struct address_space *mapping, struct page *page,
		       unsigned long index, unsigned long val, const char *who);
void shadow_note_write(struct address_space *mapping, unsigned long index, unsigned long val,
		       caller_ip_t ip = _RET_IP_);
/* check_pte_beyond_eof - a pte of @vma at @addr was just set to map @page (index
 * @index): it must not lie at or beyond eof_limit, and the page must still be in the
 * cache. Fatal "pte-beyond-eof" otherwise. */
void check_pte_beyond_eof(struct vm_area_struct *vma, unsigned long addr, struct page *page, unsigned long index);
