/*
 * mm/mremap.cc - move_page_tables and sys_mremap (move, same length).
 */
#include "mm/mremap.h"

#include <cerrno>

#include "mm/anon_shadow.h"

/* Cost of the syscall's fixed part (assumed, as for mmap). */
static constexpr smpemu::Cycles kSyscallCycles = 300;

/*
 * Move the ptes of [@old_addr, @old_addr + @len) of @vma to @new_addr in @new_vma.
 * Returns the bytes moved (all of them, or less on ENOMEM).
 * Locking: mmap_sem for writing; takes the i_mmap lock and the pte locks.
 */
static unsigned long move_page_tables(struct vm_area_struct *vma, unsigned long old_addr,
				      struct vm_area_struct *new_vma, unsigned long new_addr, unsigned long len)
{
	struct mm_struct *mm = vma->vm_mm;
	struct vm_globals *vm = vm_globals();
	struct address_space *mapping = vma->vm_file;
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
		pgtable_slot_t *new_pmd = pmd_alloc_for(mm, to);
		if (!new_pmd || (pgtable_entry_none(READ_ONCE(*new_pmd)) && __pte_alloc(mm, new_pmd, to)))
			break;
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
	vm_globals()->stats.mremaps++;
	const unsigned long pgoff = linear_page_index(vma, old_addr);
	struct vm_area_struct *new_vma = copy_vma(vma, new_addr, len, pgoff);
	if (!new_vma) {
		up_write(&mm->mmap_sem);
		return -ENOMEM;
	}
	int err = 0;
	if (move_page_tables(vma, old_addr, new_vma, new_addr, len) < len) {
		/* ENOMEM half way: move back what moved, drop the new vma (as move_vma does) */
		move_page_tables(new_vma, new_addr, vma, old_addr, len);
		do_munmap_locked(mm, new_addr, len);
		err = -ENOMEM;
	} else {
		do_munmap_locked(mm, old_addr, len); /* its ptes are gone: only the vma goes */
	}
	up_write(&mm->mmap_sem);
	return err;
}
