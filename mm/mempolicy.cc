/*
 * mm/mempolicy.cc - vma memory policies, alloc_page_vma, mpol_misplaced, mbind.
 */
#include "mm/mempolicy.h"

#include <algorithm>
#include <cerrno>
#include <map>
#include <vector>

#include "kernel/oracle.h"
#include "mm/memory.h"
#include "mm/migrate.h"
#include "mm/mmap.h"
#include "mm/numa.h"
#include "mm/page_alloc.h"
#include "mm/swap.h"

/* Entering the system call (as mmap's, mm/mmap.cc) and choosing a node by policy
 * (assumed: a few dozen instructions on the policy and the node masks). */
static constexpr smpemu::Cycles kSyscallCycles = 300;
static constexpr smpemu::Cycles kPolicyCycles = 30;
/* Looking at one pte in mbind's page walk (assumed, as zap's per-pte work). */
static constexpr smpemu::Cycles kQueuePteCycles = 15;

static const struct mempolicy default_policy = {MPOL_DEFAULT, {}, false};

bool mpol_equal(const struct mempolicy *a, const struct mempolicy *b)
{
	if (!a)
		a = &default_policy;
	if (!b)
		b = &default_policy;
	return a->mode == b->mode && a->nodes == b->nodes && a->mof == b->mof;
}

const char *mpol_mode_name(enum mpol_mode mode)
{
	switch (mode) {
	case MPOL_DEFAULT:
		return "default";
	case MPOL_PREFERRED:
		return "preferred";
	case MPOL_BIND:
		return "bind";
	case MPOL_INTERLEAVE:
		return "interleave";
	default:
		return "?";
	}
}

/* first_node - the lowest node of @nodes, or -1. */
static int first_node(const struct phys_mem *mem, const nodemask_t &nodes)
{
	for (int nid = 0; nid < nr_node_ids(mem); nid++)
		if (nodes.test(static_cast<size_t>(nid)))
			return nid;
	return -1;
}

/* nearest_allowed - the first node of @nid's fallback order (by distance) in @nodes. */
static int nearest_allowed(const struct phys_mem *mem, int nid, const nodemask_t &nodes)
{
	for (int other : mem->nodes[static_cast<size_t>(nid)].zonelist)
		if (nodes.test(static_cast<size_t>(other)))
			return other;
	return -1;
}

/* interleave_nid - the node of @addr's slot: its offset in the vma's object modulo the
 * number of nodes, counted along the mask (offset interleave, as the kernel's). */
static int interleave_nid(const struct phys_mem *mem, const struct mempolicy *pol,
			  const struct vm_area_struct *vma, unsigned long addr)
{
	const unsigned long n = pol->nodes.count();
	unsigned long target = (vma->vm_pgoff + ((addr - vma->vm_start) >> PAGE_SHIFT)) % n;
	for (int nid = 0; nid < nr_node_ids(mem); nid++)
		if (pol->nodes.test(static_cast<size_t>(nid)) && target-- == 0)
			return nid;
	return first_node(mem, pol->nodes);
}

int policy_node_of(const struct vm_area_struct *vma, unsigned long addr)
{
	const struct phys_mem *mem = machine_mem();
	const struct mempolicy *pol = &vma->vm_policy;
	const int local = numa_node_id();
	switch (pol->mode) {
	case MPOL_PREFERRED:
		return pol->nodes.none() ? local : first_node(mem, pol->nodes);
	case MPOL_BIND:
		return nearest_allowed(mem, local, pol->nodes);
	case MPOL_INTERLEAVE:
		return interleave_nid(mem, pol, vma, addr);
	default:
		return local;
	}
}

struct page *alloc_page_vma(unsigned gfp, struct vm_area_struct *vma, unsigned long addr)
{
	if (!vma || vma->vm_policy.mode == MPOL_DEFAULT)
		return alloc_page(gfp);
	cpu_work(kPolicyCycles);
	const int nid = policy_node_of(vma, addr);
	if (vma->vm_policy.mode == MPOL_BIND)
		return alloc_pages_nodemask(nid, gfp, 0, &vma->vm_policy.nodes);
	return alloc_pages_node(nid, gfp, 0);
}

int mpol_misplaced(struct page *page, struct vm_area_struct *vma, unsigned long addr)
{
	const struct phys_mem *mem = machine_mem();
	const struct mempolicy *pol = &vma->vm_policy;
	const int curnid = page_to_nid(page);
	int polnid;
	/* 3.8: with NUMA balancing on, a task without a policy has MPOL_F_MOF (migrate to
	 * the faulting CPU's node); other policies only with MPOL_MF_LAZY's mark */
	if (!pol->mof && !(pol->mode == MPOL_DEFAULT && vm_globals()->t.numa_balancing))
		return -1;
	cpu_work(kPolicyCycles);
	switch (pol->mode) {
	case MPOL_INTERLEAVE:
		polnid = interleave_nid(mem, pol, vma, addr);
		break;
	case MPOL_PREFERRED:
		polnid = pol->nodes.none() ? numa_node_id() : first_node(mem, pol->nodes);
		break;
	case MPOL_BIND:
		if (pol->nodes.test(static_cast<size_t>(curnid)))
			return -1;
		polnid = nearest_allowed(mem, numa_node_id(), pol->nodes);
		break;
	default:
		polnid = numa_node_id();
		break;
	}
	return polnid != curnid ? polnid : -1;
}

int check_migrate_misplaced_page(struct page *page, struct vm_area_struct *vma, unsigned long addr, bool write)
{
	const struct vm_tunables *t = &vm_globals()->t;
	/* only a policy mbind set with MPOL_MF_LAZY migrates on fault: tested first, so
	 * every other swap-in fault pays nothing for it */
	if (!vma->vm_policy.mof || t->lazy_impl != LAZY_SWAPCACHE_UNMAP)
		return -1;
	/* 2012: only a write fault that may take the page for itself (can_reuse_swap_page) */
	if (t->mof_gate == MOF_GATE_2012 && !(write && page_mapcount(page) + page_swapcount(page) <= 1))
		return -1;
	if (t->mof_check && page_mapped(page))
		return -1; /* another process mapped it meanwhile: it stays */
	if (!PageUptodate(page) || !PageAnon(page))
		return -1;
	return mpol_misplaced(page, vma, addr);
}

/* ---- mbind ---------------------------------------------------------------------- */

/* What mbind's page walk collects: isolated pages and where they are mapped. */
struct queue_arg {
	const nodemask_t *allowed;
	unsigned flags;
	std::vector<struct page *> pages;
	std::map<unsigned long, unsigned long> addr_of;	/* pfn -> address (new_vma_page) */
	bool misplaced;	/* MPOL_MF_STRICT alone: a page not on an allowed node */
	struct vm_area_struct *vma;
};

/* Locking: the pte table's lock (walk_pte_range); isolate_lru_page takes lru_lock. */
static int queue_pte(struct mm_struct *, pgtable_slot_t *ptep, unsigned long addr, void *argp)
{
	struct queue_arg *q = static_cast<struct queue_arg *>(argp);
	cpu_work(kQueuePteCycles);
	const pte_t pte = ptep_get(ptep);
	if (!pte_present(pte))
		return 0;
	struct page *page = vm_normal_page(q->vma, addr, pte);
	if (!page || !PageAnon(page) || q->allowed->test(static_cast<size_t>(page_to_nid(page))))
		return 0;
	if (!(q->flags & (MPOL_MF_MOVE | MPOL_MF_MOVE_ALL))) {
		q->misplaced = true; /* STRICT alone: report it */
		return 1;
	}
	/* MOVE: pages only this process maps; MOVE_ALL: every page */
	if (!(q->flags & MPOL_MF_MOVE_ALL) && page_mapcount(page) != 1)
		return 0;
	if (isolate_lru_page(page))
		return 0; /* already isolated (another migration) or being freed */
	q->pages.push_back(page);
	q->addr_of[page->pfn] = addr;
	return 0;
}

/* mbind_range - give [@start, @end) policy @pol: split the vmas at the ends, merge with
 * a neighbour that has it. Locking: mmap_sem for writing. */
static int mbind_range(struct mm_struct *mm, unsigned long start, unsigned long end, const struct mempolicy *pol)
{
	unsigned long nstart = start;
	while (nstart < end) {
		struct vm_area_struct *vma = find_vma(mm, nstart);
		const unsigned long vmend = std::min(vma->vm_end, end);
		struct vm_area_struct *prev = nstart > vma->vm_start ? vma : vma_prev(vma);
		if (!mpol_equal(&vma->vm_policy, pol)) {
			const unsigned long pgoff = vma->vm_pgoff + ((nstart - vma->vm_start) >> PAGE_SHIFT);
			struct vm_area_struct *merged = nullptr;
			if (!(vma->vm_flags & VM_NONLINEAR))
				merged = vma_merge(mm, prev, nstart, vmend, vma->vm_flags, vma->anon_vma, vma->vm_file,
						   pgoff, pol);
			if (merged) {
				vma = merged;
			} else {
				if (nstart != vma->vm_start && split_vma(mm, vma, nstart, true))
					return -ENOMEM;
				if (vmend != vma->vm_end && split_vma(mm, vma, vmend, false))
					return -ENOMEM;
			}
			/* Locking: mmap_sem for writing; faults read it under mmap_sem for reading */
			vma->vm_policy = *pol;
		}
		nstart = vmend;
	}
	return 0;
}

/* new_vma_page - migrate_pages' allocator for mbind: a frame where the new policy puts
 * the page's address (mmap_sem is held, so the vma is still there). */
static struct page *new_vma_page(struct page *page, void *priv)
{
	struct queue_arg *q = static_cast<struct queue_arg *>(priv);
	const unsigned long addr = q->addr_of.at(page->pfn);
	struct vm_area_struct *vma = find_vma(q->vma->vm_mm, addr);
	return alloc_page_vma(GFP_HIGHUSER_MOVABLE, vma, addr);
}

/* mbind_check - the arguments 3.8 refuses with -EINVAL (0 if fine). */
static int mbind_check(const struct phys_mem *mem, unsigned long start, enum mpol_mode mode,
		       const nodemask_t *nodes, unsigned flags)
{
	unsigned valid = MPOL_MF_VALID;
	if (vm_globals()->t.lazy_impl != LAZY_OFF)
		valid |= MPOL_MF_LAZY;
	if (mode < MPOL_DEFAULT || mode >= MPOL_MAX || (flags & ~valid) || (start & ~PAGE_MASK))
		return -EINVAL;
	/* LAZY modifies MOVE*: alone it asks for nothing */
	if ((flags & MPOL_MF_LAZY) && !(flags & (MPOL_MF_MOVE | MPOL_MF_MOVE_ALL)))
		return -EINVAL;
	for (size_t nid = static_cast<size_t>(nr_node_ids(mem)); nid < MAX_NUMNODES; nid++)
		if (nodes->test(nid))
			return -EINVAL; /* a node the machine does not have */
	if (mode == MPOL_DEFAULT && nodes->any())
		return -EINVAL;
	if ((mode == MPOL_BIND || mode == MPOL_INTERLEAVE) && nodes->none())
		return -EINVAL;
	return 0;
}

int do_mbind(struct mm_struct *mm, unsigned long start, unsigned long len, enum mpol_mode mode,
	     const nodemask_t *nodes, unsigned flags)
{
	KFUNC();
	struct phys_mem *mem = machine_mem();
	struct vm_globals *vm = vm_globals();
	vm->stats.mbinds++; /* calls, refused ones included */
	int err = mbind_check(mem, start, mode, nodes, flags);
	if (err)
		return err;
	len = PAGE_ALIGN(len);
	const unsigned long end = start + len;
	if (end < start)
		return -EINVAL;
	if (end == start)
		return 0;
	struct mempolicy pol = {mode, {}, (flags & MPOL_MF_LAZY) != 0};
	if (mode == MPOL_PREFERRED && nodes->any())
		pol.nodes.set(static_cast<size_t>(first_node(mem, *nodes)));
	else if (mode != MPOL_PREFERRED)
		pol.nodes = *nodes;
	if (mode == MPOL_DEFAULT)
		flags &= ~MPOL_MF_STRICT;

	down_write(&mm->mmap_sem);
	cpu_work(kSyscallCycles);
	/* the range must be mapped throughout */
	for (unsigned long a = start; a < end;) {
		struct vm_area_struct *vma = find_vma(mm, a);
		if (!vma || vma->vm_start > a) {
			up_write(&mm->mmap_sem);
			return -EFAULT;
		}
		a = vma->vm_end;
	}
	/* pages may stay on the policy's nodes; with none (MPOL_DEFAULT, a local
	 * MPOL_PREFERRED) every page is queued, as the kernel's check does */
	struct queue_arg q;
	q.allowed = &pol.nodes;
	q.flags = flags;
	q.misplaced = false;
	q.vma = nullptr;
	const bool prot_numa = (flags & MPOL_MF_LAZY) && vm->t.lazy_impl == LAZY_PROT_NUMA;
	if ((flags & (MPOL_MF_STRICT | MPOL_MF_MOVE | MPOL_MF_MOVE_ALL)) && !prot_numa) {
		for (unsigned long a = start; a < end && !q.misplaced;) {
			struct vm_area_struct *vma = find_vma(mm, a);
			const unsigned long e = std::min(vma->vm_end, end);
			q.vma = vma;
			if (!vma->vm_file || vma->anon_vma)
				walk_pte_range(mm, a, e, queue_pte, &q);
			a = e;
		}
	}
	if (q.misplaced)
		err = -EIO;
	if (!err)
		err = mbind_range(mm, start, end, &pol);
	/* prot_numa: no page moves now; the hinting faults move those the policy misplaces */
	for (unsigned long a = start; !err && prot_numa && a < end;) {
		struct vm_area_struct *vma = find_vma(mm, a);
		const unsigned long e = std::min(vma->vm_end, end);
		change_prot_numa(vma, a, e);
		a = e;
	}
	vm->stats.mbind_isolated += q.pages.size();
	if (!err && !q.pages.empty()) {
		int nr_failed;
		if (flags & MPOL_MF_LAZY) {
			nr_failed = migrate_pages_unmap_only(&q.pages);
		} else {
			q.vma = find_vma(mm, start);
			nr_failed = migrate_pages(&q.pages, new_vma_page, &q);
		}
		if (nr_failed && (flags & MPOL_MF_STRICT))
			err = -EIO;
	}
	putback_lru_pages(&q.pages); /* what did not move, or all of them after an error */
	up_write(&mm->mmap_sem);
	return err;
}
