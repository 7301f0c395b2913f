/*
 * mm/numa.cc - NUMA balancing: task_numa_work, change_prot_numa, do_numa_page,
 * numamigrate_misplaced_page.
 */
#include "mm/numa.h"

#include <algorithm>
#include <vector>

#include "arch/tlbflush.h"
#include "kernel/oracle.h"
#include "kernel/topology.h"
#include "mm/memory.h"
#include "mm/mempolicy.h"
#include "mm/migrate.h"
#include "mm/page_alloc.h"
#include "mm/swap.h"

/* Marking one pte (assumed, as mprotect's per-pte work in mm/memory.cc). */
static constexpr smpemu::Cycles kNumaPteCycles = 15;
/* 3.8's rate limit window: migrate_interval_millisecs. */
static constexpr unsigned long kRatelimitWindowMs = 100;

/* ---- marking -------------------------------------------------------------------- */

struct prot_numa_arg {
	struct vm_area_struct *vma;
	unsigned long marked;
};

/* Locking: the pte table's lock (walk_pte_range). */
static int mark_numa_pte(struct mm_struct *mm, pgtable_slot_t *ptep, unsigned long addr, void *argp)
{
	struct prot_numa_arg *arg = static_cast<struct prot_numa_arg *>(argp);
	cpu_work(kNumaPteCycles);
	const pte_t pte = ptep_get(ptep);
	if (!pte_hw_present(pte))
		return 0; /* none, swap, migration entry, or marked already */
	struct page *page = vm_normal_page(arg->vma, addr, pte);
	/* only pages this mm alone maps: a shared page's placement is nobody's to decide */
	if (!page || page_mapcount(page) != 1)
		return 0;
	ptep_set_numa(mm, addr, ptep); /* atomic: the hardware may set A/D bits meanwhile */
	arg->marked++;
	return 0;
}

unsigned long change_prot_numa(struct vm_area_struct *vma, unsigned long start, unsigned long end)
{
	KFUNC();
	struct prot_numa_arg arg = {vma, 0};
	walk_pte_range(vma->vm_mm, start, end, mark_numa_pte, &arg);
	if (arg.marked)
		flush_tlb_range(vma, start, end);
	vm_globals()->stats.numa_pte_updates += arg.marked;
	return arg.marked;
}

/* ---- the hinting fault ------------------------------------------------------------ */

int do_numa_page(struct mm_struct *mm, struct vm_area_struct *vma, unsigned long addr, pte_t pte,
		 pgtable_slot_t *ptep, pgtable_slot_t *pmd)
{
	KFUNC();
	struct vm_globals *vm = vm_globals();
	spinlock_t *ptl = pte_lockptr(mm, pmd);
	spin_lock(ptl);
	if (ptep_get(ptep).pte != pte.pte) {
		pte_unmap_unlock(ptep, ptl); /* another fault, a zap or the scanner got there first */
		return VM_FAULT_MINOR;
	}
	vm->stats.numa_hint_faults++;
	pte = pte_mknonnuma(pte);
	set_pte_at(mm, addr, ptep, pte);
	update_mmu_cache(vma, addr, ptep);
	struct page *page = vm_normal_page(vma, addr, pte);
	if (!page) {
		pte_unmap_unlock(ptep, ptl);
		return VM_FAULT_MINOR;
	}
	get_page(page);
	const int target = mpol_misplaced(page, vma, addr);
	pte_unmap_unlock(ptep, ptl);
	if (target < 0) {
		vm->stats.numa_hint_faults_local++;
		put_page(page);
		return VM_FAULT_MINOR;
	}
	if (numamigrate_misplaced_page(page, target))
		vm->stats.numa_pages_migrated++;
	return VM_FAULT_MINOR;
}

/* ---- migration -------------------------------------------------------------------- */

/* Too many pages moved to @nid in this window (3.8's numamigrate_update_ratelimit). The
 * window is host-side state of the node, read and written only between sync points by
 * the task at its turn: the kernel's numabalancing_migrate_lock adds nothing here. */
static bool numamigrate_ratelimited(pg_data_t *pgdat, unsigned long nr_pages)
{
	const smpemu::Cycles now = local_clock();
	const smpemu::Cycles window = static_cast<smpemu::Cycles>(cpu_clock_hz() / 1000 * kRatelimitWindowMs);
	if (now >= pgdat->numabalancing_migrate_next_window) {
		pgdat->numabalancing_migrate_nr_pages = 0;
		pgdat->numabalancing_migrate_next_window = now + window;
	}
	if (pgdat->numabalancing_migrate_nr_pages > vm_globals()->t.numa_ratelimit)
		return true;
	pgdat->numabalancing_migrate_nr_pages += nr_pages;
	return false;
}

/* alloc_misplaced_dst_page - migrate_pages' allocator: on the target node only, without
 * sleeping (the kernel's GFP_THISNODE | __GFP_NORETRY | __GFP_NOMEMALLOC). */
static struct page *alloc_misplaced_dst_page(struct page *, void *priv)
{
	return alloc_pages_node(*static_cast<int *>(priv), GFP_NOWAIT | __GFP_THISNODE, 0);
}

bool numamigrate_misplaced_page(struct page *page, int nid)
{
	KFUNC();
	struct vm_globals *vm = vm_globals();
	pg_data_t *pgdat = &machine_mem()->nodes[static_cast<size_t>(nid)];
	/* a page several processes map: migrating it would help one and hurt the others */
	if (page_mapcount(page) != 1) {
		vm->stats.numa_migrate_shared++;
		put_page(page);
		return false;
	}
	if (numamigrate_ratelimited(pgdat, 1)) {
		vm->stats.numa_migrate_ratelimited++;
		put_page(page);
		return false;
	}
	if (isolate_lru_page(page)) {
		put_page(page);
		return false;
	}
	put_page(page); /* the isolation's reference keeps it now */
	std::vector<struct page *> list = {page};
	int target = nid;
	const int nr_remaining = migrate_pages(&list, alloc_misplaced_dst_page, &target, MIGRATE_ASYNC);
	if (nr_remaining) {
		putback_lru_pages(&list);
		return false;
	}
	return true;
}

/* ---- the scanner -------------------------------------------------------------------- */

void task_numa_work(struct mm_struct *mm)
{
	struct vm_globals *vm = vm_globals();
	if (!vm->t.numa_balancing)
		return;
	KFUNC();
	const long now = static_cast<long>(local_clock());
	const long next = atomic_long_read(&mm->numa_next_scan);
	if (now < next)
		return;
	const long period = static_cast<long>(cpu_clock_hz() / 1000000 * vm->t.numa_scan_period_us);
	/* one thread of the mm scans per period: the one whose cmpxchg wins */
	if (atomic_long_cmpxchg(&mm->numa_next_scan, next, now + period) != next)
		return;
	vm->stats.numa_scans++;
	long pages = static_cast<long>(vm->t.numa_scan_size);
	down_read(&mm->mmap_sem);
	unsigned long start = mm->numa_scan_offset;
	struct vm_area_struct *vma = find_vma(mm, start);
	if (!vma) {
		start = 0; /* wrapped: start over from the first vma */
		vma = find_vma(mm, 0);
	}
	for (; vma; vma = vma_next(vma)) {
		/* vma_migratable: anonymous memory here (file pages are not on the LRU) */
		if (vma->vm_file)
			continue;
		start = std::max(start, vma->vm_start);
		const unsigned long end = std::min(start + (static_cast<unsigned long>(pages) << PAGE_SHIFT), vma->vm_end);
		pages -= static_cast<long>((end - start) >> PAGE_SHIFT);
		change_prot_numa(vma, start, end);
		start = end;
		if (pages <= 0)
			break;
	}
	/* where the next scan goes on; past the last vma it starts over */
	mm->numa_scan_offset = vma ? start : 0;
	up_read(&mm->mmap_sem);
}
