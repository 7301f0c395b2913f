/*
 * mm/table_free.cc - tlb_remove_table, the batch page, the IPI fallback, the RCU callback.
 */
#include "mm/table_free.h"

#include "kernel/smp.h"
#include "kernel/topology.h"
#include "mm/memory.h"

static void tlb_remove_table_rcu(rcu_head *head)
{
	struct mmu_table_batch *batch = static_cast<struct mmu_table_batch *>(head->data);
	for (struct page *t : batch->tables)
		__pte_free(batch->mem, t);
	put_page(batch->page); /* not __free_page: a speculative reference may hold it */
	batch->mem->vm->table_batches.erase(batch);
	delete batch;
}

void tlb_table_flush(struct mmu_gather *tlb)
{
	struct mmu_table_batch *batch = tlb->batch;
	if (!batch)
		return;
	tlb->batch = nullptr;
	call_rcu(&batch->rcu, tlb_remove_table_rcu);
}

/* The IPI's handler: nothing; that it ran means the CPU was not in an IRQs-off walk. */
static void tlb_remove_table_smp_sync(void *info)
{
	atomic_dec(static_cast<atomic_t *>(info));
}

/* No batch page: wait until every other CPU has taken an IPI, then free at once. */
static void tlb_remove_table_one(struct mmu_gather *tlb, struct page *table)
{
	KFUNC();
	struct vm_globals *vm = vm_globals();
	const int self = smp_processor_id();
	const int n = nr_cpu_ids();
	atomic_t pending;
	atomic_init(&pending, n - 1);
	std::vector<struct call_single_data> csd(static_cast<size_t>(n));
	for (int cpu = 0; cpu < n; cpu++) {
		if (cpu == self)
			continue;
		csd[static_cast<size_t>(cpu)] = {tlb_remove_table_smp_sync, &pending};
		smp_call_function_single_async(cpu, &csd[static_cast<size_t>(cpu)]);
	}
	atomic_cond_read_acquire(&pending, [](int v) { return v == 0; });
	vm->stats.tables_freed_ipi++;
	pte_free(tlb->mm, table);
}

/* __get_free_page(GFP_NOWAIT): the allocator, failing table_batch_fail percent of the time. */
static struct page *batch_page(struct vm_globals *vm)
{
	if (vm->t.table_batch_fail && vm->table_batch_rng.below(100) < vm->t.table_batch_fail)
		return nullptr;
	return alloc_page(GFP_NOWAIT);
}

void tlb_remove_table(struct mmu_gather *tlb, struct page *table)
{
	KFUNC();
	struct vm_globals *vm = vm_globals();
	if (vm->t.mm_users_shortcut && atomic_read(&tlb->mm->mm_users) < 2) {
		vm->stats.tables_freed_now++;
		pte_free(tlb->mm, table); /* "nobody else can be walking it" */
		return;
	}
	if (!tlb->batch) {
		struct page *p = batch_page(vm);
		if (!p) {
			tlb_remove_table_one(tlb, table);
			return;
		}
		tlb->batch = new mmu_table_batch();
		tlb->batch->mem = tlb->mm->mem;
		tlb->batch->page = p;
		tlb->batch->rcu.data = tlb->batch;
		vm->table_batches.insert(tlb->batch);
	}
	tlb->batch->tables.push_back(table);
	vm->stats.tables_freed_rcu++;
	if (tlb->batch->tables.size() == MAX_TABLE_BATCH)
		tlb_table_flush(tlb);
}
