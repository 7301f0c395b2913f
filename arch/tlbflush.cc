/*
 * arch/tlbflush.cc - the flush entry points: dispatch to the mm's MMU model.
 */
#include "arch/tlbflush.h"

#include "arch/mmu.h"
#include "mm/mm.h"

void flush_tlb_mm(struct mm_struct *mm)
{
	struct mmu *mmu = mm_mmu(mm);
	mmu->ops->flush_tlb_mm(mmu, mm);
}

void flush_tlb_range(struct vm_area_struct *vma, unsigned long start, unsigned long end)
{
	struct mmu *mmu = mm_mmu(vma->vm_mm);
	mmu->ops->flush_tlb_range(mmu, vma->vm_mm, start, end);
}

void flush_tlb_page(struct vm_area_struct *vma, unsigned long addr)
{
	struct mmu *mmu = mm_mmu(vma->vm_mm);
	mmu->ops->flush_tlb_page(mmu, vma->vm_mm, addr);
}

void tlb_flush(struct mmu_gather *tlb)
{
	struct mmu *mmu = mm_mmu(tlb->mm);
	mmu->ops->tlb_flush(mmu, tlb);
}
