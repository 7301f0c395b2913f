/*
 * mm/mremap.h - mremap: moving a mapping (MREMAP_MAYMOVE | MREMAP_FIXED), and growing or
 * shrinking one (do_mremap), of file or anonymous vmas.
 *
 * Models: mm/mremap.c's move_vma of 2.6.11-2.6.38: copy_vma makes the vma at the new
 * place (merging with a neighbour if it can, else a copy of the old vma's struct, which
 * inherits its vm_truncate_count), move_page_tables moves every pte under the i_mmap
 * lock (so truncate's walk never misses a pte in transit) and both pte locks, the TLB
 * is flushed for the old range, and the old range is unmapped.
 *
 * The count rule (knob mremap_reset = vm_tunables.mremap_reset; docs/MM.md):
 *  - cond (2.6.10-2.6.37): zero the new vma's count only if it is nonzero and differs
 *    from the old one's. A copied struct has the same count, so if that was a restart
 *    address (an unmap_mapping_range broke out of the old vma) the new vma keeps it, in
 *    an address space where it means something else: the ptes moved below it are never
 *    zapped ("what breaks" 5; Hugh Dickins' 2.6.38-rc6 fix for a page_mapped BUG).
 *  - always (2.6.38): zero it whenever ptes move.
 *
 * Locking: mmap_sem for writing (taken here); the i_mmap lock (file vmas), the root
 * anon_vma lock (vmas with an anon_vma, as 3.x's move_ptes), then the old pte lock,
 * then the new one nested. Nonlinear vmas are not moved (-EINVAL).
 * Context: task context, may sleep.
 */
#pragma once

#include "mm/mmap.h"

/* sys_mremap - move [@old_addr, @old_addr + @len), which must lie in one vma, to
 * @new_addr (replacing what is mapped there). 0, -EINVAL or -ENOMEM. */
int sys_mremap(struct mm_struct *mm, unsigned long old_addr, unsigned long len, unsigned long new_addr);

/* move_page_tables - move the ptes of [@old_addr, @old_addr + @len) of @vma to
 * @new_addr in @new_vma (which may be @vma: exec's shift_arg_pages); the bytes moved.
 * Locking: mmap_sem for writing; takes the i_mmap lock, the anon_vma lock, the pte
 * locks. */
unsigned long move_page_tables(struct vm_area_struct *vma, unsigned long old_addr,
			       struct vm_area_struct *new_vma, unsigned long new_addr, unsigned long len);

#define MREMAP_MAYMOVE 1
#define MREMAP_FIXED 2

/*
 * do_mremap - mremap(2): resize [@addr, @addr + @old_len) (one vma) to @new_len.
 * Shrinking unmaps the tail. Growing extends the vma in place if the range ends it and
 * nothing is mapped in the way (vma_adjust of vm_end alone), else, with MREMAP_MAYMOVE,
 * moves it to the first gap big enough (move_vma: the ptes move, the new part faults
 * in). MREMAP_FIXED (with MAYMOVE) moves it to @new_addr, replacing what is there.
 * Returns the new address, or -EINVAL, -EFAULT (no vma there) or -ENOMEM.
 */
long do_mremap(struct mm_struct *mm, unsigned long addr, unsigned long old_len, unsigned long new_len,
	       unsigned long flags, unsigned long new_addr);
