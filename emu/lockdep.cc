#include "emu/lockdep.h"

#include <algorithm>
#include <cassert>

#include <fmt/format.h>

#include "emu/machine.h"

namespace smpemu {

const char* lock_kind_name(LockKind k) {
  switch (k) {
    case LockKind::Spin: return "spinlock";
    case LockKind::Mutex: return "mutex";
    case LockKind::RwsemRead: return "rwsem:R";
    case LockKind::RwsemWrite: return "rwsem:W";
    case LockKind::RwlockRead: return "rwlock:R";
    case LockKind::RwlockWrite: return "rwlock:W";
    case LockKind::BitLock: return "bitlock";
  }
  return "?";
}

bool lock_kind_matches(const LockRef& ref, LockKind kind) {
  switch (kind) {
    case LockKind::Spin: return std::holds_alternative<const SpinLock*>(ref);
    case LockKind::Mutex: return std::holds_alternative<const Mutex*>(ref);
    case LockKind::RwsemRead:
    case LockKind::RwsemWrite: return std::holds_alternative<const RwSem*>(ref);
    case LockKind::RwlockRead:
    case LockKind::RwlockWrite: return std::holds_alternative<const RwLock*>(ref);
    case LockKind::BitLock: return std::holds_alternative<MapLock>(ref);
  }
  return false;
}

std::uint32_t LockDep::class_of(const std::string& name, unsigned subclass) {
  const std::string full = subclass ? name + "/" + std::to_string(subclass) : name;
  auto it = by_name_.find(full);
  if (it != by_name_.end()) return it->second;
  const auto id = static_cast<std::uint32_t>(classes_.size());
  LockClass c;
  c.name = full;
  c.wait = &m_.histogram("lock." + full + ".wait");
  c.hold = &m_.histogram("lock." + full + ".hold");
  classes_.push_back(std::move(c));
  instances_.push_back(0);
  edges_.emplace_back();
  by_name_.emplace(full, id);
  return id;
}

bool LockDep::reaches(std::uint32_t from, std::uint32_t to, std::vector<std::uint32_t>& path) const {
  // Depth-first search over recorded edges, in recording order (deterministic).
  std::vector<std::uint8_t> seen(classes_.size(), 0);
  std::vector<std::pair<std::uint32_t, std::size_t>> stack{{from, 0}};
  seen[from] = 1;
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (node == to) {
      path.clear();
      for (const auto& s : stack) path.push_back(s.first);
      return true;
    }
    if (next < edges_[node].size()) {
      const std::uint32_t n = edges_[node][next++].to;
      if (!seen[n]) {
        seen[n] = 1;
        stack.emplace_back(n, 0);
      }
    } else {
      stack.pop_back();
    }
  }
  return false;
}

namespace {
std::string lock_line(const std::string& instance, const std::string& cls, const CallPath& where) {
  return " " + instance + " (" + cls + "), at: " + where.str() + "\n";
}

}  // namespace

const LockDep::Edge& LockDep::edge(std::uint32_t from, std::uint32_t to) const {
  const auto& es = edges_[from];
  const auto e = std::find_if(es.begin(), es.end(), [to](const Edge& x) { return x.to == to; });
  assert(e != es.end() && "a dependency path follows recorded edges");
  return *e;
}

void LockDep::check_order(Task* t, std::uint32_t cls, const std::string& instance, const CallPath& where) {
  if (!order_checks_) return;
  for (const HeldLock& h : t->held_locks) {
    if (h.cls == cls) {
      report_recursive(t, h, instance, where);
      continue;
    }
    auto& out = edges_[h.cls];
    if (std::any_of(out.begin(), out.end(), [cls](const Edge& e) { return e.to == cls; })) continue;
    std::vector<std::uint32_t> path;
    const bool inverted = reaches(cls, h.cls, path);
    out.push_back(Edge{cls, Track{t, m_.cpu_id(), m_.now(), where}});
    if (inverted) report_circular(t, h, cls, instance, where, path);
  }
}

void LockDep::report_recursive(Task* t, const HeldLock& held, const std::string& instance, const CallPath& where) {
  const std::string& cname = classes_[held.cls].name;
  BugReport b;
  b.check = "lock-order";
  b.message = "possible recursive locking: " + t->name + " acquires " + instance + " while holding " +
              held.instance + " of the same class " + cname + " (use a subclass for intended nesting)";
  b.key = "recursive " + cname;
  std::string& d = b.details;
  d += "\n" + splat_rule('=') + "WARNING: possible recursive locking detected\n" + splat_rule('-');
  d += task_label(*t) + " is trying to acquire lock:\n" + lock_line(instance, cname, where);
  d += "\nbut task is already holding lock:\n" + lock_line(held.instance, cname, held.where());
  d += "\nother info that might help us debug this:\n Possible unsafe locking scenario:\n\n";
  d += "       CPU0\n       ----\n  lock(" + cname + ");\n  lock(" + cname + ");\n\n *** DEADLOCK ***\n\n";
  d += " May be due to missing lock nesting notation\n\n";
  d += held_locks_text(*t);
  m_.report(std::move(b), {t});
}

void LockDep::report_circular(Task* t, const HeldLock& held, std::uint32_t cls, const std::string& instance,
                              const CallPath& where, const std::vector<std::uint32_t>& path) {
  // path: cls = path[0] -> path[1] -> ... -> path[k] = held.cls, each link an edge
  // recorded earlier. Acquiring cls while holding held.cls closes the cycle.
  const std::string& next = classes_[cls].name;
  const std::string& prev = classes_[held.cls].name;
  std::string chain;
  std::vector<std::string> names;
  std::vector<const Task*> involved{t};
  for (std::size_t i = 0; i + 1 < path.size(); ++i) {
    const Track& link = edge(path[i], path[i + 1]).track;
    chain += " " + classes_[path[i]].name + " -> " + classes_[path[i + 1]].name + " (" + link.task->name +
             " at cycle " + std::to_string(link.cycle) + ");";
    involved.push_back(link.task);
  }
  for (std::uint32_t c : path) names.push_back(classes_[c].name);
  BugReport b;
  b.check = "lock-order";
  b.message = "possible circular locking dependency: " + t->name + " acquires " + next + " while holding " + prev +
              ", but the opposite order was seen:" + chain;
  b.key = "circular " + class_key(names);
  std::string& d = b.details;
  d += "\n" + splat_rule('=') + "WARNING: possible circular locking dependency detected\n" + splat_rule('-');
  d += task_label(*t) + " is trying to acquire lock:\n" + lock_line(instance, next, where);
  d += "\nbut task is already holding lock:\n" + lock_line(held.instance, prev, held.where());
  d += "\nwhich lock already depends on the new lock.\n\n\nthe existing dependency chain (in reverse order) is:\n";
  for (std::size_t i = path.size() - 1; i >= 1; --i) {
    d += "\n-> #" + std::to_string(i) + " (" + classes_[path[i]].name + "):\n       " +
         "taken while holding " + classes_[path[i - 1]].name + " " + track_text(edge(path[i - 1], path[i]).track);
  }
  d += "\n-> #0 (" + next + "):\n       taken while holding " + prev + " " +
       track_text(Track{t, m_.cpu_id(), m_.now(), where});
  d += "\nother info that might help us debug this:\n\n";
  // The parent is the class whose edge leads to the held one (the source itself when
  // the cycle has two classes).
  const std::string& parent = classes_[path[path.size() - 2]].name;
  if (path.size() > 2) {
    d += "Chain exists of:\n  ";
    for (std::size_t i = path.size(); i-- > 0;) d += classes_[path[i]].name + (i ? " --> " : "\n\n");
  }
  d += " Possible unsafe locking scenario:\n\n";
  d += fmt::format("       {:<24}{}\n       {:<24}{}\n", "CPU0", "CPU1", "----", "----");
  d += fmt::format("  lock({});\n", prev);
  d += fmt::format("  {:<29}lock({});\n", "", parent);
  d += fmt::format("  {:<29}lock({});\n", "", prev);
  d += fmt::format("  lock({});\n\n *** DEADLOCK ***\n\n", next);
  d += held_locks_text(*t);
  m_.report(std::move(b), involved);
}

namespace {
/// The kernel's contention_begin flags of a wait for a lock of kind `k` (0: the kernel
/// has no contention tracepoint for it, e.g. lock_page).
std::uint64_t contention_flags(LockKind k) {
  switch (k) {
    case LockKind::Spin: return lock_contention::kSpin;
    case LockKind::Mutex: return lock_contention::kMutex;
    case LockKind::RwsemRead: return lock_contention::kRead;
    case LockKind::RwsemWrite: return lock_contention::kWrite;
    case LockKind::RwlockRead: return lock_contention::kSpin | lock_contention::kRead;
    case LockKind::RwlockWrite: return lock_contention::kSpin | lock_contention::kWrite;
    case LockKind::BitLock: return 0;
  }
  return 0;
}
}  // namespace

std::uint64_t LockDep::lock_event_a(Trace& tr, const std::string& instance, std::uint32_t cls, LockKind kind,
                                    const CallPath& where) const {
  const std::uint32_t flags = static_cast<std::uint32_t>(contention_flags(kind));
  return lock_event::pack(tr.intern(instance), flags, tr.lock_point(cls, classes_[cls].name, where));
}

std::size_t LockDep::PathHash::operator()(const CallPath& p) const {
  std::size_t h = 0;
  auto mix = [&h](std::size_t v) { h = (h ^ v) * 0x100000001b3ULL; };
  auto add = [&mix](const Where& w) {
    mix(reinterpret_cast<std::uintptr_t>(w.file));
    mix(reinterpret_cast<std::uintptr_t>(w.func));
    mix(w.line);
  };
  add(p.site);
  for (std::uint8_t i = 0; i < p.ncallers; ++i) add(p.callers[i]);
  return h;
}

void LockDep::acquired(Task* t, LockRef lock, std::uint32_t cls, LockKind kind, const std::string& instance,
                       Cycles requested, bool contended, const CallPath& where, bool spun) {
  assert(lock_kind_matches(lock, kind) && "a lock is held as a kind its type cannot be");
  LockClass& c = classes_[cls];
  ++c.acquisitions;
  m_.note_progress();
  if (contended) ++c.contentions;
  const Cycles now = m_.now();
  m_.record_since(*c.wait, requested);
  if (Trace* tr = m_.trace()) {
    const std::uint64_t flags = contention_flags(kind);
    const std::uint64_t a = lock_event_a(*tr, instance, cls, kind, where);
    const std::uint64_t wait_flags = flags | (spun ? lock_contention::kSpin : 0);
    if (contended) m_.trace_add(requested, m_.cpu_id(), TraceKind::LockContend, a, cls | wait_flags << 32);
    m_.trace_event(TraceKind::LockAcquire, a, now - requested);
  }
  // Filled in place: a HeldLock is large (its CallPath), and this is every acquisition.
  HeldLock& h = t->held_locks.emplace_back();
  h.lock = lock;
  h.cls = cls;
  h.kind = kind;
  h.since = now;
  h.instance = instance;
  h.site = where.site;
  if (where.ncallers) h.path = &*paths_.insert(where).first;
}

bool LockDep::holds(const Task* t, const LockRef& lock) {
  return std::any_of(t->held_locks.begin(), t->held_locks.end(), [&lock](const HeldLock& h) { return h.lock == lock; });
}

bool LockDep::released(Task* t, LockRef lock, const std::string& instance, Where loc) {
  auto& held = t->held_locks;
  for (auto it = held.rbegin(); it != held.rend(); ++it) {
    if (it->lock != lock) continue;
    m_.record_since(*classes_[it->cls].hold, it->since);
    if (Trace* tr = m_.trace())
      m_.trace_event(TraceKind::LockRelease, lock_event_a(*tr, it->instance, it->cls, it->kind, it->where()),
                     m_.now() - it->since);
    held.erase(std::next(it).base());
    return true;
  }
  bad_unlock(t, instance, loc, t->name + " releases " + instance + ", which it does not hold",
             "but there are no more locks to release!");
  return false;
}

void LockDep::bad_unlock(Task* t, const std::string& instance, Where loc, std::string message,
                         const std::string& why) {
  BugReport b;
  b.check = "unlock-not-held";
  b.message = std::move(message);
  b.key = instance_class(instance);
  std::string& d = b.details;
  d += "\n" + splat_rule('=') + "WARNING: bad unlock balance detected!\n" + splat_rule('-');
  d += task_label(*t) + " is trying to release lock (" + instance + ") at:\n " + m_.path(loc).str() + "\n" + why +
       "\n\nother info that might help us debug this:\n" + held_locks_text(*t);
  m_.report(std::move(b), {t});
}

void LockDep::check_exit(Task* t) {
  if (t->held_locks.empty()) return;
  std::string names;
  std::vector<std::string> classes;
  for (const HeldLock& h : t->held_locks) {
    names += " " + h.instance + "(" + lock_kind_name(h.kind) + ")";
    classes.push_back(classes_[h.cls].name);
  }
  BugReport b;
  b.check = "exit-holding-lock";
  b.message = "task " + t->name + " exits holding" + names;
  b.key = class_key(classes);
  b.details = "\n" + splat_rule('=') + "WARNING: " + task_label(*t) + " still has locks held!\n" + splat_rule('-') +
              held_locks_text(*t);
  m_.report(std::move(b), {t});
}

}  // namespace smpemu
