/*
 * mm/exec.h - the mm side of exec: the new mm's temporary stack and shift_arg_pages.
 *
 * Models: fs/exec.c of 2.6.35 (with Mel Gorman's fix for race R2, docs/MM.md). exec
 * builds the new process's stack before it knows where the stack goes: bprm_mm_init
 * makes a new mm with one anonymous vma at the very top of the address space, flagged
 * VM_STACK_INCOMPLETE_SETUP; the argument pages are stored into it (faults of the new
 * mm); setup_arg_pages then moves the stack down to its final top with
 * shift_arg_pages:
 *   1. vma_adjust grows the vma down to the new start, vm_pgoff unchanged, so from now
 *      on rmap computes the pages' addresses where they are going, not where they are;
 *   2. move_page_tables moves the ptes down (under the pte locks);
 *   3. the old range's page tables are freed;
 *   4. vma_adjust shrinks the vma to its new end.
 * Between 1 and 2 an rmap walk of a stack page finds no pte at the address it computes.
 * Only then is VM_STACK_INCOMPLETE_SETUP cleared: migration's try_to_unmap skips vmas
 * that carry it (is_vma_temporary_stack, issue 18), so it never leaves a migration
 * entry that the move would carry away from where remove_migration_ptes looks.
 *
 * Locking: the new mm's mmap_sem for writing (nobody else can reach the mm yet, but rmap
 * walkers can reach its pages through their anon_vma).
 * Context: task context, may sleep.
 */
#pragma once

#include "mm/mremap.h"

#define VM_STACK_INCOMPLETE_SETUP 0x200000UL	/* the kernel's VM_RAND_READ | VM_SEQ_READ */
#define STACK_TOP_MAX TASK_SIZE

struct linux_binprm {
	struct mm_struct *mm;
	struct vm_area_struct *vma;	/* the temporary stack */
	unsigned long p;		/* the lowest address of the argument pages so far */
};

/* bprm_mm_init - a new mm with a one-page temporary stack vma ending at STACK_TOP_MAX.
 * 0 or -ENOMEM. */
int bprm_mm_init(struct linux_binprm *bprm, bool split_ptlock);
/* copy_strings - store @nr_pages argument pages below bprm->p (value(i) into page i,
 * counting down from the top), growing the temporary stack. 0 or -ENOMEM / -EFAULT. */
int copy_strings(struct linux_binprm *bprm, unsigned long nr_pages, unsigned long (*value)(unsigned long, void *),
		 void *arg);
/* setup_arg_pages - move the stack so that it ends at @stack_top (page aligned, below
 * STACK_TOP_MAX), then clear VM_STACK_INCOMPLETE_SETUP. 0 or -ENOMEM / -EINVAL. */
int setup_arg_pages(struct linux_binprm *bprm, unsigned long stack_top);

static inline bool is_vma_temporary_stack(const struct vm_area_struct *vma)
{
	return vma->vm_flags & VM_STACK_INCOMPLETE_SETUP;
}
