#include "workloads/mm_env.h"

#include <set>

#include "cli/text.h"
#include "emu/errors.h"
#include "emu/limits.h"
#include "kernel/kernel.h"
#include "kernel/oracle.h"
#include "kernel/sched.h"
#include "kernel/topology.h"

namespace smpemu {

void user_think(Cycles cycles) {
  constexpr Cycles kSlice = 10000;  // about 5 us between interrupt checks
  while (cycles > 0) {
    const Cycles c = cycles < kSlice ? cycles : kSlice;
    cpu_work(c);
    return_to_user();
    cycles -= c;
  }
}

std::vector<KnobSpec> mm_knob_specs() {
  std::vector<KnobSpec> specs = {
      {"lockbreak", "restart_in_vma", {"none", "restart_vma", "restart_in_vma", "mutex_nobreak"}, 0, 0,
       "unmap_mapping_range: none (2.6.9), restart_vma (vmtrunc 4/6), restart_in_vma (2.6.10-2.6.38), "
       "mutex_nobreak (3.0 i_mmap_mutex)"},
      {"fault_recheck", "on", {"on", "off", "late"}, 0, 0,
       "do_no_page's truncate_count recheck: on, off (planted bug), late (sampled after nopage: bug)"},
      {"merge_reset", "on", {"on", "off"}, 0, 0, "vma_adjust zeroes the importer's vm_truncate_count (off: bug)"},
      {"wrap_reset", "on", {"on", "off"}, 0, 0, "truncate_count wrapping to 0 zeroes every vma's count (off: bug)"},
      {"tree_first", "on", {"on", "off"}, 0, 0, "unmap_mapping_range walks i_mmap before the nonlinear list (off: bug)"},
      {"mremap_reset", "always", {"always", "cond"}, 0, 0,
       "mremap zeroes the moved vma's count: always (2.6.38), cond = if nonzero and different (bug)"},
      {"split_ptlock", "off", {"on", "off"}, 0, 0, "per-pte-table locks (2.6.15) instead of page_table_lock"},
      {"count_bits", "32", {}, 13, 64, "width of truncate_count in bits (2.6.11: 32)"},
      {"count_start", "0", {}, 0, 0x7fffffffffffffffLL, "initial truncate_count (start near the wrap to reach it)"},
      {"zap_block", "0", {}, 0, 1000000, "ZAP_BLOCK_SIZE in pages; 0: 8 under --preempt full, else 1024"},
      {"mm_users_shortcut", "off", {"on", "off"}, 0, 0,
       "RCU table freeing (ppc64-hash): free a page table at once when mm_users < 2 (3.0-4.18; bug with foreign "
       "walkers)"},
      {"table_batch_fail", "0", {}, 0, 100,
       "RCU table freeing (ppc64-hash): percent of GFP_NOWAIT batch-page allocations that fail (then a sync IPI)"},
      {"mmu_gather", "percpu", {"percpu", "preemptible"}, 0, 0,
       "percpu (<= 2.6.38: preemption off from gather to finish) or preemptible (3.0: on-stack, chained batches)"},
      {"tlb_fast_mode", "off", {"on", "off"}, 0, 0,
       "with one CPU, free gathered pages before the TLB flush (2.6-3.10; bug with mmu_gather=preemptible)"},
      {"pte_lock", "spinlock", {"spinlock", "rt"}, 0, 0,
       "pte locks: spinlock, or rt (PREEMPT_RT: they sleep and their holders are preemptible; needs "
       "mmu_gather=preemptible and lockbreak=mutex_nobreak)"},
      {"anon_lock", "spin", {"spin", "mutex", "trylock", "rwsem", "spin_noroot"}, 0, 0,
       "the root anon_vma lock: spin (2.6.35-2.6.39), mutex (3.0, walkers take a reference), trylock (3.0 + "
       "the fast path; the free side waits), rwsem (3.8, walkers share it), spin_noroot (2.6.34: each "
       "anon_vma's own spinlock, no family lock)"},
      {"wp_reuse", "exclusive", {"exclusive", "always"}, 0, 0,
       "a write fault reuses an anonymous page only if one pte or swap pte refers to it; always: even when a fork "
       "shares it (planted bug: a COW that forgets to copy)"},
      {"frames", "0", {}, 0, static_cast<long long>(limits::kFrames),
       "physical frames: 0 = the workload's own sizing (no memory pressure); N = exactly N, with the min "
       "watermark, direct reclaim and swap when short (too few: an oom report)"},
      {"swap", "4096", {}, 0, 1048576, "swap device size in pages (0: no swap: reclaim cannot free anonymous pages)"},
      {"swap_read_us", "85", {}, 0, 1000000, "swap device read latency, microseconds (Intel X25-M SSD, 2008)"},
      {"swap_write_us", "115", {}, 0, 1000000, "swap device write latency, microseconds (Intel X25-M SSD, 2008)"},
      {"truncate_swap", "zap", {"zap", "skip"}, 0, 0,
       "truncate frees the swap ptes of private COW copies beyond EOF (zap: 5.18, Peter Xu), or skips them "
       "(skip: 2.6 to 5.17, a bug: the copy comes back beyond EOF)"},
  };
  // The MMU models' own knobs (arch/mmu_registry.h), named in their docs by model.
  for (std::size_t i = 0; i < nr_mmu_types; i++)
    for (std::size_t j = 0; j < mmu_types[i].nr_knobs; j++) {
      const mmu_knob& k = mmu_types[i].knobs[j];
      std::vector<std::string> choices;
      std::string all = k.choices;
      for (std::size_t pos = 0;;) {
        const std::size_t bar = all.find('|', pos);
        choices.push_back(all.substr(pos, bar == std::string::npos ? std::string::npos : bar - pos));
        if (bar == std::string::npos) break;
        pos = bar + 1;
      }
      specs.push_back({k.name, k.def, choices, 0, 0, k.doc});
    }
  return specs;
}

std::vector<KnobSpec> migration_knob_specs() {
  return {
      {"adjust_lock", "on", {"on", "off"}, 0, 0,
       "vma_adjust takes the anon_vma lock when vm_start or vm_pgoff change (2.6.35); off: 2.6.34, rmap walkers "
       "read them half-changed (race R1: a migration entry left behind)"},
      {"skip_temp_stack", "on", {"on", "off"}, 0, 0,
       "migration leaves pages of exec's temporary stack mapped (2.6.35); off: exec moves an entry away from "
       "where remove_migration_ptes looks (race R2)"},
      {"anon_pin", "refcount", {"refcount", "rcu_only"}, 0, 0,
       "migration pins the anon_vma with a reference (2.6.35), or only rcu_read_lock (2.6.34: an exiting "
       "process frees it mid-migration; needs anon_lock=spin or spin_noroot)"},
  };
}

std::vector<KnobSpec> numa_knob_specs() {
  return {
      {"lazy_impl", "swapcache_unmap", {"swapcache_unmap", "prot_numa", "off"}, 0, 0,
       "mbind's MPOL_MF_LAZY: unmap pages into the swap cache and migrate them on first touch (2006/2012 "
       "prototype), mark them for NUMA hinting faults that migrate them (prot_numa, 3.9 on), or off (3.8: "
       "MPOL_MF_LAZY is not in MPOL_MF_VALID, mbind fails with -EINVAL)"},
      {"mof_gate", "2012", {"2006", "2012"}, 0, 0,
       "which swap-cache faults may migrate a lazily unmapped page: 2006 every fault, 2012 only a write fault "
       "that may reuse the page"},
      {"mof_check", "on", {"on", "off"}, 0, 0,
       "migrate-on-fault leaves a page that another pte maps (on); off: planted bug, it moves it under the "
       "mapping"},
  };
}

std::vector<KnobSpec> numa_balancing_knob_specs() {
  return {
      {"numa_balancing", "on", {"on", "off"}, 0, 0,
       "automatic NUMA balancing (3.8): hinting faults migrate pages to the node of the CPU touching them"},
      {"numa_scan_period_us", "50", {}, 1, 10000000,
       "microseconds between two scans of one mm (3.8: 1 s, 100 ms at least; scaled down with the memory, "
       "the runs are short)"},
      {"numa_scan_size", "256", {}, 1, 1 << 24, "pages one scan marks (3.8: 256 MB)"},
      {"numa_ratelimit", "32768", {}, 0, 1 << 30, "pages migrated to one node per 100 ms at most (3.8: 128 MB)"},
  };
}

unsigned long numa_nodes_for(const Machine& m, const std::string& who, unsigned long pages) {
  const int ncpus = m.ncpus();
  if (pages < static_cast<unsigned long>(ncpus))
    throw ConfigError(who + ": pages=" + std::to_string(pages) + " gives some of the " + std::to_string(ncpus) +
                      " CPUs no page: use at least one page per CPU");
  std::set<int> dies;
  for (int c = 0; c < ncpus; c++) dies.insert(cpu_to_die_on(&m, c));
  if (dies.size() < 2)
    throw ConfigError(who + " needs CPUs on two NUMA nodes at least; --cpus " + std::to_string(ncpus) +
                      " on this machine has one (opteron48: more than 6 CPUs)");
  return dies.size();
}

std::vector<KnobSpec> with_mm_knobs(std::vector<KnobSpec> own) {
  for (KnobSpec& k : mm_knob_specs()) own.push_back(std::move(k));
  return own;
}

static vm_tunables tunables_of(const Knobs& k) {
  vm_tunables t;
  const std::string& lb = k.str("lockbreak");
  t.lockbreak = lb == "none"          ? LOCKBREAK_NONE
                : lb == "restart_vma" ? LOCKBREAK_RESTART_VMA
                : lb == "mutex_nobreak" ? LOCKBREAK_MUTEX_NOBREAK
                                        : LOCKBREAK_RESTART_IN_VMA;
  const std::string& fr = k.str("fault_recheck");
  t.fault_recheck = fr == "off" ? FAULT_RECHECK_OFF : fr == "late" ? FAULT_RECHECK_LATE : FAULT_RECHECK_ON;
  t.merge_reset = k.str("merge_reset") == "on";
  t.wrap_reset = k.str("wrap_reset") == "on";
  t.tree_first = k.str("tree_first") == "on";
  t.mremap_reset_always = k.str("mremap_reset") == "always";
  t.truncate_count_bits = static_cast<unsigned>(k.integer("count_bits"));
  t.truncate_count_start = static_cast<unsigned long>(k.integer("count_start"));
  t.zap_block = static_cast<unsigned>(k.integer("zap_block"));
  t.mm_users_shortcut = k.str("mm_users_shortcut") == "on";
  t.table_batch_fail = static_cast<unsigned>(k.integer("table_batch_fail"));
  t.gather = k.str("mmu_gather") == "preemptible" ? GATHER_PREEMPTIBLE : GATHER_PERCPU;
  t.tlb_fast_mode = k.str("tlb_fast_mode") == "on";
  t.pte_lock_rt = k.str("pte_lock") == "rt";
  const std::string& al = k.str("anon_lock");
  t.anon_lock = al == "mutex"     ? ANON_LOCK_MUTEX
                : al == "trylock" ? ANON_LOCK_TRYLOCK
                : al == "rwsem"   ? ANON_LOCK_RWSEM
                : al == "spin_noroot" ? ANON_LOCK_SPIN_NOROOT
                                  : ANON_LOCK_SPIN;
  t.wp_reuse_always = k.str("wp_reuse") == "always";
  t.swap_slots = static_cast<unsigned long>(k.integer("swap"));
  t.swap_read_us = static_cast<unsigned>(k.integer("swap_read_us"));
  t.swap_write_us = static_cast<unsigned>(k.integer("swap_write_us"));
  t.frames_limited = k.integer("frames") != 0;
  t.truncate_zaps_swap = k.str("truncate_swap") == "zap";
  // Workloads where they matter declare these too (migration_knob_specs).
  const auto has = [&](const char* name) { return k.all().count(name) != 0; };
  if (has("adjust_lock")) t.adjust_lock = k.str("adjust_lock") == "on";
  if (has("skip_temp_stack")) t.skip_temp_stack = k.str("skip_temp_stack") == "on";
  if (has("anon_pin")) t.anon_pin = k.str("anon_pin") == "rcu_only" ? ANON_PIN_RCU_ONLY : ANON_PIN_REFCOUNT;
  if (has("lazy_impl")) {
    const std::string& li = k.str("lazy_impl");
    t.lazy_impl = li == "off" ? LAZY_OFF : li == "prot_numa" ? LAZY_PROT_NUMA : LAZY_SWAPCACHE_UNMAP;
  }
  if (has("mof_gate")) t.mof_gate = k.str("mof_gate") == "2006" ? MOF_GATE_2006 : MOF_GATE_2012;
  if (has("mof_check")) t.mof_check = k.str("mof_check") == "on";
  if (has("numa_balancing")) {
    t.numa_balancing = k.str("numa_balancing") == "on";
    t.numa_scan_period_us = static_cast<unsigned>(k.integer("numa_scan_period_us"));
    t.numa_scan_size = static_cast<unsigned long>(k.integer("numa_scan_size"));
    t.numa_ratelimit = static_cast<unsigned long>(k.integer("numa_ratelimit"));
  }
  return t;
}

void MmEnv::setup(Machine& m, const Knobs& k, unsigned long frames, unsigned long tables) {
  const mmu_type* arch = find_mmu_type(k.arch().c_str());
  if (!arch) throw ConfigError("unknown --arch " + quoted(k.arch()) + " (known: " + mmu_type_names() + ")");
  // Every frame costs host memory (its struct page, content word and state): refuse a
  // configuration that would need more than about 2 GiB of it rather than fail later.
  if (frames > limits::kFrames)
    throw ConfigError("the configuration needs " + std::to_string(frames) + " physical frames (at most " +
                      std::to_string(limits::kFrames) + "): use fewer or smaller mappings");
  // A page table costs far more host memory than a frame (emu/limits.h).
  if (tables > limits::kPageTables)
    throw ConfigError("the configuration needs " + std::to_string(tables) + " page tables (at most " +
                      std::to_string(limits::kPageTables) + "): use fewer CPUs or smaller mappings");
  m_ = &m;
  std::set<int> dies;  // a NUMA node per die in use (mm/page_alloc.h)
  for (int c = 0; c < nr_cpu_ids_on(&m); c++) dies.insert(cpu_to_die_on(&m, c));
  const unsigned long nodes = dies.size();
  // frames=N replaces the workload's sizing: memory pressure is what the user asked for.
  if (const unsigned long limit = static_cast<unsigned long>(k.integer("frames"))) {
    if (limit < 64 * nodes)
      throw ConfigError("frames=" + std::to_string(limit) + " is too few for " + std::to_string(nodes) +
                        " NUMA node(s): at least 64 per node (the page tables and the min watermark need them)");
    frames = limit;
  }
  split_ptlock_ = k.str("split_ptlock") == "on";
  phys_mem_init(&mem_, &m, (frames + nodes - 1) / nodes);
  // A knob of another MMU model cannot be honoured: refuse it rather than ignore it.
  std::map<std::string, std::string> arch_knobs;
  for (std::size_t i = 0; i < nr_mmu_types; i++)
    for (std::size_t j = 0; j < mmu_types[i].nr_knobs; j++) {
      const mmu_knob& kn = mmu_types[i].knobs[j];
      const std::string& v = k.str(kn.name);
      if (&mmu_types[i] == arch)
        arch_knobs[kn.name] = v;
      else if (v != kn.def)
        throw ConfigError("knob " + std::string(kn.name) + "=" + v + " is a knob of --arch " + mmu_types[i].name +
                          " (this run: --arch " + arch->name + ")");
    }
  const mmu_setup ms = {mem_.pages.size(), &arch_knobs};
  mmu_ = arch->create(&m, &ms);
  const vm_tunables t = tunables_of(k);
  std::string refused;
  if (!mmu_->rcu_table_free && (t.mm_users_shortcut || t.table_batch_fail))
    refused = std::string("knobs mm_users_shortcut and table_batch_fail need an MMU that frees page tables "
                          "through RCU (--arch ppc64-hash); --arch ") +
              arch->name + " frees them after its TLB flush";
  else if (t.pte_lock_rt && (t.gather != GATHER_PREEMPTIBLE || t.lockbreak != LOCKBREAK_MUTEX_NOBREAK))
    refused = "pte_lock=rt needs mmu_gather=preemptible and lockbreak=mutex_nobreak: a sleeping pte lock cannot "
              "be taken inside the percpu gather (preemption off) or under a spinning i_mmap_lock, which "
              "PREEMPT_RT made sleep too";
  else if (t.anon_pin == ANON_PIN_RCU_ONLY && t.anon_lock != ANON_LOCK_SPIN && t.anon_lock != ANON_LOCK_SPIN_NOROOT)
    refused = "anon_pin=rcu_only holds rcu_read_lock across the migration, where the anon_vma lock is taken: "
              "that lock must spin (anon_lock=spin or spin_noroot), a sleeping one cannot be taken under RCU";
  if (!refused.empty()) {
    mmu_->ops->destroy(mmu_);
    phys_mem_exit(&mem_);
    throw ConfigError(refused);
  }
  vm_init(&mem_, &t, mmu_);
  up_ = true;
}

address_space* MmEnv::add_file(unsigned long pages, unsigned long max_pages) {
  address_space& f = files_.emplace_back();
  address_space_init(&mem_, &f, static_cast<unsigned>(files_.size()), pages, max_pages);
  return &f;
}

mm_struct* MmEnv::new_mm() {
  return mm_alloc(split_ptlock_);
}

void MmEnv::cache_file(address_space* f) {
  for (unsigned long i = 0; i < f->max_pages && i < (f->i_size.v >> PAGE_SHIFT); i++) {
    struct page* p = read_cache_page(f, i);
    if (!p)  // file pages are never reclaimed: only frames=N can make this happen
      report_check("oom", "the page cache ran out of memory reading file " + std::to_string(f->id) + " (" +
                              std::to_string(f->i_size.v >> PAGE_SHIFT) + " pages; set more frames)",
                   true);
    put_page(p);
  }
}

void touch_pages(mm_struct* mm, unsigned long addr, unsigned long pages, bool write,
                 const std::function<unsigned long(unsigned long)>& value, Histogram* faulted, const char* who) {
  for (unsigned long i = 0; i < pages; i++) {
    unsigned long val = value(i);
    unsigned long faults = 0;
    const Cycles t0 = local_clock();
    if (user_access(mm, addr + i * PAGE_SIZE, write, &val, &faults) == USER_NOMEM)
      report_check("oom", std::string(who) + " ran out of memory (its frame count is too small)", true);
    if (faulted && faults) faulted->record(local_clock() - t0);
  }
}

void load_pages(mm_struct* mm, unsigned long addr, unsigned long pages) {
  for (unsigned long i = 0; i < pages; i++) {
    unsigned long val = 0;
    user_access(mm, addr + i * PAGE_SIZE, false, &val, nullptr);
  }
}

mm_struct* anon_family_parent(MmEnv& env, unsigned long addr, unsigned long pages,
                              const std::function<unsigned long(unsigned long)>& value) {
  mm_struct* mm = env.new_mm();
  if (!mm || do_mmap(mm, addr, pages * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                     nullptr, 0) != static_cast<long>(addr)) {
    report_check("oom", "the parent's anonymous mapping failed (its frame count is too small)", true);
    return mm;
  }
  touch_pages(mm, addr, pages, true, value, nullptr, "the parent");
  return mm;
}

struct task_struct* fork_child(mm_struct* parent, int cpu, const std::string& name,
                               std::function<void(mm_struct*)> body) {
  Machine& m = running_machine("fork_child()");
  const Cycles t0 = local_clock();
  mm_struct* child = dup_mm(parent);
  m.histogram("fork").record(local_clock() - t0);
  if (!child) {
    report_check("oom", "fork ran out of memory (the workload's frame count is too small)", true);
    return nullptr;
  }
  return kthread_run_on_cpu([child, body = std::move(body)] { body(child); }, cpu, name.c_str());
}

unsigned long exec_arg_value(unsigned long i, void* who) {
  return (reinterpret_cast<unsigned long>(who) << 32) | (i + 1);
}

mm_struct* exec_program(MmEnv& env, const ExecSpec& spec, const std::function<void()>& drop_old) {
  linux_binprm bprm{};
  if (bprm_mm_init(&bprm, env.split_ptlock()) || copy_strings(&bprm, spec.arg_pages, spec.value, spec.arg)) {
    report_check("oom", "exec ran out of memory (the workload's frame count is too small)", true);
    return nullptr;
  }
  // load_elf_binary: read the headers, flush_old_exec (exec_mmap drops the old mm);
  // only then does setup_arg_pages move the stack: the argument pages sit in the
  // temporary stack all that time
  cpu_work(spec.load_cycles);
  drop_old();
  if (setup_arg_pages(&bprm, kExecStackTop)) {
    report_check("oom", "exec ran out of memory (the workload's frame count is too small)", true);
    return nullptr;
  }
  return bprm.mm;
}

void read_exec_args(mm_struct* mm, unsigned long arg_pages) {
  for (unsigned long i = 0; i < arg_pages; i++) {
    unsigned long val = 0;
    user_access(mm, kExecStackTop - (i + 1) * PAGE_SIZE, false, &val, nullptr);
  }
}

unsigned long exec_table_frames(unsigned long arg_pages) {
  return page_table_frames(kExecStackTop - arg_pages * PAGE_SIZE, STACK_TOP_MAX - kExecStackTop + arg_pages * PAGE_SIZE);
}

unsigned long page_table_frames(unsigned long start, unsigned long bytes) {
  if (bytes == 0) return 1;
  const unsigned long last = start + bytes - 1;
  const auto spans = [&](unsigned shift) { return (last >> shift) - (start >> shift) + 1; };
  return 1 + spans(PGDIR_SHIFT) + spans(PUD_SHIFT) + spans(PMD_SHIFT);
}

unsigned long mm_frames(unsigned long data, unsigned long tasks, unsigned long tables) {
  const unsigned long reserve = tasks * 16 + 1024;
  const unsigned long need = tables + tasks + 256;
  return data + reserve + (need > reserve ? need - reserve : 0);
}

unsigned long PerCpuMms::table_frames(int tasks, unsigned long pages) const {
  const auto n = static_cast<unsigned long>(tasks);
  if (threads_) return page_table_frames(kBase, n * (pages + 1) * PAGE_SIZE);
  return n * page_table_frames(kBase, pages * PAGE_SIZE);
}

void PerCpuMms::prepare(MmEnv& env, int tasks) {
  if (!threads_) return;
  shared_ = env.new_mm();
  // The threads were cloned (CLONE_VM) before the experiment: each holds a user of the
  // mm, as copy_mm's mmget does. Set host-side, so no run's schedule changes.
  if (shared_) shared_->mm_users.counter = tasks;
}

mm_struct* PerCpuMms::get(MmEnv& env) {
  mm_struct* mm = threads_ ? shared_ : env.new_mm();
  BUG_ON(!mm);
  return mm;
}

MmEnv::~MmEnv() {
  if (!up_) return;
  for (mm_struct* mm : mem_.live_mms) delete mm;  // host memory only: the run is over
  for (address_space& f : files_) address_space_exit(&f);
  vm_exit(&mem_);
  mmu_->ops->destroy(mmu_);
  phys_mem_exit(&mem_);
}

void MmEnv::finish(const Machine& m, Metrics& out, std::vector<BugReport>& bugs) const {
  metrics(out);
  if (m.end_reason() != EndReason::Completed) return;  // stopped mid-operation: counts may be in flux
  unsigned long swap_ptes = 0;
  const auto end_check = [&](const std::string& bad, const char* check, const char* key) {
    if (bad.empty()) return;
    BugReport b;
    b.check = check;
    b.message = bad;
    b.fatal = true;
    b.cycle = m.now();
    b.key = key;
    bugs.push_back(std::move(b));
  };
  end_check(swap_check_counts(&mem_, &swap_ptes), "bad-swap", "swap_check_counts");
  end_check(migration_check_entries(&mem_), "migration-entry-left", "migration_check_entries");
  end_check(page_check_unlocked(&mem_), "page-left-locked", "page_check_unlocked");
}

void MmEnv::metrics(Metrics& out) const {
  const vm_stats& s = mem_.vm->stats;
  const auto put = [&](const char* name, unsigned long v) { out[name] = static_cast<double>(v); };
  put("faults", s.faults);
  put("file_faults", s.file_faults);
  put("cow_faults", s.cow_faults);
  put("sigbus", s.sigbus);
  put("fault_retries", s.fault_retries);
  put("ptes_zapped", s.zapped);
  put("tlb_flushes", s.tlb_flushes);
  mmu_->ops->stats(
      mmu_, [](void* arg, const char* name, unsigned long v) { (*static_cast<Metrics*>(arg))[name] = static_cast<double>(v); },
      &out);
  put("umr_calls", s.umr_calls);
  put("umr_restarts", s.umr_restarts);
  put("umr_vmas_skipped", s.umr_vmas_skipped);
  put("umr_count_resets", s.umr_count_resets);
  put("restart_vma_skips", s.restart_vma_skips);
  put("truncates", s.truncates);
  put("truncated_pages", s.truncated_pages);
  put("mmaps", s.mmaps);
  put("munmaps", s.munmaps);
  put("mprotects", s.mprotects);
  put("remaps", s.remaps);
  put("vma_merges", s.merges);
  put("vma_splits", s.splits);
  put("mremaps", s.mremaps);
  put("ptes_moved", s.ptes_moved);
  if (mem_.vm->t.gather == GATHER_PREEMPTIBLE) put("gather_batches", s.gather_batches);
  const anon_vma_slab& av = mem_.vm->anon_vma_cache;
  if (av.allocs || s.zero_page_faults) {
    put("anon_faults", s.anon_faults);
    put("zero_page_faults", s.zero_page_faults);
    put("wp_reuses", s.wp_reuses);
    put("forks", s.forks);
    put("exits", s.exits);
    put("ptes_copied", s.ptes_copied);
    put("anon_vmas_allocated", av.allocs);
    put("anon_vmas_reused", av.reuses);
    put("anon_vma_slab_releases", av.releases);
    put("anon_vma_free_waits", s.anon_vma_free_waits);
  }
  if (mem_.vm->t.frames_limited || s.direct_reclaims) {
    put("direct_reclaims", s.direct_reclaims);
    put("pages_scanned", s.pgscan);
    put("pages_reclaimed", s.pgsteal);
    put("pages_activated", s.pgactivate);
    put("swap_full", s.swap_full);
    put("reclaim_oom", s.reclaim_oom);
    put("swap_outs", s.pswpout);
    put("swap_ins", s.pswpin);
    put("swapin_faults", s.swapin_faults);
    put("swapin_races", s.swapin_races);
    put("swap_ptes_set", s.swap_ptes_set);
  }
  if (s.compact_passes || s.pgmigrate_success || s.pgmigrate_fail) {
    put("pages_migrated", s.pgmigrate_success);
    put("pages_not_migrated", s.pgmigrate_fail);
    put("migrate_freed", s.migrate_freed);
    put("migrate_fail_locked", s.migrate_fail[MIGRATE_FAIL_LOCKED]);
    put("migrate_fail_unmapped", s.migrate_fail[MIGRATE_FAIL_NO_ANON_VMA]);
    put("migrate_fail_mapped", s.migrate_fail[MIGRATE_FAIL_MAPPED]);
    put("migrate_fail_refs", s.migrate_fail[MIGRATE_FAIL_REFS]);
    put("migrate_fail_nomem", s.migrate_fail[MIGRATE_FAIL_NOMEM]);
    put("migration_entries_set", s.migration_ptes_set);
    put("migration_entries_restored", s.migration_ptes_restored);
    put("migration_waits", s.migration_waits);
    put("migrate_temp_stack_skips", s.migrate_temp_stack_skips);
    put("compact_passes", s.compact_passes);
    put("compact_isolated", s.compact_isolated);
    put("compact_free_isolated", s.compact_free_isolated);
    put("compact_throttled", s.compact_throttled);
  }
  if (s.mbinds) {
    put("mbinds", s.mbinds);
    put("mbind_isolated", s.mbind_isolated);
    put("lazy_unmapped", s.lazy_unmapped);
    put("lazy_unmap_failed", s.lazy_failed);
    put("mof_migrations", s.mof_migrations);
    put("mof_failed", s.mof_fail);
  }
  if (mem_.vm->t.numa_balancing || s.numa_pte_updates) {
    put("numa_scans", s.numa_scans);
    put("numa_pte_updates", s.numa_pte_updates);
    put("numa_hint_faults", s.numa_hint_faults);
    put("numa_hint_faults_local", s.numa_hint_faults_local);
    put("numa_pages_migrated", s.numa_pages_migrated);
    put("numa_migrate_shared", s.numa_migrate_shared);
    put("numa_migrate_ratelimited", s.numa_migrate_ratelimited);
  }
  if (mmu_->rcu_table_free) {
    put("tables_freed_now", s.tables_freed_now);
    put("tables_freed_rcu", s.tables_freed_rcu);
    put("tables_freed_ipi", s.tables_freed_ipi);
  }
}

void PerCpuFileRig::setup(Machine& m, const Knobs& k, unsigned long pages, unsigned long data_frames, bool threads,
                          const std::string& init_name, const std::string& worker_name, Body body,
                          bool with_file) {
  pages_ = pages;
  body_ = std::move(body);
  mms_ = PerCpuMms(threads);
  const unsigned long tables = mms_.table_frames(m.ncpus(), pages);
  env_.setup(m, k, mm_frames(data_frames, static_cast<unsigned long>(m.ncpus()), tables), tables);
  if (with_file) file_ = env_.add_file(pages, pages);
  init_completion_on(&m, &ready_);
  m.spawn(init_name, 0, [this, &m] {
    if (file_) env_.cache_file(file_);  // the file was read before: minor faults
    mms_.prepare(env_, m.ncpus());
    complete_all(&ready_);
  });
  for (int c = 0; c < m.ncpus(); c++)
    m.spawn(worker_name + "/" + std::to_string(c), static_cast<CpuId>(c), [this, c] {
      wait_for_completion(&ready_);
      mm_struct* mm = mms_.get(env_);
      body_(c, mm, mms_.window(c, pages_));
    });
}

}  // namespace smpemu
