#include "emu/waitqueue.h"

#include <algorithm>

namespace smpemu {

// ---- WaitQueue ----------------------------------------------------------------------

void WaitQueue::init(Machine& m) {
  m_ = &m;
  line_ = m.new_line();
  lock_word_ = 0;
  entries_.clear();
}

void WaitQueue::lock() { m_->fetch_add(line_, lock_word_, std::uint64_t{1}); }

void WaitQueue::add_locked(Entry& e, bool exclusive) {
  e.exclusive = exclusive;
  if (e.queued) return;
  e.queued = true;
  if (exclusive)
    entries_.push_back(&e);
  else
    entries_.insert(entries_.begin(), &e);
}

void WaitQueue::remove_locked(Entry& e) {
  if (!e.queued) return;
  e.queued = false;
  entries_.erase(std::find(entries_.begin(), entries_.end(), &e));
}

void WaitQueue::collect_locked(int nr_exclusive, std::vector<Task*>& out) {
  for (std::size_t i = 0; i < entries_.size();) {
    Entry* e = entries_[i];
    // try_to_wake_up() on a task that is not sleeping does nothing and returns 0: the
    // entry stays and does not count as the exclusive wake.
    if (e->task->state != TaskState::Blocked) {
      ++i;
      continue;
    }
    out.push_back(e->task);
    if (e->autoremove) {
      e->queued = false;
      entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      ++i;
    }
    if (e->exclusive && nr_exclusive > 0 && --nr_exclusive == 0) break;
  }
}

void WaitQueue::add(Entry& e, bool exclusive) {
  e.task = m_->current();
  e.autoremove = false;
  lock();
  add_locked(e, exclusive);
}

void WaitQueue::remove(Entry& e) {
  lock();
  remove_locked(e);
}

void WaitQueue::prepare_to_wait(Entry& e, bool exclusive) {
  e.task = m_->current();
  e.autoremove = true;
  lock();
  add_locked(e, exclusive);
  // Queued, then blocked, with no sync point after the state change: the engine's
  // preemption puts a blocked task to sleep (emu/sched.cc), so nothing between
  // set_current_blocked() and the caller's check may take an interrupt here. A waker
  // that finds the entry before the task is blocked leaves it queued and uncounted
  // (try_to_wake_up() on a running task); the caller's check then sees its condition.
  m_->set_current_blocked();
}

void WaitQueue::finish_wait(Entry& e) {
  m_->set_current_running();
  if (!e.queued) return;  // list_empty_careful(): dequeued by the wake-up
  lock();
  remove_locked(e);
}

void WaitQueue::wake(int nr_exclusive) {
  std::vector<Task*> tasks;
  lock();
  collect_locked(nr_exclusive, tasks);
  for (Task* t : tasks) m_->wake(t);
}

bool WaitQueue::active() {
  m_->load(line_, lock_word_);
  return !entries_.empty();
}

// ---- Completion ---------------------------------------------------------------------

void Completion::init(Machine& m) {
  m_ = &m;
  wait_.init(m);
  done_ = 0;
}

void Completion::reinit() { m_->store(wait_.line(), done_, 0u); }

void Completion::wait_for_completion() {
  Machine& m = *m_;
  m.might_sleep();
  wait_.lock();
  if (done_ == 0) {
    WaitQueue::Entry e;
    e.task = m.current();
    e.autoremove = false;  // the waiter dequeues itself once it has taken a completion
    for (;;) {
      wait_.lock();
      if (done_ != 0) break;
      wait_.add_locked(e, true);
      // Blocked after queueing. set_current_blocked() is a sync point before the state
      // change: a complete() there finds the task running and does not wake it, so look
      // at the count again at this turn (no sync point between it and schedule()).
      m.set_current_blocked();
      if (done_ != 0) {
        m.set_current_running();
        continue;
      }
      m.schedule();
    }
    // The queue is held (no sync point since lock()).
    wait_.remove_locked(e);
    m.set_current_running();
  }
  if (done_ != kAll) --done_;
}

void Completion::complete() {
  std::vector<Task*> tasks;
  wait_.lock();
  if (done_ != kAll) ++done_;
  wait_.collect_locked(1, tasks);
  for (Task* t : tasks) m_->wake(t);
}

void Completion::complete_all() {
  std::vector<Task*> tasks;
  wait_.lock();
  done_ = kAll;
  wait_.collect_locked(0, tasks);
  for (Task* t : tasks) m_->wake(t);
}

bool Completion::try_wait_for_completion() {
  if (m_->load(wait_.line(), done_) == 0) return false;
  wait_.lock();
  if (done_ == 0) return false;
  if (done_ != kAll) --done_;
  return true;
}

bool Completion::completion_done() { return m_->load(wait_.line(), done_) != 0; }

}  // namespace smpemu
