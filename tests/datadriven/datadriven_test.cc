// The datadriven parser and runner: the file format, the comparison (a mismatch must fail) and
// the rewrite mode.
#include "tests/datadriven/datadriven.h"

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace shoal::datadriven {
namespace {

std::string temp_file(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "datadriven_" + name + ".txt";
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  return path;
}

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Echoes its input and arguments back, one per line, and "a b" for the command "blank".
std::string echo(const TestCase& tc) {
  if (tc.cmd == "blank") return "a\n\nb\n";
  if (tc.cmd == "nothing") return "";
  std::string out = tc.input;
  for (const auto& a : tc.args) {
    out += a.key;
    for (const auto& v : a.vals) out += " [" + v + "]";
    out += "\n";
  }
  return out;
}

TEST(DataDriven, ParsesCommandArgumentsInputAndOutput) {
  const auto cases = parse(
      "# a comment\n"
      "\n"
      "cmd 1 key=value list=(a, b,c) q=\"x y\" empty=()\n"
      "input one\n"
      "input two\n"
      "----\n"
      "out one\n"
      "out two\n"
      "\n"
      "# between cases\n"
      "next\n"
      "----\n"
      "last\n",
      "f.txt");
  ASSERT_EQ(cases.size(), 2u);
  const TestCase& c = cases[0];
  EXPECT_EQ(c.line, 3);
  EXPECT_EQ(c.pos(), "f.txt:3");
  EXPECT_EQ(c.cmd, "cmd");
  ASSERT_EQ(c.args.size(), 5u);
  EXPECT_EQ(c.positional(), std::vector<std::string>{"1"});
  EXPECT_EQ(c.arg("key"), "value");
  EXPECT_EQ(c.find_arg("list")->vals, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(c.arg("q"), "x y");
  EXPECT_TRUE(c.has_arg("empty"));
  EXPECT_FALSE(c.arg("empty"));
  EXPECT_FALSE(c.has_arg("missing"));
  EXPECT_EQ(c.str_arg("missing", "dflt"), "dflt");
  EXPECT_EQ(c.input, "input one\ninput two\n");
  EXPECT_EQ(c.expected, "out one\nout two\n");
  EXPECT_EQ(cases[1].line, 11);
  EXPECT_EQ(cases[1].cmd, "next");
  EXPECT_EQ(cases[1].expected, "last\n") << "output may end at the end of the file";
}

TEST(DataDriven, OutputWithBlankLinesSitsBetweenDoubleSeparators) {
  const auto cases = parse(
      "blank\n"
      "----\n"
      "----\n"
      "a\n"
      "\n"
      "b\n"
      "----\n"
      "----\n"
      "\n"
      "nothing\n"
      "----\n"
      "\n"
      "after\n"
      "----\n",
      "f.txt");
  ASSERT_EQ(cases.size(), 3u);
  EXPECT_EQ(cases[0].expected, "a\n\nb\n");
  EXPECT_EQ(cases[1].cmd, "nothing");
  EXPECT_EQ(cases[1].expected, "");
  EXPECT_EQ(cases[2].cmd, "after");
  EXPECT_EQ(cases[2].expected, "");
}

TEST(DataDriven, IntArgumentsAreCheckedAsNumbers) {
  const auto cases = parse("cmd n=12 bad=x\n----\n", "f.txt");
  ASSERT_EQ(cases.size(), 1u);
  EXPECT_EQ(cases[0].int_arg("n", 0), 12);
  EXPECT_EQ(cases[0].int_arg("missing", 7), 7);
  EXPECT_NONFATAL_FAILURE(cases[0].int_arg("bad", 3), "is not an integer");
}

TEST(DataDriven, MalformedFilesAreReportedAtTheirLine) {
  EXPECT_NONFATAL_FAILURE(parse("ok\n----\n\ncmd without separator\n", "bad.txt"), "has no \"----\"");
  EXPECT_NONFATAL_FAILURE(parse("cmd\n----\n----\nnever closed\n", "bad.txt"), "never closes");
  EXPECT_NONFATAL_FAILURE(parse("cmd key=(a,b\n----\n", "bad.txt"), "unbalanced");
}

TEST(DataDriven, MatchingOutputPasses) {
  const std::string path = temp_file("match",
                                     "echo k=v\n"
                                     "line\n"
                                     "----\n"
                                     "line\n"
                                     "k [v]\n"
                                     "\n"
                                     "blank\n"
                                     "----\n"
                                     "----\n"
                                     "a\n"
                                     "\n"
                                     "b\n"
                                     "----\n"
                                     "----\n");
  run_test_file(path, echo, Mode::kCheck);
}

TEST(DataDriven, AMismatchIsReportedWithTheCommandAndADiff) {
  const std::string path = temp_file("mismatch",
                                     "echo k=v\n"
                                     "----\n"
                                     "k [w]\n");
  EXPECT_NONFATAL_FAILURE(run_test_file(path, echo, Mode::kCheck), "output of \"echo k=v\" differs");
  EXPECT_NONFATAL_FAILURE(run_test_file(path, echo, Mode::kCheck), "- k [w]\n+ k [v]\n");

  // The failure points at the case in the test file, not at this source file.
  ::testing::TestPartResultArray results;
  {
    ::testing::ScopedFakeTestPartResultReporter reporter(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &results);
    run_test_file(path, echo, Mode::kCheck);
  }
  ASSERT_EQ(results.size(), 1);
  EXPECT_EQ(results.GetTestPartResult(0).file_name(), path);
  EXPECT_EQ(results.GetTestPartResult(0).line_number(), 1);
}

TEST(DataDriven, AMissingFileIsAFailure) {
  EXPECT_NONFATAL_FAILURE(run_test_file(::testing::TempDir() + "no_such_file.txt", echo, Mode::kCheck),
                          "cannot read");
}

TEST(DataDriven, RewriteReplacesOutputsAndKeepsEverythingElse) {
  const std::string path = temp_file("rewrite",
                                     "# leading comment\n"
                                     "echo k=v\n"
                                     "in\n"
                                     "----\n"
                                     "stale\n"
                                     "\n"
                                     "\n"
                                     "# a comment before the next case\n"
                                     "blank\n"
                                     "----\n"
                                     "stale\n"
                                     "\n"
                                     "nothing\n"
                                     "----\n"
                                     "stale\n"
                                     "\n"
                                     "# trailing comment\n");
  run_test_file(path, echo, Mode::kRewrite);
  EXPECT_EQ(read(path),
            "# leading comment\n"
            "echo k=v\n"
            "in\n"
            "----\n"
            "in\n"
            "k [v]\n"
            "\n"
            "\n"
            "# a comment before the next case\n"
            "blank\n"
            "----\n"
            "----\n"
            "a\n"
            "\n"
            "b\n"
            "----\n"
            "----\n"
            "\n"
            "nothing\n"
            "----\n"
            "\n"
            "# trailing comment\n");
  // What was written reads back as passing.
  run_test_file(path, echo, Mode::kCheck);
}

TEST(DataDriven, LineDiffMarksLinesOnEitherSide) {
  EXPECT_EQ(line_diff("a\nb\nc\n", "a\nx\nc\nd\n"), "  a\n- b\n+ x\n  c\n+ d\n");
  EXPECT_EQ(line_diff("", "a\n"), "+ a\n");
}

TEST(DataDriven, TestNamesAreIdentifiers) {
  EXPECT_EQ(test_name_of("/x/testdata/raft/conf-change.txt"), "conf_change");
}

}  // namespace
}  // namespace shoal::datadriven
