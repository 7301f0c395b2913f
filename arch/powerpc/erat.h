/*
 * arch/powerpc/erat.h - the translation caches of one POWER7 CPU: the D-ERAT in front of
 * the TLB, filled from the hashed page table (arch/powerpc/htab.h) on a miss, and the
 * tlbiel (this CPU) and tlbie (every CPU) invalidations.
 *
 * Models (docs/COSTS.md, IBM's POWER7 tuning guide and Linux's POWER7_TLB_SETS):
 *  - D-ERAT: 64 entries, fully associative, LRU;
 *  - TLB: 128 sets x 4 ways (512 entries), indexed by the low vpn bits, LRU.
 * Both cache vpn -> (pfn, writable); a vpn carries its address space (the VSID), so no
 * other tag is needed and nothing is flushed on a context switch. The I-ERAT is not
 * modelled (the emulator has no instruction fetches). A TLB entry is made from an HPTE
 * and outlives it: evicting or invalidating an HPTE does not touch the caches, only a
 * tlbie / tlbiel for its vpn does.
 *
 * tlbie is a broadcast the hardware performs: the issuing CPU invalidates the vpn in
 * every CPU's caches as part of the instruction and pays its cost (it completes only
 * when every CPU has dropped the entry: tlbsync/ptesync). This is hardware state written
 * by the bus, not per-CPU kernel state, so no IPI is involved; a CPU whose clock is
 * behind the tlbie loses the entry early, which can only hide stale uses, never invent
 * them.
 *
 * Concurrency: fills and local lookups by the owning CPU only (IRQs off in the MMU's
 * translate); tlbie writes every CPU's caches from the issuing CPU, as the hardware
 * does, at its sync point.
 */
#pragma once

#include <cstddef>
#include <vector>

#include "emu/types.h"

#define POWER7_DERAT_ENTRIES 64
#define POWER7_TLB_SETS 128
#define POWER7_TLB_WAYS 4

struct erat_entry {
	unsigned long vpn;
	unsigned long pfn;
	unsigned long ea;	/* for reports */
	unsigned mm_id;		/* for reports; 0: invalid */
	bool write;
	unsigned long long used;	/* LRU stamp */
};

struct ppc_cpu_tlb {
	std::vector<struct erat_entry> erat;	/* POWER7_DERAT_ENTRIES, fully associative */
	std::vector<struct erat_entry> tlb;	/* POWER7_TLB_SETS x POWER7_TLB_WAYS */
	unsigned long long stamp;
	/* Statistics. */
	unsigned long erat_hits, tlb_hits, hpt_hits, hash_faults, tlbiel, tlbie_received;
};

void ppc_cpu_tlb_init(struct ppc_cpu_tlb *t);
/* erat_lookup / ptlb_lookup - the entry for @vpn, or NULL (updates LRU on a hit). */
struct erat_entry *erat_lookup(struct ppc_cpu_tlb *t, unsigned long vpn);
struct erat_entry *ptlb_lookup(struct ppc_cpu_tlb *t, unsigned long vpn);
/* erat_fill / ptlb_fill - cache @e, replacing the LRU entry (of its set for the TLB). */
void erat_fill(struct ppc_cpu_tlb *t, const struct erat_entry &e);
void ptlb_fill(struct ppc_cpu_tlb *t, const struct erat_entry &e);
/* ppc_tlb_invalidate - drop @vpn from both caches of @t (what tlbiel does on its CPU and
 * tlbie on every CPU). */
void ppc_tlb_invalidate(struct ppc_cpu_tlb *t, unsigned long vpn);
