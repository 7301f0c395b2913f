#include "traces/lock_profile.h"

#include <algorithm>

#include "emu/splat.h"

namespace smpemu {

void LockTime::add(Cycles c) {
  if (count == 0 || c < min) min = c;
  max = std::max(max, c);
  total += c;
  ++count;
}

std::vector<LockPointCount> top_points(const std::vector<LockPointCount>& points, std::size_t n) {
  std::vector<LockPointCount> v = points;
  std::stable_sort(v.begin(), v.end(), [](const LockPointCount& a, const LockPointCount& b) { return a.count > b.count; });
  if (v.size() > n) v.resize(n);
  return v;
}

LockProfile::Taken LockProfile::taken(const Trace& t, const TraceEvent& e) {
  const std::uint32_t point = lock_event::point(e.a);
  const bool read = (lock_event::flags(e.a) & lock_contention::kRead) != 0;
  // A known point names its class without a string (every lock event asks).
  if (point != 0 && point < point_class_.size() && point_class_[point] != 0)
    return Taken{point_class_[point] - 1, read, point};
  const LockPoint* p = t.lock_point_of(point);
  const std::string cls = p ? p->cls : instance_class(t.str(e.lock_name()));
  auto [it, inserted] = class_index_.try_emplace(cls, classes_.size());
  if (inserted) classes_.push_back(LockClassProfile{cls, {}, {}, {}, {}});
  if (p) slot(point_class_, point) = it->second + 1;
  return Taken{it->second, read, point};
}

void LockProfile::count_point(const Trace& t, std::vector<LockPointCount>& v, std::uint32_t point) {
  auto it = std::find_if(v.begin(), v.end(), [point](const LockPointCount& c) { return c.point == point; });
  if (it == v.end()) {
    const LockPoint* p = t.lock_point_of(point);
    it = v.insert(v.end(), LockPointCount{point, p ? p->path() : "?", 0});
  }
  ++it->count;
}

void LockProfile::on_event(const Trace& t, const TraceEvent& e) {
  if (e.kind != TraceKind::LockContend && e.kind != TraceKind::LockAcquire && e.kind != TraceKind::LockRelease) return;
  const std::uint32_t name = e.lock_name();
  const Taken k = taken(t, e);
  LockModeStats& m = mode(k);
  Last& last = slot(last_, name);
  const bool seen = last.cpu != Last::kNone;
  const bool bounced = seen && last.cpu != e.cpu;
  Pending& pending = slot(pending_, e.cpu < 0 ? 0 : static_cast<std::size_t>(e.cpu) + 1);  // slot 0: no CPU
  switch (e.kind) {
    case TraceKind::LockContend: {
      LockClassProfile& c = classes_[k.cls];
      if (bounced) ++m.con_bounces;
      count_point(t, c.contention_points, k.point);
      if (seen) count_point(t, c.contending_points, last.point);
      pending = Pending{true, name, ((e.b >> 32) & lock_contention::kSpin) != 0};
      break;
    }
    case TraceKind::LockAcquire: {
      ++m.acquisitions;
      if (bounced) ++m.acq_bounces;
      last = Last{e.cpu, k.point};
      if (!pending.waiting || pending.name != name) break;  // not contended
      const bool spin = pending.spin;
      pending = Pending{};
      m.wait.add(e.b);
      const std::uint32_t flags = lock_event::flags(e.a);
      auto [row, inserted] = row_index_.try_emplace(std::make_tuple(k.point, flags, k.cls), rows_.size());
      if (inserted) {
        const LockPoint* pt = t.lock_point_of(k.point);
        rows_.push_back(LockContentionRow{pt ? pt->path() : "?", pt ? pt->functions : "", lock_type_name(flags),
                                          classes_[k.cls].name, {}, {}});
      }
      rows_[row->second].wait.add(e.b);
      if (spin) rows_[row->second].spin.add(e.b);
      break;
    }
    default:  // LockRelease
      m.hold.add(e.b);
      break;
  }
}

LockProfile lock_profile_of(const Trace& t) {
  LockProfile p;
  for (const TraceEvent& e : t.events()) p.on_event(t, e);
  return p;
}

}  // namespace smpemu
