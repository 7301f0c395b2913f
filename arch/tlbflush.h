/*
 * arch/tlbflush.h - TLB flushes as mm/ calls them, with the kernel's signatures (the
 * role of <asm/tlbflush.h>, and of tlb_flush() in <asm/tlb.h>). Each dispatches to the
 * MMU model of the mm's machine (arch/mmu.h).
 *
 * Rule (shared by every model): when a flush returns, no CPU may use a translation of
 * the flushed range made before it; only then may mm/ free the pages or page tables it
 * unmapped (the I1 invariant, checked by the stale-TLB oracle).
 *
 * Context: task context with IRQs on (a flush may wait for other CPUs).
 */
#pragma once

struct mm_struct;
struct mmu_gather;
struct vm_area_struct;

void flush_tlb_mm(struct mm_struct *mm);
void flush_tlb_range(struct vm_area_struct *vma, unsigned long start, unsigned long end);
void flush_tlb_page(struct vm_area_struct *vma, unsigned long addr);
/* tlb_flush - flush what @tlb gathered (its range, or the whole mm if fullmm). */
void tlb_flush(struct mmu_gather *tlb);
