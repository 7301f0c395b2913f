/*
 * mm/mmap.cc - vmas: the slab, lookup, mmap/munmap, split/merge, mprotect, remap_file_pages.
 */
#include "mm/mmap.h"

#include <algorithm>
#include <cerrno>

#include "kernel/oracle.h"
#include "mm/page_alloc.h"
#include "mm/table_free.h"

/* Costs (assumed): a vma tree lookup or update, and the fixed part of a system call. */
static constexpr smpemu::Cycles kVmaTreeCycles = 80;
static constexpr smpemu::Cycles kSyscallCycles = 300;

void vm_init(struct phys_mem *mem, const struct vm_tunables *t, struct mmu *mmu)
{
	struct vm_globals *vm = new struct vm_globals();
	vm->t = *t;
	vm->vma_cache.next_seq = 1;
	per_cpu_init(&vm->mmu_gathers, static_cast<int>(mem->cpu_node.size()));
	vm->stats = {};
	vm->table_batch_rng = mem->m->rng("mm.table_batch");
	vm->zero_page = nullptr;
	mem->vm = vm;
	mem->mmu = mmu;
	anon_vma_slab_init(mem);
	swap_info_init(mem, &vm->swap_info, t->swap_slots, t->swap_read_us, t->swap_write_us);
	swap_cache_init(mem, &vm->swapper);
	if (t->frames_limited)
		setup_per_zone_pages_min(mem);
}

void vm_exit(struct phys_mem *mem)
{
	for (struct mmu_table_batch *b : mem->vm->table_batches)
		delete b; /* their grace period never ended: the run did */
	anon_vma_slab_exit(mem);
	delete mem->vm;
	mem->vm = nullptr;
	mem->mmu = &nommu;
}

/* ---- the vma slab and the mm's tree ------------------------------------- */

struct vm_area_struct *vm_area_alloc(struct mm_struct *mm)
{
	struct vma_slab *s = &vm_globals()->vma_cache;
	struct vm_area_struct *vma;
	if (!s->free.empty()) {
		vma = s->free.back(); /* LIFO, as the slab hands a hot object out again */
		s->free.pop_back();
	} else {
		s->all.push_back(std::make_unique<struct vm_area_struct>());
		vma = s->all.back().get();
	}
	*vma = vm_area_struct{};
	vma->vm_mm = mm;
	vma->vm_seq = s->next_seq++;
	vma->vm_live = true;
	INIT_LIST_HEAD(&vma->nonlinear);
	INIT_LIST_HEAD(&vma->anon_vma_chain);
	return vma;
}

struct vm_area_struct *vm_area_dup(struct vm_area_struct *vma)
{
	struct vm_area_struct *fresh = vm_area_alloc(vma->vm_mm);
	const unsigned long seq = fresh->vm_seq;
	*fresh = *vma;
	fresh->vm_seq = seq;
	fresh->vm_live = true;
	INIT_LIST_HEAD(&fresh->nonlinear);
	INIT_LIST_HEAD(&fresh->anon_vma_chain); /* anon_vma is copied: the caller clones the chains */
	return fresh;
}

void vm_area_free(struct vm_area_struct *vma)
{
	BUG_ON(!vma->vm_live);
	BUG_ON(!list_empty(&vma->anon_vma_chain));
	vma->vm_live = false;
	vm_globals()->vma_cache.free.push_back(vma);
}

struct vm_area_struct *find_vma(struct mm_struct *mm, unsigned long addr)
{
	cpu_work(kVmaTreeCycles);
	auto it = mm->mm_rb.upper_bound(addr);
	return it == mm->mm_rb.end() ? nullptr : it->second;
}

struct vm_area_struct *vma_next(struct vm_area_struct *vma)
{
	struct mm_struct *mm = vma->vm_mm;
	auto it = mm->mm_rb.upper_bound(vma->vm_end);
	return it == mm->mm_rb.end() ? nullptr : it->second;
}

struct vm_area_struct *vma_prev(struct vm_area_struct *vma)
{
	struct mm_struct *mm = vma->vm_mm;
	auto it = mm->mm_rb.find(vma->vm_end);
	if (it == mm->mm_rb.begin() || it == mm->mm_rb.end())
		return nullptr;
	return std::prev(it)->second;
}

void __vma_link_rb(struct vm_area_struct *vma)
{
	vma->vm_mm->mm_rb[vma->vm_end] = vma;
}

static void rb_insert(struct vm_area_struct *vma)
{
	__vma_link_rb(vma);
}

static void rb_erase(struct vm_area_struct *vma)
{
	vma->vm_mm->mm_rb.erase(vma->vm_end);
}

static pgprot_t vm_get_page_prot(unsigned long vm_flags)
{
	/* 2.6.11 x86: a shared writable mapping is mapped writable at once; a private one
	 * read-only (PAGE_COPY), so the first store takes a COW fault. */
	if ((vm_flags & VM_SHARED) && (vm_flags & VM_WRITE))
		return PAGE_SHARED;
	return PAGE_READONLY;
}

/* Link @vma into the i_mmap tree or nonlinear list. Locking: i_mmap lock held. */
void __vma_link_file(struct vm_area_struct *vma)
{
	if (vma->vm_flags & VM_NONLINEAR)
		list_add_tail(&vma->nonlinear, &vma->vm_file->i_mmap_nonlinear);
	else
		vma_prio_tree_insert(vma, vma->vm_file);
}

static void __vma_unlink_file(struct vm_area_struct *vma)
{
	if (vma->vm_flags & VM_NONLINEAR)
		list_del_init(&vma->nonlinear);
	else
		vma_prio_tree_remove(vma, vma->vm_file);
}

static void vma_link(struct mm_struct *mm, struct vm_area_struct *vma);

void insert_vm_struct(struct mm_struct *mm, struct vm_area_struct *vma)
{
	vma_link(mm, vma);
}

static void vma_link(struct mm_struct *mm, struct vm_area_struct *vma)
{
	struct address_space *mapping = vma->vm_file;
	if (!mapping) {
		cpu_work(kVmaTreeCycles);
		rb_insert(vma);
		mm->map_count++;
		return;
	}
	i_mmap_lock_write(mapping);
	/* vmtrunc 5/6: a new vma is up to date with the mapping's count */
	vma->vm_truncate_count = mapping->truncate_count.v;
	__vma_link_file(vma);
	cpu_work(kVmaTreeCycles);
	rb_insert(vma);
	mm->map_count++;
	i_mmap_unlock_write(mapping);
}

/* ---- vma_adjust, split, merge ------------------------------------------- */

/*
 * store_point - with @torn, a sync point between two of vma_adjust's field stores:
 * without the anon_vma lock nothing keeps an rmap walker on another CPU from reading
 * vm_start, vm_end and vm_pgoff between them (2.6.34, race R1 of mm/migrate.h). Under
 * the lock no walker can look, so the stores stay one step and the schedules (and
 * digests) of the locked kernel are those recorded before the knob existed.
 */
static void store_point(bool torn)
{
	if (torn)
		smp_wmb(); /* a sync point; free on x86, and it orders nothing a walker relies on */
}

void vma_adjust(struct vm_area_struct *vma, unsigned long start, unsigned long end, unsigned long pgoff,
		struct vm_area_struct *insert)
{
	struct mm_struct *mm = vma->vm_mm;
	struct vm_globals *vm = vm_globals();
	struct address_space *mapping = vma->vm_file;
	const unsigned long orig_end = end;
again:
	struct vm_area_struct *next = vma_next(vma);
	struct vm_area_struct *importer = nullptr, *exporter = nullptr;
	int remove_next = 0;
	long adjust_next = 0;
	end = orig_end;
	if (next && !insert) {
		if (end >= next->vm_end) {
			/* vma expands over all of next (and maybe the one after) */
			remove_next = 1 + (end > next->vm_end);
			end = next->vm_end;
			importer = vma;
			exporter = next;
		} else if (end > next->vm_start) {
			/* vma takes the head of next */
			adjust_next = static_cast<long>((end - next->vm_start) >> PAGE_SHIFT);
			importer = vma;
			exporter = next;
		} else if (end < vma->vm_end) {
			/* vma gives its tail to next */
			adjust_next = -static_cast<long>((vma->vm_end - end) >> PAGE_SHIFT);
			importer = next;
			exporter = vma;
		}
	}
	/* the growing vma must reach the anon_vmas of the pages it takes over */
	if (exporter && exporter->anon_vma && !importer->anon_vma) {
		anon_vma_clone(importer, exporter);
		importer->anon_vma = exporter->anon_vma;
	}
	if (mapping)
		i_mmap_lock_write(mapping);
	/*
	 * 2.6.35: rmap walkers compute addresses from vm_start and vm_pgoff, so they must
	 * not see them half changed: the root anon_vma lock, unless only vm_end changes
	 * (brk), which a walker's range check tolerates.
	 */
	struct anon_vma *anon_vma = nullptr;
	if (vm->t.adjust_lock && vma->anon_vma && (insert || importer || start != vma->vm_start)) {
		anon_vma = vma->anon_vma;
		anon_vma_lock_write(anon_vma);
	}
	/* adjust_lock=off (2.6.34): walkers may run between the field stores below */
	const bool torn = !vm->t.adjust_lock && vma->anon_vma;
	if (mapping && importer && vm->t.merge_reset && vma->vm_truncate_count != next->vm_truncate_count) {
		/* unmap_mapping_range might be in progress: make it rescan the grown vma */
		importer->vm_truncate_count = 0;
	}
	const bool linear = mapping && !(vma->vm_flags & VM_NONLINEAR);
	if (linear)
		vma_prio_tree_remove(vma, mapping);
	if (mapping && adjust_next && !(next->vm_flags & VM_NONLINEAR))
		vma_prio_tree_remove(next, mapping);
	rb_erase(vma);
	if (adjust_next)
		rb_erase(next);
	vma->vm_start = start;
	store_point(torn);
	vma->vm_end = end;
	store_point(torn);
	vma->vm_pgoff = pgoff;
	if (adjust_next) {
		store_point(torn);
		next->vm_start += static_cast<unsigned long>(adjust_next) << PAGE_SHIFT;
		store_point(torn);
		next->vm_pgoff += static_cast<unsigned long>(adjust_next);
		rb_insert(next);
		if (mapping && !(next->vm_flags & VM_NONLINEAR))
			vma_prio_tree_insert(next, mapping);
	}
	if (remove_next) {
		if (mapping)
			__vma_unlink_file(next);
		rb_erase(next);
		mm->map_count--;
	}
	rb_insert(vma);
	if (linear)
		vma_prio_tree_insert(vma, mapping);
	if (insert) {
		/* a split's other half; it copied vm_truncate_count (5/6) */
		if (mapping)
			__vma_link_file(insert);
		rb_insert(insert);
		mm->map_count++;
	}
	cpu_work(kVmaTreeCycles);
	if (anon_vma)
		anon_vma_unlock_write(anon_vma);
	if (mapping)
		i_mmap_unlock_write(mapping);
	if (remove_next) {
		unlink_anon_vmas(next); /* anon_vma_merge: vma reaches all of next's anon_vmas */
		vm_area_free(next);
		vm->stats.merges++;
		if (remove_next == 2)
			goto again; /* absorb the one after, too */
	}
}

int split_vma(struct mm_struct *mm, struct vm_area_struct *vma, unsigned long addr, bool new_below)
{
	KFUNC();
	struct vm_area_struct *fresh = vm_area_dup(vma);
	if (anon_vma_clone(fresh, vma)) {
		vm_area_free(fresh);
		return -ENOMEM;
	}
	vm_globals()->stats.splits++;
	if (new_below) {
		fresh->vm_end = addr;
		vma_adjust(vma, addr, vma->vm_end, vma->vm_pgoff + ((addr - fresh->vm_start) >> PAGE_SHIFT), fresh);
	} else {
		fresh->vm_start = addr;
		fresh->vm_pgoff += (addr - vma->vm_start) >> PAGE_SHIFT;
		vma_adjust(vma, vma->vm_start, addr, vma->vm_pgoff, fresh);
	}
	return 0;
}

/*
 * Two anon_vmas allow a merge if they are the same, or one is not set up yet and the
 * vma (if given) has exactly one chain (2.6.35: a vma cloned from a parent's, with its
 * ancestors' chains, is not merged, which keeps families' locks apart).
 */
static bool is_mergeable_anon_vma(const struct anon_vma *a1, const struct anon_vma *a2,
				  const struct vm_area_struct *vma)
{
	const bool singular = !vma || (!list_empty(&vma->anon_vma_chain) &&
				       vma->anon_vma_chain.next->next == &vma->anon_vma_chain);
	if ((!a1 || !a2) && singular)
		return true;
	return a1 == a2;
}

static bool can_merge(const struct vm_area_struct *vma, unsigned long vm_flags, const struct address_space *file,
		      const struct anon_vma *anon_vma, const struct mempolicy *pol)
{
	return vma->vm_flags == vm_flags && vma->vm_file == file && !(vm_flags & VM_NONLINEAR) &&
	       is_mergeable_anon_vma(anon_vma, vma->anon_vma, vma) && mpol_equal(&vma->vm_policy, pol);
}

struct vm_area_struct *vma_merge(struct mm_struct *mm, struct vm_area_struct *prev, unsigned long addr,
				 unsigned long end, unsigned long vm_flags, struct anon_vma *anon_vma,
				 struct address_space *file, unsigned long pgoff, const struct mempolicy *pol)
{
	const unsigned long pglen = (end - addr) >> PAGE_SHIFT;
	struct vm_area_struct *next = prev ? vma_next(prev) : (mm->mm_rb.empty() ? nullptr : mm->mm_rb.begin()->second);
	struct vm_area_struct *area = next;
	if (next && next->vm_end == end) /* the range is an existing vma */
		next = vma_next(next);
	if (prev && prev->vm_end == addr && can_merge(prev, vm_flags, file, anon_vma, pol) &&
	    prev->vm_pgoff + ((prev->vm_end - prev->vm_start) >> PAGE_SHIFT) == pgoff) {
		if (next && end == next->vm_start && can_merge(next, vm_flags, file, anon_vma, pol) &&
		    next->vm_pgoff == pgoff + pglen && is_mergeable_anon_vma(prev->anon_vma, next->anon_vma, nullptr))
			vma_adjust(prev, prev->vm_start, next->vm_end, prev->vm_pgoff, nullptr);
		else
			vma_adjust(prev, prev->vm_start, end, prev->vm_pgoff, nullptr);
		return prev;
	}
	if (next && end == next->vm_start && can_merge(next, vm_flags, file, anon_vma, pol) && next->vm_pgoff == pgoff + pglen) {
		if (prev && addr < prev->vm_end)
			vma_adjust(prev, prev->vm_start, addr, prev->vm_pgoff, nullptr); /* prev gives its tail to next */
		else
			vma_adjust(area, addr, next->vm_end, next->vm_pgoff - pglen, nullptr); /* next grows down, or area absorbs it */
		return area;
	}
	return nullptr;
}

/* ---- mmap / munmap ------------------------------------------------------ */

unsigned long get_unmapped_area(struct mm_struct *mm, unsigned long len)
{
	unsigned long addr = TASK_UNMAPPED_BASE;
	for (auto &e : mm->mm_rb) {
		const struct vm_area_struct *vma = e.second;
		if (vma->vm_end <= addr)
			continue;
		if (vma->vm_start >= addr + len)
			break;
		addr = vma->vm_end;
	}
	return addr + len <= TASK_SIZE ? addr : 0;
}

static int __do_munmap(struct mm_struct *mm, unsigned long start, unsigned long len);

/* The vma ending at or last below @addr (the kernel's find_vma_prev), or NULL. */
static struct vm_area_struct *vma_before(struct mm_struct *mm, unsigned long addr)
{
	auto it = mm->mm_rb.find(addr);
	if (it != mm->mm_rb.end())
		return it->second;
	auto below = mm->mm_rb.lower_bound(addr);
	return below == mm->mm_rb.begin() ? nullptr : std::prev(below)->second;
}

long do_mmap(struct mm_struct *mm, unsigned long addr, unsigned long len, int prot, int flags,
	     struct address_space *mapping, unsigned long pgoff)
{
	len = PAGE_ALIGN(len);
	if (!len || (addr & ~PAGE_MASK) || !(flags & (MAP_SHARED | MAP_PRIVATE)))
		return -EINVAL;
	/* MAP_ANONYMOUS: private only (shared anonymous memory is shmem, not modelled) */
	if ((flags & MAP_ANONYMOUS) ? (mapping || (flags & MAP_SHARED)) : !mapping)
		return -EINVAL;
	down_write(&mm->mmap_sem);
	cpu_work(kSyscallCycles);
	vm_globals()->stats.mmaps++;
	if (flags & MAP_FIXED) {
		if (addr + len > TASK_SIZE || addr + len < addr) {
			up_write(&mm->mmap_sem);
			return -EINVAL;
		}
		__do_munmap(mm, addr, len);
	} else {
		addr = get_unmapped_area(mm, len);
		if (!addr) {
			up_write(&mm->mmap_sem);
			return -ENOMEM;
		}
	}
	unsigned long vm_flags = VM_READ | VM_MAYWRITE;
	if (prot & PROT_WRITE)
		vm_flags |= VM_WRITE;
	if (flags & MAP_SHARED)
		vm_flags |= VM_SHARED;
	if (!mapping)
		pgoff = addr >> PAGE_SHIFT; /* anonymous: rmap indices are linear in the address */
	struct vm_area_struct *prev = vma_before(mm, addr);
	if (!vma_merge(mm, prev, addr, addr + len, vm_flags, nullptr, mapping, pgoff, nullptr)) {
		struct vm_area_struct *vma = vm_area_alloc(mm);
		vma->vm_start = addr;
		vma->vm_end = addr + len;
		vma->vm_pgoff = pgoff;
		vma->vm_flags = vm_flags;
		vma->vm_page_prot = vm_get_page_prot(vm_flags);
		vma->vm_file = mapping;
		vma_link(mm, vma);
	}
	up_write(&mm->mmap_sem);
	return static_cast<long>(addr);
}

/* Zap, unlink and free the vmas [first .. up to end) of @mm, which cover [start, end). */
static void unmap_region(struct mm_struct *mm, std::vector<struct vm_area_struct *> &vmas, unsigned long start,
			 unsigned long end)
{
	struct vm_area_struct *prev = vma_prev(vmas.front());
	struct vm_area_struct *next = vma_next(vmas.back());
	const unsigned long floor = prev ? prev->vm_end : 0;
	const unsigned long ceiling = next ? next->vm_start : TASK_SIZE;
	struct mmu_gather *tlb = tlb_gather_mmu(mm, false);
	const unsigned long reached = unmap_vmas(&tlb, vmas.front(), start, end, nullptr);
	tlb_finish_mmu(tlb, start, reached);
	/* Unlink from the rmap before the tables go: no walker may reach them then. The
	 * i_mmap lock may be a mutex, so this is outside the (preempt-off) gather. */
	for (struct vm_area_struct *vma : vmas) {
		struct address_space *mapping = vma->vm_file;
		unlink_anon_vmas(vma);
		if (mapping) {
			i_mmap_lock_write(mapping);
			__vma_unlink_file(vma);
			i_mmap_unlock_write(mapping);
		}
		rb_erase(vma);
		mm->map_count--;
	}
	tlb = tlb_gather_mmu(mm, false);
	free_pgtables(tlb, mm, start, end, floor, ceiling);
	tlb_finish_mmu(tlb, start, end);
	for (struct vm_area_struct *vma : vmas)
		vm_area_free(vma);
}

static int __do_munmap(struct mm_struct *mm, unsigned long start, unsigned long len)
{
	if ((start & ~PAGE_MASK) || !len)
		return -EINVAL;
	len = PAGE_ALIGN(len);
	const unsigned long end = start + len;
	struct vm_area_struct *vma = find_vma(mm, start);
	if (!vma || vma->vm_start >= end)
		return 0;
	if (start > vma->vm_start)
		split_vma(mm, vma, start, false);
	struct vm_area_struct *last = find_vma(mm, end);
	if (last && end > last->vm_start && end < last->vm_end)
		split_vma(mm, last, end, true);
	std::vector<struct vm_area_struct *> vmas;
	for (vma = find_vma(mm, start); vma && vma->vm_start < end; vma = vma_next(vma))
		vmas.push_back(vma);
	if (vmas.empty())
		return 0;
	vm_globals()->stats.munmaps++;
	unmap_region(mm, vmas, std::max(start, vmas.front()->vm_start), std::min(end, vmas.back()->vm_end));
	return 0;
}

int do_munmap_locked(struct mm_struct *mm, unsigned long start, unsigned long len)
{
	KFUNC();
	return __do_munmap(mm, start, len);
}

struct vm_area_struct *copy_vma(struct vm_area_struct *vma, unsigned long addr, unsigned long len,
				unsigned long pgoff)
{
	struct mm_struct *mm = vma->vm_mm;
	/* an anonymous vma with no pages yet may take the new address's index */
	if (!vma->vm_file && !vma->anon_vma)
		pgoff = addr >> PAGE_SHIFT;
	struct vm_area_struct *merged = vma_merge(mm, vma_before(mm, addr), addr, addr + len, vma->vm_flags,
						  vma->anon_vma, vma->vm_file, pgoff, &vma->vm_policy);
	if (merged)
		return merged;
	struct vm_area_struct *fresh = vm_area_dup(vma); /* the count too: move_page_tables decides */
	fresh->vm_start = addr;
	fresh->vm_end = addr + len;
	fresh->vm_pgoff = pgoff;
	if (anon_vma_clone(fresh, vma)) {
		vm_area_free(fresh);
		return nullptr;
	}
	struct address_space *mapping = fresh->vm_file;
	if (mapping) {
		i_mmap_lock_write(mapping);
		__vma_link_file(fresh); /* keeping the copied vm_truncate_count */
	}
	cpu_work(kVmaTreeCycles);
	rb_insert(fresh);
	mm->map_count++;
	if (mapping)
		i_mmap_unlock_write(mapping);
	return fresh;
}

int do_munmap(struct mm_struct *mm, unsigned long start, unsigned long len)
{
	KFUNC();
	down_write(&mm->mmap_sem);
	cpu_work(kSyscallCycles);
	const int ret = __do_munmap(mm, start, len);
	up_write(&mm->mmap_sem);
	return ret;
}

void exit_mmap(struct mm_struct *mm)
{
	KFUNC();
	down_write(&mm->mmap_sem);
	if (!mm->mm_rb.empty()) {
		std::vector<struct vm_area_struct *> vmas;
		for (auto &e : mm->mm_rb)
			vmas.push_back(e.second);
		unmap_region(mm, vmas, vmas.front()->vm_start, vmas.back()->vm_end);
	}
	up_write(&mm->mmap_sem);
}

/* ---- mprotect ------------------------------------------------------------ */

static int mprotect_fixup(struct mm_struct *mm, struct vm_area_struct *vma, struct vm_area_struct *prev,
			  unsigned long start, unsigned long end, unsigned long newflags)
{
	if (newflags == vma->vm_flags)
		return 0;
	const unsigned long pgoff = vma->vm_pgoff + ((start - vma->vm_start) >> PAGE_SHIFT);
	struct vm_area_struct *merged = nullptr;
	if (!(vma->vm_flags & VM_NONLINEAR))
		merged = vma_merge(mm, prev, start, end, newflags, vma->anon_vma, vma->vm_file, pgoff,
				   &vma->vm_policy);
	if (merged) {
		vma = merged;
	} else {
		if (start != vma->vm_start)
			split_vma(mm, vma, start, true);
		if (end != vma->vm_end)
			split_vma(mm, vma, end, false);
	}
	/* Locking: mmap_sem for writing; rmap walkers do not look at vm_flags' write bit */
	vma->vm_flags = (vma->vm_flags & VM_NONLINEAR) | (newflags & ~VM_NONLINEAR);
	vma->vm_page_prot = vm_get_page_prot(vma->vm_flags);
	change_protection(vma, start, end, vma->vm_page_prot);
	return 0;
}

int sys_mprotect(struct mm_struct *mm, unsigned long start, unsigned long len, int prot)
{
	KFUNC();
	if (start & ~PAGE_MASK)
		return -EINVAL;
	len = PAGE_ALIGN(len);
	const unsigned long end = start + len;
	down_write(&mm->mmap_sem);
	cpu_work(kSyscallCycles);
	vm_globals()->stats.mprotects++;
	int err = 0;
	unsigned long nstart = start;
	while (nstart < end) {
		struct vm_area_struct *vma = find_vma(mm, nstart);
		if (!vma || vma->vm_start > nstart) {
			err = -ENOMEM;
			break;
		}
		const unsigned long tmp = std::min(vma->vm_end, end);
		unsigned long newflags = vma->vm_flags & ~VM_WRITE;
		if (prot & PROT_WRITE)
			newflags |= VM_WRITE;
		struct vm_area_struct *prev = vma_prev(vma);
		if (nstart > vma->vm_start)
			prev = vma;
		err = mprotect_fixup(mm, vma, prev, nstart, tmp, newflags);
		if (err)
			break;
		nstart = tmp;
	}
	up_write(&mm->mmap_sem);
	return err;
}

/* ---- brk ------------------------------------------------------------------ */

/* do_brk - map [@addr, @addr + @len) anonymous at the heap's end, extending the vma
 * below if it can (a pure vm_end change: no anon_vma lock). Locking: mmap_sem for
 * writing. Returns @addr or -ENOMEM. */
static long do_brk(struct mm_struct *mm, unsigned long addr, unsigned long len)
{
	const unsigned long vm_flags = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE;
	if (addr + len > TASK_SIZE || addr + len < addr)
		return -ENOMEM;
	__do_munmap(mm, addr, len);
	struct vm_area_struct *prev = vma_before(mm, addr);
	if (vma_merge(mm, prev, addr, addr + len, vm_flags, nullptr, nullptr, addr >> PAGE_SHIFT, nullptr))
		return static_cast<long>(addr);
	struct vm_area_struct *vma = vm_area_alloc(mm);
	vma->vm_start = addr;
	vma->vm_end = addr + len;
	vma->vm_pgoff = addr >> PAGE_SHIFT;
	vma->vm_flags = vm_flags;
	vma->vm_page_prot = vm_get_page_prot(vm_flags);
	vma_link(mm, vma);
	return static_cast<long>(addr);
}

void set_brk_base(struct mm_struct *mm, unsigned long addr)
{
	mm->start_brk = mm->brk = PAGE_ALIGN(addr);
}

unsigned long sys_brk(struct mm_struct *mm, unsigned long brk)
{
	KFUNC();
	down_write(&mm->mmap_sem);
	cpu_work(kSyscallCycles);
	unsigned long retval = mm->brk;
	const unsigned long newbrk = PAGE_ALIGN(brk), oldbrk = PAGE_ALIGN(mm->brk);
	if (brk < mm->start_brk || newbrk < brk)
		goto out;
	if (newbrk == oldbrk)
		goto set_brk;
	if (brk <= mm->brk) {
		/* shrinking: always allowed */
		__do_munmap(mm, newbrk, oldbrk - newbrk);
		goto set_brk;
	}
	{
		/* growing: not into the next mapping (and keep a guard page below it) */
		struct vm_area_struct *next = find_vma(mm, oldbrk);
		if (next && newbrk + PAGE_SIZE > next->vm_start)
			goto out;
	}
	if (do_brk(mm, oldbrk, newbrk - oldbrk) != static_cast<long>(oldbrk))
		goto out;
set_brk:
	mm->brk = brk;
	retval = brk;
out:
	up_write(&mm->mmap_sem);
	return retval;
}

/* ---- remap_file_pages ---------------------------------------------------- */

int sys_remap_file_pages(struct mm_struct *mm, unsigned long start, unsigned long size, unsigned long pgoff)
{
	size &= PAGE_MASK;
	if ((start & ~PAGE_MASK) || !size)
		return -EINVAL;
	down_write(&mm->mmap_sem);
	cpu_work(kSyscallCycles);
	struct vm_area_struct *vma = find_vma(mm, start);
	if (!vma || vma->vm_start > start || start + size > vma->vm_end || !(vma->vm_flags & VM_SHARED)) {
		up_write(&mm->mmap_sem);
		return -EINVAL;
	}
	struct address_space *mapping = vma->vm_file;
	vm_globals()->stats.remaps++;
	if (!(vma->vm_flags & VM_NONLINEAR)) {
		/* from the tree to the list, never back */
		i_mmap_lock_write(mapping);
		vma_prio_tree_remove(vma, mapping);
		vma->vm_flags |= VM_NONLINEAR;
		list_add_tail(&vma->nonlinear, &mapping->i_mmap_nonlinear);
		i_mmap_unlock_write(mapping);
	}
	int err = 0;
	for (unsigned long i = 0; i < (size >> PAGE_SHIFT); i++) {
		/* filemap_populate: i_size first, then the page, then install_page rechecks */
		const unsigned long limit = (i_size_read(mapping) + PAGE_SIZE - 1) >> PAGE_SHIFT;
		if (pgoff + i >= limit) {
			err = -EINVAL;
			break;
		}
		struct page *page = read_cache_page(mapping, pgoff + i);
		if (!page) {
			err = -ENOMEM;
			break;
		}
		err = install_file_page(mm, vma, start + (i << PAGE_SHIFT), page);
		put_page(page);
		if (err)
			break;
	}
	up_write(&mm->mmap_sem);
	return err;
}
