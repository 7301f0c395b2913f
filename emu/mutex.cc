#include "emu/mutex.h"

namespace smpemu {

void Mutex::init(Machine& m, const std::string& cls) {
  m_ = &m;
  line_ = m.new_line();
  owner_ = nullptr;
  waiters_.clear();
  spinners_ = 0;
  handoff_ = false;
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
    if (got) {  // never went off CPU: the whole wait was spinning
      m.lockdep().acquired(me, this, cls, LockKind::Mutex, instance_, requested, true, where, /*spun=*/true);
      return;
    }
  } else {
    waiters_.push_back(me);
  }
  me->waiting_for = &instance_;
  me->blocked_lock = this;
  me->blocked_owner = &Mutex::owner_of;
  const bool compete = m.params().mutex != MutexModel::Fifo;
  for (bool woken = false;; woken = true) {
    m.set_current_blocked();
    if (owner_ == me) break;  // handed off since we queued (fifo, or the hand-off flag)
    if (compete && waiter_trylock(me, woken)) break;
    m.check_wait_cycle(owner_, instance_);
    m.schedule();
    if (owner_ == me) break;  // handed off while asleep
  }
  m.set_current_running();
  me->waiting_for = nullptr;
  me->blocked_lock = nullptr;
  me->blocked_owner = nullptr;
  m.lockdep().acquired(me, this, cls, LockKind::Mutex, instance_, requested, true, where);
}

bool Mutex::waiter_trylock(Task* me, bool woken) {
  return m_->atomically(line_, [&] {
    if (owner_ != nullptr) {
      // Beaten by a newcomer or a spinner after a wakeup: ask for the next unlock.
      if (woken && m_->params().mutex == MutexModel::Handoff && !waiters_.empty() && waiters_.front() == me)
        handoff_ = true;
      return false;
    }
    owner_ = me;
    for (auto it = waiters_.begin(); it != waiters_.end(); ++it)
      if (*it == me) {
        waiters_.erase(it);
        break;
      }
    return true;
  });
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
  // earlier virtual time than this CPU's clock.
  const MutexModel model = m.params().mutex;
  Task* next = m.atomically(line_, [this, model] {
    if (waiters_.empty()) {
      owner_ = nullptr;
      return static_cast<Task*>(nullptr);
    }
    Task* n = waiters_.front();
    if (model == MutexModel::Fifo || handoff_) {
      waiters_.pop_front();  // the mutex goes to the first waiter
      handoff_ = false;
      owner_ = n;
    } else {
      owner_ = nullptr;  // released: the woken waiter competes for it
    }
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
