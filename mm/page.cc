/*
 * mm/page.cc - struct page references, mapcount, the page lock, frame contents, and
 * finding the running machine's physical memory.
 */
#include "mm/page.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>

#include "arch/mmu.h"
#include "kernel/oracle.h"
#include "kernel/topology.h"
#include "mm/migrate.h"
#include "mm/page_alloc.h"
#include "mm/swap.h"

/* The lock classes lock_page() must not be taken under (order: docs/MM.md). */
static const char *const page_lock_inner_cls[4] = {"page_table_lock", "ptl", "zone_lock", "lru_lock"};

/*
 * machine_mem - the running Machine's memory: its extension of type phys_mem
 * (kernel/machine_ext.h), attached by phys_mem_init. This is the thin hook that lets
 * kernel-style code call alloc_page() without a memory argument, as the kernel uses its
 * global mem_map; it is not observable (one O(1) lookup).
 */
struct phys_mem *machine_mem(void)
{
	return machine_ext<struct phys_mem>();
}

void phys_mem_init(struct phys_mem *mem, smpemu::Machine *m, unsigned long pages_per_node)
{
	mem->m = m;
	mem->next_mm_id = 1;
	mem->vm = nullptr;
	mem->mmu = &nommu;
	lockdep_init_map_on(m, &mem->page_lock_map, "page_lock");
	for (int i = 0; i < 4; i++)
		lockdep_init_map_on(m, &mem->page_lock_inner[i], page_lock_inner_cls[i]);

	/* Nodes: the dies the CPUs sit on, in increasing die id. */
	const int ncpus = nr_cpu_ids_on(m);
	std::vector<int> dies;
	for (int c = 0; c < ncpus; c++)
		dies.push_back(cpu_to_die_on(m, c));
	std::sort(dies.begin(), dies.end());
	dies.erase(std::unique(dies.begin(), dies.end()), dies.end());
	const int nnodes = static_cast<int>(dies.size());
	std::vector<int> first_cpu(static_cast<size_t>(nnodes), -1);
	mem->cpu_node.resize(static_cast<size_t>(ncpus));
	for (int c = 0; c < ncpus; c++) {
		const int nid = static_cast<int>(std::lower_bound(dies.begin(), dies.end(), cpu_to_die_on(m, c)) - dies.begin());
		mem->cpu_node[static_cast<size_t>(c)] = nid;
		if (first_cpu[static_cast<size_t>(nid)] < 0)
			first_cpu[static_cast<size_t>(nid)] = c;
	}

	const unsigned long nr = pages_per_node * static_cast<unsigned long>(nnodes);
	mem->pages = std::vector<struct page>(nr);
	mem->content.resize(nr);
	mem->state.assign(nr, FRAME_FREE);
	mem->tables.clear();
	mem->tables.resize(nr);
	mem->nodes.resize(static_cast<size_t>(nnodes));

	for (int nid = 0; nid < nnodes; nid++) {
		pg_data_t *pgdat = &mem->nodes[static_cast<size_t>(nid)];
		pgdat->node_id = nid;
		pgdat->die = dies[static_cast<size_t>(nid)];
		pgdat->numabalancing_migrate_next_window = 0;
		pgdat->numabalancing_migrate_nr_pages = 0;
		struct zone *z = &pgdat->node_zone;
		spin_lock_init_on(m, &z->lock, "zone_lock");
		INIT_LIST_HEAD(&z->free_list);
		z->node = nid;
		z->start_pfn = static_cast<unsigned long>(nid) * pages_per_node;
		z->spanned_pages = pages_per_node;
		z->nr_free = 0;
		z->nr_alloc = z->nr_alloc_remote = 0;
		z->pages_min = 0;
		spin_lock_init_on(m, &z->lru_lock, "lru_lock");
		INIT_LIST_HEAD(&z->lru_list);
		z->nr_lru = 0;

		/* Fallback order: by distance from this node's first CPU, then node id. */
		std::vector<std::pair<unsigned long, int>> order;
		for (int o = 0; o < nnodes; o++)
			order.emplace_back(o == nid ? 0 : cpu_distance_on(m, first_cpu[static_cast<size_t>(nid)],
								     first_cpu[static_cast<size_t>(o)]),
					   o);
		std::sort(order.begin(), order.end());
		pgdat->zonelist.clear();
		for (auto &e : order)
			pgdat->zonelist.push_back(e.second);

		for (unsigned long i = 0; i < pages_per_node; i++) {
			const unsigned long pfn = z->start_pfn + i;
			struct page *p = &mem->pages[pfn];
			const smpemu::LineId line = m->new_line();
			shared_init(&p->flags, line, 0UL);
			atomic_init_on(&p->_count, line, 0);
			atomic_init_on(&p->_mapcount, line, -1);
			p->mapping = nullptr;
			shared_init(&p->anon_vma, line, static_cast<struct anon_vma *>(nullptr));
			p->index = 0;
			p->private_ = 0;
			p->pfn = pfn;
			p->nid = nid;
			p->zone = z;
			init_waitqueue_head_on(m, &p->wait);
			shared_init(&mem->content[pfn], m->new_line(), 0UL);
			list_add_tail(&p->lru, &z->free_list);
			z->nr_free++;
		}
	}

	/* What reaching another node's memory adds to a line fetch: the transfer to that
	 * node beyond one within the die (docs/COSTS.md, "NUMA"). */
	const unsigned long local = static_cast<unsigned long>(m->costs().transfer[static_cast<int>(smpemu::Distance::Die)]);
	mem->mem_cycles = std::max<unsigned long>(1, static_cast<unsigned long>(m->costs().memory));
	mem->node_extra.assign(static_cast<size_t>(ncpus) * static_cast<size_t>(nnodes), 0);
	for (int c = 0; c < ncpus; c++)
		for (int nid = 0; nid < nnodes; nid++) {
			if (nid == mem->cpu_node[static_cast<size_t>(c)])
				continue;
			const unsigned long d = cpu_distance_on(m, c, first_cpu[static_cast<size_t>(nid)]);
			mem->node_extra[static_cast<size_t>(c) * static_cast<size_t>(nnodes) + static_cast<size_t>(nid)] =
				static_cast<unsigned>(d > local ? d - local : 0);
		}

	machine_ext_set_on(m, mem);
}

unsigned long node_access_extra(const struct phys_mem *mem, int cpu, int nid)
{
	return mem->node_extra[static_cast<size_t>(cpu) * mem->nodes.size() + static_cast<size_t>(nid)];
}

void page_stream(smpemu::Cycles cycles, struct page *page, struct page *other)
{
	struct phys_mem *mem = machine_mem();
	const int cpu = smp_processor_id();
	unsigned long extra = node_access_extra(mem, cpu, page->nid);
	if (other)
		extra = (extra + node_access_extra(mem, cpu, other->nid)) / 2;
	cpu_work(cycles + cycles * extra / mem->mem_cycles);
}

void phys_mem_exit(struct phys_mem *mem)
{
	if (machine_ext_on<struct phys_mem>(mem->m) == mem)
		machine_ext_set_on<struct phys_mem>(mem->m, nullptr);
}

static std::string page_name(const struct page *page)
{
	return "page pfn " + std::to_string(page->pfn);
}

void get_page(struct page *page)
{
	if (atomic_inc_return(&page->_count) <= 1) {
		std::vector<struct report_side> sides;
		frame_free_side(&sides, page->pfn);
		report_check("bad-page", "get_page() on a free " + page_name(page), true, sides);
	}
}

bool get_page_unless_zero(struct page *page)
{
	return atomic_inc_not_zero(&page->_count);
}

void put_page(struct page *page)
{
	const int c = atomic_dec_return(&page->_count);
	if (c < 0)
		report_check("bad-page", "put_page() on " + page_name(page) + " whose count is already 0", true);
	else if (c == 0) {
		KFUNC(); /* the last reference: the free's path names put_page */
		__page_cache_release(page);
		__free_page(page);
	}
}

void page_add_rmap(struct page *page)
{
	if (page_count(page) <= 0)
		report_check("bad-page", "mapping a free " + page_name(page), true);
	atomic_inc(&page->_mapcount);
}

void page_remove_rmap(struct page *page)
{
	if (atomic_dec_return(&page->_mapcount) < -1)
		report_check("bad-page", "page_remove_rmap() on unmapped " + page_name(page), true);
}

std::string page_check_unlocked(const struct phys_mem *mem)
{
	unsigned long locked = 0, first = 0;
	for (const struct page &p : mem->pages)
		if ((p.flags.v >> PG_locked) & 1UL) {
			if (!locked++)
				first = p.pfn;
		}
	if (!locked)
		return "";
	return std::to_string(locked) + " page(s) are still locked at the end of the run (first pfn " +
	       std::to_string(first) + "): a lock_page without its unlock_page";
}

static std::string page_lock_instance(const struct page *page)
{
	return "page_lock#" + std::to_string(page->pfn);
}

static void check_page_lock_order(struct phys_mem *mem)
{
	for (int i = 0; i < 4; i++)
		if (lockdep_current_holds_map(&mem->page_lock_inner[i]))
			report_check("lock-order",
				     std::string("lock_page() while holding ") + page_lock_inner_cls[i] +
					     " (order: page_lock before " + page_lock_inner_cls[i] + ", docs/MM.md)",
				     false);
}

bool trylock_page(struct page *page, caller_ip_t ip)
{
	const smpemu::Cycles t = lock_clock();
	if (test_and_set_bit(PG_locked, &page->flags))
		return false;
	lock_map_acquired(&machine_mem()->page_lock_map, page, page_lock_instance(page), t, false, ip);
	return true;
}

void lock_page(struct page *page, caller_ip_t ip)
{
	struct phys_mem *mem = machine_mem();
	const std::string inst = page_lock_instance(page);
	might_sleep();
	check_page_lock_order(mem);
	lock_map_check(&mem->page_lock_map, inst, ip);
	const smpemu::Cycles requested = lock_clock();
	if (!test_and_set_bit(PG_locked, &page->flags)) {
		lock_map_acquired(&mem->page_lock_map, page, inst, requested, false, ip);
		return;
	}
	/*
	 * Sleep protocol: queue (exclusive, at the tail) and become blocked, then try the
	 * bit. Preemption is off across that window so an interrupt at the bit's sync point
	 * cannot preempt a task that has just taken the lock and put it to sleep
	 * (emu/waitqueue.h, "Known engine limitation"); preempt_enable() at 0 keeps a
	 * blocked task runnable.
	 */
	wait_queue_entry_t e;
	for (;;) {
		preempt_disable();
		prepare_to_wait_exclusive(&page->wait, &e);
		const bool busy = test_and_set_bit(PG_locked, &page->flags);
		preempt_enable();
		if (!busy)
			break;
		schedule();
	}
	finish_wait(&page->wait, &e);
	lock_map_acquired(&mem->page_lock_map, page, inst, requested, true, ip);
}

void unlock_page(struct page *page, caller_ip_t ip)
{
	if (!lock_map_release(page, page_lock_instance(page), ip))
		return;
	if (!test_bit(PG_locked, &page->flags)) {
		report_check("bad-page", "unlock_page() of unlocked " + page_name(page), true);
		return;
	}
	if (machine_mem()->vm) /* (the allocator's own tests run without a vm layer) */
		migration_check_unlock(page);
	clear_bit_unlock(PG_locked, &page->flags);
	smp_mb(); /* the kernel's smp_mb__after_clear_bit() before looking for waiters */
	if (waitqueue_active(&page->wait))
		wake_up(&page->wait);
}

void wait_on_page_locked(struct page *page)
{
	if (PageLocked(page)) {
		wait_queue_entry_t e;
		for (;;) {
			preempt_disable();
			prepare_to_wait(&page->wait, &e);
			const bool locked = PageLocked(page);
			preempt_enable();
			if (!locked)
				break;
			schedule();
		}
		finish_wait(&page->wait, &e);
	}
}

static void check_frame(struct page *page, const char *what)
{
	struct phys_mem *mem = machine_mem();
	if (mem->state[page->pfn] == FRAME_FREE)
		report_check("use-after-free-frame",
			     std::string(what) + ": access to the contents of free frame pfn " + std::to_string(page->pfn),
			     true);
}

unsigned long frame_read(struct page *page, const char *what)
{
	struct phys_mem *mem = machine_mem();
	const unsigned long v = READ_ONCE(mem->content[page->pfn]);
	check_frame(page, what);
	return v;
}

void frame_write(struct page *page, unsigned long val, const char *what)
{
	struct phys_mem *mem = machine_mem();
	WRITE_ONCE(mem->content[page->pfn], val);
	check_frame(page, what);
}
