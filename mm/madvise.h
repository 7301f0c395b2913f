/*
 * mm/madvise.h - madvise(MADV_DONTNEED): drop the ptes of a range.
 *
 * Models: mm/madvise.c's madvise_dontneed. Every vma the range meets has its ptes
 * zapped by zap_page_range (through an mmu_gather, so the TLB of every CPU that may
 * cache them is flushed before a page is released); the mapping stays, and the next
 * access faults the page back in (from the page cache for a file mapping). A nonlinear
 * vma is zapped with the details that make zap check each page's index.
 * This is the call the TLB-shootdown measurements use (Nadav Amit, LKML 2019: one
 * thread madvises and touches one page while other threads of the mm run elsewhere).
 *
 * Only MADV_DONTNEED is modelled; any other advice is -EINVAL.
 *
 * Locking: takes mm->mmap_sem for reading (as the kernels of that measurement do: the
 * vmas do not change, only ptes, under their pte locks). Context: task context, may
 * sleep.
 */
#pragma once

#include "mm/memory.h"

#define MADV_DONTNEED 4

/* do_madvise - apply @behavior to [@start, @start + @len) of @mm. 0, or -EINVAL (bad
 * advice, unaligned or wrapping range), or -ENOMEM (part of the range is unmapped; the
 * mapped parts are still zapped, as the kernel does). */
int do_madvise(struct mm_struct *mm, unsigned long start, unsigned long len, int behavior);
