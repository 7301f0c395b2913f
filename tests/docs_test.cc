// The docs stand alone: no document, header or source comment sends its reader to a file
// that is not in the repository (the design notes the project started from live outside
// it; what a reader needs of them is in docs/, in the project's own words).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

bool is_checked(const fs::path& p) {
  static const std::vector<std::string> exts = {".h", ".cc", ".md", ".txt", ".sh", ".cmake"};
  for (const auto& e : exts)
    if (p.extension() == e) return true;
  return false;
}

/// Files of the source tree a reader may follow citations from (build trees, the git
/// directory and the fuzz corpora, which are data, left out).
std::vector<fs::path> tree_files(const fs::path& root) {
  std::vector<fs::path> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    const std::string name = it->path().filename().string();
    if (it->is_directory() && (name.rfind("build", 0) == 0 || name == ".git" || name == "corpus" || name[0] == '.')) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file() && is_checked(it->path())) out.push_back(it->path());
  }
  return out;
}

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST(Docs, CiteOnlyFilesInTheRepository) {
  const fs::path root(SMPEMU_SOURCE_DIR);
  // The folder of design notes outside the repository, however it is spelled.
  const std::regex outside(R"((^|[^A-Za-z_])(\.\./)*shared/([A-Z]|seeds))");
  // Any *.md a text names must exist: as a path from the root, next to the citing file,
  // or in docs/.
  const std::regex md_ref(R"([A-Za-z0-9_./-]*[A-Za-z0-9_]\.md\b)");
  std::vector<std::string> problems;
  std::size_t files = 0;
  for (const fs::path& p : tree_files(root)) {
    ++files;
    const std::string text = read(p);
    const std::string rel = fs::relative(p, root).string();
    std::istringstream lines(text);
    std::string line;
    for (int n = 1; std::getline(lines, line); ++n) {
      if (std::regex_search(line, outside)) problems.push_back(rel + ":" + std::to_string(n) + ": " + line);
      for (auto m = std::sregex_iterator(line.begin(), line.end(), md_ref); m != std::sregex_iterator(); ++m) {
        const std::string ref = m->str();
        if (fs::exists(root / ref) || fs::exists(p.parent_path() / ref) || fs::exists(root / "docs" / ref)) continue;
        problems.push_back(rel + ":" + std::to_string(n) + ": cites " + ref + ", which is not in the repository");
      }
    }
  }
  EXPECT_GT(files, 100u);
  for (const auto& pr : problems) ADD_FAILURE() << pr;
}
