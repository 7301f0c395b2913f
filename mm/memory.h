/*
 * mm/memory.h - zapping through the mmu_gather (mm/mmu_gather.h: unmap_vmas in ZAP_BLOCK_SIZE
 * blocks, with the lockbreak exit that unmap_mapping_range uses; that function and its
 * variants are in mm/truncate.h), free_pgtables, the fault path for file mappings,
 * install_file_page and change_protection; the anonymous fault and the zero page
 * (mm/rmap.h has the anon_vma side).
 *
 * Models: mm/memory.c of 2.6.11 with Hugh Dickins' vmtrunc series (docs/MM.md), on the
 * 4-level tables of mm/pgtable.h; TLB flushes through arch/tlbflush.h. ptes are locked
 * per pte table (pte_offset_map_lock: page_table_lock, or the split ptl), as from
 * 2.6.15; the 2.6.11 code held page_table_lock across unmap_vmas instead.
 *
 * Cleared pages are freed only after the TLB flush that follows their last clear (I1);
 * page-table pages likewise. With the percpu gather, unmap_vmas finishes the gather
 * after every ZAP_BLOCK_SIZE (8 pages under CONFIG_PREEMPT, 1024 otherwise) and then,
 * unless it is atomic (lockbreak=none), reschedules if needed, or returns early if the
 * i_mmap lock it was given needs a break. With the preemptible gather it keeps the
 * gather across those points (finishing it only to return early), and zap_pte_range
 * breaks out of the pte lock to flush when the gather is full.
 *
 * Locking: zap and fault paths take the pte lock per table; the caller of unmap_vmas
 * holds mmap_sem (munmap) or the i_mmap lock (unmap_mapping_range). Faults hold
 * mmap_sem for reading. unmap_mapping_range takes the i_mmap lock (the caller of a
 * truncate holds i_mutex).
 *
 * Context: task context; may sleep unless a spinning i_mmap lock is held.
 */
#pragma once

#include "mm/filemap.h"
#include "mm/mmu_gather.h"

struct zap_details {
	struct vm_area_struct *nonlinear_vma;	/* check page->index if set */
	struct address_space *check_mapping;	/* only pages of this mapping (keep private COWs) */
	unsigned long first_index, last_index;	/* page indices to unmap */
	struct address_space *i_mmap_lock;	/* unmap_vmas may break for this mapping's lock */
	bool atomic;				/* lockbreak=none: no rescheduling at all */
	/* lockbreak=restart_vma (4/6) */
	struct vm_area_struct *restart_vma;
	unsigned long restart_pgoff, restart_addr;
	unsigned long break_addr;		/* where unmap_vmas stopped */
	unsigned long truncate_count;		/* this pass's snapshot */
};

/*
 * unmap_vmas - zap [@start_addr, @end_addr) of @vma and the vmas after it. A percpu
 * *@tlbp is finished and regathered every ZAP_BLOCK_SIZE; if the details' i_mmap lock needs a
 * break (or need_resched), returns early with *@tlbp NULL. Returns the address reached.
 */
unsigned long unmap_vmas(struct mmu_gather **tlbp, struct vm_area_struct *vma, unsigned long start_addr,
			 unsigned long end_addr, struct zap_details *details);
/* zap_page_range - unmap_vmas for one vma with its own gather; returns the end reached. */
unsigned long zap_page_range(struct vm_area_struct *vma, unsigned long address, unsigned long size,
			     struct zap_details *details);
/* free_pgtables - free the pte tables wholly inside [@floor, @ceiling) that cover
 * [@start, @end) (the gap left by an unmap), through the gather. Locking: mmap_sem
 * for writing. */
void free_pgtables(struct mmu_gather *tlb, struct mm_struct *mm, unsigned long start, unsigned long end,
		   unsigned long floor, unsigned long ceiling);

/*
 * handle_mm_fault - resolve a fault at @address in @vma for a load or (@write) a
 * store. Returns VM_FAULT_MINOR/MAJOR, VM_FAULT_SIGBUS (beyond EOF, or a store to a
 * vma without VM_WRITE) or VM_FAULT_OOM. Locking: mmap_sem held for reading.
 */
int handle_mm_fault(struct mm_struct *mm, struct vm_area_struct *vma, unsigned long address, bool write);

/*
 * do_wp_page - a store hit present read-only pte @pte (value @orig) of @vma: reuse the
 * page (shared vma, or an anonymous page reuse_swap_page says is this pte's alone) or
 * copy it. Called with the pte lock @ptl held; drops it. Returns VM_FAULT_MINOR or
 * VM_FAULT_OOM. Locking: mmap_sem for reading; takes the page lock (may sleep).
 */
int do_wp_page(struct mm_struct *mm, struct vm_area_struct *vma, unsigned long address, pgtable_slot_t *pte,
	       spinlock_t *ptl, pte_t orig);

/* vm_normal_page - the struct page a present @pte of @vma maps, or NULL for the zero
 * page (mapped without rmap or reference). */
struct page *vm_normal_page(struct vm_area_struct *vma, unsigned long addr, pte_t pte);

/* change_protection - write-protect or not every present pte of [@start, @end) of
 * @vma to @newprot, flushing the TLB (mprotect). */
void change_protection(struct vm_area_struct *vma, unsigned long start, unsigned long end, pgprot_t newprot);

/*
 * install_file_page - remap_file_pages' populate: map @page at @addr of nonlinear @vma
 * if the page is still in the cache and inside i_size (rechecked under the pte lock).
 * 0, -EINVAL (truncated meanwhile) or -ENOMEM. Context: mmap_sem held.
 */
int install_file_page(struct mm_struct *mm, struct vm_area_struct *vma, unsigned long addr, struct page *page);

