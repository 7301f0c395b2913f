/*
 * mm/fork.cc - dup_mm, dup_mmap, copy_page_range, mmput and mmdrop.
 */
#include "mm/fork.h"

#include <cerrno>

#include "mm/anon_shadow.h"
#include "mm/migrate.h"

/* Cost (assumed, as a vma tree update): linking a copied vma into the child. */
static constexpr smpemu::Cycles kVmaCopyCycles = 80;
/* Bookkeeping per pte copied besides its sync points (assumed, as a zapped one). */
static constexpr smpemu::Cycles kCopyPteCycles = 15;

static bool is_cow_mapping(unsigned long flags)
{
	return (flags & (VM_SHARED | VM_MAYWRITE)) == VM_MAYWRITE;
}

/* Copy one pte. Locking: both pte locks. Returns the progress it counts. */
static int copy_one_pte(struct mm_struct *dst_mm, struct mm_struct *src_mm, pgtable_slot_t *dst_pte,
			pgtable_slot_t *src_pte, struct vm_area_struct *vma, unsigned long addr)
{
	pte_t pte = ptep_get(src_pte);
	cpu_work(kCopyPteCycles);
	if (!pte_present(pte)) {
		/* a file pte, or a swap pte: one more pte names its slot */
		if (is_migration_pte(pte)) {
			/* one more entry for the page under migration; a COW mapping's child must
			 * not get it writable back, nor may the parent keep it so (2.6.35) */
			const swp_entry_t entry = pte_to_swp_entry(pte);
			if (is_write_migration_entry(entry) && is_cow_mapping(vma->vm_flags)) {
				pte = swp_entry_to_pte(make_migration_entry_read(entry));
				set_pte_at(src_mm, addr, src_pte, pte);
			}
			migration_entry_made(migration_entry_to_pfn(entry));
		} else if (!pte_file(pte)) {
			swap_duplicate(pte_to_swp_entry(pte));
		}
		set_pte_at(dst_mm, addr, dst_pte, pte);
		return 8;
	}
	if (is_cow_mapping(vma->vm_flags) && pte_write(pte)) {
		ptep_set_wrprotect(src_mm, addr, src_pte);
		pte = pte_wrprotect(pte);
	}
	if (vma->vm_flags & VM_SHARED)
		pte = pte_mkclean(pte);
	pte = pte_mkold(pte);
	struct page *page = vm_normal_page(vma, addr, pte);
	if (page) {
		get_page(page);
		page_dup_rmap(page);
	}
	set_pte_at(dst_mm, addr, dst_pte, pte);
	if (page)
		note_pte_origin(dst_mm, addr, page, nullptr);
	vm_globals()->stats.ptes_copied++;
	return 8;
}

static int copy_pte_range(struct mm_struct *dst_mm, struct mm_struct *src_mm, pgtable_slot_t *dst_pmd,
			  pgtable_slot_t *src_pmd, struct vm_area_struct *vma, unsigned long addr,
			  unsigned long end)
{
	KFUNC();
	while (addr != end) {
		spinlock_t *dst_ptl;
		pgtable_slot_t *dst_pte = pte_alloc_map_lock(dst_mm, dst_pmd, addr, &dst_ptl);
		if (!dst_pte)
			return -ENOMEM;
		spinlock_t *src_ptl = pte_lockptr(src_mm, src_pmd);
		spin_lock_nested(src_ptl, 1);
		pgtable_slot_t *src_pte = pte_offset_map(src_mm, src_pmd, addr);
		arch_enter_lazy_mmu_mode(src_mm);
		int progress = 0;
		for (; addr != end; addr += PAGE_SIZE, src_pte++, dst_pte++) {
			/* 2.6: a lock break every 32 units when someone needs a CPU or a lock */
			if (progress >= 32) {
				progress = 0;
				if (need_resched() || spin_needbreak(src_ptl) || spin_needbreak(dst_ptl))
					break;
			}
			if (pte_none(ptep_get(src_pte))) {
				progress++;
				continue;
			}
			progress += copy_one_pte(dst_mm, src_mm, dst_pte, src_pte, vma, addr);
		}
		arch_leave_lazy_mmu_mode(src_mm);
		pte_unmap_unlock(src_pte, src_ptl);
		pte_unmap_unlock(dst_pte, dst_ptl);
		cond_resched();
	}
	return 0;
}

int copy_page_range(struct mm_struct *dst_mm, struct mm_struct *src_mm, struct vm_area_struct *dst_vma,
		    struct vm_area_struct *vma)
{
	(void)dst_vma;
	/* faults fill in what has no anonymous pages: no ptes to copy */
	if (!vma->anon_vma && !(vma->vm_flags & VM_NONLINEAR))
		return 0;
	KFUNC();
	for (unsigned long addr = vma->vm_start; addr < vma->vm_end;) {
		const unsigned long boundary = (addr & PMD_MASK) + PMD_SIZE;
		const unsigned long next = boundary < vma->vm_end ? boundary : vma->vm_end;
		pgtable_slot_t *src_pmd = pmd_lookup(src_mm, addr);
		if (src_pmd && !pgtable_entry_none(READ_ONCE(*src_pmd))) {
			pgtable_slot_t *dst_pmd = pmd_alloc_for(dst_mm, addr);
			if (!dst_pmd)
				return -ENOMEM;
			if (copy_pte_range(dst_mm, src_mm, dst_pmd, src_pmd, vma, addr, next))
				return -ENOMEM;
		}
		addr = next;
	}
	return 0;
}

/* dup_mmap - copy @oldmm's vmas and ptes into the empty @mm. 0 or -ENOMEM. */
static int dup_mmap(struct mm_struct *mm, struct mm_struct *oldmm)
{
	KFUNC();
	int err = 0;
	down_write(&oldmm->mmap_sem);
	down_write_nested(&mm->mmap_sem, 1);
	mm->start_brk = oldmm->start_brk;
	mm->brk = oldmm->brk;
	for (auto &e : oldmm->mm_rb) {
		struct vm_area_struct *mpnt = e.second;
		struct vm_area_struct *tmp = vm_area_dup(mpnt);
		tmp->vm_mm = mm;
		tmp->anon_vma = nullptr;
		if (anon_vma_fork(tmp, mpnt)) {
			vm_area_free(tmp);
			err = -ENOMEM;
			break;
		}
		struct address_space *mapping = tmp->vm_file;
		if (mapping) {
			i_mmap_lock_write(mapping);
			__vma_link_file(tmp); /* next to the parent's: same pgoff, later vm_seq */
			i_mmap_unlock_write(mapping);
		}
		cpu_work(kVmaCopyCycles);
		__vma_link_rb(tmp);
		mm->map_count++;
		if (copy_page_range(mm, oldmm, tmp, mpnt)) {
			err = -ENOMEM;
			break;
		}
	}
	up_write(&mm->mmap_sem);
	/* the parent's write-protected ptes: no CPU may keep a writable translation */
	flush_tlb_mm(oldmm);
	shadow_fork(mm, oldmm);
	up_write(&oldmm->mmap_sem);
	return err;
}

struct mm_struct *dup_mm(struct mm_struct *oldmm)
{
	KFUNC();
	struct mm_struct *mm = mm_alloc(oldmm->split_ptlock);
	if (!mm)
		return nullptr;
	vm_globals()->stats.forks++;
	if (dup_mmap(mm, oldmm)) {
		mmput(mm); /* exit_mmap undoes what was copied */
		return nullptr;
	}
	return mm;
}

void mmput(struct mm_struct *mm)
{
	if (atomic_dec_and_test(&mm->mm_users)) {
		KFUNC();
		if (!mm->mm_rb.empty()) {
			exit_mmap(mm);
			vm_globals()->stats.exits++;
		}
		mm->shadow.clear();
		free_page_tables(mm);
		mmdrop(mm);
	}
}
