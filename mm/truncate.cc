/*
 * mm/truncate.cc - unmap_mapping_range (lockbreak variants), truncate_inode_pages,
 * vmtruncate and the pte-beyond-EOF oracle.
 */
#include "mm/truncate.h"

#include <string>

#include "kernel/oracle.h"
#include "mm/history.h"

/* Cost of visiting one vma in the i_mmap walk (assumed: a few dependent loads). */
static constexpr smpemu::Cycles kVmaVisitCycles = 40;
/* truncate_complete_page's own work per page besides its locks: invalidatepage, dirty
 * and LRU accounting (assumed, about a quarter microsecond). */
static constexpr smpemu::Cycles kTruncatePageCycles = 500;
/* Pages looked up at a time (the kernel's PAGEVEC_SIZE). */
#define PAGEVEC_SIZE 16

static bool is_restart_addr(unsigned long count)
{
	return (count & ~PAGE_MASK) == 0;
}

static bool uses_skip_marks(enum trunc_lockbreak lb)
{
	return lb == LOCKBREAK_RESTART_VMA || lb == LOCKBREAK_RESTART_IN_VMA;
}

static void reset_vma_truncate_counts(struct address_space *mapping)
{
	for (struct vm_area_struct *vma : mapping->i_mmap)
		vma->vm_truncate_count = 0;
	for (struct list_head *p = mapping->i_mmap_nonlinear.next; p != &mapping->i_mmap_nonlinear; p = p->next)
		list_entry(p, struct vm_area_struct, nonlinear)->vm_truncate_count = 0;
	vm_globals()->stats.umr_count_resets++;
}

/* Drop the i_mmap lock for whoever waits, reschedule, retake it. */
static void i_mmap_lockbreak(struct address_space *mapping)
{
	i_mmap_unlock_write(mapping);
	cond_resched();
	i_mmap_lock_write(mapping);
}

/*
 * Zap [start, end) of @vma for unmap_mapping_range. Returns -EINTR if the lock was
 * dropped (the caller must restart its walk), else 0.
 */
static int unmap_mapping_range_vma(struct vm_area_struct *vma, unsigned long start_addr, unsigned long end_addr,
				   struct zap_details *details)
{
	KFUNC();
	struct vm_globals *vm = vm_globals();
	struct address_space *mapping = vma->vm_file;
	switch (vm->t.lockbreak) {
	case LOCKBREAK_NONE:
	case LOCKBREAK_MUTEX_NOBREAK:
		zap_page_range(vma, start_addr, end_addr - start_addr, details);
		return 0;

	case LOCKBREAK_RESTART_VMA: {
		/* vmtrunc 4/6: the restart point is remembered in details, by pointer */
		if (vma == details->restart_vma && start_addr < details->restart_addr) {
			start_addr = details->restart_addr;
			vm->stats.restart_vma_skips++;
			if (linear_page_index(vma, start_addr) != details->restart_pgoff || start_addr >= end_addr) {
				vma->vm_truncate_count = details->truncate_count;
				return 0;
			}
		}
		for (;;) {
			details->break_addr = zap_page_range(vma, start_addr, end_addr - start_addr, details);
			const bool need_break = need_resched() || i_mmap_need_lockbreak(mapping);
			if (details->break_addr >= end_addr) {
				vma->vm_truncate_count = details->truncate_count;
				if (!need_break)
					return 0;
			} else {
				if (!need_break) {
					start_addr = details->break_addr;
					continue;
				}
				details->restart_vma = vma;
				details->restart_pgoff = linear_page_index(vma, details->break_addr);
				details->restart_addr = details->break_addr;
			}
			i_mmap_lockbreak(mapping);
			return -EINTR;
		}
	}

	case LOCKBREAK_RESTART_IN_VMA:
		/* 7/6: the restart address lives in the vma's own vm_truncate_count */
		for (;;) {
			const unsigned long restart_addr = vma->vm_truncate_count;
			if (is_restart_addr(restart_addr) && start_addr < restart_addr) {
				start_addr = restart_addr;
				if (start_addr >= end_addr) {
					vma->vm_truncate_count = details->truncate_count;
					return 0;
				}
			}
			const unsigned long reached = zap_page_range(vma, start_addr, end_addr - start_addr, details);
			const bool need_break = need_resched() || i_mmap_need_lockbreak(mapping);
			if (reached >= end_addr) {
				vma->vm_truncate_count = details->truncate_count;
				if (!need_break)
					return 0;
			} else {
				vma->vm_truncate_count = reached;
				if (!need_break)
					continue;
			}
			i_mmap_lockbreak(mapping);
			return -EINTR;
		}
	}
	return 0;
}

static void unmap_mapping_range_tree(struct address_space *mapping, struct zap_details *details)
{
	KFUNC();
	struct vm_globals *vm = vm_globals();
	const bool skip = uses_skip_marks(vm->t.lockbreak);
restart:
	for (auto it = mapping->i_mmap.begin(); it != mapping->i_mmap.end(); ++it) {
		struct vm_area_struct *vma = *it;
		if (vma->vm_pgoff > details->last_index)
			break;
		cpu_work(kVmaVisitCycles);
		const unsigned long vba = vma->vm_pgoff;
		const unsigned long vea = vba + ((vma->vm_end - vma->vm_start) >> PAGE_SHIFT) - 1;
		if (vea < details->first_index)
			continue;
		/* Skip quickly over those we have already dealt with */
		if (skip && vma->vm_truncate_count == details->truncate_count) {
			vm->stats.umr_vmas_skipped++;
			continue;
		}
		const unsigned long zba = details->first_index > vba ? details->first_index : vba;
		const unsigned long zea = details->last_index < vea ? details->last_index : vea;
		if (unmap_mapping_range_vma(vma, ((zba - vba) << PAGE_SHIFT) + vma->vm_start,
					    ((zea - vba + 1) << PAGE_SHIFT) + vma->vm_start, details) < 0) {
			vm->stats.umr_restarts++;
			goto restart;
		}
	}
}

static void unmap_mapping_range_list(struct address_space *mapping, struct zap_details *details)
{
	KFUNC();
	struct vm_globals *vm = vm_globals();
	const bool skip = uses_skip_marks(vm->t.lockbreak);
	struct list_head *head = &mapping->i_mmap_nonlinear;
restart:
	for (struct list_head *p = head->next; p != head; p = p->next) {
		struct vm_area_struct *vma = list_entry(p, struct vm_area_struct, nonlinear);
		cpu_work(kVmaVisitCycles);
		if (skip && vma->vm_truncate_count == details->truncate_count) {
			vm->stats.umr_vmas_skipped++;
			continue;
		}
		/* the whole vma: its pages may sit anywhere in it */
		details->nonlinear_vma = vma;
		const int ret = unmap_mapping_range_vma(vma, vma->vm_start, vma->vm_end, details);
		details->nonlinear_vma = nullptr;
		if (ret < 0) {
			vm->stats.umr_restarts++;
			goto restart;
		}
	}
}

void unmap_mapping_range(struct address_space *mapping, unsigned long holebegin, unsigned long holelen,
			 bool even_cows)
{
	KFUNC();
	struct vm_globals *vm = vm_globals();
	const struct vm_tunables *t = &vm->t;
	const unsigned long hba = holebegin >> PAGE_SHIFT;
	const unsigned long hlen = (holelen + PAGE_SIZE - 1) >> PAGE_SHIFT;
	struct zap_details details = {};
	details.check_mapping = even_cows ? nullptr : mapping;
	details.nonlinear_vma = nullptr;
	details.first_index = hba;
	details.last_index = hba + hlen - 1;
	if (details.last_index < details.first_index)
		details.last_index = ~0UL;
	details.i_mmap_lock = uses_skip_marks(t->lockbreak) ? mapping : nullptr;
	details.atomic = t->lockbreak == LOCKBREAK_NONE;
	details.restart_vma = nullptr;
	vm->stats.umr_calls++;

	i_mmap_lock_write(mapping);
	smp_wmb(); /* the caller's i_size store before the count (the fault reads them the other way) */
	/* Protect against page faults, and endless unmapping loops */
	const unsigned long mask = mapping->truncate_count_mask;
	unsigned long count = (mapping->truncate_count.v + 1) & mask;
	if (t->lockbreak == LOCKBREAK_RESTART_IN_VMA && is_restart_addr(count)) {
		/* page-aligned values are restart addresses: never use one as a count */
		if (count == 0 && t->wrap_reset)
			reset_vma_truncate_counts(mapping);
		count = (count + 1) & mask;
	} else if (t->lockbreak == LOCKBREAK_RESTART_VMA && count == 0) {
		count = 1;
		if (t->wrap_reset)
			reset_vma_truncate_counts(mapping);
	}
	WRITE_ONCE(mapping->truncate_count, count);
	note_truncate_count(mapping, count);
	smp_mb();
	details.truncate_count = count;

	/* The tree first: a vma can move from the tree to the list while the lock is
	 * dropped, never back. */
	if (t->tree_first) {
		if (!mapping->i_mmap.empty())
			unmap_mapping_range_tree(mapping, &details);
		if (!list_empty(&mapping->i_mmap_nonlinear))
			unmap_mapping_range_list(mapping, &details);
	} else {
		if (!list_empty(&mapping->i_mmap_nonlinear))
			unmap_mapping_range_list(mapping, &details);
		if (!mapping->i_mmap.empty())
			unmap_mapping_range_tree(mapping, &details);
	}
	i_mmap_unlock_write(mapping);
}

/* The truncate-mapped-page oracle: @page (locked, still in @mapping) is mapped after
 * unmap_mapping_range. The report names a pte that maps it and that pte's fault. */
/* If @mm maps @page at @addr, add that pte's origin to @sides. */
static bool add_pte_if_maps(std::vector<struct report_side> *sides, struct mm_struct *mm, unsigned long addr,
			    struct page *page)
{
	const pte_t pte = __pte(peek_pte(mm, addr));
	if (!pte_present(pte) || pte_pfn(pte) != page->pfn)
		return false;
	pte_origin_sides(sides, mm, addr, page->pfn);
	return true;
}

static void report_mapped_page(struct address_space *mapping, struct page *page)
{
	std::vector<struct report_side> sides;
	bool found = false;
	for (struct vm_area_struct *v : mapping->i_mmap) {
		const unsigned long pages = (v->vm_end - v->vm_start) >> PAGE_SHIFT;
		if (page->index < v->vm_pgoff || page->index >= v->vm_pgoff + pages)
			continue;
		const unsigned long addr = v->vm_start + ((page->index - v->vm_pgoff) << PAGE_SHIFT);
		if ((found = add_pte_if_maps(&sides, v->vm_mm, addr, page)))
			break;
	}
	for (struct list_head *p = mapping->i_mmap_nonlinear.next; p != &mapping->i_mmap_nonlinear && !found;
	     p = p->next) {
		struct vm_area_struct *vma = list_entry(p, struct vm_area_struct, nonlinear);
		for (unsigned long addr = vma->vm_start; addr < vma->vm_end && !found; addr += PAGE_SIZE)
			found = add_pte_if_maps(&sides, vma->vm_mm, addr, page);
	}
	truncate_sides(&sides, mapping);
	report_check("truncate-mapped-page",
		     "truncate_inode_pages: page " + std::to_string(page->index) + " of file " +
			     std::to_string(mapping->id) + " (pfn " + std::to_string(page->pfn) + ") is still mapped " +
			     std::to_string(page_mapcount(page)) + " times after unmap_mapping_range",
		     true, sides);
}

void truncate_inode_pages(struct address_space *mapping, unsigned long lstart)
{
	KFUNC();
	const unsigned long start = (lstart + PAGE_SIZE - 1) >> PAGE_SHIFT;
	unsigned long next = start;
	for (;;) {
		/* pagevec_lookup: up to PAGEVEC_SIZE pages under one read hold */
		struct page *vec[PAGEVEC_SIZE];
		unsigned nr = 0;
		read_lock(&mapping->tree_lock);
		for (auto it = mapping->page_tree.lower_bound(next); it != mapping->page_tree.end() && nr < PAGEVEC_SIZE;
		     ++it) {
			vec[nr++] = it->second;
			get_page(it->second);
		}
		read_unlock(&mapping->tree_lock);
		if (!nr)
			break;
		for (unsigned i = 0; i < nr; i++) {
			struct page *page = vec[i];
			next = page->index + 1;
			lock_page(page);
			if (page->mapping == mapping) {
				if (page_mapped(page))
					report_mapped_page(mapping, page);
				const unsigned long index = page->index;
				cpu_work(kTruncatePageCycles);
				remove_from_page_cache(page);
				/* the data beyond EOF is gone: a later read of this page reads the hole */
				shadow_note_write(mapping, index, 0);
				ClearPageDirty(page);
				vm_globals()->stats.truncated_pages++;
				unlock_page(page);
				put_page(page); /* the page cache's reference */
			} else {
				unlock_page(page);
			}
			put_page(page);
		}
		cond_resched();
	}
}

int vmtruncate(struct address_space *mapping, unsigned long offset)
{
	KFUNC();
	const unsigned long pages = (offset + PAGE_SIZE - 1) >> PAGE_SHIFT;
	if (pages > mapping->max_pages)
		return -EINVAL;
	const unsigned long old = mapping->i_size.v; /* i_mutex held: we are the only writer */
	vm_globals()->stats.truncates++;
	if (offset < old)
		note_truncate_size(mapping, (old + PAGE_SIZE - 1) >> PAGE_SHIFT, pages);
	i_size_write(mapping, offset);
	if (offset >= old)
		return 0;
	/* On disk the tail is a hole now; uncached pages there read as zero. Cached ones keep
	 * their data (and their shadow) until truncate_inode_pages drops them. */
	for (unsigned long i = pages; i < mapping->max_pages; i++) {
		mapping->disk[i] = 0;
		if (!mapping->page_tree.count(i))
			mapping->shadow[i] = 0;
	}
	unmap_mapping_range(mapping, offset + PAGE_SIZE - 1, 0, true);
	mapping->eof_limit = pages;
	check_mapping_eof(mapping, pages);
	truncate_inode_pages(mapping, offset);
	return 0;
}

/* Report the first present pte of @vma mapping a page at or beyond @limit. */
static bool check_vma_eof(struct vm_area_struct *vma, unsigned long limit)
{
	struct mm_struct *mm = vma->vm_mm;
	const bool nonlinear = vma->vm_flags & VM_NONLINEAR;
	unsigned long addr = vma->vm_start;
	if (!nonlinear) {
		if (vma->vm_pgoff + ((vma->vm_end - vma->vm_start) >> PAGE_SHIFT) <= limit)
			return false;
		if (vma->vm_pgoff < limit)
			addr = vma->vm_start + ((limit - vma->vm_pgoff) << PAGE_SHIFT);
	}
	for (; addr < vma->vm_end; addr += PAGE_SIZE) {
		const pte_t pte = __pte(peek_pte(mm, addr));
		if (!pte_present(pte))
			continue;
		struct page *page = pfn_to_page(mm->mem, pte_pfn(pte));
		const unsigned long index = nonlinear ? page->index : linear_page_index(vma, addr);
		if (nonlinear && PageAnon(page))
			continue;
		if (index < limit)
			continue;
		std::vector<struct report_side> sides;
		pte_origin_sides(&sides, mm, addr, page->pfn);
		truncate_sides(&sides, vma->vm_file);
		report_check("pte-beyond-eof",
			     "after truncate to " + std::to_string(limit) + " pages of file " +
				     std::to_string(vma->vm_file->id) + ", mm " + std::to_string(mm->id) +
				     " still maps page " + std::to_string(index) + " at " + report_hex(addr) +
				     (nonlinear ? " (nonlinear vma)" : "") + " (pfn " + std::to_string(page->pfn) + ")",
			     true, sides);
		return true;
	}
	return false;
}

void check_mapping_eof(struct address_space *mapping, unsigned long limit)
{
	for (struct vm_area_struct *vma : mapping->i_mmap)
		if (check_vma_eof(vma, limit))
			return;
	for (struct list_head *p = mapping->i_mmap_nonlinear.next; p != &mapping->i_mmap_nonlinear; p = p->next)
		if (check_vma_eof(list_entry(p, struct vm_area_struct, nonlinear), limit))
			return;
}
