#include "emu/rwlock.h"

namespace smpemu {

void RwLock::init(Machine& m, const std::string& cls) {
  m_ = &m;
  line_ = m.new_line();
  cnts_ = 0;
  next_ = owner_ = 0;
  cls_ = m.lockdep().class_of(cls);
  instance_ = cls + "#" + std::to_string(m.lockdep().new_instance(cls_));
}

void RwLock::queue_lock() {
  Machine& m = *m_;
  const std::uint32_t ticket = m.fetch_add(line_, next_, std::uint32_t{1});
  m.spin_until(line_, owner_, [ticket](std::uint32_t o) { return o == ticket; });
}

void RwLock::queue_unlock() { m_->store(line_, owner_, owner_ + 1); }

void RwLock::acquire(bool write, Where loc) {
  Machine& m = *m_;
  m.preempt_disable();
  Task* t = m.current();
  // A reader may nest inside another read hold of the same class (the kernel allows
  // recursive read locking of rwlock_t): no order check then.
  bool nested_read = false;
  if (!write)
    for (const HeldLock& h : t->held_locks)
      if (h.cls == cls_ && h.kind == LockKind::RwlockRead) nested_read = true;
  const CallPath where = m.lock_path(loc);
  if (!nested_read) m.lockdep().check_order(t, cls_, instance_, where);
  const Cycles requested = m.now();
  bool contended = false;
  if (write) {
    std::uint32_t expected = 0;
    if (!m.compare_exchange(line_, cnts_, expected, kLocked)) {
      contended = true;
      t->waiting_for = &instance_;
      queue_lock();
      // Mark a writer waiting, so new readers queue behind us. The writer byte is ours
      // to set only once it is 0: a writer that got the lock on its fast path may still
      // hold it (0xff), and adding to that byte would carry into the reader count and
      // make the lock look free (3.16 qrwlock: cmpxchg of wmode from 0 to WAITING).
      for (std::uint32_t c = 0;;) {
        c = m.spin_until(line_, cnts_, [](std::uint32_t v) { return (v & kWriterMask) == 0; });
        if (m.compare_exchange(line_, cnts_, c, c | kWaiting)) break;
      }
      for (;;) {
        m.spin_until(line_, cnts_, [](std::uint32_t c) { return c == kWaiting; });
        std::uint32_t w = kWaiting;
        if (m.compare_exchange(line_, cnts_, w, kLocked)) break;
      }
      queue_unlock();
      t->waiting_for = nullptr;
    }
  } else {
    const std::uint32_t before = m.fetch_add(line_, cnts_, kReader);
    if (before & kWriterMask) {
      contended = true;
      t->waiting_for = &instance_;
      m.fetch_add(line_, cnts_, static_cast<std::uint32_t>(-kReader));  // undo, then queue
      queue_lock();
      m.fetch_add(line_, cnts_, kReader);
      m.spin_until(line_, cnts_, [](std::uint32_t c) { return (c & kWriterMask) != kLocked; });
      queue_unlock();
      t->waiting_for = nullptr;
    }
  }
  m.lockdep().acquired(t, this, cls_, write ? LockKind::RwlockWrite : LockKind::RwlockRead, instance_, requested,
                       contended, where);
}

void RwLock::read_lock(Where loc) { acquire(false, loc); }
void RwLock::write_lock(Where loc) { acquire(true, loc); }

void RwLock::read_unlock(Where loc) {
  Machine& m = *m_;
  if (!m.lockdep().released(m.current(), this, instance_, loc)) return;
  m.fetch_add(line_, cnts_, static_cast<std::uint32_t>(-kReader));
  m.preempt_enable();
}

void RwLock::write_unlock(Where loc) {
  Machine& m = *m_;
  if (!m.lockdep().released(m.current(), this, instance_, loc)) return;
  m.fetch_add(line_, cnts_, static_cast<std::uint32_t>(-kLocked));
  m.preempt_enable();
}

bool RwLock::read_trylock(Where loc) {
  Machine& m = *m_;
  m.preempt_disable();
  const Cycles requested = m.now();
  if (!(m.fetch_add(line_, cnts_, kReader) & kWriterMask)) {
    m.lockdep().acquired(m.current(), this, cls_, LockKind::RwlockRead, instance_, requested, false, m.lock_path(loc));
    return true;
  }
  m.fetch_add(line_, cnts_, static_cast<std::uint32_t>(-kReader));
  m.preempt_enable();
  return false;
}

bool RwLock::write_trylock(Where loc) {
  Machine& m = *m_;
  m.preempt_disable();
  const Cycles requested = m.now();
  std::uint32_t expected = 0;
  if (m.compare_exchange(line_, cnts_, expected, kLocked)) {
    m.lockdep().acquired(m.current(), this, cls_, LockKind::RwlockWrite, instance_, requested, false, m.lock_path(loc));
    return true;
  }
  m.preempt_enable();
  return false;
}

}  // namespace smpemu
