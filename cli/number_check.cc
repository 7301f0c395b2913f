#include "cli/number_check.h"

#include <string>

namespace smpemu {

CLI::Validator number_check(const NumberSpec& spec) {
  return CLI::Validator(
      [spec](std::string& value) {
        std::uint64_t v = 0;
        std::string problem = number_problem(value, spec, v);
        if (problem.empty()) value = std::to_string(v);
        return problem;
      },
      spec.expected);
}

CLI::Validator count_check(std::uint64_t min, std::uint64_t max) { return number_check(count_spec(min, max)); }

}  // namespace smpemu
