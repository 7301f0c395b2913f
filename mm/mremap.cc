/*
 * mm/mremap.cc - move_page_tables and sys_mremap (move, same length).
 */
#include "mm/mremap.h"

#include <cerrno>

#include "mm/anon_shadow.h"

/* Cost of the syscall's fixed part (assumed, as for mmap). */
static constexpr smpemu::Cycles kSyscallCycles = 300;

/*
 * The destination's page tables for every source pte table of the range, allocated
 * before move_page_tables takes its spinning rmap locks (the allocator may reclaim and
 * sleep; 2.6's alloc_new_pmd runs outside move_ptes' locks for the same reason). They
 * stay: mmap_sem is held for writing, so nothing frees them meanwhile. false on ENOMEM.
 */
static bool alloc_new_tables(struct mm_struct *mm, unsigned long old_addr, unsigned long new_addr,
			     unsigned long len)
{
	for (unsigned long done = 0; done < len; done += PAGE_SIZE) {
		const unsigned long from = old_addr + done, to = new_addr + done;
		if (done && (from & ~PMD_MASK) && (to & ~PMD_MASK))
			continue; /* neither side crossed into another table */
		pgtable_slot_t *old_pmd = pmd_lookup(mm, from);
		if (!old_pmd || pgtable_entry_none(READ_ONCE(*old_pmd)))
			continue;
		pgtable_slot_t *new_pmd = pmd_alloc_for(mm, to);
		if (!new_pmd || (pgtable_entry_none(READ_ONCE(*new_pmd)) && __pte_alloc(mm, new_pmd, to)))
			return false;
	}
	return true;
}

/*
 * Move the ptes of [@old_addr, @old_addr + @len) of @vma to @new_addr in @new_vma.
 * Returns the bytes moved (all of them, or 0 on ENOMEM).
 * Locking: mmap_sem for writing; takes the i_mmap lock and the pte locks.
 */
unsigned long move_page_tables(struct vm_area_struct *vma, unsigned long old_addr,
				      struct vm_area_struct *new_vma, unsigned long new_addr, unsigned long len)
{
	struct mm_struct *mm = vma->vm_mm;
	struct vm_globals *vm = vm_globals();
	struct address_space *mapping = vma->vm_file;
	if (!alloc_new_tables(mm, old_addr, new_addr, len))
		return 0;
	/* truncate must not miss ptes in transit, and must rescan the new vma; an rmap
	 * walker of the anon_vma must not either (3.x move_ptes takes its lock too) */
	if (mapping) {
		i_mmap_lock_write(mapping);
		if (vm->t.mremap_reset_always ||
		    (new_vma->vm_truncate_count && new_vma->vm_truncate_count != vma->vm_truncate_count))
			new_vma->vm_truncate_count = 0;
	}
	if (vma->anon_vma)
		anon_vma_lock_write(vma->anon_vma);
	unsigned long done = 0;
	for (; done < len; done += PAGE_SIZE) {
		const unsigned long from = old_addr + done, to = new_addr + done;
		pgtable_slot_t *old_pmd = pmd_lookup(mm, from);
		if (!old_pmd || pgtable_entry_none(READ_ONCE(*old_pmd)))
			continue;
		pgtable_slot_t *new_pmd = pmd_lookup(mm, to); /* alloc_new_tables made it */
		BUG_ON(!new_pmd || pgtable_entry_none(READ_ONCE(*new_pmd)));
		spinlock_t *old_ptl = pte_lockptr(mm, old_pmd);
		spinlock_t *new_ptl = pte_lockptr(mm, new_pmd);
		spin_lock(old_ptl);
		if (new_ptl != old_ptl)
			spin_lock_nested(new_ptl, 1);
		pgtable_slot_t *old_pte = pte_offset_map(mm, old_pmd, from);
		pgtable_slot_t *new_pte = pte_offset_map(mm, new_pmd, to);
		arch_enter_lazy_mmu_mode(mm);
		if (old_pte && new_pte && !pte_none(ptep_get(old_pte))) {
			const pte_t pte = ptep_get_and_clear(mm, from, old_pte);
			set_pte_at(mm, to, new_pte, pte);
			note_pte_moved(mm, from, to);
			shadow_move(mm, from, to);
			vm->stats.ptes_moved++;
		}
		arch_leave_lazy_mmu_mode(mm);
		if (new_ptl != old_ptl)
			pte_unmap_unlock(new_pte, new_ptl);
		pte_unmap_unlock(old_pte, old_ptl);
	}
	flush_tlb_range(vma, old_addr, old_addr + len);
	if (vma->anon_vma)
		anon_vma_unlock_write(vma->anon_vma);
	if (mapping)
		i_mmap_unlock_write(mapping);
	return done;
}

/*
 * move_vma - move [@old_addr, @old_addr + @old_len) of @vma to a mapping of @new_len
 * (>= @old_len) at @new_addr: the old range's ptes move, the rest faults in later.
 * Returns @new_addr or -ENOMEM (nothing moved). Locking: mmap_sem for writing.
 */
static long move_vma(struct vm_area_struct *vma, unsigned long old_addr, unsigned long old_len,
		     unsigned long new_len, unsigned long new_addr)
{
	struct mm_struct *mm = vma->vm_mm;
	vm_globals()->stats.mremaps++;
	const unsigned long pgoff = linear_page_index(vma, old_addr);
	struct vm_area_struct *new_vma = copy_vma(vma, new_addr, new_len, pgoff);
	if (!new_vma)
		return -ENOMEM;
	if (move_page_tables(vma, old_addr, new_vma, new_addr, old_len) < old_len) {
		/* ENOMEM half way: move back what moved, drop the new vma (as move_vma does) */
		move_page_tables(new_vma, new_addr, vma, old_addr, old_len);
		do_munmap_locked(mm, new_addr, new_len);
		return -ENOMEM;
	}
	do_munmap_locked(mm, old_addr, old_len); /* its ptes are gone: only the vma goes */
	return static_cast<long>(new_addr);
}

int sys_mremap(struct mm_struct *mm, unsigned long old_addr, unsigned long len, unsigned long new_addr)
{
	len = PAGE_ALIGN(len);
	if ((old_addr & ~PAGE_MASK) || (new_addr & ~PAGE_MASK) || !len || new_addr + len > TASK_SIZE)
		return -EINVAL;
	if (new_addr < old_addr + len && old_addr < new_addr + len)
		return -EINVAL; /* overlapping ranges */
	down_write(&mm->mmap_sem);
	cpu_work(kSyscallCycles);
	struct vm_area_struct *vma = find_vma(mm, old_addr);
	if (!vma || vma->vm_start > old_addr || old_addr + len > vma->vm_end || (vma->vm_flags & VM_NONLINEAR)) {
		up_write(&mm->mmap_sem);
		return -EINVAL;
	}
	do_munmap_locked(mm, new_addr, len); /* MREMAP_FIXED replaces the target */
	const long ret = move_vma(vma, old_addr, len, len, new_addr);
	up_write(&mm->mmap_sem);
	return ret < 0 ? static_cast<int>(ret) : 0;
}

/* The vma [@addr, @addr + @old_len) lies in, if it can be resized (2.6's vma_to_resize). */
static struct vm_area_struct *vma_to_resize(struct mm_struct *mm, unsigned long addr, unsigned long old_len,
					    long *err)
{
	struct vm_area_struct *vma = find_vma(mm, addr);
	if (!vma || vma->vm_start > addr || addr + old_len > vma->vm_end) {
		*err = -EFAULT;
		return nullptr;
	}
	if (vma->vm_flags & VM_NONLINEAR) {
		*err = -EINVAL;
		return nullptr;
	}
	return vma;
}

long do_mremap(struct mm_struct *mm, unsigned long addr, unsigned long old_len, unsigned long new_len,
	       unsigned long flags, unsigned long new_addr)
{
	KFUNC();
	if ((flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED)) || ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE)))
		return -EINVAL;
	if (addr & ~PAGE_MASK)
		return -EINVAL;
	old_len = PAGE_ALIGN(old_len);
	new_len = PAGE_ALIGN(new_len);
	if (!old_len || !new_len || addr + old_len < addr)
		return -EINVAL;
	if (flags & MREMAP_FIXED) {
		if ((new_addr & ~PAGE_MASK) || new_addr + new_len > TASK_SIZE || new_addr + new_len < new_addr)
			return -EINVAL;
		if (new_addr < addr + old_len && addr < new_addr + new_len)
			return -EINVAL; /* overlapping ranges */
	}
	down_write(&mm->mmap_sem);
	cpu_work(kSyscallCycles);
	long ret;
	struct vm_area_struct *vma;
	if (flags & MREMAP_FIXED) {
		do_munmap_locked(mm, new_addr, new_len);
		if (old_len > new_len) {
			do_munmap_locked(mm, addr + new_len, old_len - new_len);
			old_len = new_len;
		}
		vma = vma_to_resize(mm, addr, old_len, &ret);
		if (vma)
			ret = move_vma(vma, addr, old_len, new_len, new_addr);
		goto out;
	}
	if (old_len >= new_len) {
		/* shrinking (or no change): unmap the tail */
		do_munmap_locked(mm, addr + new_len, old_len - new_len);
		ret = static_cast<long>(addr);
		goto out;
	}
	vma = vma_to_resize(mm, addr, old_len, &ret);
	if (!vma)
		goto out;
	if (addr + old_len == vma->vm_end) {
		/* the range ends the vma: grow in place if nothing is in the way (a pure
		 * vm_end change: no anon_vma lock) */
		struct vm_area_struct *next = vma_next(vma);
		const unsigned long end = addr + new_len;
		if (end <= TASK_SIZE && end > addr && (!next || next->vm_start >= end)) {
			vma_adjust(vma, vma->vm_start, end, vma->vm_pgoff, nullptr);
			vm_globals()->stats.mremaps++;
			ret = static_cast<long>(addr);
			goto out;
		}
	}
	ret = -ENOMEM;
	if (flags & MREMAP_MAYMOVE) {
		new_addr = get_unmapped_area(mm, new_len);
		if (new_addr)
			ret = move_vma(vma, addr, old_len, new_len, new_addr);
	}
out:
	up_write(&mm->mmap_sem);
	return ret;
}
