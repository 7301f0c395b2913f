/*
 * mm/pgtable.cc - page-table allocation, locking, walks and teardown; mm_struct life.
 */
#include "mm/pgtable.h"

#include <cerrno>
#include <string>

#include "kernel/oracle.h"
#include "mm/mm.h"

/* clear_page of a new table page, cycles (assumed: 4 KiB of stores to an owned page). */
static constexpr smpemu::Cycles kClearTableCycles = 300;

struct pgtable_page *page_table_of(struct phys_mem *mem, unsigned long pfn)
{
	return mem->tables[pfn].get();
}

void mm_spin_lock_init(struct phys_mem *mem, spinlock_t *l, const char *cls)
{
	if (mem->vm && mem->vm->t.pte_lock_rt)
		spin_lock_init_sleeping(l, cls);
	else
		spin_lock_init(l, cls);
}

/* pgtable_alloc - a zeroed table page in frame state page-table. */
static struct page *pgtable_alloc(struct mm_struct *mm)
{
	struct phys_mem *mem = mm->mem;
	struct page *page = alloc_page(GFP_KERNEL);
	if (!page)
		return nullptr;
	std::unique_ptr<struct pgtable_page> &t = mem->tables[page->pfn];
	if (!t) {
		t = std::make_unique<struct pgtable_page>();
		const smpemu::LineId first = new_line();
		smpemu::LineId line = first;
		for (int i = 0; i < PTRS_PER_TABLE; i++) {
			if (i % 8 == 0 && i)
				line = new_line();
			shared_init(&t->ent[i], line, 0UL);
		}
		mm_spin_lock_init(mem, &t->ptl, "ptl");
	} else {
		/* Plain stores: the page is private until published behind smp_wmb(). */
		for (int i = 0; i < PTRS_PER_TABLE; i++)
			t->ent[i].v = 0;
	}
	cpu_work(kClearTableCycles);
	mem->state[page->pfn] = FRAME_PAGETABLE;
	return page;
}

static void pgtable_free(struct mm_struct *mm, struct page *page)
{
	__pte_free(mm->mem, page);
}

/* The table an entry points to, checking that its frame is still a page table. */
static struct pgtable_page *entry_table(struct mm_struct *mm, unsigned long e, const char *level)
{
	const unsigned long pfn = pgtable_entry_pfn(e);
	if (!pfn_valid(mm->mem, pfn) || frame_state_of(mm->mem, pfn) != FRAME_PAGETABLE) {
		report_check("use-after-free-pagetable",
			     std::string(level) + " entry of mm " + std::to_string(mm->id) + " points to pfn " +
				     std::to_string(pfn) + ", which is not a page table any more",
			     true);
		return nullptr;
	}
	return page_table_of(mm->mem, pfn);
}

struct mm_struct *mm_alloc(bool split_ptlock)
{
	struct phys_mem *mem = machine_mem();
	struct mm_struct *mm = new mm_struct();
	mm->mem = mem;
	mm->id = mem->next_mm_id++;
	mm->split_ptlock = split_ptlock;
	mm->nr_ptes = 0;
	mm->map_count = 0;
	mm_spin_lock_init(mem, &mm->page_table_lock, "page_table_lock");
	init_rwsem(&mm->mmap_sem, "mmap_sem");
	atomic_init(&mm->mm_users, 1);
	atomic_init(&mm->mm_count, 1);
	/* on mm_count's line: a line of its own would renumber every later line */
	atomic_long_init_on(&mm->numa_next_scan, mm->mm_count.line, 0);
	mm->numa_scan_offset = 0;
	cpumask_init_on(smpemu::this_machine(), &mm->cpu_vm_mask);
	mm->pgd = pgtable_alloc(mm);
	if (!mm->pgd) {
		delete mm;
		return nullptr;
	}
	mem->live_mms.insert(mm);
	return mm;
}

void mmdrop(struct mm_struct *mm)
{
	if (atomic_dec_and_test(&mm->mm_count)) {
		mm->mem->live_mms.erase(mm);
		delete mm;
	}
}

pgtable_slot_t *pgd_offset(struct mm_struct *mm, unsigned long addr)
{
	return &page_table_of(mm->mem, mm->pgd->pfn)->ent[pgd_index(addr)];
}

static pgtable_slot_t *next_level(struct mm_struct *mm, pgtable_slot_t *slot, unsigned idx, const char *level)
{
	const unsigned long e = READ_ONCE(*slot);
	if (pgtable_entry_none(e))
		return nullptr;
	struct pgtable_page *t = entry_table(mm, e, level);
	return t ? &t->ent[idx] : nullptr;
}

pgtable_slot_t *pud_offset(struct mm_struct *mm, pgtable_slot_t *pgd, unsigned long addr)
{
	return next_level(mm, pgd, pud_index(addr), "pgd");
}

pgtable_slot_t *pmd_offset(struct mm_struct *mm, pgtable_slot_t *pud, unsigned long addr)
{
	return next_level(mm, pud, pmd_index(addr), "pud");
}

pgtable_slot_t *pte_offset_map(struct mm_struct *mm, pgtable_slot_t *pmd, unsigned long addr)
{
	return next_level(mm, pmd, pte_index(addr), "pmd");
}

/* Populate @slot with a new table unless someone did meanwhile. 0 or -ENOMEM. */
static int populate(struct mm_struct *mm, pgtable_slot_t *slot, bool is_pte)
{
	struct page *t = pgtable_alloc(mm);
	if (!t)
		return -ENOMEM;
	smp_wmb(); /* the zeroed table before the entry that publishes it */
	spin_lock(&mm->page_table_lock);
	if (pgtable_entry_none(READ_ONCE(*slot))) {
		WRITE_ONCE(*slot, (t->pfn << PAGE_SHIFT) | _PAGE_TABLE);
		if (is_pte)
			mm->nr_ptes++;
		t = nullptr;
	}
	spin_unlock(&mm->page_table_lock);
	if (t)
		pgtable_free(mm, t); /* lost the race */
	return 0;
}

pgtable_slot_t *pud_alloc(struct mm_struct *mm, pgtable_slot_t *pgd, unsigned long addr)
{
	if (pgtable_entry_none(READ_ONCE(*pgd)) && populate(mm, pgd, false))
		return nullptr;
	return pud_offset(mm, pgd, addr);
}

pgtable_slot_t *pmd_alloc(struct mm_struct *mm, pgtable_slot_t *pud, unsigned long addr)
{
	if (pgtable_entry_none(READ_ONCE(*pud)) && populate(mm, pud, false))
		return nullptr;
	return pmd_offset(mm, pud, addr);
}

int __pte_alloc(struct mm_struct *mm, pgtable_slot_t *pmd, unsigned long addr)
{
	return populate(mm, pmd, true);
}

spinlock_t *pte_lockptr(struct mm_struct *mm, pgtable_slot_t *pmd)
{
	if (!mm->split_ptlock)
		return &mm->page_table_lock;
	struct pgtable_page *t = entry_table(mm, READ_ONCE(*pmd), "pmd");
	return t ? &t->ptl : &mm->page_table_lock;
}

pgtable_slot_t *pte_offset_map_lock(struct mm_struct *mm, pgtable_slot_t *pmd, unsigned long addr,
				    spinlock_t **ptlp)
{
	pgtable_slot_t *pte = pte_offset_map(mm, pmd, addr);
	if (!pte)
		return nullptr;
	spinlock_t *ptl = pte_lockptr(mm, pmd);
	spin_lock(ptl);
	*ptlp = ptl;
	return pte;
}

pgtable_slot_t *pte_alloc_map_lock(struct mm_struct *mm, pgtable_slot_t *pmd, unsigned long addr,
				   spinlock_t **ptlp)
{
	if (pgtable_entry_none(READ_ONCE(*pmd)) && __pte_alloc(mm, pmd, addr))
		return nullptr;
	return pte_offset_map_lock(mm, pmd, addr, ptlp);
}

pgtable_slot_t *lookup_pte(struct mm_struct *mm, unsigned long addr)
{
	pgtable_slot_t *pgd = pgd_offset(mm, addr);
	const unsigned long e = READ_ONCE(*pgd);
	/* Checked after the load: oracle state is only meaningful at this CPU's turn. */
	if (frame_state_of(mm->mem, mm->pgd->pfn) != FRAME_PAGETABLE) {
		report_check("use-after-free-pagetable", "pgd of mm " + std::to_string(mm->id) + " was freed", true);
		return nullptr;
	}
	if (pgtable_entry_none(e))
		return nullptr;
	pgtable_slot_t *pud = pud_offset(mm, pgd, addr);
	if (!pud)
		return nullptr;
	pgtable_slot_t *pmd = pmd_offset(mm, pud, addr);
	if (!pmd)
		return nullptr;
	return pte_offset_map(mm, pmd, addr);
}

/* The pmd slot for @addr, allocating upper levels; NULL on ENOMEM. */
static pgtable_slot_t *pmd_for(struct mm_struct *mm, unsigned long addr, bool alloc)
{
	pgtable_slot_t *pgd = pgd_offset(mm, addr);
	pgtable_slot_t *pud = alloc ? pud_alloc(mm, pgd, addr) : pud_offset(mm, pgd, addr);
	if (!pud)
		return nullptr;
	return alloc ? pmd_alloc(mm, pud, addr) : pmd_offset(mm, pud, addr);
}

pgtable_slot_t *pmd_lookup(struct mm_struct *mm, unsigned long addr)
{
	return pmd_for(mm, addr, false);
}

pgtable_slot_t *pmd_alloc_for(struct mm_struct *mm, unsigned long addr)
{
	return pmd_for(mm, addr, true);
}

void pte_free(struct mm_struct *mm, struct page *table)
{
	pgtable_free(mm, table);
}

void __pte_free(struct phys_mem *mem, struct page *table)
{
	mem->state[table->pfn] = FRAME_ALLOCATED;
	put_page(table);
}

pteval_t peek_pte(struct mm_struct *mm, unsigned long addr)
{
	struct phys_mem *mem = mm->mem;
	unsigned long e = page_table_of(mem, mm->pgd->pfn)->ent[pgd_index(addr)].v;
	const unsigned idx[] = {pud_index(addr), pmd_index(addr), pte_index(addr)};
	for (unsigned i : idx) {
		if (pgtable_entry_none(e))
			return 0;
		const unsigned long pfn = pgtable_entry_pfn(e);
		if (frame_state_of(mem, pfn) != FRAME_PAGETABLE)
			return 0;
		e = page_table_of(mem, pfn)->ent[i].v;
	}
	return e;
}

void for_each_pte_host(const struct phys_mem *mem, const struct mm_struct *mm,
		       const std::function<void(unsigned long, pte_t)> &fn)
{
	const struct pgtable_page *pgd = mem->tables[mm->pgd->pfn].get();
	for (unsigned long i = 0; i < PTRS_PER_TABLE; i++) {
		if (pgtable_entry_none(pgd->ent[i].v))
			continue;
		const struct pgtable_page *pud = mem->tables[pgtable_entry_pfn(pgd->ent[i].v)].get();
		for (unsigned long j = 0; j < PTRS_PER_TABLE; j++) {
			if (pgtable_entry_none(pud->ent[j].v))
				continue;
			const struct pgtable_page *pmd = mem->tables[pgtable_entry_pfn(pud->ent[j].v)].get();
			for (unsigned long k = 0; k < PTRS_PER_TABLE; k++) {
				if (pgtable_entry_none(pmd->ent[k].v))
					continue;
				const struct pgtable_page *pte = mem->tables[pgtable_entry_pfn(pmd->ent[k].v)].get();
				for (unsigned long l = 0; l < PTRS_PER_TABLE; l++) {
					const pte_t v = __pte(pte->ent[l].v);
					if (pte_none(v))
						continue;
					fn((i << PGDIR_SHIFT) | (j << PUD_SHIFT) | (k << PMD_SHIFT) | (l << PAGE_SHIFT), v);
				}
			}
		}
	}
}

int follow_pte(struct mm_struct *mm, unsigned long addr, pgtable_slot_t **ptepp, spinlock_t **ptlp)
{
	pgtable_slot_t *pmd = pmd_for(mm, addr, false);
	if (!pmd)
		return -EFAULT;
	pgtable_slot_t *pte = pte_offset_map_lock(mm, pmd, addr, ptlp);
	if (!pte)
		return -EFAULT;
	if (!pte_present(ptep_get(pte))) {
		pte_unmap_unlock(pte, *ptlp);
		return -EFAULT;
	}
	*ptepp = pte;
	return 0;
}

int walk_pte_range(struct mm_struct *mm, unsigned long start, unsigned long end, pte_fn_t fn, void *arg)
{
	unsigned long addr = start;
	while (addr < end) {
		const unsigned long next = ((addr & PMD_MASK) + PMD_SIZE < end) ? (addr & PMD_MASK) + PMD_SIZE : end;
		pgtable_slot_t *pmd = pmd_for(mm, addr, false);
		spinlock_t *ptl;
		pgtable_slot_t *pte = pmd ? pte_offset_map_lock(mm, pmd, addr, &ptl) : nullptr;
		if (pte) {
			int ret = 0;
			arch_enter_lazy_mmu_mode(mm);
			for (; addr < next; addr += PAGE_SIZE, pte++) {
				ret = fn(mm, pte, addr, arg);
				if (ret)
					break;
			}
			arch_leave_lazy_mmu_mode(mm);
			pte_unmap_unlock(pte, ptl);
			if (ret)
				return ret;
		}
		addr = next;
	}
	return 0;
}

pte_t ptep_clear_flush(struct vm_area_struct *vma, unsigned long addr, pgtable_slot_t *ptep)
{
	const pte_t old = ptep_get_and_clear(vma->vm_mm, addr, ptep);
	flush_tlb_page(vma, addr);
	return old;
}

pgtable_slot_t *get_locked_pte(struct mm_struct *mm, unsigned long addr, spinlock_t **ptlp)
{
	pgtable_slot_t *pmd = pmd_for(mm, addr, true);
	return pmd ? pte_alloc_map_lock(mm, pmd, addr, ptlp) : nullptr;
}

int install_page(struct mm_struct *mm, unsigned long addr, struct page *page, pgprot_t prot)
{
	spinlock_t *ptl;
	pgtable_slot_t *pte = get_locked_pte(mm, addr, &ptl);
	if (!pte)
		return -ENOMEM;
	if (!pte_none(ptep_get(pte))) {
		pte_unmap_unlock(pte, ptl);
		return -EBUSY;
	}
	get_page(page);
	page_add_rmap(page);
	set_pte_at(mm, addr, pte, mk_pte(page, prot));
	note_pte_origin(mm, addr, page, nullptr);
	pte_unmap_unlock(pte, ptl);
	return 0;
}

pte_t zap_page(struct mm_struct *mm, unsigned long addr)
{
	pgtable_slot_t *pmd = pmd_for(mm, addr, false);
	if (!pmd)
		return __pte(0);
	spinlock_t *ptl;
	pgtable_slot_t *pte = pte_offset_map_lock(mm, pmd, addr, &ptl);
	if (!pte)
		return __pte(0);
	pte_t old = __pte(0);
	if (pte_present(ptep_get(pte))) {
		old = ptep_get_and_clear(mm, addr, pte);
		struct page *page = pfn_to_page(mm->mem, pte_pfn(old));
		if (pte_dirty(old))
			SetPageDirty(page);
		page_remove_rmap(page);
		pte_unmap_unlock(pte, ptl);
		put_page(page);
		return old;
	}
	pte_unmap_unlock(pte, ptl);
	return old;
}

/* Frees the subtree below table @t at @level (3 = pud table ... 1 = pte table). */
static void free_table_tree(struct mm_struct *mm, struct page *tp, int level, unsigned long base)
{
	struct pgtable_page *t = page_table_of(mm->mem, tp->pfn);
	static const int shift[] = {PAGE_SHIFT, PAGE_SHIFT, PMD_SHIFT, PUD_SHIFT, PGDIR_SHIFT};
	for (int i = 0; i < PTRS_PER_TABLE; i++) {
		const unsigned long e = READ_ONCE(t->ent[i]);
		if (pgtable_entry_none(e))
			continue;
		const unsigned long addr = base + (static_cast<unsigned long>(i) << shift[level]);
		if (level == 1) {
			if (pte_present(__pte(e)))
				report_check("bad-page", "free_page_tables: mm " + std::to_string(mm->id) +
								 " still maps pfn " + std::to_string(pgtable_entry_pfn(e)) +
								 " at " + report_hex(addr),
					     true);
			continue;
		}
		struct page *child = pfn_to_page(mm->mem, pgtable_entry_pfn(e));
		free_table_tree(mm, child, level - 1, addr);
		WRITE_ONCE(t->ent[i], 0UL);
		if (level == 2)
			mm->nr_ptes--;
		pgtable_free(mm, child);
	}
}

void free_page_tables(struct mm_struct *mm)
{
	free_table_tree(mm, mm->pgd, 4, 0);
	pgtable_free(mm, mm->pgd);
}
