/*
 * mm/memory.cc - zap_pte_range .. unmap_vmas (the gather is mm/mmu_gather.cc),
 * free_pgtables, the fault paths (do_anonymous_page with the zero page, do_no_page with
 * the truncate_count recheck, do_file_page, do_wp_page) and change_protection.
 */
#include "mm/memory.h"

#include <algorithm>
#include <cerrno>
#include <string>

#include "kernel/oracle.h"
#include "mm/anon_shadow.h"
#include "mm/migrate.h"
#include "mm/numa.h"
#include "mm/table_free.h"

/* Costs (assumed; no published figure, docs/COSTS.md): bookkeeping per pte zapped besides
 * its sync points, and the exception entry/exit of a page fault. */
static constexpr smpemu::Cycles kZapPteCycles = 15;
static constexpr smpemu::Cycles kFaultEntryCycles = 700;
/* Copying a 4 KiB page for COW (assumed: about two clear_page), and clearing one. */
static constexpr smpemu::Cycles kCopyPageCycles = 600;
static constexpr smpemu::Cycles kClearPageCycles = 300;

struct vm_globals *vm_globals(void)
{
	return machine_mem()->vm;
}

unsigned long zap_block_size(void)
{
	const unsigned pages = vm_globals()->t.zap_block;
	/* 2.6's mm/memory.c (docs/COSTS.md): ZAP_BLOCK_SIZE is 8 pages with CONFIG_PREEMPT,
	 * 1024 without. */
	return (pages ? pages : (config_preempt() ? 8UL : 1024UL)) * PAGE_SIZE;
}

/* ---- zap ---------------------------------------------------------------- */

static void zap_pte_range(struct mmu_gather *tlb, struct vm_area_struct *vma, pgtable_slot_t *pmd,
			  unsigned long addr, unsigned long end, struct zap_details *details)
{
	KFUNC();
	struct mm_struct *mm = vma->vm_mm;
	struct vm_globals *vm = vm_globals();
	spinlock_t *ptl;
	bool force_flush = false;
again:
	pgtable_slot_t *pte = pte_offset_map_lock(mm, pmd, addr, &ptl);
	if (!pte)
		return;
	arch_enter_lazy_mmu_mode(mm);
	for (; addr != end; pte++, addr += PAGE_SIZE) {
		pte_t ptent = ptep_get(pte);
		if (pte_none(ptent))
			continue;
		if (!pte_present(ptent)) {
			/* A file pte: munmap clears it, unmap_mapping_range leaves it alone. */
			if (pte_file(ptent)) {
				if (!details)
					pte_clear(mm, addr, pte);
				continue;
			}
			/* A swap pte: a private page (anonymous, or a COW copy of a file page).
			 * Invalidation keeps private data; a truncate drops it, except under
			 * truncate_swap=skip (2.6 to 5.17 skipped every swap pte when given
			 * details) and in a nonlinear vma, where the file index of a swapped
			 * copy is unknown. */
			if (details && (details->check_mapping || details->nonlinear_vma || !vm->t.truncate_zaps_swap))
				continue;
			/* a migration entry holds no slot and no reference: just drop it */
			const swp_entry_t entry = pte_to_swp_entry(ptent);
			if (is_migration_entry(entry))
				migration_entry_dropped(migration_entry_to_pfn(entry));
			else
				free_swap_and_cache(entry);
			shadow_forget(mm, addr);
			pte_clear(mm, addr, pte);
			continue;
		}
		struct page *page = vm_normal_page(vma, addr, ptent);
		if (!page) {
			/* the zero page: no rmap, no reference (anonymous vmas only: no details) */
			cpu_work(kZapPteCycles);
			ptep_get_and_clear(mm, addr, pte);
			vm->stats.zapped++;
			continue;
		}
		if (details) {
			/* invalidate: keep private COW copies (and other files' pages) */
			if (details->check_mapping && details->check_mapping != page->mapping)
				continue;
			/* nonlinear: only pages whose index is in the range */
			if (details->nonlinear_vma &&
			    (page->index < details->first_index || page->index > details->last_index))
				continue;
		}
		cpu_work(kZapPteCycles);
		ptent = ptep_get_and_clear(mm, addr, pte);
		vm->stats.zapped++;
		if (details && details->nonlinear_vma && !PageAnon(page) &&
		    linear_page_index(details->nonlinear_vma, addr) != page->index)
			set_pte_at(mm, addr, pte, pgoff_to_pte(page->index));
		if (pte_dirty(ptent))
			SetPageDirty(page);
		if (PageAnon(page))
			shadow_forget(mm, addr); /* a private page is gone: the next read sees the file or zeroes */
		page_remove_rmap(page);
		/* its reference goes after the flush; a full preemptible gather breaks out */
		if (!__tlb_remove_page(tlb, page, addr)) {
			force_flush = true;
			pte++;
			addr += PAGE_SIZE;
			break;
		}
	}
	arch_leave_lazy_mmu_mode(mm);
	pte_unmap_unlock(pte, ptl);
	if (force_flush) {
		/* 3.0: flush outside the pte lock, then go on where it stopped */
		force_flush = false;
		tlb_flush_mmu(tlb);
		if (addr != end)
			goto again;
	}
}

static void unmap_page_range(struct mmu_gather *tlb, struct vm_area_struct *vma, unsigned long addr,
			     unsigned long end, struct zap_details *details)
{
	KFUNC();
	while (addr < end) {
		const unsigned long boundary = (addr & PMD_MASK) + PMD_SIZE;
		const unsigned long next = boundary < end ? boundary : end;
		pgtable_slot_t *pmd = pmd_lookup(vma->vm_mm, addr);
		if (pmd && !pgtable_entry_none(READ_ONCE(*pmd)))
			zap_pte_range(tlb, vma, pmd, addr, next, details);
		addr = next;
	}
}

unsigned long unmap_vmas(struct mmu_gather **tlbp, struct vm_area_struct *vma, unsigned long start_addr,
			 unsigned long end_addr, struct zap_details *details)
{
	KFUNC();
	const unsigned long block = zap_block_size();
	struct address_space *lockbreak = details ? details->i_mmap_lock : nullptr;
	const bool atomic = details && details->atomic;
	struct mm_struct *mm = vma->vm_mm;
	const bool fullmm = (*tlbp)->fullmm;
	const bool preemptible = !(*tlbp)->percpu;
	unsigned long zap_bytes = block;
	unsigned long start = start_addr;

	for (; vma && vma->vm_start < end_addr; vma = vma_next(vma)) {
		if (vma->vm_end <= start_addr)
			continue;
		start = std::max(vma->vm_start, start_addr);
		const unsigned long end = std::min(vma->vm_end, end_addr);
		while (start != end) {
			if (atomic) {
				/* 2.6.9 under a spinning i_mmap_lock: no break at all */
				unmap_page_range(*tlbp, vma, start, end, details);
				start = end;
				break;
			}
			const unsigned long len = std::min(zap_bytes, end - start);
			unmap_page_range(*tlbp, vma, start, start + len, details);
			start += len;
			zap_bytes -= len;
			if (zap_bytes > 0)
				continue;
			zap_bytes = block;
			if (preemptible) {
				/* 3.0: nothing to finish first; the gather survives a reschedule */
				if (lockbreak && (need_resched() || i_mmap_need_lockbreak(lockbreak))) {
					tlb_finish_mmu(*tlbp, start_addr, start);
					*tlbp = nullptr;
					return start;
				}
				if (!lockbreak)
					cond_resched();
				continue;
			}
			tlb_finish_mmu(*tlbp, start_addr, start);
			if (need_resched() || (lockbreak && i_mmap_need_lockbreak(lockbreak))) {
				if (lockbreak) {
					*tlbp = nullptr;
					return start;
				}
				cond_resched();
			}
			*tlbp = tlb_gather_mmu(mm, fullmm);
		}
	}
	return start;
}

unsigned long zap_page_range(struct vm_area_struct *vma, unsigned long address, unsigned long size,
			     struct zap_details *details)
{
	KFUNC();
	struct mmu_gather *tlb = tlb_gather_mmu(vma->vm_mm, false);
	const unsigned long end = unmap_vmas(&tlb, vma, address, address + size, details);
	if (tlb)
		tlb_finish_mmu(tlb, address, end);
	return end;
}

void free_pgtables(struct mmu_gather *tlb, struct mm_struct *mm, unsigned long start, unsigned long end,
		   unsigned long floor, unsigned long ceiling)
{
	for (unsigned long c = start & PMD_MASK, next; c < end; c = next) {
		next = c + PMD_SIZE;
		if (c < floor || next > ceiling)
			continue; /* another vma still uses part of this pte table */
		/* the walk of pmd_lookup, skipping what a none upper entry covers (a range may
		 * span terabytes: exit_mmap of vmas far apart) */
		pgtable_slot_t *pud = pud_offset(mm, pgd_offset(mm, c), c);
		if (!pud) {
			next = (c & ~((1UL << PGDIR_SHIFT) - 1)) + (1UL << PGDIR_SHIFT);
			continue;
		}
		pgtable_slot_t *pmd = pmd_offset(mm, pud, c);
		if (!pmd) {
			next = (c & ~((1UL << PUD_SHIFT) - 1)) + (1UL << PUD_SHIFT);
			continue;
		}
		spin_lock(&mm->page_table_lock);
		const unsigned long e = READ_ONCE(*pmd);
		if (!pgtable_entry_none(e)) {
			WRITE_ONCE(*pmd, 0UL);
			mm->nr_ptes--;
		}
		spin_unlock(&mm->page_table_lock);
		if (pgtable_entry_none(e))
			continue;
		struct page *table = pfn_to_page(mm->mem, pgtable_entry_pfn(e));
		struct pgtable_page *t = page_table_of(mm->mem, table->pfn);
		for (int i = 0; i < PTRS_PER_TABLE; i++)
			if (pte_present(__pte(t->ent[i].v)))
				report_check("bad-page",
					     "free_pgtables: mm " + std::to_string(mm->id) + " pte table for " + report_hex(c) + " still maps pfn " +
						     std::to_string(pgtable_entry_pfn(t->ent[i].v)),
					     true);
		pte_free_tlb(tlb, table);
	}
}

/* ---- faults ------------------------------------------------------------- */

/* The new pte's file-page oracle: only for pages of the vma's file. */
static void check_new_file_pte(struct vm_area_struct *vma, unsigned long addr, struct page *page)
{
	const unsigned long index = (vma->vm_flags & VM_NONLINEAR) ? page->index : linear_page_index(vma, addr);
	if (PageAnon(page)) {
		/* a private COW copy of a file page: truncate removes those too */
		if (index >= vma->vm_file->eof_limit)
			check_pte_beyond_eof(vma, addr, page, index);
		return;
	}
	check_pte_beyond_eof(vma, addr, page, index);
}

/* A private copy of @src (COW); NULL without memory. */
static struct page *cow_copy(struct page *src, struct vm_area_struct *vma, unsigned long address)
{
	struct page *page = alloc_page_vma(GFP_HIGHUSER_MOVABLE, vma, address);
	if (!page)
		return nullptr;
	page_stream(kCopyPageCycles, page, src);
	frame_write(page, frame_read(src, "cow copy"), "cow copy");
	return page;
}

static int do_no_page(struct mm_struct *mm, struct vm_area_struct *vma, unsigned long address, bool write,
		      pgtable_slot_t *pmd)
{
	KFUNC();
	struct vm_globals *vm = vm_globals();
	struct address_space *mapping = vma->vm_file;
	const enum fault_recheck mode = vm->t.fault_recheck;
	unsigned long sequence = 0;
	struct fault_sample fs = {};
	if (mode == FAULT_RECHECK_ON) {
		sequence = READ_ONCE(mapping->truncate_count);
		sample_now(&fs.count, &fs.count_val, sequence);
		smp_rmb(); /* the count before ->nopage reads i_size */
	}
	for (;;) {
		int type;
		struct page *page = filemap_nopage(vma, address, &type, &fs);
		if (!page) {
			if (type == VM_FAULT_SIGBUS)
				vm->stats.sigbus++;
			return type;
		}
		if (mode == FAULT_RECHECK_LATE) {
			sequence = READ_ONCE(mapping->truncate_count); /* too late: i_size is already read */
			sample_now(&fs.count, &fs.count_val, sequence);
		}
		vm->stats.file_faults++;
		const bool cow_fault = write && !(vma->vm_flags & VM_SHARED);
		if (cow_fault) {
			/* the copy is an anonymous page of this vma: it needs an anon_vma */
			if (anon_vma_prepare(vma)) {
				put_page(page);
				return VM_FAULT_OOM;
			}
			struct page *cow = cow_copy(page, vma, address);
			put_page(page);
			if (!cow)
				return VM_FAULT_OOM;
			page = cow;
			vm->stats.cow_faults++;
		}
		spinlock_t *ptl;
		pgtable_slot_t *pte = pte_offset_map_lock(mm, pmd, address, &ptl);
		if (mode != FAULT_RECHECK_OFF) {
			const unsigned long now = READ_ONCE(mapping->truncate_count);
			sample_now(&fs.recheck, &fs.recheck_val, now);
			if (now != sequence) {
				/* a truncate ran meanwhile: the page may be beyond EOF now */
				sequence = now;
				if (history_on()) {
					fs.count = fs.recheck;
					fs.count_val = now;
				}
				pte_unmap_unlock(pte, ptl);
				put_page(page);
				vm->stats.fault_retries++;
				continue;
			}
		}
		if (!pte_none(ptep_get(pte))) {
			pte_unmap_unlock(pte, ptl); /* another thread faulted it in */
			put_page(page);
			return VM_FAULT_MINOR;
		}
		pte_t entry = mk_pte(page, vma->vm_page_prot);
		if (write)
			entry = pte_mkdirty(pte_mkwrite(entry));
		if (cow_fault)
			page_add_new_anon_rmap(page, vma, address);
		else
			page_add_rmap(page); /* the nopage reference is now the pte's */
		set_pte_at(mm, address, pte, entry);
		note_pte_origin(mm, address, page, &fs);
		update_mmu_cache(vma, address, pte);
		check_new_file_pte(vma, address, page);
		pte_unmap_unlock(pte, ptl);
		return type;
	}
}

/* Fault on a file pte of a nonlinear vma: populate the recorded page. */
static int do_file_page(struct mm_struct *mm, struct vm_area_struct *vma, unsigned long address, bool write,
			pgtable_slot_t *pmd, pte_t orig)
{
	KFUNC();
	struct address_space *mapping = vma->vm_file;
	const unsigned long pgoff = pte_to_pgoff(orig);
	if (!(vma->vm_flags & VM_NONLINEAR)) {
		/* not nonlinear any more (cannot happen here: vmas never go back) */
		return VM_FAULT_SIGBUS;
	}
	const unsigned long size = (i_size_read(mapping) + PAGE_SIZE - 1) >> PAGE_SHIFT;
	if (pgoff >= size) {
		vm_globals()->stats.sigbus++;
		return VM_FAULT_SIGBUS;
	}
	struct page *page = read_cache_page(mapping, pgoff);
	if (!page)
		return VM_FAULT_OOM;
	const int err = install_file_page(mm, vma, address & PAGE_MASK, page);
	put_page(page);
	if (err == -ENOMEM)
		return VM_FAULT_OOM;
	if (err) {
		vm_globals()->stats.sigbus++;
		return VM_FAULT_SIGBUS;
	}
	return VM_FAULT_MINOR;
}

/* The zero page, allocated by the first read fault that needs it and never freed. */
static struct page *get_zero_page(void)
{
	struct vm_globals *vm = vm_globals();
	if (vm->zero_page)
		return vm->zero_page;
	struct page *page = alloc_page(GFP_KERNEL | __GFP_ZERO);
	if (!page)
		return nullptr;
	if (vm->zero_page) {
		put_page(page); /* another fault set it up meanwhile */
		return vm->zero_page;
	}
	vm->zero_page = page; /* before the flag's sync point: a racing fault must see it */
	SetPageReserved(page);
	return page;
}

struct page *vm_normal_page(struct vm_area_struct *vma, unsigned long addr, pte_t pte)
{
	(void)addr;
	struct vm_globals *vm = vm_globals();
	const unsigned long pfn = pte_pfn(pte);
	if (vm->zero_page && pfn == vm->zero_page->pfn)
		return nullptr;
	return pfn_to_page(vma->vm_mm->mem, pfn);
}

/*
 * A fault on a none pte of an anonymous vma: a load maps the zero page read-only, a
 * store a new zeroed page of the vma's anon_vma (2.6.35's do_anonymous_page).
 */
static int do_anonymous_page(struct mm_struct *mm, struct vm_area_struct *vma, unsigned long address, bool write,
			     pgtable_slot_t *pmd)
{
	KFUNC();
	struct vm_globals *vm = vm_globals();
	struct page *page;
	pte_t entry;
	if (!write) {
		page = get_zero_page();
		if (!page)
			return VM_FAULT_OOM;
		entry = mk_pte(page, PAGE_READONLY);
	} else {
		if (anon_vma_prepare(vma))
			return VM_FAULT_OOM;
		page = alloc_page_vma(GFP_HIGHUSER_MOVABLE | __GFP_ZERO, vma, address);
		if (!page)
			return VM_FAULT_OOM;
		page_stream(kClearPageCycles, page);
		entry = pte_mkdirty(pte_mkwrite(mk_pte(page, vma->vm_page_prot)));
	}
	spinlock_t *ptl;
	pgtable_slot_t *pte = pte_offset_map_lock(mm, pmd, address, &ptl);
	if (!pte_none(ptep_get(pte))) {
		pte_unmap_unlock(pte, ptl); /* another thread faulted it in */
		if (write)
			put_page(page);
		return VM_FAULT_MINOR;
	}
	if (write) {
		page_add_new_anon_rmap(page, vma, address);
		vm->stats.anon_faults++;
	} else {
		vm->stats.zero_page_faults++;
	}
	set_pte_at(mm, address, pte, entry);
	note_pte_origin(mm, address, page, nullptr);
	update_mmu_cache(vma, address, pte);
	pte_unmap_unlock(pte, ptl);
	return VM_FAULT_MINOR;
}

/*
 * Write fault on a present read-only pte. Called with the pte lock held; drops it.
 * Reuses the page when it is a shared mapping's, or an anonymous page only this pte
 * maps (wp_reuse_always: whatever its mapcount, the planted bug); otherwise copies it
 * (or, for the zero page, takes a zeroed one) into a new anonymous page.
 */
int do_wp_page(struct mm_struct *mm, struct vm_area_struct *vma, unsigned long address, pgtable_slot_t *pte,
	       spinlock_t *ptl, pte_t orig)
{
	KFUNC();
	struct vm_globals *vm = vm_globals();
	struct page *old = vm_normal_page(vma, address, orig);
	bool reuse_anon = false;
	if (old && PageAnon(old)) {
		/* 2.6.35: decide under the page lock, which swap-in and reclaim also hold */
		if (!trylock_page(old)) {
			get_page(old);
			pte_unmap_unlock(pte, ptl);
			lock_page(old);
			spin_lock(ptl);
			if (ptep_get(pte).pte != orig.pte) {
				pte_unmap_unlock(pte, ptl);
				unlock_page(old);
				put_page(old);
				return VM_FAULT_MINOR;
			}
			put_page(old);
		}
		reuse_anon = vm->t.wp_reuse_always || reuse_swap_page(old);
		unlock_page(old);
	}
	if ((vma->vm_flags & VM_SHARED) || reuse_anon) {
		/* shared (mprotect made it writable again), or our own anonymous page: reuse */
		set_pte_at(mm, address, pte, pte_mkyoung(pte_mkdirty(pte_mkwrite(orig))));
		update_mmu_cache(vma, address, pte);
		pte_unmap_unlock(pte, ptl);
		if (reuse_anon)
			vm->stats.wp_reuses++;
		return VM_FAULT_MINOR;
	}
	if (old)
		get_page(old);
	pte_unmap_unlock(pte, ptl);
	struct page *fresh = nullptr;
	if (!anon_vma_prepare(vma)) {
		if (old) {
			fresh = cow_copy(old, vma, address);
		} else {
			fresh = alloc_page_vma(GFP_HIGHUSER_MOVABLE | __GFP_ZERO, vma, address);
			if (fresh)
				page_stream(kClearPageCycles, fresh);
		}
	}
	if (!fresh) {
		if (old)
			put_page(old);
		return VM_FAULT_OOM;
	}
	spin_lock(ptl);
	if (ptep_get(pte).pte == orig.pte) {
		/* no CPU may keep the read-only translation to @old */
		ptep_clear_flush(vma, address, pte);
		if (old) {
			page_remove_rmap(old);
			put_page(old); /* the pte's reference */
		}
		page_add_new_anon_rmap(fresh, vma, address);
		set_pte_at(mm, address, pte, pte_mkyoung(pte_mkdirty(pte_mkwrite(mk_pte(fresh, vma->vm_page_prot)))));
		note_pte_cow(mm, address, fresh);
		update_mmu_cache(vma, address, pte);
		if (vma->vm_file)
			check_new_file_pte(vma, address, fresh);
		fresh = nullptr;
		vm->stats.cow_faults++;
	}
	pte_unmap_unlock(pte, ptl);
	if (fresh)
		put_page(fresh);
	if (old)
		put_page(old);
	return VM_FAULT_MINOR;
}

int handle_mm_fault(struct mm_struct *mm, struct vm_area_struct *vma, unsigned long address, bool write)
{
	KFUNC();
	struct vm_globals *vm = vm_globals();
	vm->stats.faults++;
	cpu_work(kFaultEntryCycles);
	smpemu::this_machine()->trace_event(smpemu::TraceKind::PageFault, address, write);
	if (write && !(vma->vm_flags & VM_WRITE))
		return VM_FAULT_SIGBUS;
	address &= PAGE_MASK;
	pgtable_slot_t *pmd = pmd_alloc_for(mm, address);
	if (!pmd)
		return VM_FAULT_OOM;
	if (pgtable_entry_none(READ_ONCE(*pmd)) && __pte_alloc(mm, pmd, address))
		return VM_FAULT_OOM;
	pgtable_slot_t *pte = pte_offset_map(mm, pmd, address);
	if (!pte)
		return VM_FAULT_OOM;
	pte_t entry = ptep_get(pte);
	if (!pte_present(entry)) {
		if (pte_none(entry))
			return vma->vm_file ? do_no_page(mm, vma, address, write, pmd)
					    : do_anonymous_page(mm, vma, address, write, pmd);
		if (pte_file(entry))
			return do_file_page(mm, vma, address, write, pmd, entry);
		return do_swap_page(mm, vma, address, write, pmd, entry);
	}
	if (pte_numa(entry))
		return do_numa_page(mm, vma, address, entry, pte, pmd);
	spinlock_t *ptl = pte_lockptr(mm, pmd);
	spin_lock(ptl);
	const pte_t now = ptep_get(pte);
	if (now.pte != entry.pte) {
		pte_unmap_unlock(pte, ptl); /* changed meanwhile: let the access retry */
		return VM_FAULT_MINOR;
	}
	if (write && !pte_write(entry))
		return do_wp_page(mm, vma, address, pte, ptl, entry);
	/* spurious: a TLB held a read-only translation of a pte that is writable now (or
	 * the fault raced with another one); the retried access walks to the pte as it is */
	pte_unmap_unlock(pte, ptl);
	return VM_FAULT_MINOR;
}

int install_file_page(struct mm_struct *mm, struct vm_area_struct *vma, unsigned long addr, struct page *page)
{
	KFUNC();
	struct address_space *mapping = vma->vm_file;
	spinlock_t *ptl;
	pgtable_slot_t *pte = get_locked_pte(mm, addr, &ptl);
	if (!pte)
		return -ENOMEM;
	/* 2.6.11 install_page: recheck under the pte lock that truncate has not taken it */
	const unsigned long size = (i_size_read(mapping) + PAGE_SIZE - 1) >> PAGE_SHIFT;
	struct fault_sample fs = {};
	sample_now(&fs.size, &fs.size_pages, size);
	if (page->mapping != mapping || page->index >= size) {
		pte_unmap_unlock(pte, ptl);
		return -EINVAL;
	}
	const pte_t old = ptep_get(pte);
	if (pte_present(old)) {
		ptep_clear_flush(vma, addr, pte);
		struct page *op = pfn_to_page(mm->mem, pte_pfn(old));
		page_remove_rmap(op);
		put_page(op);
	}
	get_page(page);
	page_add_rmap(page);
	set_pte_at(mm, addr, pte, mk_pte(page, vma->vm_page_prot));
	note_pte_origin(mm, addr, page, &fs);
	update_mmu_cache(vma, addr, pte);
	check_new_file_pte(vma, addr, page);
	pte_unmap_unlock(pte, ptl);
	return 0;
}

struct change_prot_arg {
	pgprot_t prot;
	unsigned long changed;
};

static int change_pte(struct mm_struct *mm, pgtable_slot_t *ptep, unsigned long addr, void *argp)
{
	struct change_prot_arg *arg = static_cast<struct change_prot_arg *>(argp);
	const pte_t pte = ptep_get(ptep);
	if (is_migration_pte(pte)) {
		/* the page comes back as the entry says: never writable past mprotect (2.6.35
		 * downgrades every WRITE entry, whatever the new protection) */
		const swp_entry_t entry = pte_to_swp_entry(pte);
		if (is_write_migration_entry(entry))
			set_pte_at(mm, addr, ptep, swp_entry_to_pte(make_migration_entry_read(entry)));
		return 0;
	}
	if (pte_present(pte)) {
		const pte_t nv = pte_modify(pte, arg->prot);
		if (nv.pte != pte.pte) {
			/* xchg then set: the hardware may set A/D bits meanwhile */
			set_pte_at(mm, addr, ptep, pte_modify(ptep_get_and_clear(mm, addr, ptep), arg->prot));
			arg->changed++;
		}
	}
	return 0;
}

void change_protection(struct vm_area_struct *vma, unsigned long start, unsigned long end, pgprot_t newprot)
{
	KFUNC();
	struct change_prot_arg arg = {newprot, 0};
	walk_pte_range(vma->vm_mm, start, end, change_pte, &arg);
	if (arg.changed)
		flush_tlb_range(vma, start, end);
}
