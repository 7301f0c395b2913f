/*
 * mm/anon_shadow.h - the shadow-memory oracle for private pages: what each process last
 * stored into its anonymous pages and private COW copies.
 *
 * Models: nothing in the kernel; the check a test writes when it forks, stores and
 * reads back. A process's view of a private page is its own: after a store through a
 * private mapping (which made the page its own, by COW if needed), a load through the
 * same address must return that value until the page is unmapped, whatever other
 * processes of the family store into their copies; a page of an anonymous vma that was
 * never stored to reads 0 (the zero page, or a cleared page).
 *
 * Rules kept (fatal "shadow-memory" report when a load disagrees):
 *  - a store through a private vma records (mm, page) -> value;
 *  - a load of an anonymous page (or the zero page) through a private vma must return
 *    the recorded value, or 0 in an anonymous vma with none recorded;
 *  - a load of a file page through a private vma must find nothing recorded (else the
 *    process lost its COW copy), and then the file's shadow applies (mm/filemap.h);
 *  - an access through a translation its pte has lost (a TLB entry not flushed yet
 *    after an unmap or a move) is not checked; a store through one is recorded where
 *    the page is mapped now, or nowhere if it is being unmapped (the store is lost with
 *    the page, as on hardware), except while try_to_unmap swaps the page out from under
 *    that address: between clearing the pte and installing the swap pte the store still
 *    reaches the page, which goes to the swap device with it, so it is recorded for the
 *    address (shadow_swapout_begin / _end bracket that window);
 *  - zapping a private page forgets its record (munmap, exit, MADV_DONTNEED, truncate
 *    of a COW copy); mremap moves records with the ptes; fork gives the child the
 *    parent's records as they are once the parent's TLBs are flushed (from then on no
 *    store of the parent reaches a page the child shares).
 *
 * Locking: none: host-side state (mm_struct::shadow), changed at the turn of the access
 * or pte change it follows, by the fiber that runs. No sync points, no cost, nothing
 * reaches the digest.
 * Context: task context, inside Machine::run().
 */
#pragma once

#include "mm/mm.h"

/* shadow_forget - the private page at @addr of @mm is gone (zapped). */
void shadow_forget(struct mm_struct *mm, unsigned long addr);
/* shadow_move - the pte at @from moved to @to (mremap). */
void shadow_move(struct mm_struct *mm, unsigned long from, unsigned long to);
/* shadow_swapout_begin / _end - try_to_unmap is turning @addr's pte mapping page frame
 * @pfn into a swap pte (from before the clear to after the swap pte is set). */
void shadow_swapout_begin(struct mm_struct *mm, unsigned long addr, unsigned long pfn);
void shadow_swapout_end(struct mm_struct *mm, unsigned long addr);
/* shadow_fork - @child starts with @parent's records (dup_mmap, after the flush). */
void shadow_fork(struct mm_struct *child, struct mm_struct *parent);
/* shadow_private_access - a user load or store of @val through private @vma at @addr
 * reached @page. Returns false if the access was not private (the caller then applies
 * the file's shadow). */
bool shadow_private_access(struct mm_struct *mm, struct vm_area_struct *vma, unsigned long addr, struct page *page,
			   bool write, unsigned long val);
