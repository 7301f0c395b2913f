/*
 * mm/filemap.cc - the page cache, i_mmap helpers, filemap_nopage and the file oracles.
 */
#include "mm/filemap.h"

#include <string>

#include "kernel/oracle.h"

/* Costs (assumed; no published figure, docs/COSTS.md): a radix-tree step of the page cache
 * lookup, and "reading" a page from the backing store, which the emulated file keeps in
 * memory (a 4 KiB copy plus bookkeeping, about the cost of clear_page twice). */
static constexpr smpemu::Cycles kPageCacheLookup = 60;
static constexpr smpemu::Cycles kReadPage = 1200;

void address_space_init(struct phys_mem *mem, struct address_space *mapping, unsigned id, unsigned long pages,
			unsigned long max_pages)
{
	smpemu::Machine *m = mem->m;
	mapping->id = id;
	shared_init(&mapping->i_size, m->new_line(), pages * PAGE_SIZE);
	mutex_init_on(m, &mapping->i_mutex, "i_mutex");
	rwlock_init_on(m, &mapping->tree_lock, "tree_lock");
	mapping->page_tree.clear();
	mapping->nrpages = 0;
	mapping->i_mmap.clear();
	INIT_LIST_HEAD(&mapping->i_mmap_nonlinear);
	mapping->i_mmap_sleeps = mem->vm && mem->vm->t.lockbreak == LOCKBREAK_MUTEX_NOBREAK;
	spin_lock_init_on(m, &mapping->i_mmap_lock, "i_mmap_lock");
	mutex_init_on(m, &mapping->i_mmap_mutex, "i_mmap_mutex");
	const unsigned bits = mem->vm ? mem->vm->t.truncate_count_bits : 32;
	mapping->truncate_count_mask = bits >= 64 ? ~0UL : (1UL << bits) - 1;
	const unsigned long start = mem->vm ? mem->vm->t.truncate_count_start : 0;
	shared_init(&mapping->truncate_count, m->new_line(), start & mapping->truncate_count_mask);
	mapping->max_pages = max_pages;
	mapping->disk.assign(max_pages, 0);
	for (unsigned long i = 0; i < pages && i < max_pages; i++)
		mapping->disk[i] = (static_cast<unsigned long>(id) << 32) | (i + 1);
	mapping->shadow = mapping->disk;
	mapping->eof_limit = ~0UL;
}

void address_space_exit(struct address_space *mapping)
{
	mapping->page_tree.clear();
	mapping->i_mmap.clear();
}

void i_size_write(struct address_space *mapping, unsigned long size)
{
	if (size > mapping->i_size.v)
		mapping->eof_limit = ~0UL;
	WRITE_ONCE(mapping->i_size, size);
}

void i_mmap_lock_write(struct address_space *mapping)
{
	KFUNC();
	if (mapping->i_mmap_sleeps)
		mutex_lock(&mapping->i_mmap_mutex);
	else
		spin_lock(&mapping->i_mmap_lock);
}

void i_mmap_unlock_write(struct address_space *mapping)
{
	if (mapping->i_mmap_sleeps)
		mutex_unlock(&mapping->i_mmap_mutex);
	else
		spin_unlock(&mapping->i_mmap_lock);
}

bool i_mmap_need_lockbreak(struct address_space *mapping)
{
	if (mapping->i_mmap_sleeps || !config_preempt())
		return false;
	return spin_needbreak(&mapping->i_mmap_lock);
}

void vma_prio_tree_insert(struct vm_area_struct *vma, struct address_space *mapping)
{
	cpu_work(kPageCacheLookup);
	mapping->i_mmap.insert(vma);
}

void vma_prio_tree_remove(struct vm_area_struct *vma, struct address_space *mapping)
{
	cpu_work(kPageCacheLookup);
	mapping->i_mmap.erase(vma);
}

struct page *find_get_page(struct address_space *mapping, unsigned long index)
{
	KFUNC();
	struct page *page = nullptr;
	read_lock(&mapping->tree_lock);
	cpu_work(kPageCacheLookup);
	auto it = mapping->page_tree.find(index);
	if (it != mapping->page_tree.end()) {
		page = it->second;
		get_page(page);
	}
	read_unlock(&mapping->tree_lock);
	return page;
}

struct page *read_cache_page(struct address_space *mapping, unsigned long index)
{
	KFUNC();
	for (;;) {
		struct page *page = find_get_page(mapping, index);
		if (page) {
			if (PageUptodate(page))
				return page;
			/* Being read in: wait for the reader, who holds the page lock. */
			lock_page(page);
			const bool gone = page->mapping != mapping;
			unlock_page(page);
			if (!gone)
				return page;
			put_page(page); /* truncated meanwhile: look again */
			continue;
		}
		struct page *fresh = alloc_page(GFP_KERNEL);
		if (!fresh)
			return nullptr;
		BUG_ON(!trylock_page(fresh)); /* private until it is in the cache */
		write_lock(&mapping->tree_lock);
		if (mapping->page_tree.count(index)) {
			write_unlock(&mapping->tree_lock);
			unlock_page(fresh);
			put_page(fresh);
			continue; /* a racing reader added it */
		}
		mapping->page_tree[index] = fresh;
		fresh->mapping = mapping;
		fresh->index = index;
		get_page(fresh); /* the page cache's reference */
		mapping->nrpages++;
		write_unlock(&mapping->tree_lock);
		/* ->readpage: from disk; a hole (or beyond the on-disk size) reads as zero. */
		cpu_work(kReadPage);
		frame_write(fresh, index < mapping->disk.size() ? mapping->disk[index] : 0UL, "readpage");
		SetPageUptodate(fresh);
		unlock_page(fresh);
		return fresh;
	}
}

void remove_from_page_cache(struct page *page)
{
	KFUNC();
	struct address_space *mapping = page->mapping;
	write_lock(&mapping->tree_lock);
	mapping->page_tree.erase(page->index);
	mapping->nrpages--;
	page->mapping = nullptr;
	write_unlock(&mapping->tree_lock);
}

struct page *filemap_nopage(struct vm_area_struct *vma, unsigned long address, int *type,
			    struct fault_sample *fs)
{
	KFUNC();
	struct address_space *mapping = vma->vm_file;
	const unsigned long pgoff = linear_page_index(vma, address);
	const unsigned long size = (i_size_read(mapping) + PAGE_SIZE - 1) >> PAGE_SHIFT;
	if (fs)
		sample_now(&fs->size, &fs->size_pages, size);
	if (pgoff >= size) {
		*type = VM_FAULT_SIGBUS;
		return nullptr;
	}
	const bool cached = mapping->page_tree.count(pgoff) != 0; /* statistics only */
	struct page *page = read_cache_page(mapping, pgoff);
	if (!page) {
		*type = VM_FAULT_OOM;
		return nullptr;
	}
	*type = cached ? VM_FAULT_MINOR : VM_FAULT_MAJOR;
	return page;
}

void shadow_check_read(struct mm_struct *mm, unsigned long addr, struct address_space *mapping, struct page *page,
		       unsigned long index, unsigned long val, const char *who)
{
	if (index >= mapping->shadow.size() || mapping->shadow[index] == val)
		return;
	std::vector<struct report_side> sides;
	shadow_sides(&sides, mapping, index);
	pte_origin_sides(&sides, mm, addr, page->pfn);
	if (mapping->eof_limit != ~0UL)
		truncate_sides(&sides, mapping);
	report_check("shadow-memory",
		     std::string(who) + " read " + std::to_string(val) + " from page " + std::to_string(index) +
			     " of file " + std::to_string(mapping->id) + " (pfn " + std::to_string(page->pfn) +
			     (page->mapping == mapping ? "" : ", no longer in the page cache") + ") but " +
			     std::to_string(mapping->shadow[index]) + " was written last",
		     true, sides);
}

void shadow_note_write(struct address_space *mapping, unsigned long index, unsigned long val, caller_ip_t ip)
{
	if (index < mapping->shadow.size()) {
		mapping->shadow[index] = val;
		note_shadow_write(mapping, index, val, ip); /* one test when history is off */
	}
}

void check_pte_beyond_eof(struct vm_area_struct *vma, unsigned long addr, struct page *page, unsigned long index)
{
	struct address_space *mapping = vma->vm_file;
	if (index < mapping->eof_limit && page->mapping == mapping)
		return;
	std::vector<struct report_side> sides;
	pte_origin_sides(&sides, vma->vm_mm, addr, page->pfn);
	truncate_sides(&sides, mapping);
	if (index >= mapping->eof_limit)
		report_check("pte-beyond-eof",
			     "mm " + std::to_string(vma->vm_mm->id) + " maps page " + std::to_string(index) + " of file " +
				     std::to_string(mapping->id) + " at " + report_hex(addr) +
				     " after truncate to " + std::to_string(mapping->eof_limit) + " pages",
			     true, sides);
	else if (page->mapping != mapping)
		report_check("pte-beyond-eof",
			     "mm " + std::to_string(vma->vm_mm->id) + " maps page " + std::to_string(index) + " of file " +
				     std::to_string(mapping->id) + " at " + report_hex(addr) +
				     " that truncate removed from the page cache (orphaned pfn " +
				     std::to_string(page->pfn) + ")",
			     true, sides);
}
