#include "emu/mutex.h"

namespace smpemu {

void Mutex::init(Machine& m, const std::string& cls) {
  m_ = &m;
  line_ = m.new_line();
  owner_ = nullptr;
  waiters_.clear();
  spinners_ = 0;
  class_name_ = cls;
  cls_ = m.lockdep().class_of(cls);
  instance_ = cls + "#" + std::to_string(m.lockdep().new_instance(cls_));
}

void Mutex::lock(unsigned subclass, Where loc) {
  Machine& m = *m_;
  m.might_sleep(loc);
  Task* me = m.current();
  const std::uint32_t cls = subclass ? m.lockdep().class_of(class_name_, subclass) : cls_;
  const CallPath where = m.lock_path(loc);
  m.lockdep().check_order(me, cls, instance_, where);
  const Cycles requested = m.now();
  Task* expected = nullptr;
  if (m.compare_exchange(line_, owner_, expected, me)) {
    m.lockdep().acquired(me, this, cls, LockKind::Mutex, instance_, requested, false, where);
    return;
  }
  if (m.params().mutex_spin) {
    // The spin ended with the owner off CPU (or need_resched) at a sync point, and the
    // owner may have released the mutex since: queue and try once more in one operation
    // (the kernel queues under wait_lock and tries again), or nobody would wake us.
    const bool got = spin_on_owner(me) || m.atomically(line_, [&] {
      if (owner_ == nullptr) {
        owner_ = me;
        return true;
      }
      waiters_.push_back(me);
      return false;
    });
    if (got) {
      m.lockdep().acquired(me, this, cls, LockKind::Mutex, instance_, requested, true, where);
      return;
    }
  } else {
    waiters_.push_back(me);
  }
  me->waiting_for = &instance_;
  me->blocked_lock = this;
  me->blocked_owner = &Mutex::owner_of;
  for (;;) {
    m.set_current_blocked();
    if (owner_ == me) break;  // handed off since we queued
    m.check_wait_cycle(owner_, instance_);
    m.schedule();
    if (owner_ == me) break;
  }
  m.set_current_running();
  me->waiting_for = nullptr;
  me->blocked_lock = nullptr;
  me->blocked_owner = nullptr;
  m.lockdep().acquired(me, this, cls, LockKind::Mutex, instance_, requested, true, where);
}

bool Mutex::spin_on_owner(Task* me) {
  Machine& m = *m_;
  m.preempt_disable();
  ++spinners_;
  me->waiting_for = &instance_;
  bool got = false;
  for (;;) {
    Task* o = m.load(line_, owner_);
    if (o == nullptr) {
      Task* expected = nullptr;
      if (m.compare_exchange(line_, owner_, expected, me)) {
        got = true;
        break;
      }
      continue;  // another CPU took it: look at the new owner
    }
    if (!m.owner_on_cpu(o) || m.need_resched()) break;
    // Two spinners waiting for each other's mutex never go off CPU: check the cycle
    // as a sleeper would (the kernel would soft-lockup here).
    me->blocked_lock = this;
    me->blocked_owner = &Mutex::owner_of;
    me->spinning_on_owner = true;
    m.check_wait_cycle(o, instance_);
    m.spin_on_owner(line_);
  }
  me->blocked_lock = nullptr;
  me->blocked_owner = nullptr;
  me->spinning_on_owner = false;
  me->waiting_for = nullptr;
  --spinners_;
  m.preempt_enable();
  return got;
}

void Mutex::unlock(Where loc) {
  Machine& m = *m_;
  Task* me = m.current();
  if (!m.lockdep().released(me, this, instance_, loc)) return;
  // Look at the waiters and release in one operation: a waiter may have queued at an
  // earlier virtual time than this CPU's clock (FIFO hand-off to the first one).
  Task* next = m.atomically(line_, [this] {
    Task* n = nullptr;
    if (!waiters_.empty()) {
      n = waiters_.front();
      waiters_.pop_front();
    }
    owner_ = n;
    return n;
  });
  if (next) m.wake(next);
}

bool Mutex::trylock(Where loc) {
  Machine& m = *m_;
  const Cycles requested = m.now();
  Task* expected = nullptr;
  if (!m.compare_exchange(line_, owner_, expected, m.current())) return false;
  m.lockdep().acquired(m.current(), this, cls_, LockKind::Mutex, instance_, requested, false, m.lock_path(loc));
  return true;
}

bool Mutex::is_locked() { return m_->load(line_, owner_) != nullptr; }

}  // namespace smpemu
