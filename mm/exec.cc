/*
 * mm/exec.cc - bprm_mm_init, copy_strings, setup_arg_pages / shift_arg_pages.
 */
#include "mm/exec.h"

#include <algorithm>
#include <cerrno>

#include "mm/user_access.h"

static constexpr unsigned long kStackFlags = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_GROWSDOWN;

int bprm_mm_init(struct linux_binprm *bprm, bool split_ptlock)
{
	KFUNC();
	struct mm_struct *mm = mm_alloc(split_ptlock);
	if (!mm)
		return -ENOMEM;
	struct vm_area_struct *vma = vm_area_alloc(mm);
	vma->vm_end = STACK_TOP_MAX;
	vma->vm_start = vma->vm_end - PAGE_SIZE;
	vma->vm_pgoff = vma->vm_start >> PAGE_SHIFT;
	vma->vm_flags = kStackFlags | VM_STACK_INCOMPLETE_SETUP;
	vma->vm_page_prot = PAGE_READONLY; /* private writable: the first store faults */
	down_write(&mm->mmap_sem);
	insert_vm_struct(mm, vma);
	up_write(&mm->mmap_sem);
	bprm->mm = mm;
	bprm->vma = vma;
	bprm->p = vma->vm_end;
	return 0;
}

int copy_strings(struct linux_binprm *bprm, unsigned long nr_pages, unsigned long (*value)(unsigned long, void *),
		 void *arg)
{
	KFUNC();
	struct mm_struct *mm = bprm->mm;
	for (unsigned long i = 0; i < nr_pages; i++) {
		const unsigned long addr = bprm->p - PAGE_SIZE;
		down_write(&mm->mmap_sem);
		if (addr < bprm->vma->vm_start) /* expand the temporary stack down by a page */
			vma_adjust(bprm->vma, addr, bprm->vma->vm_end, bprm->vma->vm_pgoff - 1, nullptr);
		up_write(&mm->mmap_sem);
		unsigned long val = value(i, arg);
		const int err = user_access(mm, addr, true, &val, nullptr); /* get_user_pages + copy */
		if (err)
			return err == USER_NOMEM ? -ENOMEM : -EFAULT;
		bprm->p = addr;
	}
	return 0;
}

/* shift_arg_pages - move @vma down by @shift bytes (2.6.35). Locking: mmap_sem for writing. */
static int shift_arg_pages(struct vm_area_struct *vma, unsigned long shift)
{
	struct mm_struct *mm = vma->vm_mm;
	const unsigned long old_start = vma->vm_start, old_end = vma->vm_end;
	const unsigned long length = old_end - old_start;
	const unsigned long new_start = old_start - shift, new_end = old_end - shift;
	struct vm_area_struct *next = vma_next(vma);
	if (new_start >= new_end || (vma_prev(vma) && vma_prev(vma)->vm_end > new_start))
		return -EFAULT;
	/* 1: cover both ranges; vm_pgoff stays, so rmap now computes the new addresses */
	vma_adjust(vma, new_start, old_end, vma->vm_pgoff, nullptr);
	/* 2: move the ptes (the pte locks only: an rmap walker may run meanwhile) */
	if (move_page_tables(vma, old_start, vma, new_start, length) != length)
		return -ENOMEM;
	/* 3: free the old range's page tables that nothing uses now */
	struct mmu_gather *tlb = tlb_gather_mmu(mm, false);
	const unsigned long ceiling = next ? next->vm_start : TASK_SIZE;
	free_pgtables(tlb, mm, std::max(new_end, old_start), old_end, new_end, ceiling);
	tlb_finish_mmu(tlb, new_end, old_end);
	/* 4: shrink to the new end */
	vma_adjust(vma, new_start, new_end, vma->vm_pgoff, nullptr);
	return 0;
}

int setup_arg_pages(struct linux_binprm *bprm, unsigned long stack_top)
{
	KFUNC();
	struct mm_struct *mm = bprm->mm;
	struct vm_area_struct *vma = bprm->vma;
	if ((stack_top & ~PAGE_MASK) || stack_top > vma->vm_end)
		return -EINVAL;
	const unsigned long shift = vma->vm_end - stack_top;
	down_write(&mm->mmap_sem);
	int err = shift ? shift_arg_pages(vma, shift) : 0;
	if (!err)
		vma->vm_flags &= ~VM_STACK_INCOMPLETE_SETUP; /* migration may unmap its pages now */
	up_write(&mm->mmap_sem);
	bprm->p -= shift;
	return err;
}
