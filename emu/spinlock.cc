#include "emu/spinlock.h"

namespace smpemu {

namespace {
/// cpu_relax() while giving a waiter the chance to take a dropped lock (assumed cost).
constexpr Cycles kRelaxCycles = 50;
}  // namespace

void SpinLock::init(Machine& m, const std::string& cls) {
  m_ = &m;
  line_ = m.new_line();
  next_ = owner_ = 0;
  class_name_ = cls;
  cls_ = m.lockdep().class_of(cls);
  instance_ = cls + "#" + std::to_string(m.lockdep().new_instance(cls_));
}

void SpinLock::init_sleeping(Machine& m, const std::string& cls) {
  m_ = &m;
  class_name_ = cls;
  rt_ = std::make_unique<Mutex>();
  rt_->init(m, cls);
  instance_ = rt_->name();
}

void SpinLock::lock(unsigned subclass, Where loc) {
  if (rt_) {
    rt_->lock(subclass, loc);
    return;
  }
  Machine& m = *m_;
  m.preempt_disable();
  const std::uint32_t cls = subclass ? m.lockdep().class_of(class_name_, subclass) : cls_;
  Task* t = m.current();
  const CallPath where = m.lock_path(loc);
  m.lockdep().check_order(t, cls, instance_, where);
  const Cycles requested = m.now();
  const std::uint32_t ticket = m.fetch_add(line_, next_, std::uint32_t{1});
  bool contended = false;
  if (m.load(line_, owner_) != ticket) {
    contended = true;
    t->waiting_for = &instance_;
    m.spin_until(line_, owner_, [ticket](std::uint32_t o) { return o == ticket; });
    t->waiting_for = nullptr;
  }
  m.lockdep().acquired(t, this, cls, LockKind::Spin, instance_, requested, contended, where);
}

void SpinLock::unlock(Where loc) {
  if (rt_) {
    rt_->unlock(loc);
    return;
  }
  Machine& m = *m_;
  if (!m.lockdep().released(m.current(), this, instance_, loc)) return;
  m.store(line_, owner_, owner_ + 1);  // only the holder writes owner
  m.preempt_enable();
}

bool SpinLock::trylock(Where loc) {
  if (rt_) return rt_->trylock(loc);
  Machine& m = *m_;
  m.preempt_disable();
  const Cycles requested = m.now();
  std::uint32_t ticket = m.load(line_, next_);
  if (ticket != owner_ || !m.compare_exchange(line_, next_, ticket, ticket + 1)) {
    m.preempt_enable();
    return false;
  }
  m.lockdep().acquired(m.current(), this, cls_, LockKind::Spin, instance_, requested, false, m.lock_path(loc));
  return true;
}

bool SpinLock::is_locked() {
  if (rt_) return rt_->is_locked();
  const std::uint32_t n = m_->load(line_, next_);
  return n != owner_;
}

bool SpinLock::is_contended() {
  if (rt_) return rt_->is_locked() && rt_->has_waiters();  // is_locked(): the sync point
  const std::uint32_t n = m_->load(line_, next_);
  return n - owner_ > 1;
}

bool SpinLock::lock_irqsave(unsigned subclass, Where loc) {
  if (rt_) {
    // PREEMPT_RT: spin_lock_irqsave leaves IRQs alone (the lock may sleep).
    rt_->lock(subclass, loc);
    return m_->irqs_disabled();
  }
  const bool flags = m_->irq_save();
  lock(subclass, loc);
  return flags;
}

void SpinLock::unlock_irqrestore(bool flags, Where loc) {
  if (rt_) {
    rt_->unlock(loc);
    return;
  }
  unlock(loc);
  m_->irq_restore(flags);
}

bool cond_resched_lock(SpinLock& lock, Where loc) {
  Machine& m = *this_machine();
  const bool resched = m.need_resched();
  if (!lock.is_contended() && !resched) return false;
  lock.unlock(loc);
  if (resched)
    m.cond_resched();
  else
    m.compute(kRelaxCycles);
  lock.lock(0, loc);
  return true;
}

}  // namespace smpemu
