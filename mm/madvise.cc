/*
 * mm/madvise.cc - madvise(MADV_DONTNEED).
 */
#include "mm/madvise.h"

#include <cerrno>

#include "kernel/rwsem.h"
#include "mm/mmap.h"

/* Zap [@start, @end) of @vma. Locking: mmap_sem held (read). */
static void madvise_dontneed(struct vm_area_struct *vma, unsigned long start, unsigned long end)
{
	if (vma->vm_flags & VM_NONLINEAR) {
		struct zap_details details = {};
		details.nonlinear_vma = vma;
		details.last_index = ~0UL;
		zap_page_range(vma, start, end - start, &details);
	} else {
		zap_page_range(vma, start, end - start, nullptr);
	}
}

int do_madvise(struct mm_struct *mm, unsigned long start, unsigned long len, int behavior)
{
	KFUNC();
	if (behavior != MADV_DONTNEED || (start & ~PAGE_MASK))
		return -EINVAL;
	len = PAGE_ALIGN(len);
	const unsigned long end = start + len;
	if (end < start)
		return -EINVAL;
	if (end == start)
		return 0;

	int ret = 0;
	down_read(&mm->mmap_sem);
	unsigned long addr = start;
	struct vm_area_struct *vma = find_vma(mm, start);
	while (addr < end) {
		if (!vma || vma->vm_start >= end) {
			ret = -ENOMEM; /* the rest of the range is unmapped */
			break;
		}
		if (vma->vm_start > addr) {
			ret = -ENOMEM; /* a hole: zap on, report it at the end */
			addr = vma->vm_start;
		}
		const unsigned long stop = vma->vm_end < end ? vma->vm_end : end;
		madvise_dontneed(vma, addr, stop);
		addr = stop;
		vma = vma_next(vma);
	}
	up_read(&mm->mmap_sem);
	return ret;
}
