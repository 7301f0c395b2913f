/*
 * arch/powerpc/hash_utils.cc - translate, hash_page, pte_update, flush_hash_page, tlbie
 * and the ppc64-hash entry of the MMU registry.
 */
#include "arch/powerpc/hash_utils.h"

#include <cassert>
#include <cerrno>
#include <cstring>
#include <string>

#include "arch/walk.h"
#include "kernel/oracle.h"
#include "mm/history.h"
#include "mm/mm.h"

extern const struct mmu_ops ppc64_mmu_ops;

static inline struct hpte_slot pte_slot(const struct htab *h, unsigned long hash, pteval_t pte)
{
	return {hpt_group(h, hash, (pte & _PAGE_F_SECOND) != 0),
		static_cast<unsigned>((pte & _PAGE_F_GIX) >> _PAGE_F_GIX_SHIFT)};
}

bool mm_is_local(struct mm_struct *mm)
{
	const int self = smp_processor_id();
	bool only_self = true;
	for_each_cpu(&mm->cpu_vm_mask, [&](int cpu) {
		if (cpu != self)
			only_self = false;
	});
	return only_self;
}

/* ---- tlbie / tlbiel ------------------------------------------------------------ */

static void tlbiel(struct ppc64_mmu *mmu, unsigned long vpn)
{
	struct ppc_cpu_tlb *t = this_cpu_ptr(&mmu->cpu);
	cpu_work(mmu->p.tlbiel);
	ppc_tlb_invalidate(t, vpn);
	t->tlbiel++;
	mmu->tlbiel_count++;
}

/* The broadcast: the issuing CPU drops @vpn from every CPU's caches (arch/powerpc/erat.h). */
static void tlbie(struct ppc64_mmu *mmu, unsigned long vpn)
{
	if (mmu->p.tlbie_lock)
		spin_lock(&mmu->tlbie_lock);
	smp_mb(); /* ptesync: the HPTE store is visible before the invalidation */
	cpu_work(mmu->p.tlbie);
	for (struct ppc_cpu_tlb &t : mmu->cpu.copies) {
		ppc_tlb_invalidate(&t, vpn);
		t.tlbie_received++;
	}
	mmu->tlbie_count++;
	if (mmu->p.tlbie_lock)
		spin_unlock(&mmu->tlbie_lock);
}

/* Drop @vpn from this CPU's caches (@local) or from every CPU's. */
static void tlb_invalidate_vpn(struct ppc64_mmu *mmu, unsigned long vpn, bool local)
{
	if (local)
		tlbiel(mmu, vpn);
	else
		tlbie(mmu, vpn);
}

void flush_hash_page(struct ppc64_mmu *mmu, struct mm_struct *mm, unsigned long ea, pteval_t pte, bool local)
{
	const unsigned long vpn = hpt_vpn(mm, ea);
	const unsigned long hash = hpt_hash(mm, ea);
	/* As Linux's native_hpte_invalidate: the HPTE lock and the tlbie with IRQs off, so
	 * nothing preempts the holder of an HPTE lock (a preemptible lazy MMU region,
	 * pte_lock=rt, reaches here with preemption on). */
	unsigned long flags;
	local_irq_save(flags);
	native_hpte_invalidate(&mmu->htab, pte_slot(&mmu->htab, hash, pte), vpn);
	/* Always: an evicted HPTE may still be cached (native_hpte_invalidate in Linux). */
	tlb_invalidate_vpn(mmu, vpn, local);
	local_irq_restore(flags);
	smpemu::this_machine()->trace_event(smpemu::TraceKind::TlbFlush, ea & PAGE_MASK, 1);
}

/* ---- hash_page ------------------------------------------------------------------ */

/* The HPTE's protection for a pte: writable only if RW and already DIRTY. */
static bool hpte_rw(pteval_t pte)
{
	return (pte & _PAGE_RW) && (pte & _PAGE_DIRTY);
}

/* Insert an HPTE for @vpn; evict from a full pair of groups. Returns the pte slot bits. */
static pteval_t hash_insert(struct ppc64_mmu *mmu, struct mm_struct *mm, unsigned long ea, unsigned long vpn,
			    unsigned long hash, unsigned long pfn, bool rw)
{
	struct htab *h = &mmu->htab;
	for (;;) {
		for (int sec = 0; sec < 2; sec++) {
			const int slot = native_hpte_insert(h, hpt_group(h, hash, sec), sec, vpn, hash, pfn, rw, mm, ea);
			if (slot >= 0)
				return (sec ? _PAGE_F_SECOND : 0) | (static_cast<pteval_t>(slot) << _PAGE_F_GIX_SHIFT);
		}
		/* Both full: evict from one of them (the kernel picks by a timebase bit). */
		native_hpte_remove(h, hpt_group(h, hash, h->evict_rng.below(2) != 0));
	}
}

/* __hash_page - hash_page's work on the pte slot @ptep (__hash_page_4K): 0, or -EFAULT if
 * the pte forbids the access. Context: IRQs off. */
static int __hash_page(struct ppc64_mmu *mmu, struct mm_struct *mm, unsigned long ea, pgtable_slot_t *ptep,
		       bool write)
{
	pteval_t old, newpte;
	for (;;) {
		old = smp_cond_load_relaxed(ptep, [](unsigned long v) { return !(v & _PAGE_BUSY); });
		if (!(old & _PAGE_PRESENT) || (write && !(old & _PAGE_RW)))
			return -EFAULT;
		newpte = old | _PAGE_BUSY | _PAGE_ACCESSED | _PAGE_HASHPTE | (write ? _PAGE_DIRTY : 0);
		if (cmpxchg(ptep, old, newpte) == old)
			break;
	}
	const unsigned long vpn = hpt_vpn(mm, ea);
	const unsigned long hash = hpt_hash(mm, ea);
	const bool rw = hpte_rw(newpte);
	const bool local = mm_is_local(mm);
	bool done = false;
	if (old & _PAGE_HASHPTE) {
		/* An HPTE may exist in the slot the pte records: update its protection. */
		if (native_hpte_updatepp(&mmu->htab, pte_slot(&mmu->htab, hash, old), vpn, rw) == 0) {
			tlb_invalidate_vpn(mmu, vpn, local);
			done = true;
		}
	}
	if (!done) {
		newpte &= ~(_PAGE_F_SECOND | _PAGE_F_GIX);
		newpte |= hash_insert(mmu, mm, ea, vpn, hash, pte_pfn(__pte(newpte)), rw);
	}
	WRITE_ONCE(*ptep, newpte & ~_PAGE_BUSY); /* the release of BUSY */
	return 0;
}

int hash_page(struct ppc64_mmu *mmu, struct mm_struct *mm, unsigned long ea, bool write)
{
	KFUNC();
	this_cpu_ptr(&mmu->cpu)->hash_faults++;
	cpu_work(mmu->p.hash_fault);
	pgtable_slot_t *ptep = lookup_pte(mm, ea);
	if (!ptep)
		return -EFAULT;
	return __hash_page(mmu, mm, ea, ptep, write);
}

/* ---- translate ------------------------------------------------------------------ */

static int __ppc64_translate(struct ppc64_mmu *mmu, struct mm_struct *mm, unsigned long ea, bool write,
			     unsigned long *pfn)
{
	struct ppc_cpu_tlb *t = this_cpu_ptr(&mmu->cpu);
	const int cpu = smp_processor_id();
	const unsigned long vpn = hpt_vpn(mm, ea);
	struct erat_entry *e = erat_lookup(t, vpn);
	if (e && (!write || e->write)) {
		t->erat_hits++;
		check_cached_translation(mm, ea, e->pfn, "ERAT entry");
		*pfn = e->pfn;
		return 0;
	}
	e = ptlb_lookup(t, vpn);
	if (e && (!write || e->write)) {
		t->tlb_hits++;
		cpu_work(mmu->p.erat_miss);
		check_cached_translation(mm, ea, e->pfn, "TLB entry");
		erat_fill(t, *e);
		*pfn = e->pfn;
		return 0;
	}
	if (!cpumask_test_cpu(cpu, &mm->cpu_vm_mask))
		cpumask_set_cpu(cpu, &mm->cpu_vm_mask); /* switch_mm's mm_cpumask */
	const unsigned long hash = hpt_hash(mm, ea);
	for (int tries = 0;; tries++) {
		cpu_work(mmu->p.hpt_search);
		struct hpte_slot s;
		unsigned long r;
		if (htab_search(&mmu->htab, vpn, hash, &s, &r) == 0 && (!write || (r & HPTE_R_RW))) {
			t->hpt_hits++;
			const struct erat_entry ne = {vpn, r >> HPTE_R_PFN_SHIFT, ea & PAGE_MASK, mm->id, (r & HPTE_R_RW) != 0, 0};
			check_cached_translation(mm, ea, ne.pfn, "HPTE");
			note_tlb_fill(mm, cpu, ea);
			ptlb_fill(t, ne);
			erat_fill(t, ne);
			*pfn = ne.pfn;
			return 0;
		}
		/* A miss, or a store through a read-only HPTE: the storage interrupt. */
		if (hash_page(mmu, mm, ea, write))
			return -EFAULT;
		if (tries > 64)
			BUG(); /* hash_page made an HPTE that allows the access: the search finds it */
	}
}

/* ---- the ppc64-hash entry of the MMU registry (arch/mmu.h) ------------------- */

static struct ppc64_mmu *to_ppc64(struct mmu *mmu)
{
	assert(mmu->ops == &ppc64_mmu_ops); /* per-class operations: only ppc64 ops get here */
	return static_cast<struct ppc64_mmu *>(mmu);
}

static pteval_t ppc64_pte_update(struct mmu *mmu, struct mm_struct *mm, unsigned long addr, pgtable_slot_t *ptep,
				 pteval_t clr, pteval_t set, unsigned int flags)
{
	struct ppc64_mmu *p = to_ppc64(mmu);
	if (flags & PTE_UPDATE_STORE)
		set &= ~_PAGE_HPTEFLAGS; /* set_pte_at never installs hash bits */
	pteval_t old;
	for (;;) {
		old = smp_cond_load_relaxed(ptep, [](unsigned long v) { return !(v & _PAGE_BUSY); });
		if (cmpxchg(ptep, old, (old & ~clr) | set) == old)
			break;
	}
	const void *ptl = pte_slot_lockptr(mm, addr, ptep);
	if (old & _PAGE_HASHPTE)
		hpte_need_flush(p, mm, addr, old, ptl);
	if (!pte_none(__pte(old)) && pte_none(__pte((old & ~clr) | set)))
		this_cpu_ptr(&p->cleared)->push_back({ptl, mm, addr & PAGE_MASK});
	return (flags & PTE_UPDATE_STORE) ? 0 : old;
}

/* update_mmu_cache: hash_preload, so the access that faulted does not fault again into
 * hash_page. The HPTE is writable if the fault installed a dirty writable pte. */
static void ppc64_update_mmu_cache(struct mmu *mmu, struct vm_area_struct *vma, unsigned long addr,
				   pgtable_slot_t *ptep)
{
	KFUNC();
	struct mm_struct *mm = vma->vm_mm;
	if (ptep_get(ptep).pte & _PAGE_HASHPTE)
		return;
	unsigned long flags;
	local_irq_save(flags);
	const int cpu = smp_processor_id();
	if (!cpumask_test_cpu(cpu, &mm->cpu_vm_mask))
		cpumask_set_cpu(cpu, &mm->cpu_vm_mask);
	__hash_page(to_ppc64(mmu), mm, addr & PAGE_MASK, ptep, false);
	local_irq_restore(flags);
}

static int ppc64_translate(struct mmu *mmu, struct mm_struct *mm, unsigned long addr, bool write, unsigned long *pfn)
{
	unsigned long flags;
	local_irq_save(flags);
	const int ret = __ppc64_translate(to_ppc64(mmu), mm, addr, write, pfn);
	local_irq_restore(flags);
	return ret;
}

/* flush_tlb_*: the hash flushes were done by pte_update, or (tlb_flush_only) are done
 * here, with this CPU's batch. */
static void ppc64_flush_tlb_mm(struct mmu *mmu, struct mm_struct *mm)
{
	if (to_ppc64(mmu)->p.hash_flush == HASH_FLUSH_TLB_FLUSH_ONLY)
		flush_tlb_pending(to_ppc64(mmu));
}

static void ppc64_flush_tlb_range(struct mmu *mmu, struct mm_struct *mm, unsigned long start, unsigned long end)
{
	ppc64_flush_tlb_mm(mmu, mm);
}

static void ppc64_flush_tlb_page(struct mmu *mmu, struct mm_struct *mm, unsigned long addr)
{
	ppc64_flush_tlb_mm(mmu, mm);
}

/* tlb_flush (3.x tlb_hash64.c): drain this CPU's batch before the gather frees pages. */
static void ppc64_tlb_flush(struct mmu *mmu, struct mmu_gather *tlb)
{
	flush_tlb_pending(to_ppc64(mmu));
}

static void ppc64_enter_lazy(struct mmu *mmu)
{
	ppc64_enter_lazy_mmu(to_ppc64(mmu));
}

static void ppc64_leave_lazy(struct mmu *mmu)
{
	ppc64_leave_lazy_mmu(to_ppc64(mmu));
}

static void ppc64_pte_unlock(struct mmu *mmu, const void *ptl)
{
	ppc64_pte_unlock_check(to_ppc64(mmu), ptl);
}

static void ppc64_stats(struct mmu *mmu, mmu_stat_fn fn, void *arg)
{
	struct ppc64_mmu *p = to_ppc64(mmu);
	unsigned long erat = 0, tlb = 0, hpt = 0, faults = 0;
	for (const struct ppc_cpu_tlb &t : p->cpu.copies) {
		erat += t.erat_hits;
		tlb += t.tlb_hits;
		hpt += t.hpt_hits;
		faults += t.hash_faults;
	}
	fn(arg, "erat_hits", erat);
	fn(arg, "tlb_hits", tlb);
	fn(arg, "hpt_hits", hpt);
	fn(arg, "hash_faults", faults);
	fn(arg, "hpte_inserts", p->htab.inserts);
	fn(arg, "hpte_secondary_inserts", p->htab.secondary_inserts);
	fn(arg, "hpte_evictions", p->htab.evictions);
	fn(arg, "hpte_updates", p->htab.updates);
	fn(arg, "hpte_invalidations", p->htab.invalidations);
	fn(arg, "tlbie", p->tlbie_count);
	fn(arg, "tlbiel", p->tlbiel_count);
	fn(arg, "hash_batch_flushes", p->batch_flushes);
	fn(arg, "lazy_mmu_switches", p->lazy_switches);
	fn(arg, "flush_calls", p->flush_calls);
	fn(arg, "flush_cycles", p->flush_cycles);
}

static void ppc64_destroy(struct mmu *mmu)
{
	struct ppc64_mmu *p = to_ppc64(mmu);
	if (p->p.ctxsw_batch_flush)
		set_switch_hooks_on(p->m, nullptr, nullptr, nullptr, nullptr);
	delete p;
}

const struct mmu_ops ppc64_mmu_ops = {
	.pte_update = ppc64_pte_update,
	.update_mmu_cache = ppc64_update_mmu_cache,
	.translate = ppc64_translate,
	.flush_tlb_mm = ppc64_flush_tlb_mm,
	.flush_tlb_range = ppc64_flush_tlb_range,
	.flush_tlb_page = ppc64_flush_tlb_page,
	.tlb_flush = ppc64_tlb_flush,
	.enter_lazy_mmu = ppc64_enter_lazy,
	.leave_lazy_mmu = ppc64_leave_lazy,
	.pte_unlock = ppc64_pte_unlock,
	.stats = ppc64_stats,
	.destroy = ppc64_destroy,
};

struct mmu *ppc64_mmu_create(smpemu::Machine *m, const struct mmu_setup *setup)
{
	struct ppc64_mmu *p = new ppc64_mmu();
	p->ops = &ppc64_mmu_ops;
	p->type = find_mmu_type("ppc64-hash");
	p->rcu_table_free = true;
	p->p.hash_flush = std::strcmp(mmu_knob_value(setup, "hash_flush"), "tlb_flush_only") == 0
				  ? HASH_FLUSH_TLB_FLUSH_ONLY
				  : HASH_FLUSH_LEAVE_LAZY;
	p->p.tlbie_lock = std::strcmp(mmu_knob_value(setup, "tlbie_lock"), "on") == 0;
	p->p.ctxsw_batch_flush = std::strcmp(mmu_knob_value(setup, "ctxsw_batch_flush"), "on") == 0;
	p->m = m;
	htab_init(&p->htab, m, setup->ram_pages);
	per_cpu_init(&p->cpu, m->ncpus());
	for (struct ppc_cpu_tlb &t : p->cpu.copies)
		ppc_cpu_tlb_init(&t);
	per_cpu_init(&p->batch, m->ncpus());
	per_cpu_init(&p->cleared, m->ncpus());
	spin_lock_init_on(m, &p->tlbie_lock, "tlbie_lock");
	p->warned_batch = p->warned_stale = false;
	p->tlbie_count = p->tlbiel_count = p->batch_flushes = p->lazy_switches = 0;
	p->flush_calls = p->flush_cycles = 0;
	if (p->p.ctxsw_batch_flush)
		ppc64_register_switch_hooks(p);
	return p;
}
