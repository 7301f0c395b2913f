/*
 * mm/user_access.cc - user loads and stores, and do_page_fault.
 */
#include "mm/user_access.h"

#include "arch/mmu.h"
#include "mm/anon_shadow.h"
#include "mm/memory.h"

/* Host-side lookup of the vma at @addr for the oracle (no sync points, no lock: the
 * oracle runs at the access's turn, when the tree is consistent). */
static struct vm_area_struct *oracle_vma(struct mm_struct *mm, unsigned long addr)
{
	auto it = mm->mm_rb.upper_bound(addr);
	if (it == mm->mm_rb.end() || it->second->vm_start > addr)
		return nullptr;
	return it->second;
}

static void shadow_access(struct mm_struct *mm, unsigned long addr, struct page *page, bool write, unsigned long val)
{
	struct vm_area_struct *vma = oracle_vma(mm, addr);
	if (!vma || shadow_private_access(mm, vma, addr, page, write, val))
		return;
	if (!vma->vm_file || PageAnon(page))
		return;
	const unsigned long index =
		(vma->vm_flags & VM_NONLINEAR) ? page->index : linear_page_index(vma, addr & PAGE_MASK);
	if ((vma->vm_flags & VM_NONLINEAR) && page->mapping != vma->vm_file)
		return; /* an orphan in a nonlinear vma: its index is not the file's any more */
	if (write)
		shadow_note_write(vma->vm_file, index, val);
	else
		shadow_check_read(mm, addr, vma->vm_file, page, index, val, "user load");
}

int user_access(struct mm_struct *mm, unsigned long addr, bool write, unsigned long *val, unsigned long *faults,
		smpemu::Cycles stream)
{
	KFUNC();
	for (;;) {
		unsigned long flags;
		unsigned long pfn;
		local_irq_save(flags);
		if (mmu_translate(mm, addr, write, &pfn) == 0) {
			struct page *page = pfn_to_page(mm->mem, pfn);
			if (write)
				frame_write(page, *val, "user store");
			else
				*val = frame_read(page, "user load");
			shadow_access(mm, addr, page, write, *val);
			local_irq_restore(flags);
			if (stream)
				page_stream(stream, page); /* the rest of the loop: interruptible */
			return 0;
		}
		local_irq_restore(flags);
		/* do_page_fault */
		if (faults)
			(*faults)++;
		down_read(&mm->mmap_sem);
		struct vm_area_struct *vma = find_vma(mm, addr);
		if (!vma || vma->vm_start > addr || (write && !(vma->vm_flags & VM_WRITE))) {
			up_read(&mm->mmap_sem);
			return USER_SEGV;
		}
		const int ret = handle_mm_fault(mm, vma, addr, write);
		up_read(&mm->mmap_sem);
		if (ret == VM_FAULT_SIGBUS)
			return USER_SIGBUS;
		if (ret == VM_FAULT_OOM)
			return USER_NOMEM;
	}
}
