/*
 * mm/mm_types.h - struct page, struct zone, pg_data_t and the machine's physical memory.
 *
 * Models: the kernel's mem_map. Every emulated physical frame (4 KiB) has a struct page
 * and, for the oracles, an emulated content word (its own coherence line, so reads and
 * writes of frame data are sync points) and a state: free, allocated, or page table.
 * Frames are grouped in NUMA nodes, one per die of the machine (kernel/topology.h); each
 * node has a single zone (ZONE_NORMAL) with its own free list and zone->lock.
 *
 * struct page, as in the kernel, fits one cache line: flags, _count and _mapcount share
 * the page's line, so get_page() on one CPU and PageLocked() on another contend on it.
 *
 * Invariants:
 *  - frame state free <=> _count == 0 and the page is on its zone's free list.
 *  - _mapcount == -1 <=> no pte maps the page; a page with _mapcount >= 0 has _count >= 1.
 *  - page->pfn, page->zone and page->nid never change (the kernel encodes them in flags
 *    or derives them from the page's address; here they are plain fields).
 *  - A frame in state page-table has a struct pgtable_page in phys_mem::tables.
 *
 * Concurrency:
 *  - flags: atomic bit operations (kernel/bitops.h); PG_locked is the page lock.
 *  - _count, _mapcount: atomics.
 *  - mapping, index: set and cleared with the page locked and the mapping's tree_lock
 *    held for writing (add_to_page_cache, remove_from_page_cache); private_: page lock.
 *  - anon_vma, index of an anonymous page: set by page_add_new_anon_rmap before its
 *    first pte is set (the page is the faulter's alone then); fixed until it is freed.
 *  - lru: under the zone lock while the page is free (the buddy/free list), under the
 *    zone's lru_lock while PG_lru is set (mm/swap.h).
 *  - phys_mem::state: oracle bookkeeping, changed by the allocator under zone->lock and
 *    by the page-table code; read without sync points by checks.
 *
 * Determinism: frames, nodes and free lists are vectors and lists in pfn order; nothing
 * depends on host addresses. Each phys_mem belongs to one Machine (no global state):
 * machine_mem() finds the running Machine's phys_mem as that Machine's extension
 * (kernel/machine_ext.h): one O(1) lookup, no table of machines.
 */
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "kernel/atomic.h"
#include "kernel/bitops.h"
#include "kernel/cpumask.h"
#include "kernel/kernel.h"
#include "kernel/list.h"
#include "kernel/lockdep.h"

#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define PAGE_MASK (~(PAGE_SIZE - 1))
/* @len rounded up to a whole number of pages (wraps to 0 near ~0UL: callers check). */
#define PAGE_ALIGN(len) (((len) + PAGE_SIZE - 1) & PAGE_MASK)

/* Page flags: bit numbers in page->flags. */
enum pageflags {
	PG_locked,	/* the page lock (lock_page) */
	PG_uptodate,	/* contents valid */
	PG_dirty,	/* contents newer than backing store */
	PG_reserved,	/* never freed (boot allocations) */
	PG_lru,		/* on its zone's LRU list (mm/swap.h) */
	PG_anon,	/* anonymous memory (the kernel marks mapping's low bit) */
	PG_swapcache,	/* in the swap cache; private_ holds its swp_entry_t (mm/swap_state.h) */
	__NR_PAGEFLAGS,
};

/* Oracle state of a frame. */
enum frame_state : std::uint8_t {
	FRAME_FREE,
	FRAME_ALLOCATED,
	FRAME_PAGETABLE,
};

struct address_space;
struct anon_vma;
struct zone;
struct vm_globals;
struct vm_area_struct;
struct mmu;

struct page {
	shared<unsigned long> flags;	/* PG_*; on the page's line */
	atomic_t _count;		/* references; 0 = free */
	atomic_t _mapcount;		/* ptes mapping it, minus one */
	struct address_space *mapping;	/* the file mapping whose page cache holds it, or NULL */
	/* PG_anon pages: the anon_vma it was first mapped under (the kernel keeps it in
	 * mapping, tagged; a typed field here), on the page's line; kept after the last
	 * unmap until the page is freed, as the kernel does (mm/rmap.h). */
	shared<struct anon_vma *> anon_vma;
	unsigned long index;		/* offset in mapping, in pages */
	unsigned long private_;		/* owner's data (the kernel's page->private) */
	struct list_head lru;		/* on the zone's free list while free, on its LRU list
					 * while PG_lru (under zone->lru_lock) */
	/* What the kernel encodes in flags or derives from the address: */
	unsigned long pfn;
	int nid;
	struct zone *zone;
	/* The page lock's waiters (the kernel hashes pages onto shared wait queues; one
	 * per page here, so a wake-up never has to skip another page's waiters). */
	wait_queue_head_t wait;
};

struct zone {
	spinlock_t lock;		/* class "zone_lock": free_list, nr_free */
	struct list_head free_list;	/* free pages, most recently freed first */
	unsigned long nr_free;		/* under lock */
	unsigned long start_pfn, spanned_pages;
	int node;
	/* Statistics (under lock). */
	unsigned long nr_alloc, nr_alloc_remote;
	/* Reclaim (mm/swap.h, mm/vmscan.h). pages_min: allocations that may sleep leave this
	 * many frames free (those that may not can use them); 0 unless a frame limit is set. */
	unsigned long pages_min;
	spinlock_t lru_lock;		/* class "lru_lock": lru_list, nr_lru, PG_lru */
	struct list_head lru_list;	/* anonymous pages, most recently added first */
	unsigned long nr_lru;
	unsigned long nr_isolated;	/* under lru_lock: pages compaction has off the LRU (not
					 * reclaim's: mm/compaction.h) */
};

typedef struct pglist_data {
	int node_id;
	int die;			/* the topology die this node is */
	struct zone node_zone;		/* ZONE_NORMAL only */
	std::vector<int> zonelist;	/* node ids by distance, this node first */
	/* NUMA balancing's migration rate limit (mm/numa.h): the current window's end and
	 * the pages migrated to this node in it; host state of the task at its turn. */
	unsigned long numabalancing_migrate_next_window;
	unsigned long numabalancing_migrate_nr_pages;
} pg_data_t;

/*
 * The contents of a frame used as a page table (any level): 512 entries, 8 per
 * coherence line, so hardware walkers and lockless readers load them as sync points;
 * and the split pte lock (the kernel's page->ptl), class "ptl". Allocated the first time
 * the frame becomes a page table and kept (never returned to the host) so a stale
 * walker reads stale entries, which the oracles then catch by the frame's state.
 */
#define PTRS_PER_TABLE 512
struct pgtable_page {
	shared<unsigned long> ent[PTRS_PER_TABLE];
	spinlock_t ptl;
};

struct phys_mem {
	smpemu::Machine *m;
	std::vector<struct page> pages;			/* mem_map, by pfn */
	std::vector<shared<unsigned long>> content;	/* one emulated word per frame */
	std::vector<std::uint8_t> state;		/* enum frame_state, by pfn */
	std::vector<std::unique_ptr<struct pgtable_page>> tables;	/* by pfn, lazily */
	std::vector<pg_data_t> nodes;
	std::vector<int> cpu_node;			/* node of each CPU */
	/* NUMA: cycles a line fetched from memory costs on top of the node-local fetch,
	 * CPU by node (ncpus x nnodes; 0 on the CPU's own node): the inter-node line
	 * transfer (mm/page.h, page_stream). mem_cycles: the profile's memory cost. */
	std::vector<unsigned> node_extra;
	unsigned long mem_cycles;
	struct lockdep_map page_lock_map;		/* class "page_lock" */
	struct lockdep_map page_lock_inner[4];		/* classes lock_page() must not be
							 * taken under (mm/page.cc) */
	unsigned next_mm_id;
	/* Every mm_struct mm_alloc made and mmdrop has not freed (host side: the
	 * environment frees those a run leaves). */
	std::unordered_set<struct mm_struct *> live_mms;
	struct vm_globals *vm;				/* mm/mm.h: tunables, slabs, gathers */
	struct mmu *mmu;				/* the MMU model (arch/mmu.h): &nommu until
							 * vm_init() installs the configured one */
};

/*
 * An address space (the kernel's struct mm_struct, minimal). Its page tables are the
 * radix tree of arch/pgtable.h under @pgd; mm/pgtable.h walks and locks them.
 */
struct mm_struct {
	struct page *pgd;		/* top-level table page */
	spinlock_t page_table_lock;	/* upper levels; the pte lock unless split_ptlock */
	struct rw_semaphore mmap_sem;	/* class "mmap_sem": the vma tree (mm_rb), map_count */
	atomic_t mm_users;		/* users of the address space (threads, get_task_mm) */
	atomic_t mm_count;		/* references to the struct; mm_users counts as one */
	cpumask_t cpu_vm_mask;		/* CPUs that may hold its translations in a TLB */
	bool split_ptlock;		/* per-pte-table locks instead of page_table_lock */
	unsigned id;			/* from a counter, for reports */
	unsigned long nr_ptes;		/* pte tables; under page_table_lock */
	struct phys_mem *mem;
	/* vmas by vm_end (the kernel's mm_rb and mmap list); under mmap_sem. */
	std::map<unsigned long, struct vm_area_struct *> mm_rb;
	int map_count;
	unsigned long start_brk, brk;	/* the heap: [start_brk, brk); mmap_sem */
	/* Oracle (host side, no sync points): the value last stored through this mm into
	 * each private page (anonymous, or a private file page's COW copy), by page number;
	 * a page of an anonymous vma not in it reads 0. Copied at fork, moved by mremap,
	 * dropped by munmap and by truncate's zap of a COW copy (mm/rmap.h, docs/MM.md). */
	std::map<unsigned long, unsigned long> shadow;
	/* NUMA balancing (mm/numa.h): when the next scan may start (cycles; a cmpxchg picks
	 * the thread that does it) and where it goes on (the scanning thread, under
	 * mmap_sem for reading). */
	atomic_long_t numa_next_scan;
	unsigned long numa_scan_offset;
	/* Oracle: pages try_to_unmap is swapping out, page number -> pfn (anon_shadow.h). */
	std::map<unsigned long, unsigned long> swapping_out;
};
