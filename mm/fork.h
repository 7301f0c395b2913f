/*
 * mm/fork.h - fork and exit of an address space: dup_mm (dup_mmap, copy_page_range)
 * and mmput (exit_mmap, then the page tables, then the struct).
 *
 * Models: kernel/fork.c and mm/memory.c of 2.6.35. dup_mmap holds the parent's mmap_sem
 * for writing (and the child's, nested) while it copies every vma: a new vm_area_struct
 * linked into the child's tree and, for a file vma, next to the parent's in the i_mmap
 * tree; anon_vma_fork gives it the parent's chains plus an anon_vma of its own
 * (mm/rmap.h). copy_page_range then copies the ptes of every vma that has anonymous
 * pages (or is nonlinear): a private writable pte is write-protected in both parent and
 * child (the next store takes a COW fault), a shared one is copied clean, every page
 * gains a reference and a mapcount; the zero page gains neither. Non-present ptes (file
 * ptes) are copied as they are. Vmas without anon_vma are left for faults to fill.
 * Every 32 units of progress (a none pte 1, a copied pte 8) copy_pte_range checks
 * need_resched and whether either pte lock is contended, and drops both locks to let
 * the other side in (2.6's lock break). At the end the parent's TLBs are flushed
 * (flush_tlb_mm): from then on no CPU can store into a page the child shares.
 *
 * mm_users counts the users of the address space (the tasks, mmget); mm_count the
 * references to the struct (mmgrab), the users counting as one. The last mmput tears
 * the address space down (exit_mmap, free_page_tables) and drops the users' mm_count;
 * the last mmdrop frees the struct.
 *
 * Locking: parent mmap_sem (write) > child mmap_sem (write, nested) > i_mmap lock >
 * anon_vma > child pte lock > parent pte lock (nested).
 * Context: task context, may sleep.
 */
#pragma once

#include "mm/mmap.h"

/* dup_mm - a new mm for a child of @oldmm's process, a copy of it as above; NULL
 * without memory (nothing left behind). */
struct mm_struct *dup_mm(struct mm_struct *oldmm);
/* copy_page_range - copy the ptes of @vma (of @src_mm) to @dst_vma (of @dst_mm) at the
 * same addresses. 0 or -ENOMEM. Locking: both mmap_sems for writing. */
int copy_page_range(struct mm_struct *dst_mm, struct mm_struct *src_mm, struct vm_area_struct *dst_vma,
		    struct vm_area_struct *vma);
