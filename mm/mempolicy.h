/*
 * mm/mempolicy.h - NUMA memory policies: where a vma's pages are allocated, mbind() to
 * set a range's policy and move its pages, and mpol_misplaced() for the fault paths
 * that migrate a page to where its policy wants it.
 *
 * Models: mm/mempolicy.c of 3.8 (vma policies only) with the MPOL_MF_LAZY flag of Lee
 * Schermerhorn's migrate-on-fault series (2006, reposted by Peter Zijlstra in 2012),
 * docs/MM.md "NUMA placement and memory policies".
 *  - A policy is a mode and a node mask. MPOL_DEFAULT allocates on the faulting CPU's
 *    node; MPOL_PREFERRED on its one node, falling back to the others by distance (an
 *    empty mask means "local": the faulting CPU's node, as MPOL_F_LOCAL); MPOL_BIND only
 *    on its nodes, the nearest with free memory first; MPOL_INTERLEAVE on the n-th node
 *    of its mask, n the page's offset in the vma's object (vm_pgoff-based, so a vma that
 *    is split keeps its pages' nodes).
 *  - The policy lives in the vma by value (the kernel refcounts a shared struct; a
 *    value copied by vm_area_dup is the same thing without the count). Vmas with
 *    different policies never merge.
 *  - mbind(start, len, mode, nodemask, flags): under mmap_sem for writing, (1) walk the
 *    range's ptes and isolate the pages the new policy does not allow (MPOL_MF_MOVE:
 *    those mapped once; MPOL_MF_MOVE_ALL: all), or with MPOL_MF_STRICT alone fail with
 *    -EIO at the first; (2) split the vmas at the range's ends and install the policy
 *    (merging with a neighbour that has it); (3) move the pages: migrate_pages to
 *    frames allocated by the new policy, or, with MPOL_MF_LAZY, only unmap them
 *    (migrate_pages_unmap_only, mm/migrate.h) so that the first touch migrates them
 *    (knob lazy_impl); (4) put back what did not move; MPOL_MF_STRICT with a page that
 *    did not move is -EIO.
 *  - Knob lazy_impl: swapcache_unmap (the 2012 prototype above); prot_numa (what was
 *    merged in 3.9: the range's ptes become NUMA hinting ptes, and the hinting fault
 *    migrates a page its policy wants elsewhere, mm/numa.h); or off (3.8: MPOL_MF_LAZY
 *    is defined but not in MPOL_MF_VALID, so mbind rejects it with -EINVAL).
 *
 * Locking: a vma's policy changes under mmap_sem for writing (mbind); the fault paths
 * read it under mmap_sem for reading. Context: task context; mbind may sleep.
 */
#pragma once

#include <bitset>

/* Node masks: one bit per NUMA node (a die: mm/page_alloc.h); 1024 nodes at most, the
 * most a profile replicated to 1024 CPUs can have (one CPU per die). */
#define MAX_NUMNODES 1024
typedef std::bitset<MAX_NUMNODES> nodemask_t;

enum mpol_mode {
	MPOL_DEFAULT,
	MPOL_PREFERRED,
	MPOL_BIND,
	MPOL_INTERLEAVE,
	MPOL_MAX,
};

/* mbind flags (include/uapi/linux/mempolicy.h). */
#define MPOL_MF_STRICT (1u << 0)	/* verify existing pages follow the policy */
#define MPOL_MF_MOVE (1u << 1)		/* move pages mapped only by this process */
#define MPOL_MF_MOVE_ALL (1u << 2)	/* move every page (CAP_SYS_NICE; granted here) */
#define MPOL_MF_LAZY (1u << 3)		/* with MOVE*: unmap now, migrate on first touch */
/* 3.8's valid set leaves MPOL_MF_LAZY out; lazy_impl=swapcache_unmap adds it. */
#define MPOL_MF_VALID (MPOL_MF_STRICT | MPOL_MF_MOVE | MPOL_MF_MOVE_ALL)

/* How mbind's MPOL_MF_LAZY is implemented (knob lazy_impl). */
enum lazy_impl {
	LAZY_SWAPCACHE_UNMAP,	/* 2006/2012 prototype: unmap into the swap cache, migrate on fault */
	LAZY_PROT_NUMA,		/* 3.9 on: mark the range for NUMA hinting faults (mm/numa.h) */
	LAZY_OFF,		/* 3.8: rejected with -EINVAL */
};

/* Which faults on a swap-cache page may migrate it (knob mof_gate). */
enum mof_gate {
	MOF_GATE_2006,		/* every fault (Lee Schermerhorn's 2006 series) */
	MOF_GATE_2012,		/* write faults on a page the fault may reuse (2012 repost) */
};

struct mempolicy {
	enum mpol_mode mode;
	nodemask_t nodes;	/* BIND, INTERLEAVE: the nodes; PREFERRED: one node, or none = local */
	bool mof;		/* MPOL_F_MOF: set by mbind with MPOL_MF_LAZY; only such a
				 * policy migrates pages on fault */
};

struct vm_area_struct;
struct page;

/* mpol_equal - same mode and nodes (vmas merge only then). @b NULL: MPOL_DEFAULT. */
bool mpol_equal(const struct mempolicy *a, const struct mempolicy *b);
/* mpol_name - "bind:0-3" and the like, for reports and metrics. */
const char *mpol_mode_name(enum mpol_mode mode);

/*
 * alloc_page_vma - a page for @addr of @vma as its policy says (the caller's node for
 * MPOL_DEFAULT): alloc_page() with a node and a mask. NULL if none of the allowed nodes
 * has a frame after reclaim. Context: may sleep if @gfp has __GFP_WAIT.
 */
struct page *alloc_page_vma(unsigned gfp, struct vm_area_struct *vma, unsigned long addr);

/* policy_node_of - the node alloc_page_vma would try first for @addr of @vma, on the
 * calling CPU. */
int policy_node_of(const struct vm_area_struct *vma, unsigned long addr);

/*
 * mpol_misplaced - the node @page (mapped, or about to be, at @addr of @vma) should move
 * to under @vma's policy, evaluated now on the calling CPU, or -1 if it may stay (always
 * for a policy without MPOL_F_MOF, which mbind gives with MPOL_MF_LAZY only): BIND
 * allows any node of its mask (else the one nearest the caller); INTERLEAVE wants the
 * node of @addr's slot; PREFERRED its node (local: the caller's); MPOL_DEFAULT the
 * caller's node (3.8's default policy with MPOL_F_MOF, "migrate on fault to local").
 */
int mpol_misplaced(struct page *page, struct vm_area_struct *vma, unsigned long addr);

/*
 * do_mbind - mbind(2) on @mm: set [@start, @start + @len)'s policy to @mode/@nodes and
 * move its pages as @flags say. 0, or -EINVAL (bad mode, flags, mask or range), -EFAULT
 * (a hole in the range), -EIO (MPOL_MF_STRICT and a page not where the policy wants it),
 * -ENOMEM. Locking: takes mmap_sem for writing. Context: task context, may sleep.
 */
int do_mbind(struct mm_struct *mm, unsigned long start, unsigned long len, enum mpol_mode mode,
	     const nodemask_t *nodes, unsigned flags);

/*
 * check_migrate_misplaced_page - migrate-on-fault's test (do_swap_page, mm/swap_state.h):
 * @page is the locked swap cache page a fault at @addr of @vma found for its swap pte.
 * The node to move it to (migrate_misplaced_page, mm/migrate.h), or -1: lazy migration
 * is off (lazy_impl=off), the gate (knob mof_gate; @write: a write fault) says no, the
 * page is mapped (knob mof_check=off plants skipping that test), not up to date or not
 * anonymous, or mpol_misplaced finds it where it belongs.
 */
int check_migrate_misplaced_page(struct page *page, struct vm_area_struct *vma, unsigned long addr, bool write);
