/*
 * mm/mmap.h - mmap/munmap of file and anonymous mappings, brk, vma split/merge
 * (vma_adjust), mprotect and remap_file_pages.
 *
 * Models: mm/mmap.c, mm/mprotect.c and mm/fremap.c of 2.6.11 for file-backed vmas
 * (shared, or private with COW), with the vm_truncate_count rules of vmtrunc 5/6
 * (docs/MM.md, "unmap_mapping_range and truncate"): vma_link takes the mapping's current count, a split copies
 * it, a merge whose counts differ zeroes the importer's (unless merge_reset is off), so
 * an unmap_mapping_range in progress rescans the grown vma.
 *
 * munmap: the vmas stay linked while their ptes are zapped (mmap_sem held for writing
 * keeps this mm's faults out; truncate may zap alongside under the pte locks), then they
 * leave the i_mmap tree under the i_mmap lock, and only then are their pte tables freed
 * (after a TLB flush), so no rmap walker can reach a freed table (2.6.15's order).
 *
 * Anonymous vmas (2.6.35): vma_adjust takes the root anon_vma lock (inside the i_mmap
 * lock) when the vma has an anon_vma and it splits, merges or changes vm_start or
 * vm_pgoff, so an rmap walker never computes an address from a half-changed vma; a
 * pure vm_end change (brk) skips it. A split clones the anon_vma chains; a merge that
 * grows a vma without one over a vma with one clones them into it first.
 *
 * Merges are not attempted with or into nonlinear vmas (the kernel could merge two
 * nonlinear vmas; our workloads never need it).
 *
 * Locking: every call here takes mm->mmap_sem for writing itself, and the mapping's
 * i_mmap lock around each change of a file vma.
 * Context: task context, may sleep.
 */
#pragma once

#include "mm/memory.h"

/* The first address mmap places a non-fixed mapping at (top-down allocation is not
 * modelled: the first gap above it wins). */
#define TASK_UNMAPPED_BASE 0x2aaaaaaab000UL

/*
 * do_mmap - map @len bytes of @mapping from page @pgoff at @addr (MAP_FIXED: replacing
 * what is there) or at the first free gap. @prot PROT_READ[|PROT_WRITE], @flags
 * MAP_SHARED or MAP_PRIVATE [| MAP_FIXED]; MAP_ANONYMOUS | MAP_PRIVATE with a NULL
 * @mapping (and @pgoff ignored) maps anonymous memory. Returns the address or
 * -EINVAL/-ENOMEM.
 */
long do_mmap(struct mm_struct *mm, unsigned long addr, unsigned long len, int prot, int flags,
	     struct address_space *mapping, unsigned long pgoff);
/* get_unmapped_area - the first gap of @len bytes from TASK_UNMAPPED_BASE up, or 0.
 * Locking: mmap_sem. */
unsigned long get_unmapped_area(struct mm_struct *mm, unsigned long len);
/* do_munmap - unmap [@start, @start + @len). 0 or -EINVAL. */
int do_munmap(struct mm_struct *mm, unsigned long start, unsigned long len);
/* sys_mprotect - change [@start, @start + @len) to @prot, splitting and merging vmas. */
int sys_mprotect(struct mm_struct *mm, unsigned long start, unsigned long len, int prot);
/* sys_remap_file_pages - map file pages from @pgoff at [@start, @start + @size) of the
 * shared vma there, making it nonlinear. 0, -EINVAL (not one shared vma, or beyond
 * EOF) or -ENOMEM. */
int sys_remap_file_pages(struct mm_struct *mm, unsigned long start, unsigned long size, unsigned long pgoff);
/* exit_mmap - unmap and free every vma of @mm (the last user is going). */
void exit_mmap(struct mm_struct *mm);

/* sys_brk - move the heap's end to @brk (growing maps anonymous memory, extending the
 * heap's vma; shrinking unmaps). Returns the new end, or the old one if refused.
 * set_brk_base - where the heap starts (exec's job; call before the first sys_brk). */
unsigned long sys_brk(struct mm_struct *mm, unsigned long brk);
void set_brk_base(struct mm_struct *mm, unsigned long addr);

/* insert_vm_struct - link the new @vma (fields set) into @mm (and its file's i_mmap).
 * Locking: mmap_sem for writing. */
void insert_vm_struct(struct mm_struct *mm, struct vm_area_struct *vma);

/* __vma_link_rb - put @vma in its mm's tree; __vma_link_file - in its mapping's i_mmap
 * (or nonlinear list). Locking: mmap_sem for writing; the i_mmap lock for the second.
 * For dup_mmap (mm/fork.h), which links the child's vmas itself. */
void __vma_link_rb(struct vm_area_struct *vma);
void __vma_link_file(struct vm_area_struct *vma);

/* do_munmap_locked - do_munmap with mmap_sem already held for writing. */
int do_munmap_locked(struct mm_struct *mm, unsigned long start, unsigned long len);
/* copy_vma - a vma for [@addr, @addr + @len) from @pgoff like @vma, for mremap: a
 * compatible neighbour extended over it, or a copy of @vma's struct (vm_truncate_count
 * included) linked in. Locking: mmap_sem for writing; takes the i_mmap lock. */
struct vm_area_struct *copy_vma(struct vm_area_struct *vma, unsigned long addr, unsigned long len,
				unsigned long pgoff);

/*
 * vma_merge - [@addr, @end) from @pgoff with @vm_flags and policy @pol (NULL: default)
 * is about to be mapped, or is the range of an existing vma changing its flags or
 * policy: extend @prev and/or the following vma over it if they are compatible (same
 * flags, file, policy, a mergeable anon_vma). Returns the vma that now covers it, or
 * NULL. Locking: mmap_sem for writing.
 */
struct vm_area_struct *vma_merge(struct mm_struct *mm, struct vm_area_struct *prev, unsigned long addr,
				 unsigned long end, unsigned long vm_flags, struct anon_vma *anon_vma,
				 struct address_space *file, unsigned long pgoff, const struct mempolicy *pol);

/* split_vma - split @vma at @addr; @new_below: the new vma is the lower part. */
int split_vma(struct mm_struct *mm, struct vm_area_struct *vma, unsigned long addr, bool new_below);
/* vma_adjust - set @vma to [@start, @end) from @pgoff, absorbing or trimming the next
 * vma as the range demands, and linking @insert (a split's other half) if given.
 * Locking: mmap_sem for writing; takes the i_mmap lock. */
void vma_adjust(struct vm_area_struct *vma, unsigned long start, unsigned long end, unsigned long pgoff,
		struct vm_area_struct *insert);
