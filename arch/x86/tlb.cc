/*
 * arch/x86/tlb.cc - set-associative TLBs, the hardware walker, flushes and shootdown.
 */
#include "arch/x86/tlb.h"

#include <cassert>
#include <cerrno>
#include <string>

#include "arch/walk.h"
#include "kernel/oracle.h"
#include "kernel/topology.h"
#include "mm/history.h"
#include "mm/mm.h"

extern const struct mmu_ops x86_mmu_ops;

void x86_tlb_init(struct x86_tlb *tlb, smpemu::Machine *m, const struct tlb_params *p)
{
	tlb->ops = &x86_mmu_ops;
	tlb->type = find_mmu_type("x86");
	tlb->rcu_table_free = false; /* the shootdown IPI waits for IRQs-off walkers */
	tlb->p = *p;
	tlb->shootdown_ipis = 0;
	tlb->flush_calls = tlb->flush_cycles = 0;
	per_cpu_init(&tlb->cpu, m->ncpus());
	for (struct cpu_tlb &t : tlb->cpu.copies) {
		t.l1.assign(p->l1_entries, tlb_entry{});
		t.l2.assign(p->l2_entries, tlb_entry{});
		t.stamp = 0;
		t.gens.clear();
		t.flush_probes = 0;
		atomic_init_on(&t.flush_pending, m->new_line(), 0);
	}
}

/* A filled entry that no flush has removed since. */
static bool tlb_valid(const struct tlb_entry &e)
{
	return e.mm_id != 0 && e.mm_gen->gen == e.gen;
}

/* The first way of @vpn's set in @arr: the set is ways [base, base + ways). */
static size_t tlb_set_base(const std::vector<struct tlb_entry> &arr, unsigned ways, unsigned long vpn)
{
	return (vpn % (arr.size() / ways)) * ways;
}

static struct tlb_entry *tlb_find(std::vector<struct tlb_entry> &arr, unsigned ways, unsigned mm_id, unsigned long vpn)
{
	const size_t base = tlb_set_base(arr, ways, vpn);
	for (size_t i = base; i < base + ways; i++)
		if (arr[i].mm_id == mm_id && arr[i].vpn == vpn && tlb_valid(arr[i]))
			return &arr[i];
	return nullptr;
}

/* Invalidate every entry for (@mm_id, @vpn) in its set. There can be two: a store to a page
 * cached read-only refills it, and the fill may take an invalid way before the old one. */
static void tlb_invalidate_page(std::vector<struct tlb_entry> &arr, unsigned ways, unsigned mm_id, unsigned long vpn)
{
	const size_t base = tlb_set_base(arr, ways, vpn);
	for (size_t i = base; i < base + ways; i++)
		if (arr[i].mm_id == mm_id && arr[i].vpn == vpn)
			arr[i].mm_id = 0;
}

static void tlb_fill(struct cpu_tlb *t, std::vector<struct tlb_entry> &arr, unsigned ways, const struct tlb_entry &e)
{
	const size_t base = tlb_set_base(arr, ways, e.vpn);
	size_t victim = base;
	for (size_t i = base; i < base + ways; i++) {
		if (!tlb_valid(arr[i]) || (arr[i].mm_id == e.mm_id && arr[i].vpn == e.vpn)) {
			victim = i;
			break;
		}
		if (arr[i].used < arr[victim].used)
			victim = i;
	}
	arr[victim] = e;
	arr[victim].used = ++t->stamp;
}

static int __tlb_translate(struct x86_tlb *tlb, struct mm_struct *mm, unsigned long addr, bool write,
			   unsigned long *pfn)
{
	struct cpu_tlb *t = this_cpu_ptr(&tlb->cpu);
	const unsigned long vpn = addr >> PAGE_SHIFT;
	const int cpu = smp_processor_id();
	struct tlb_entry *e = tlb_find(t->l1, tlb->p.l1_ways, mm->id, vpn);
	if (e && (!write || e->write)) {
		t->l1_hits++;
		e->used = ++t->stamp;
		check_cached_translation(mm, e->vpn << PAGE_SHIFT, e->pfn, "TLB entry");
		*pfn = e->pfn;
		return 0;
	}
	e = tlb_find(t->l2, tlb->p.l2_ways, mm->id, vpn);
	if (e && (!write || e->write)) {
		t->l2_hits++;
		e->used = ++t->stamp;
		cpu_work(tlb->p.l2_hit);
		check_cached_translation(mm, e->vpn << PAGE_SHIFT, e->pfn, "TLB entry");
		tlb_fill(t, t->l1, tlb->p.l1_ways, *e);
		*pfn = e->pfn;
		return 0;
	}
	/* Walk. The CPU joins the mm's mask before its first fill can be used. */
	t->walks++;
	if (!cpumask_test_cpu(cpu, &mm->cpu_vm_mask))
		cpumask_set_cpu(cpu, &mm->cpu_vm_mask);
	cpu_work(tlb->p.walk);
	pte_t pte;
	if (hw_walk(mm, addr, write, &pte)) { /* sets A (and D on a store) in hardware */
		t->faults++;
		return -EFAULT;
	}
	const struct tlb_mm_gen *g = &t->gens[mm->id];
	struct tlb_entry ne = {vpn, pte_pfn(pte), mm->id, pte_write(pte), 0, g, g->gen};
	check_cached_translation(mm, addr, ne.pfn, "TLB entry");
	note_tlb_fill(mm, cpu, addr);
	tlb_fill(t, t->l2, tlb->p.l2_ways, ne);
	tlb_fill(t, t->l1, tlb->p.l1_ways, ne);
	*pfn = ne.pfn;
	return 0;
}

int x86_tlb_translate(struct x86_tlb *tlb, struct mm_struct *mm, unsigned long addr, bool write, unsigned long *pfn)
{
	/* A hardware walk is not interrupted: a shootdown IPI waits for it (and for the
	 * access that uses it, when the caller has IRQs off: mm/user_access.h). */
	unsigned long flags;
	local_irq_save(flags);
	const int ret = __tlb_translate(tlb, mm, addr, write, pfn);
	local_irq_restore(flags);
	return ret;
}

struct flush_tlb_info {
	struct x86_tlb *tlb;
	struct mm_struct *mm;
	unsigned long start, end;	/* end == ~0UL: the whole mm */
	atomic_t *pending;		/* the sender's flush_pending */
};

static smpemu::Cycles local_flush_cost(const struct tlb_params *p, unsigned long pages)
{
	if (pages > p->full_flush_ceiling)
		return p->flush_full;
	if (pages <= 1)
		return p->flush_1;
	if (pages <= 2)
		return p->flush_2;
	if (pages <= 4)
		return p->flush_4;
	if (pages <= 8)
		return p->flush_8;
	return p->flush_8 + (p->flush_33 - p->flush_8) * (pages - 8) / 25;
}

/* Invalidate @info's range on this CPU and charge the flush: the whole local flush, or
 * (@remote, in the IPI handler) only its invalidation. */
static void flush_tlb_local(struct flush_tlb_info *info, bool remote)
{
	struct cpu_tlb *t = this_cpu_ptr(&info->tlb->cpu);
	const unsigned long pages = info->end == ~0UL ? ~0UL : (info->end - info->start) >> PAGE_SHIFT;
	const bool full = pages > info->tlb->p.full_flush_ceiling;
	if (full) {
		/* Every entry of the mm, filled under the current generation, becomes invalid. */
		auto it = t->gens.find(info->mm->id);
		if (it != t->gens.end())
			it->second.gen++;
		t->flush_probes++;
	} else {
		/* At most full_flush_ceiling + 1 pages (a partial last page counts): look each up. */
		const struct tlb_params *p = &info->tlb->p;
		for (unsigned long vpn = info->start >> PAGE_SHIFT; (vpn << PAGE_SHIFT) < info->end; vpn++) {
			tlb_invalidate_page(t->l1, p->l1_ways, info->mm->id, vpn);
			tlb_invalidate_page(t->l2, p->l2_ways, info->mm->id, vpn);
			t->flush_probes += p->l1_ways + p->l2_ways;
		}
	}
	t->flushes++;
	const smpemu::Cycles cost = local_flush_cost(&info->tlb->p, pages);
	const smpemu::Cycles fixed = info->tlb->p.flush_fixed;
	cpu_work(!remote ? cost : cost > fixed ? cost - fixed : 0);
	smpemu::this_machine()->trace_event(smpemu::TraceKind::TlbFlush, full ? ~0UL : info->start, full ? 0 : pages);
}

static void flush_tlb_func(void *arg)
{
	struct flush_tlb_info *info = static_cast<struct flush_tlb_info *>(arg);
	this_cpu_ptr(&info->tlb->cpu)->remote_flushes++;
	flush_tlb_local(info, true);
	atomic_dec(info->pending);
}

static void flush_tlb_mm_range(struct x86_tlb *tlb, struct mm_struct *mm, unsigned long start, unsigned long end)
{
	struct flush_tlb_info info;
	info.tlb = tlb;
	info.mm = mm;
	info.start = start;
	info.end = end;
	const smpemu::Cycles t0 = local_clock();
	preempt_disable();
	const int self = smp_processor_id();
	info.pending = &this_cpu_ptr(&tlb->cpu)->flush_pending;
	flush_tlb_local(&info, false);
	std::vector<int> targets;
	for_each_cpu(&mm->cpu_vm_mask, [&](int cpu) {
		if (cpu != self)
			targets.push_back(cpu);
	});
	if (!targets.empty()) {
		std::vector<struct call_single_data> csd(targets.size());
		atomic_set(info.pending, static_cast<int>(targets.size()));
		for (size_t i = 0; i < targets.size(); i++) {
			csd[i] = {flush_tlb_func, &info};
			tlb->shootdown_ipis++;
			smp_call_function_single_async(targets[i], &csd[i]);
		}
		atomic_cond_read_acquire(info.pending, [](int v) { return v == 0; });
	}
	tlb->flush_calls++;
	tlb->flush_cycles += local_clock() - t0;
	preempt_enable();
}

void x86_flush_tlb_page(struct x86_tlb *tlb, struct mm_struct *mm, unsigned long addr)
{
	addr &= PAGE_MASK;
	flush_tlb_mm_range(tlb, mm, addr, addr + PAGE_SIZE);
}

void x86_flush_tlb_range(struct x86_tlb *tlb, struct mm_struct *mm, unsigned long start, unsigned long end)
{
	flush_tlb_mm_range(tlb, mm, start & PAGE_MASK, end);
}

void x86_flush_tlb_mm(struct x86_tlb *tlb, struct mm_struct *mm)
{
	flush_tlb_mm_range(tlb, mm, 0, ~0UL);
}

/* ---- the x86 entry of the MMU registry (arch/mmu.h) --------------------- */

static struct x86_tlb *to_x86(struct mmu *mmu)
{
	assert(mmu->ops == &x86_mmu_ops); /* per-class operations: only x86 ops get here */
	return static_cast<struct x86_tlb *>(mmu);
}

static pteval_t x86_pte_update(struct mmu *mmu, struct mm_struct *mm, unsigned long addr, pgtable_slot_t *ptep,
			       pteval_t clr, pteval_t set, unsigned int flags)
{
	return native_pte_update(ptep, clr, set, flags);
}

/* x86 needs nothing when a pte is installed: the next miss walks to it. */
static void x86_update_mmu_cache(struct mmu *mmu, struct vm_area_struct *vma, unsigned long addr,
				 pgtable_slot_t *ptep)
{
}

static int x86_translate(struct mmu *mmu, struct mm_struct *mm, unsigned long addr, bool write, unsigned long *pfn)
{
	return x86_tlb_translate(to_x86(mmu), mm, addr, write, pfn);
}

static void x86_op_flush_tlb_mm(struct mmu *mmu, struct mm_struct *mm)
{
	x86_flush_tlb_mm(to_x86(mmu), mm);
}

static void x86_op_flush_tlb_range(struct mmu *mmu, struct mm_struct *mm, unsigned long start, unsigned long end)
{
	x86_flush_tlb_range(to_x86(mmu), mm, start, end);
}

static void x86_op_flush_tlb_page(struct mmu *mmu, struct mm_struct *mm, unsigned long addr)
{
	x86_flush_tlb_page(to_x86(mmu), mm, addr);
}

/* The 2.6 x86 tlb_flush: the whole mm at exit, else the range gathered. */
static void x86_tlb_flush(struct mmu *mmu, struct mmu_gather *tlb)
{
	if (tlb->fullmm)
		x86_flush_tlb_mm(to_x86(mmu), tlb->mm);
	else
		x86_flush_tlb_range(to_x86(mmu), tlb->mm, tlb->start, tlb->end);
}

static void x86_stats(struct mmu *mmu, mmu_stat_fn fn, void *arg)
{
	fn(arg, "shootdown_ipis", to_x86(mmu)->shootdown_ipis);
	fn(arg, "flush_calls", to_x86(mmu)->flush_calls);
	fn(arg, "flush_cycles", to_x86(mmu)->flush_cycles);
}

static void x86_destroy(struct mmu *mmu)
{
	delete to_x86(mmu);
}

const struct mmu_ops x86_mmu_ops = {
	.pte_update = x86_pte_update,
	.update_mmu_cache = x86_update_mmu_cache,
	.translate = x86_translate,
	.flush_tlb_mm = x86_op_flush_tlb_mm,
	.flush_tlb_range = x86_op_flush_tlb_range,
	.flush_tlb_page = x86_op_flush_tlb_page,
	.tlb_flush = x86_tlb_flush,
	.enter_lazy_mmu = mmu_nop_lazy,
	.leave_lazy_mmu = mmu_nop_lazy,
	.pte_unlock = mmu_nop_pte_unlock,
	.stats = x86_stats,
	.destroy = x86_destroy,
};

struct mmu *x86_mmu_create(smpemu::Machine *m, const struct mmu_setup *setup)
{
	struct x86_tlb *tlb = new x86_tlb();
	const struct tlb_params p;
	x86_tlb_init(tlb, m, &p);
	return tlb;
}
