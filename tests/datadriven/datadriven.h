// datadriven: files of scripted test cases with their expected output, after
// cockroachdb/datadriven (the format etcd-io/raft's interaction tests use).
//
// A file is a sequence of cases:
//
//   # a comment (a line starting with '#', anywhere outside a case's output)
//   command arg1 key=value key2=(a,b) key3="a b"
//   optional input lines
//   ----
//   expected output lines
//   <blank line>
//
// The output ends at the first blank line (or at the end of the file). Output that itself holds
// blank lines is written between two double separators:
//
//   command
//   ----
//   ----
//   first paragraph
//
//   second paragraph
//   ----
//   ----
//
// run_test_file() parses a file, hands each case to a handler and compares what it returns with
// the expected output (a trailing newline is added to non-empty output on both sides). A mismatch
// is a gtest non-fatal failure at the case's file:line, with the command and a line diff. In
// rewrite mode (SHOAL_REWRITE=1 in the environment, or --rewrite on the test binary's command
// line) nothing fails: the file is written back with the actual outputs, keeping every comment,
// command and input as it was.
//
//   datadriven::run_test_file(path, [&](const datadriven::TestCase& tc) -> std::string {
//     if (tc.cmd == "add") return std::to_string(tc.int_arg("a", 0) + tc.int_arg("b", 0)) + "\n";
//     tc.fail("unknown command");
//     return "";
//   });
//
// Test-only; single-threaded.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace shoal::datadriven {

// One argument of a command line: `key`, `key=value` or `key=(v1,v2,...)`. A bare word has no
// values; a quoted value ("a b") may hold spaces and is stored without its quotes.
struct CmdArg {
  std::string key;
  std::vector<std::string> vals;
  bool bare = false;  // written without '=': a positional argument
};

struct TestCase {
  std::string file;   // the test file's path
  int line = 0;       // the line of the command, 1-based
  std::string command_line;  // as written
  std::string cmd;    // its first word
  std::vector<CmdArg> args;
  std::string input;  // the lines between the command and "----", each ending in '\n'
  std::string expected;

  // "path:line", for messages.
  std::string pos() const;

  bool has_arg(std::string_view key) const;
  const CmdArg* find_arg(std::string_view key) const;
  // The first value of `key`; nullopt when the argument is absent or has no value.
  std::optional<std::string> arg(std::string_view key) const;
  std::string str_arg(std::string_view key, std::string fallback) const;
  // The first value of `key` as an integer; `fallback` when absent. A value that is not a
  // number is reported with fail() and gives `fallback`.
  int64_t int_arg(std::string_view key, int64_t fallback) const;
  // The bare words (arguments with no '='), in order: the positional arguments.
  std::vector<std::string> positional() const;

  // A non-fatal gtest failure at this case's file:line.
  void fail(std::string_view message) const;
};

using Handler = std::function<std::string(const TestCase&)>;

// The cases of `text` (named `file` in positions). A malformed file (a command with no "----",
// an unterminated double-separator block, an unbalanced parenthesis) is reported as a gtest
// failure at its line; the cases before the error are returned.
std::vector<TestCase> parse(std::string_view text, const std::string& file);

enum class Mode {
  kFromEnvironment,  // rewrite when rewrite_mode() says so, else check
  kCheck,
  kRewrite,
};

// Runs every case of the file at `path` through `handler` (see the top of this header).
void run_test_file(const std::string& path, const Handler& handler, Mode mode = Mode::kFromEnvironment);

// The *.txt files directly in `dir`, sorted, as full paths.
std::vector<std::string> test_files(const std::string& dir);

// Whether run_test_file() rewrites files instead of comparing.
bool rewrite_mode();

// A line diff of two texts, every line prefixed with "  " (both), "- " (only in `expected`) or
// "+ " (only in `actual`).
std::string line_diff(std::string_view expected, std::string_view actual);

// A name made of [A-Za-z0-9_] from a path's file name without its extension, for gtest
// parameter names ("testdata/raft/conf-change.txt" -> "conf_change").
std::string test_name_of(const std::string& path);

}  // namespace shoal::datadriven

// Defines `Suite`, a test per file under `dir`, each run through a fresh `Harness` (a class with
// `std::string handle(const datadriven::TestCase&)`), and `Suite##Files.Exist`, which fails if
// fewer than `min_files` are found (a moved directory would otherwise run no test at all).
#define SHOAL_DATADRIVEN_TESTS(Suite, Harness, dir, min_files)                                           \
  class Suite : public ::testing::TestWithParam<std::string> {};                                         \
  TEST_P(Suite, Transcript) {                                                                            \
    Harness harness;                                                                                     \
    ::shoal::datadriven::run_test_file(GetParam(),                                                       \
                                       [&](const ::shoal::datadriven::TestCase& tc) { return harness.handle(tc); }); \
  }                                                                                                      \
  INSTANTIATE_TEST_SUITE_P(Testdata, Suite, ::testing::ValuesIn(::shoal::datadriven::test_files(dir)),   \
                           [](const ::testing::TestParamInfo<std::string>& info) {                       \
                             return ::shoal::datadriven::test_name_of(info.param);                       \
                           });                                                                           \
  TEST(Suite##Files, Exist) { EXPECT_GE(::shoal::datadriven::test_files(dir).size(), min_files##u) << (dir); }
