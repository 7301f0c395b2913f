// suite-stringbuffer: append() copies a length it read under an earlier lock.
//
// Bug: dst.append(src) takes dst's lock, asks src for its length (src's lock taken and
// released), then copies that many characters out of src (src's lock taken again).
// Each call on src is atomic, the pair is not: an eraser that empties src in between
// leaves append() copying characters that are no longer there (its assertion: the
// length it copies is at most src's length now). Depth 2 (the erase after the
// length() and before the copy).
// Threads: 3 (main, the appender, the eraser).
// Literature: java.lang.StringBuffer.append(StringBuffer) of JDK 1.4, the atomicity
// violation Flanagan and Qadeer's atomicity checker found, kept in SCTBench as
// "stringbuffer_jdk".
#include "workloads/suite/suite.h"

namespace smpemu::suite {
namespace {

struct strbuf {
	struct mutex lock;
	shared<int> count;
};

class StringBuffer final : public Program {
 public:
  void setup(Machine &m, const Knobs &) override
  {
	mutex_init_on(&m, &src_.lock, "stringbuffer_src");
	mutex_init_on(&m, &dst_.lock, "stringbuffer_dst");
	shared_init(&src_.count, m.new_line(), 5);
	shared_init(&dst_.count, m.new_line(), 0);
	workers_.push_back(spawn_worker(m, "append", 0, [this] { append(&dst_, &src_); }));
	workers_.push_back(spawn_worker(m, "erase", 1, [this] {
		cpu_work(kApart);
		mutex_lock(&src_.lock);
		WRITE_ONCE(src_.count, 0);  // setLength(0)
		mutex_unlock(&src_.lock);
	}));
	m.spawn("main", 0, [this] { join_all(workers_); });
  }

 private:
  static int length(struct strbuf *sb)
  {
	mutex_lock(&sb->lock);
	const int n = READ_ONCE(sb->count);
	mutex_unlock(&sb->lock);
	return n;
  }
  static void get_chars(struct strbuf *sb, int n)
  {
	mutex_lock(&sb->lock);
	const int have = READ_ONCE(sb->count);
	suite_assert(n <= have, "append copies " + std::to_string(n) + " characters of a buffer of " +
					std::to_string(have));
	cpu_work(static_cast<Cycles>(n) * 10);
	mutex_unlock(&sb->lock);
  }
  static void append(struct strbuf *dst, struct strbuf *src)
  {
	mutex_lock(&dst->lock);
	const int n = length(src);
	cpu_work(kWindow);  // makes room in dst
	get_chars(src, n);
	WRITE_ONCE(dst->count, READ_ONCE(dst->count) + n);
	mutex_unlock(&dst->lock);
  }

  struct strbuf src_, dst_;
  std::vector<Task *> workers_;
};

const WorkloadRegistrar reg(program<StringBuffer>("suite-stringbuffer",
						  "bug suite: StringBuffer.append copies a stale length (depth 2)"));

}  // namespace
}  // namespace smpemu::suite
