#include "emu/lockdep.h"

#include <algorithm>
#include <cassert>

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

void LockDep::check_order(Task* t, std::uint32_t cls, const std::string& instance) {
  for (const HeldLock& h : t->held_locks) {
    if (h.cls == cls) {
      m_.report_bug("lock-order",
                    "possible recursive locking: " + t->name + " acquires " + instance + " while holding " +
                        h.instance + " of the same class " + classes_[cls].name +
                        " (use a subclass for intended nesting)",
                    false);
      continue;
    }
    auto& out = edges_[h.cls];
    if (std::any_of(out.begin(), out.end(), [cls](const Edge& e) { return e.to == cls; })) continue;
    std::vector<std::uint32_t> path;
    const bool inverted = reaches(cls, h.cls, path);
    out.push_back(Edge{cls, t->name + " at cycle " + std::to_string(m_.now())});
    if (!inverted) continue;
    std::string chain;
    for (std::size_t i = 0; i + 1 < path.size(); ++i) {
      const auto& es = edges_[path[i]];
      const auto e = std::find_if(es.begin(), es.end(), [&](const Edge& x) { return x.to == path[i + 1]; });
      chain += " " + classes_[path[i]].name + " -> " + classes_[path[i + 1]].name + " (" + e->where + ");";
    }
    m_.report_bug("lock-order",
                  "possible circular locking dependency: " + t->name + " acquires " + classes_[cls].name +
                      " while holding " + classes_[h.cls].name + ", but the opposite order was seen:" + chain,
                  false);
  }
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

void LockDep::acquired(Task* t, LockRef lock, std::uint32_t cls, LockKind kind, const std::string& instance,
                       Cycles requested, bool contended) {
  assert(lock_kind_matches(lock, kind) && "a lock is held as a kind its type cannot be");
  LockClass& c = classes_[cls];
  ++c.acquisitions;
  m_.note_progress();
  if (contended) ++c.contentions;
  const Cycles now = m_.now();
  m_.record_since(*c.wait, requested);
  if (Trace* tr = m_.trace()) {
    const std::uint32_t id = tr->intern(instance);
    if (contended)
      m_.trace_add(requested, m_.cpu_id(), TraceKind::LockContend, id, cls | contention_flags(kind) << 32);
    m_.trace_event(TraceKind::LockAcquire, id, now - requested);
  }
  t->held_locks.push_back(HeldLock{lock, cls, kind, now, instance});
}

bool LockDep::holds(const Task* t, const LockRef& lock) {
  return std::any_of(t->held_locks.begin(), t->held_locks.end(), [&lock](const HeldLock& h) { return h.lock == lock; });
}

bool LockDep::released(Task* t, LockRef lock, const std::string& instance) {
  auto& held = t->held_locks;
  for (auto it = held.rbegin(); it != held.rend(); ++it) {
    if (it->lock != lock) continue;
    m_.record_since(*classes_[it->cls].hold, it->since);
    if (Trace* tr = m_.trace()) m_.trace_event(TraceKind::LockRelease, tr->intern(it->instance), m_.now() - it->since);
    held.erase(std::next(it).base());
    return true;
  }
  m_.report_bug("unlock-not-held", t->name + " releases " + instance + ", which it does not hold", false);
  return false;
}

void LockDep::check_exit(Task* t) {
  if (t->held_locks.empty()) return;
  std::string names;
  for (const HeldLock& h : t->held_locks) names += " " + h.instance + "(" + lock_kind_name(h.kind) + ")";
  m_.report_bug("exit-holding-lock", "task " + t->name + " exits holding" + names, false);
}

}  // namespace smpemu
