// Bounded histories for two-sided bug reports: "who last did X to object K".
//
// A report about a stale pte, a stale TLB entry or a wrong value read says who did the
// wrong thing (the detecting task, now) and who did the other half (the fault that
// installed the pte, the task that freed the frame, the last writer), which happened
// earlier and must have been remembered. Keeping a record for every object ever
// touched would cost memory in proportion to the run; a KeyedHistory instead keeps the
// most recent record for each of kSlots hash slots: a record survives until a later
// record for another key lands in its slot. The race an oracle catches is recent by
// nature (its two sides are a window apart), so the record it needs is almost always
// still there; when it is not, the report says so ("not recorded") instead of guessing.
//
// Memory: kSlots records, allocated at the first put() (nothing if history is off).
// Cost: put() is a hash, a compare and a copy of the record; get() the same without
// the copy. Nothing here is a sync point or reaches the digest: keys must be emulated
// names (mm ids, pfns, file indices), never host addresses, so that what a report
// prints is a function of the run.
// Concurrency: owned by one Machine and used by its running fiber only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace smpemu {

/// A history key: two emulated names (an mm id and a page number, say).
struct HistoryKey {
  std::uint64_t a = 0, b = 0;
  bool operator==(const HistoryKey& o) const { return a == o.a && b == o.b; }
};

/// The last `Rec` put for each key, for up to kSlots keys at once (see above).
template <class Rec, std::size_t kSlots = 4096>
class KeyedHistory {
  static_assert((kSlots & (kSlots - 1)) == 0, "kSlots must be a power of two");

 public:
  /// Remembers `rec` as the last record of `key`, replacing whatever held its slot.
  void put(HistoryKey key, const Rec& rec) {
    if (!slots_) slots_ = std::make_unique<Slot[]>(kSlots);
    Slot& s = slots_[slot_of(key)];
    s.key = key;
    s.used = true;
    s.rec = rec;
  }
  /// The last record of `key`, or nullptr if none was put or it was overwritten.
  const Rec* get(HistoryKey key) const {
    if (!slots_) return nullptr;
    const Slot& s = slots_[slot_of(key)];
    return s.used && s.key == key ? &s.rec : nullptr;
  }
  /// Forgets `key`'s record (a later get() returns nullptr).
  void erase(HistoryKey key) {
    if (!slots_) return;
    Slot& s = slots_[slot_of(key)];
    if (s.used && s.key == key) s.used = false;
  }

 private:
  struct Slot {
    HistoryKey key{};
    bool used = false;
    Rec rec{};
  };
  std::unique_ptr<Slot[]> slots_;

  static std::size_t slot_of(HistoryKey k) {
    // splitmix64's finalizer: neighbouring pages land in unrelated slots.
    std::uint64_t key = k.a * 0x9e3779b97f4a7c15ULL ^ k.b;
    key ^= key >> 30;
    key *= 0xbf58476d1ce4e5b9ULL;
    key ^= key >> 27;
    key *= 0x94d049bb133111ebULL;
    key ^= key >> 31;
    return static_cast<std::size_t>(key & (kSlots - 1));
  }
};

}  // namespace smpemu
