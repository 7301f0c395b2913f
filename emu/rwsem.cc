#include "emu/rwsem.h"

#include <algorithm>
#include <vector>

namespace smpemu {

void RwSem::init(Machine& m, const std::string& cls) {
  m_ = &m;
  line_ = m.new_line();
  state_ = State{};
  waiters_.clear();
  class_name_ = cls;
  cls_ = m.lockdep().class_of(cls);
  instance_ = cls + "#" + std::to_string(m.lockdep().new_instance(cls_));
}

void RwSem::down_read(unsigned subclass, Where loc) { down(false, subclass, loc); }
void RwSem::down_write(unsigned subclass, Where loc) { down(true, subclass, loc); }
void RwSem::up_read(Where loc) { up(false, loc); }
void RwSem::up_write(Where loc) { up(true, loc); }

void RwSem::down(bool write, unsigned subclass, Where loc) {
  Machine& m = *m_;
  m.might_sleep(loc);
  Task* me = m.current();
  const std::uint32_t cls = subclass ? m.lockdep().class_of(class_name_, subclass) : cls_;
  const LockKind kind = write ? LockKind::RwsemWrite : LockKind::RwsemRead;
  const CallPath where = m.lock_path(loc);
  m.lockdep().check_order(me, cls, instance_, where);
  const Cycles requested = m.now();
  Waiter w{me, write, false};
  State s;  // first guess: free, so the uncontended case is one exchange
  for (;;) {
    // A reader may join other readers unless a writer holds it or anyone waits; a
    // writer needs it free. Otherwise the task joins the queue (waiters + 1).
    const bool take = !s.writer && s.waiters == 0 && (!write || s.readers == 0);
    State n = s;
    if (!take)
      ++n.waiters;
    else if (write)
      n.writer = me;
    else
      ++n.readers;
    if (!m.compare_exchange(line_, state_, s, n)) continue;  // s now holds the current word
    if (take) {
      m.lockdep().acquired(me, this, cls, kind, instance_, requested, false, where);
      return;
    }
    waiters_.push_back(&w);  // no sync point since the exchange: consistent with the word
    break;
  }
  me->blocked_lock = this;
  me->blocked_owner = &RwSem::owner_of;
  me->waiting_for = &instance_;
  for (;;) {
    m.set_current_blocked();
    if (w.granted) break;  // handed over since we queued
    // Behind a writer: check the wait-for graph. Behind readers there is no single owner.
    if (state_.writer) m.check_wait_cycle(state_.writer, instance_);
    m.schedule();
    if (w.granted) break;
  }
  m.set_current_running();
  me->waiting_for = nullptr;
  me->blocked_lock = nullptr;
  me->blocked_owner = nullptr;
  m.lockdep().acquired(me, this, cls, kind, instance_, requested, true, where);
}

bool RwSem::holds_as(Task* t, LockKind kind) const {
  return std::any_of(t->held_locks.begin(), t->held_locks.end(),
                     [this, kind](const HeldLock& h) { return h.lock == LockRef(this) && h.kind == kind; });
}

void RwSem::up(bool write, Where loc) {
  Machine& m = *m_;
  Task* me = m.current();
  const LockKind kind = write ? LockKind::RwsemWrite : LockKind::RwsemRead;
  const LockKind other = write ? LockKind::RwsemRead : LockKind::RwsemWrite;
  if (!holds_as(me, kind) && holds_as(me, other)) {
    m.lockdep().bad_unlock(
        me, instance_, loc,
        me->name + " releases " + instance_ + " for " + (write ? "write" : "read") + ", but holds it for " +
            (write ? "read" : "write"),
        std::string("but it holds the lock for ") + (write ? "read" : "write") + ", not " + (write ? "write" : "read"));
    return;
  }
  if (!m.lockdep().released(me, this, instance_, loc)) return;
  // First guess: no other holder and no waiter. After a failed exchange `s` is the
  // current word and the queue (read at this turn, no sync point since) matches it.
  State s;
  if (write)
    s.writer = me;
  else
    s.readers = 1;
  std::size_t grant = 0;
  for (;;) {
    State n = s;
    grant = 0;
    if (write)
      n.writer = nullptr;
    else
      --n.readers;
    if (!n.writer && n.readers == 0 && n.waiters > 0) {
      // The last holder hands over to the head of the queue: a writer alone, or the
      // run of readers up to the next writer.
      if (waiters_.front()->write) {
        n.writer = waiters_.front()->task;
        grant = 1;
      } else {
        while (grant < waiters_.size() && !waiters_[grant]->write) ++grant;
        n.readers = static_cast<std::int32_t>(grant);
      }
      n.waiters -= static_cast<std::int32_t>(grant);
    }
    if (m.compare_exchange(line_, state_, s, n)) break;
  }
  if (grant == 0) return;
  // Still no sync point since the exchange: dequeue and grant, then wake. A granted
  // waiter may leave (and its Waiter go away) as soon as we reach a sync point, so only
  // the tasks are kept.
  std::vector<Task*> wake;
  wake.reserve(grant);
  for (std::size_t i = 0; i < grant; ++i) {
    Waiter* w = waiters_.front();
    waiters_.pop_front();
    w->granted = true;
    wake.push_back(w->task);
  }
  for (Task* t : wake) m.wake(t);
}

bool RwSem::down_read_trylock(Where loc) {
  Machine& m = *m_;
  Task* me = m.current();
  const Cycles requested = m.now();
  State s = m.load(line_, state_);
  for (;;) {
    if (s.writer || s.waiters) return false;
    State n = s;
    ++n.readers;
    if (m.compare_exchange(line_, state_, s, n)) break;
  }
  m.lockdep().acquired(me, this, cls_, LockKind::RwsemRead, instance_, requested, false, m.lock_path(loc));
  return true;
}

bool RwSem::down_write_trylock(Where loc) {
  Machine& m = *m_;
  Task* me = m.current();
  const Cycles requested = m.now();
  State s;  // free, nobody waiting
  State n;
  n.writer = me;
  if (!m.compare_exchange(line_, state_, s, n)) return false;
  m.lockdep().acquired(me, this, cls_, LockKind::RwsemWrite, instance_, requested, false, m.lock_path(loc));
  return true;
}

bool RwSem::is_locked() {
  const State s = m_->load(line_, state_);
  return s.writer != nullptr || s.readers > 0;
}

}  // namespace smpemu
