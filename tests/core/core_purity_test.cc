// Guards the one rule of core/: no I/O, no clocks, no threads, no unseeded randomness.
// Everything the core needs from the world comes through core/env/ (docs/architecture.md,
// "The one rule").
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

// Names that reach the world directly. A hit in core/ fails the test run.
const std::vector<std::string> kForbidden = {
    "boost/asio", "asio::", "<thread>", "std::thread", "std::jthread", "std::this_thread",
    "sleep_for", "sleep_until", "usleep(", "nanosleep", "system_clock", "steady_clock",
    "high_resolution_clock", "std::random_device", "rand()", "srand(", "<random>",
    "<fstream>", "fopen(", "open(", "getenv(", "socket(", "<sys/socket.h>", "<unistd.h>",
    "std::mutex", "std::async", "absl/container/flat_hash", "time(nullptr)", "gettimeofday",
    "clock_gettime", "std::cin", "std::cout", "uniform_int_distribution",
    "uniform_real_distribution", "std::mt19937", "std::unordered_map", "std::unordered_set",
};

// The one file allowed a hash container: it offers lookups only, never iteration, so hash order
// cannot reach a trace (core/store/lookup_index.h says why it exists).
const char* const kHashContainerFile = "core/store/lookup_index.h";

bool allowed_here(const std::string& file, const std::string& name) {
  const bool hash_container = name == "std::unordered_map" || name == "std::unordered_set";
  const std::string suffix = kHashContainerFile;
  return hash_container && file.size() >= suffix.size() &&
         file.compare(file.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Returns "file:line: name" for every forbidden name in `text`, skipping // comments.
std::vector<std::string> find_forbidden(const std::string& file, const std::string& text) {
  std::vector<std::string> hits;
  std::istringstream lines(text);
  std::string line;
  for (int n = 1; std::getline(lines, line); ++n) {
    const auto comment = line.find("//");
    const std::string code = comment == std::string::npos ? line : line.substr(0, comment);
    for (const auto& name : kForbidden) {
      auto pos = code.find(name);
      if (pos == std::string::npos || allowed_here(file, name)) continue;
      // "open(" must be a call of its own, not part of a longer name such as "reopen(".
      if (name == "open(" && pos > 0 && (std::isalnum(static_cast<unsigned char>(code[pos - 1])) ||
                                         code[pos - 1] == '_' || code[pos - 1] == '.')) {
        continue;
      }
      hits.push_back(file + ":" + std::to_string(n) + ": " + name);
    }
  }
  return hits;
}

TEST(CorePurity, ScannerCatchesAPlantedThread) {
  EXPECT_EQ(find_forbidden("x.cc", "#include <thread>\nstd::thread t;\n").size(), 2u);
  EXPECT_EQ(find_forbidden("x.cc", "auto t = std::chrono::steady_clock::now();").size(), 1u);
  EXPECT_TRUE(find_forbidden("x.cc", "// std::thread in a comment is fine\n").empty());
  EXPECT_TRUE(find_forbidden("x.cc", "storage.reopen(x);").empty());
  EXPECT_EQ(find_forbidden("core/store/store.h", "std::unordered_map<int, int> m;").size(), 1u);
  EXPECT_TRUE(find_forbidden("/src/core/store/lookup_index.h", "std::unordered_map<int, int> m;").empty());
  EXPECT_EQ(find_forbidden("/src/core/store/lookup_index.h", "std::thread t;").size(), 1u)
      << "the exception is for hash containers only";
}

TEST(CorePurity, CoreReachesTheWorldOnlyThroughEnv) {
  const std::filesystem::path core = std::filesystem::path(SHOAL_SOURCE_DIR) / "core";
  ASSERT_TRUE(std::filesystem::exists(core)) << core;
  std::vector<std::string> hits;
  int files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(core)) {
    const auto ext = entry.path().extension();
    if (ext != ".h" && ext != ".cc" && ext != ".hpp" && ext != ".cpp") continue;
    std::ifstream in(entry.path());
    std::stringstream buf;
    buf << in.rdbuf();
    auto found = find_forbidden(entry.path().string(), buf.str());
    hits.insert(hits.end(), found.begin(), found.end());
    ++files;
  }
  EXPECT_GT(files, 10);
  for (const auto& h : hits) ADD_FAILURE() << "core/ reaches the world directly: " << h;
}

}  // namespace
