/*
 * mm/mmu_gather.cc - the percpu and preemptible mmu_gathers, fast mode, and the flush
 * that frees what they gathered.
 */
#include "mm/mmu_gather.h"

#include <algorithm>

#include "kernel/topology.h"
#include "mm/memory.h"
#include "mm/table_free.h"

bool tlb_gather_preemptible(void)
{
	return vm_globals()->t.gather == GATHER_PREEMPTIBLE;
}

static void batch_init(struct mmu_gather_batch *b, unsigned int max, struct page *backing)
{
	b->next = nullptr;
	b->nr = 0;
	b->max = max;
	b->backing = backing;
}

/* A gather from the pool: the kernel's on-stack struct, which the pool stands for so
 * that a gather survives its task being switched out (fibers have small stacks). */
static struct mmu_gather *gather_from_pool(struct mmu_gather_pool *pool)
{
	if (pool->free_gathers.empty()) {
		pool->gathers.push_back(std::make_unique<struct mmu_gather>());
		return pool->gathers.back().get();
	}
	struct mmu_gather *tlb = pool->free_gathers.back();
	pool->free_gathers.pop_back();
	return tlb;
}

struct mmu_gather *tlb_gather_mmu(struct mm_struct *mm, bool fullmm)
{
	struct vm_globals *vm = vm_globals();
	const bool percpu = vm->t.gather == GATHER_PERCPU;
	struct mmu_gather *tlb;
	if (percpu) {
		preempt_disable(); /* get_cpu_var(mmu_gathers) */
		tlb = this_cpu_ptr(&vm->mmu_gathers);
	} else {
		tlb = gather_from_pool(&vm->gather_pool);
	}
	BUG_ON(tlb->in_use);
	tlb->mm = mm;
	tlb->need_flush = false;
	tlb->fullmm = fullmm;
	/* 2.6.11: tlb->nr = num_online_cpus() > 1 ? 0 : ~0; 3.0: num_possible_cpus() == 1 */
	tlb->fast_mode = vm->t.tlb_fast_mode && nr_cpu_ids() == 1;
	tlb->in_use = true;
	tlb->percpu = percpu;
	tlb->start = ~0UL;
	tlb->end = 0;
	batch_init(&tlb->local, percpu ? FREE_PTE_NR : MMU_GATHER_BUNDLE, nullptr);
	tlb->active = &tlb->local;
	tlb->tables.clear();
	tlb->batch = nullptr;
	return tlb;
}

static void tlb_note_range(struct mmu_gather *tlb, unsigned long addr)
{
	tlb->need_flush = true;
	tlb->start = std::min(tlb->start, addr);
	tlb->end = std::max(tlb->end, addr + PAGE_SIZE);
}

void tlb_flush_mmu(struct mmu_gather *tlb)
{
	KFUNC();
	struct vm_globals *vm = vm_globals();
	if (!tlb->need_flush)
		return;
	tlb->need_flush = false;
	tlb_flush(tlb);
	vm->stats.tlb_flushes++;
	/* Only now may the cleared pages and unlinked tables go (I1). */
	for (struct mmu_gather_batch *b = &tlb->local; b; b = b->next) {
		for (unsigned int i = 0; i < b->nr; i++) {
			free_swap_cache(b->pages[i]); /* free_pages_and_swap_cache */
			put_page(b->pages[i]);
		}
		b->nr = 0;
	}
	tlb->active = &tlb->local;
	for (struct page *t : tlb->tables)
		pte_free(tlb->mm, t);
	tlb->tables.clear();
	tlb_table_flush(tlb); /* RCU-freed tables (mm/table_free.h) go to RCU now */
	tlb->start = ~0UL;
	tlb->end = 0;
}

/* tlb_next_batch - move on to the next batch, chaining a new one taken with GFP_NOWAIT
 * if there is none; false if no page could be had. */
static bool tlb_next_batch(struct mmu_gather *tlb)
{
	if (tlb->active->next) {
		tlb->active = tlb->active->next;
		return true;
	}
	struct page *backing = alloc_page(GFP_NOWAIT);
	if (!backing)
		return false;
	struct mmu_gather_pool *pool = &vm_globals()->gather_pool;
	struct mmu_gather_batch *b;
	if (pool->free_batches.empty()) {
		pool->batches.push_back(std::make_unique<struct mmu_gather_batch>());
		b = pool->batches.back().get();
	} else {
		b = pool->free_batches.back();
		pool->free_batches.pop_back();
	}
	batch_init(b, MAX_GATHER_BATCH, backing);
	tlb->active->next = b;
	tlb->active = b;
	vm_globals()->stats.gather_batches++;
	return true;
}

bool __tlb_remove_page(struct mmu_gather *tlb, struct page *page, unsigned long addr)
{
	tlb_note_range(tlb, addr);
	if (tlb->fast_mode) {
		free_swap_cache(page); /* free_page_and_swap_cache: before any flush */
		put_page(page);
		return true;
	}
	struct mmu_gather_batch *b = tlb->active;
	b->pages[b->nr++] = page;
	if (b->nr < b->max)
		return true;
	if (tlb->percpu) {
		tlb_flush_mmu(tlb); /* 2.6: a full gather is flushed where it fills */
		return true;
	}
	return tlb_next_batch(tlb);
}

void tlb_remove_page(struct mmu_gather *tlb, struct page *page, unsigned long addr)
{
	if (!__tlb_remove_page(tlb, page, addr))
		tlb_flush_mmu(tlb);
}

void pte_free_tlb(struct mmu_gather *tlb, struct page *table)
{
	tlb->need_flush = true; /* paging-structure caches */
	if (tlb->start == ~0UL) {
		tlb->start = 0;
		tlb->end = TASK_SIZE;
	}
	if (mm_mmu(tlb->mm)->rcu_table_free)
		tlb_remove_table(tlb, table);
	else
		tlb->tables.push_back(table);
}

void tlb_finish_mmu(struct mmu_gather *tlb, unsigned long start, unsigned long end)
{
	tlb_flush_mmu(tlb);
	tlb->in_use = false;
	if (tlb->percpu) {
		preempt_enable();
		return;
	}
	struct mmu_gather_pool *pool = &vm_globals()->gather_pool;
	for (struct mmu_gather_batch *b = tlb->local.next, *next; b; b = next) {
		next = b->next;
		put_page(b->backing); /* not __free_page: a speculative reference may hold it */
		pool->free_batches.push_back(b);
	}
	tlb->local.next = nullptr;
	pool->free_gathers.push_back(tlb);
}
