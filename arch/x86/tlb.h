/*
 * arch/x86/tlb.h - per-CPU x86 TLBs, the hardware page walker, and TLB shootdown.
 *
 * Models: a two-level data TLB per CPU (L1 DTLB and the unified L2 STLB, both
 * set-associative with LRU replacement, tagged by (mm id, virtual page)), a hardware
 * walker that fills them from the emulated page tables with lockless entry loads
 * (lookup_pte: every level is a sync point, so it races with updaters), and the
 * kernel's flush_tlb_page/range/mm: a local invalidation costed from Dave Hansen's
 * measurements plus, for every other CPU in mm->cpu_vm_mask, an IPI whose handler
 * flushes that CPU and acks by decrementing a shared counter (2.6's flush_cpumask, one
 * line every target writes); the sender waits until every target has acked. The
 * sender pays the machine's ipi_send per target, one after the other.
 *
 * cpu_vm_mask: a CPU's bit is set by its first fill for the mm (the kernel sets it in
 * switch_mm) and is never cleared here (no lazy-TLB mode yet).
 *
 * Flushing costs the host what it removes, not the TLB's size (1,600 entries per CPU):
 * a range flush of up to full_flush_ceiling pages looks up each page in its set (at most
 * 34 pages x 16 ways); a whole-mm flush bumps this CPU's generation for the mm (struct
 * tlb_mm_gen, as x86's per-CPU tlb_gen does for a PCID), and an entry filled under an
 * older generation is invalid from then on, for lookups and for the choice of victim
 * alike. The entries a flush removes and the LRU order are those of a full scan.
 *
 * Oracle: a translation used from a TLB whose frame is free, or has become a page table,
 * is a fatal "use-after-free-frame" report naming the stale TLB entry (the mmu_gather
 * rule: no page, data or page table, is freed before a TLB flush that follows its last
 * clear and covers every CPU that may cache a translation through it).
 *
 * The model is the MMU "x86" of the registry (arch/mmu.h): struct x86_tlb is a struct
 * mmu whose operations are the functions below; its ptes are plain memory words
 * (native_pte_update) and update_mmu_cache has nothing to do, as on x86.
 *
 * Locking: each CPU's TLB is touched only by that CPU (fills, local flushes, and the
 * IPI handler run on it). The walker takes no lock. Context: task context for
 * x86_tlb_translate and the flushes (the flushes wait for IPIs, so IRQs must be on).
 */
#pragma once

#include <unordered_map>
#include <vector>

#include "kernel/percpu.h"
#include "kernel/smp.h"
#include "arch/mmu.h"

struct tlb_params {
	unsigned l1_entries = 64;	/* Skylake L1 DTLB: 64 entries, 4-way (docs/COSTS.md TLB) */
	unsigned l1_ways = 4;
	/* L2 STLB: 1536 entries (docs/COSTS.md). 12-way gives 128 sets, a power of two indexed by
	 * the low vpn bits, as Skylake's STLB is organised (1536 = 128 x 12). */
	unsigned l2_entries = 1536;
	unsigned l2_ways = 12;
	smpemu::Cycles l2_hit = 9;	/* L1 miss hitting L2: ~9 cycles (docs/COSTS.md, vusec/tlbkit) */
	smpemu::Cycles walk = 26;	/* page walk, tables cached: ~26 cycles + its loads (docs/COSTS.md) */
	/* Local flush_tlb_mm_range by pages: 1 1276, 2 1505, 4 2447, 8 3542, 33 8534; full
	 * 2283 (docs/COSTS.md, Dave Hansen, linux-mm Feb 2014). More than 33 pages: full flush. */
	smpemu::Cycles flush_1 = 1276, flush_2 = 1505, flush_4 = 2447, flush_8 = 3542, flush_33 = 8534;
	smpemu::Cycles flush_full = 2283;
	unsigned long full_flush_ceiling = 33;
	/* The part of a local flush that is not invalidation (the function's own work): the
	 * 1-page cost less one page's marginal cost, 1276 - (1505 - 1276). The IPI handler on
	 * a remote CPU runs only the invalidation, so it is charged the local cost less this;
	 * its entry and exit are in the machine's ipi_latency (docs/ENGINE.md, "TLB shootdown"). */
	smpemu::Cycles flush_fixed = 1047;
};

/* One CPU's flush generation for one mm: bumped by every whole-mm flush on that CPU. */
struct tlb_mm_gen {
	unsigned long gen;
};

struct tlb_entry {
	unsigned long vpn;
	unsigned long pfn;
	unsigned mm_id;		/* 0: invalid */
	bool write;
	unsigned long long used;	/* LRU stamp */
	/* Valid only while *mm_gen == gen: the generation of the mm on this CPU at the fill.
	 * mm_gen points into the owning cpu_tlb's gens (stable: map nodes are never erased). */
	const struct tlb_mm_gen *mm_gen;
	unsigned long gen;
};

struct cpu_tlb {
	std::vector<struct tlb_entry> l1, l2;
	unsigned long long stamp;
	std::unordered_map<unsigned, struct tlb_mm_gen> gens;	/* by mm id: mms this CPU has cached */
	/* Statistics. */
	unsigned long l1_hits, l2_hits, walks, faults, flushes, remote_flushes;
	unsigned long flush_probes;	/* entries a flush examined (host cost; tests bound it) */
	/* Acks still due to this CPU's flush in progress (2.6's flush_cpumask of the CPU's
	 * flush vector): set by this CPU, decremented by each target's IPI handler. One line
	 * per CPU for the whole run; a flush runs with preemption off, so one at a time. */
	atomic_t flush_pending;
};

/* An x86 MMU instance: a struct mmu (its ops are x86_mmu_ops) with the TLBs of every CPU. */
struct x86_tlb : mmu {
	struct tlb_params p;
	per_cpu_var<struct cpu_tlb> cpu;	/* each written only by its CPU */
	/* Statistics, written by the flushing CPU: IPIs sent by flushes; flushes called and
	 * their cycles from call to return (local invalidation, IPIs, wait for the acks). */
	unsigned long shootdown_ipis;
	unsigned long flush_calls, flush_cycles;
};

/* x86_tlb_init - empty TLBs for every CPU of @m (host side, before run()). */
void x86_tlb_init(struct x86_tlb *tlb, smpemu::Machine *m, const struct tlb_params *p);
/* x86_mmu_create - the registry's create: a new x86_tlb with default tlb_params. */
struct mmu *x86_mmu_create(smpemu::Machine *m, const struct mmu_setup *setup);

/* x86_tlb_translate - the MMU on this CPU: translate @addr of @mm for a load or a store.
 * Returns 0 and the pfn, or -EFAULT (no present pte, or a store to a read-only pte: a
 * page fault for the caller). A walk sets the pte's accessed (and dirty) bits. It runs
 * with IRQs off, as a hardware walk cannot be interrupted; a caller that uses the pfn
 * keeps IRQs off until its access is done (mm/user_access.h). */
int x86_tlb_translate(struct x86_tlb *tlb, struct mm_struct *mm, unsigned long addr, bool write, unsigned long *pfn);

/* Flushes: local invalidation plus shootdown of every other CPU in mm->cpu_vm_mask;
 * return when all of them have flushed. */
void x86_flush_tlb_page(struct x86_tlb *tlb, struct mm_struct *mm, unsigned long addr);
void x86_flush_tlb_range(struct x86_tlb *tlb, struct mm_struct *mm, unsigned long start, unsigned long end);
void x86_flush_tlb_mm(struct x86_tlb *tlb, struct mm_struct *mm);
