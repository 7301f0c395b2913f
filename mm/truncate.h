/*
 * mm/truncate.h - unmap_mapping_range with its lockbreak variants, truncate_inode_pages
 * and vmtruncate.
 *
 * Models (docs/MM.md, "unmap_mapping_range and truncate"): 2.6.9 (lockbreak=none), Hugh Dickins' vmtrunc 4/6
 * (restart_vma), 4/6 + 7/6 as in 2.6.10-2.6.38 (restart_in_vma), and 3.0's i_mmap_mutex
 * without lockbreak (mutex_nobreak); the bug toggles of vm_tunables.
 *
 * unmap_mapping_range bumps mapping->truncate_count under the i_mmap lock (skipping
 * page-aligned values, which mean restart addresses, and zeroing every vma's count when
 * it wraps to 0, unless wrap_reset is off), then walks the i_mmap tree and then the
 * nonlinear list (the other way round with tree_first off). With a restart variant a
 * vma whose count equals the pass's snapshot is skipped, and the walk starts over after
 * every lock drop.
 *
 * Oracles (fatal reports):
 *  - "pte-beyond-eof": once unmap_mapping_range returned for a truncate to N pages, and
 *    until i_size grows, no present pte maps page >= N of the file (scanned at return,
 *    and checked at every later pte install: mm/filemap.h check_pte_beyond_eof);
 *  - "truncate-mapped-page": truncate_inode_pages meets a page that is still mapped
 *    (vmtrunc 6/6 made that a BUG_ON for testing).
 *
 * Locking: vmtruncate is called with i_mutex held; it takes the i_mmap lock, then page
 * locks (i_mutex > page_lock > i_mmap_lock is respected: the page locks are taken after
 * the i_mmap lock is released).
 * Context: task context, may sleep.
 */
#pragma once

#include "mm/memory.h"

/*
 * unmap_mapping_range - unmap the pages [@holebegin, @holebegin + @holelen) of
 * @mapping from every vma mapping them (@holelen 0: to the end of the file); with
 * @even_cows also private COW copies (truncate). Variant by vm_tunables.lockbreak.
 */
void unmap_mapping_range(struct address_space *mapping, unsigned long holebegin, unsigned long holelen,
			 bool even_cows);

/* truncate_inode_pages - drop every cached page from byte @lstart on (whole pages).
 * Locking: i_mutex held. */
void truncate_inode_pages(struct address_space *mapping, unsigned long lstart);

/* vmtruncate - set i_size to @offset (page aligned): shrinking unmaps and drops the
 * pages beyond it and arms the EOF oracle; growing disarms it. Locking: i_mutex held.
 * Returns 0 or -EINVAL (beyond the file's maximum size). */
int vmtruncate(struct address_space *mapping, unsigned long offset);

/* check_mapping_eof - oracle: every pte of @mapping's vmas at or beyond @limit pages must
 * be gone. Host side (no sync points). */
void check_mapping_eof(struct address_space *mapping, unsigned long limit);
