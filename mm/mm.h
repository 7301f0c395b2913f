/*
 * mm/mm.h - vm_area_struct, the vm tunables (the before/after knobs) and the machine's
 * vm globals (vma slab, mmu_gathers: mm/mmu_gather.h).
 *
 * Models: include/linux/mm.h of 2.6.11 for file-backed mappings: a vma maps
 * [vm_start, vm_end) of one mm to file pages from vm_pgoff on (linear), or, once
 * remap_file_pages() made it VM_NONLINEAR, to arbitrary file pages placed pte by pte;
 * and of 2.6.35 for anonymous ones (vm_file NULL, vm_pgoff = vm_start in pages when
 * created, pages found through vma->anon_vma: mm/rmap.h). A private file vma is both:
 * its COW copies are anonymous pages.
 *
 * Invariants:
 *  - vm_start < vm_end, both page aligned; the vmas of one mm do not overlap and sit in
 *    mm->mm_rb keyed by vm_end (find_vma: first vma with vm_end > addr).
 *  - A file vma is in exactly one of mapping->i_mmap (linear) and
 *    mapping->i_mmap_nonlinear (VM_NONLINEAR); a vma moves from the tree to the list
 *    (remap_file_pages) but never back.
 *  - vm_truncate_count holds a truncate_count snapshot (not page aligned) or a restart
 *    address (page aligned; lockbreak=restart_in_vma).
 *
 * Locking:
 *  - vm_start, vm_end, vm_pgoff, vm_flags, the mm's vma tree: mmap_sem for writing to
 *    change them (readers: mmap_sem for reading); for file vmas the changes are also
 *    made under the mapping's i_mmap lock (vma_adjust), so an rmap walker under that
 *    lock sees consistent triples.
 *  - vm_truncate_count, the i_mmap tree/list membership: the mapping's i_mmap lock.
 *
 * vma structs come from a per-machine slab (vm_area_cachep) with a LIFO free list, as
 * the kernel's slab hands a freed object out again at once: lockbreak=restart_vma's
 * pointer comparison then meets a reused struct exactly as in 2004, and deterministically
 * (nothing depends on host addresses: the i_mmap order uses vm_seq, a counter).
 *
 * Context: task context.
 */
#pragma once

#include <map>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "emu/rng.h"
#include "mm/history.h"
#include "mm/mempolicy.h"
#include "mm/mmu_gather.h"
#include "mm/pgtable.h"
#include "mm/rmap.h"
#include "mm/swap_state.h"

struct address_space;
struct mmu;
struct mmu_gather;
struct mmu_table_batch;

/* vm_flags */
#define VM_READ 0x1UL
#define VM_WRITE 0x2UL
#define VM_SHARED 0x8UL
#define VM_MAYWRITE 0x20UL
#define VM_MAYREAD 0x10UL
#define VM_GROWSDOWN 0x100UL
#define VM_NONLINEAR 0x800000UL
#define VM_ACCOUNT 0x100000UL

/* prot / flags of mmap */
#define PROT_READ 0x1
#define PROT_WRITE 0x2
#define MAP_SHARED 0x01
#define MAP_PRIVATE 0x02
#define MAP_FIXED 0x10
#define MAP_ANONYMOUS 0x20

struct vm_area_struct {
	struct mm_struct *vm_mm;
	unsigned long vm_start, vm_end;
	unsigned long vm_pgoff;			/* file offset of vm_start, in pages */
	unsigned long vm_flags;
	pgprot_t vm_page_prot;
	struct address_space *vm_file;		/* the mapping (the kernel's vm_file->f_mapping) */
	unsigned long vm_truncate_count;	/* truncate_count snapshot or restart address */
	unsigned long vm_seq;			/* creation counter: i_mmap order among equal pgoffs */
	struct list_head nonlinear;		/* on mapping->i_mmap_nonlinear (the kernel's shared.vm_set.list) */
	/* Anonymous rmap (mm/rmap.h): where new anon pages go, and the chains to every
	 * anon_vma whose pages this vma may map (same_vma). NULL / empty until the first
	 * anonymous page (anon_vma_prepare). mmap_sem for writing, or for reading plus
	 * page_table_lock. */
	struct anon_vma *anon_vma;
	struct list_head anon_vma_chain;
	/* NUMA placement of its pages (mm/mempolicy.h); mmap_sem for writing to change. */
	struct mempolicy vm_policy;
	bool vm_live;				/* allocated from the slab (oracle for stale vma use) */
};

/* Page index of @addr in a linear vma. */
static inline unsigned long linear_page_index(const struct vm_area_struct *vma, unsigned long addr)
{
	return ((addr - vma->vm_start) >> PAGE_SHIFT) + vma->vm_pgoff;
}

/* unmap_mapping_range lockbreak variants (knob lockbreak; docs/MM.md). */
enum trunc_lockbreak {
	LOCKBREAK_NONE,		/* 2.6.9: zap everything under i_mmap_lock, no break */
	LOCKBREAK_RESTART_VMA,	/* vmtrunc 4/6: restart_vma/restart_pgoff/restart_addr in details */
	LOCKBREAK_RESTART_IN_VMA,	/* 7/6, 2.6.10-2.6.38: restart address in vm_truncate_count */
	LOCKBREAK_MUTEX_NOBREAK,	/* 3.0: i_mmap_mutex, no lockbreak, cond_resched while zapping */
};

/* Where the fault samples truncate_count (knob FAULT_RECHECK). */
enum fault_recheck {
	FAULT_RECHECK_ON,	/* before ->nopage, rechecked under the pte lock (2.6.11) */
	FAULT_RECHECK_OFF,	/* no recheck: planted bug (an orphaned page; docs/MM.md) */
	FAULT_RECHECK_LATE,	/* sampled after ->nopage: planted bug (docs/MM.md) */
};

/*
 * The before/after knobs of unmap_mapping_range and truncate (docs/MM.md) that this
 * slice implements; workloads set them from --set. Every field changes behaviour (tests/mm_*_test.cc show each).
 */
struct vm_tunables {
	enum trunc_lockbreak lockbreak = LOCKBREAK_RESTART_IN_VMA;
	enum fault_recheck fault_recheck = FAULT_RECHECK_ON;
	bool merge_reset = true;	/* vma_adjust zeroes the importer's count when counts differ */
	bool wrap_reset = true;		/* truncate_count wrap to 0 zeroes every vma's count */
	bool tree_first = true;		/* unmap_mapping_range walks i_mmap before the nonlinear list */
	bool mremap_reset_always = true;	/* mremap zeroes the new vma's count always (2.6.38), or only
					 * if nonzero and different (cond, 2.6.10-2.6.37: bug) */
	unsigned truncate_count_bits = 32;	/* width of truncate_count (2.6.11: unsigned int) */
	unsigned long truncate_count_start = 0;	/* initial count: near the wrap to reach it */
	unsigned zap_block = 0;		/* ZAP_BLOCK_SIZE in pages; 0: 8 under PREEMPT, else 1024 */
	/* RCU table freeing (mm/table_free.h; MMUs with rcu_table_free only): */
	bool mm_users_shortcut = false;	/* free a table at once when mm_users < 2 (3.0-4.18: bug) */
	unsigned table_batch_fail = 0;	/* percent of GFP_NOWAIT batch-page allocations that fail */
	/* mmu_gather (mm/mmu_gather.h): */
	enum gather_model gather = GATHER_PERCPU;
	bool tlb_fast_mode = false;	/* one possible CPU: free pages before the flush (bug if preemptible) */
	bool pte_lock_rt = false;	/* PREEMPT_RT: pte locks sleep and their holders are preemptible */
	/* anonymous memory (mm/rmap.h): */
	enum anon_lock_model anon_lock = ANON_LOCK_SPIN;
	bool wp_reuse_always = false;	/* do_wp_page reuses a shared anon page: planted bug */
	/* swap and reclaim (mm/swapfile.h, mm/vmscan.h): */
	unsigned long swap_slots = 4096;	/* swap device size in pages (0: no swap) */
	unsigned swap_read_us = 85;	/* device read latency */
	unsigned swap_write_us = 115;	/* device write latency */
	bool frames_limited = false;	/* the user set the frame count: keep the min watermark */
	bool truncate_zaps_swap = true;	/* truncate frees a COW copy's swap pte (5.18); false: it
					 * survives beyond EOF (2.6-5.17: bug) */
	/* page migration (mm/migrate.h): the 2010 races and their 2.6.35 fixes */
	bool adjust_lock = true;	/* vma_adjust takes the anon_vma lock (R1; off: 2.6.34, bug) */
	bool skip_temp_stack = true;	/* migration skips exec's temporary stack (R2; off: bug) */
	enum anon_pin_model anon_pin = ANON_PIN_REFCOUNT;
	/* NUMA (mm/mempolicy.h): mbind's MPOL_MF_LAZY and migrate-on-fault */
	enum lazy_impl lazy_impl = LAZY_SWAPCACHE_UNMAP;
	enum mof_gate mof_gate = MOF_GATE_2012;
	bool mof_check = true;		/* migrate-on-fault skips mapped pages (off: planted bug) */
	/* NUMA balancing (mm/numa.h, 3.8) */
	bool numa_balancing = false;	/* hinting faults migrate pages to their toucher's node */
	unsigned numa_scan_period_us = 1000;	/* one scan per mm per period */
	unsigned long numa_scan_size = 256;	/* pages marked per scan (3.8: 256 MB) */
	unsigned long numa_ratelimit = 32768;	/* pages migrated to a node per 100 ms (3.8: 128 MB) */
};

/* Why one unmap_and_move attempt did not move its page (metrics migrate_fail_*). */
enum migrate_fail_reason {
	MIGRATE_FAIL_LOCKED,		/* page lock busy, pass not forced */
	MIGRATE_FAIL_NO_ANON_VMA,	/* unmapped and not in the swap cache: being freed */
	MIGRATE_FAIL_MAPPED,		/* still mapped after try_to_unmap (a skipped vma) */
	MIGRATE_FAIL_REFS,		/* migratepage saw references besides the expected */
	MIGRATE_FAIL_NOMEM,		/* no target frame */
	NR_MIGRATE_FAIL,
};

/* The vma slab (vm_area_cachep): LIFO reuse of freed structs. */
struct vma_slab {
	std::vector<std::unique_ptr<struct vm_area_struct>> all;
	std::vector<struct vm_area_struct *> free;
	unsigned long next_seq;
};

/* Statistics of this slice (host counters, reported as workload metrics). */
struct vm_stats {
	unsigned long faults, file_faults, cow_faults, sigbus, fault_retries;
	unsigned long zapped, tlb_flushes;
	unsigned long umr_calls, umr_restarts, umr_vmas_skipped, umr_count_resets;
	unsigned long restart_vma_skips;	/* lockbreak=restart_vma: restart addr taken from details */
	unsigned long truncates, truncated_pages;
	unsigned long mmaps, munmaps, mprotects, remaps, merges, splits, mremaps, ptes_moved;
	unsigned long tables_freed_now, tables_freed_rcu, tables_freed_ipi;	/* mm/table_free.h */
	unsigned long gather_batches;	/* extra batch pages chained by preemptible gathers */
	unsigned long anon_faults, zero_page_faults, wp_reuses, forks, exits, ptes_copied;
	unsigned long anon_vma_free_waits;	/* trylock/rwsem: anon_vma_free met a lock holder */
	unsigned long rmap_walks, rmap_vmas_visited;
	unsigned long rmap_max_walkers;		/* most walkers inside one family's lock at once */
	/* swap and reclaim */
	unsigned long direct_reclaims, pgscan, pgsteal, pgactivate, swap_full, reclaim_oom;
	unsigned long pswpin, pswpout, swapin_faults, swapin_races, swap_ptes_set, swap_slots_freed;
	/* migration and compaction */
	unsigned long pgmigrate_success, pgmigrate_fail, migrate_freed, migrate_fail[NR_MIGRATE_FAIL];
	unsigned long migration_ptes_set, migration_ptes_restored, migration_waits, migrate_temp_stack_skips;
	unsigned long compact_passes, compact_isolated, compact_free_isolated, compact_throttled;
	/* NUMA policies and lazy migration (mm/mempolicy.h) */
	unsigned long mbinds, mbind_isolated, lazy_unmapped, lazy_failed, mof_migrations, mof_fail;
	/* NUMA balancing (mm/numa.h) */
	unsigned long numa_scans, numa_pte_updates, numa_hint_faults, numa_hint_faults_local;
	unsigned long numa_pages_migrated, numa_migrate_shared, numa_migrate_ratelimited;
};

struct vm_globals {
	struct vm_tunables t;
	struct vma_slab vma_cache;
	per_cpu_var<struct mmu_gather> mmu_gathers;	/* mmu_gather=percpu */
	struct mmu_gather_pool gather_pool;		/* mmu_gather=preemptible */
	struct vm_stats stats;
	struct mm_history hist;		/* the oracles' other sides (mm/history.h) */
	struct anon_vma_slab anon_vma_cache;	/* mm/rmap.h */
	struct swap_info_struct swap_info;	/* the swap device (mm/swapfile.h) */
	struct swap_cache swapper;		/* mm/swap_state.h */
	/* Oracle (host side): ptes holding a migration entry, by the pfn they name
	 * (mm/migrate.h). Empty when no migration is under way. */
	std::unordered_map<unsigned long, unsigned> migration_ptes;
	struct page *zero_page;		/* ZERO_PAGE: allocated by the first read fault that needs it */
	smpemu::Rng table_batch_rng{0, ""};	/* table_batch_fail's stream (vm_init seeds it) */
	/* RCU table batches not yet freed by their callback (vm_exit frees those a run left:
	 * host memory only; nothing iterates it during a run). */
	std::unordered_set<struct mmu_table_batch *> table_batches;
};

/* vm_init - set up @mem's vm globals with tunables @t and install MMU model @mmu
 * (host side, before Machine::run()). vm_exit frees the globals and puts the no-op MMU
 * back; the caller destroys @mmu after it. */
void vm_init(struct phys_mem *mem, const struct vm_tunables *t, struct mmu *mmu);
void vm_exit(struct phys_mem *mem);
/* The running machine's vm globals. */
struct vm_globals *vm_globals(void);

/* ZAP_BLOCK_SIZE in bytes for this machine's preemption model. */
unsigned long zap_block_size(void);

/* vma slab. Context: task context, no lock needed (per-machine, one fiber at a time). */
struct vm_area_struct *vm_area_alloc(struct mm_struct *mm);
void vm_area_free(struct vm_area_struct *vma);
/* vm_area_dup - a new vma with @vma's fields (vm_truncate_count included), not linked. */
struct vm_area_struct *vm_area_dup(struct vm_area_struct *vma);

/* find_vma - the first vma with vm_end > @addr, or NULL. Locking: mmap_sem held. */
struct vm_area_struct *find_vma(struct mm_struct *mm, unsigned long addr);
/* The vma after @vma in address order, or NULL. */
struct vm_area_struct *vma_next(struct vm_area_struct *vma);
struct vm_area_struct *vma_prev(struct vm_area_struct *vma);
