#include "tests/datadriven/datadriven.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace shoal::datadriven {
namespace {

constexpr std::string_view kSeparator = "----";

// A case as it stands in its file: the text before its "----" (comments, blank lines, the
// command and its input) is kept verbatim so a rewrite changes nothing but outputs.
struct ParsedCase {
  TestCase tc;
  std::string head;
};

struct ParsedFile {
  std::vector<ParsedCase> cases;
  std::string trailer;  // what follows the last case (comments, blank lines)
};

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    lines.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

std::string join_lines(const std::vector<std::string>& lines, size_t from, size_t to) {
  std::string out;
  for (size_t i = from; i < to; ++i) out += lines[i] + "\n";
  return out;
}

bool is_blank(const std::string& line) { return line.find_first_not_of(" \t\r") == std::string::npos; }

std::string unquote(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

// Splits a command line into words at spaces outside parentheses and double quotes. Returns
// false on an unbalanced parenthesis or quote.
bool split_words(std::string_view line, std::vector<std::string>& words) {
  std::string word;
  int depth = 0;
  bool quoted = false;
  for (char c : line) {
    if (c == '"') quoted = !quoted;
    if (!quoted && c == '(') ++depth;
    if (!quoted && c == ')' && --depth < 0) return false;
    if (!quoted && depth == 0 && (c == ' ' || c == '\t')) {
      if (!word.empty()) words.push_back(std::move(word));
      word.clear();
      continue;
    }
    word += c;
  }
  if (!word.empty()) words.push_back(std::move(word));
  return depth == 0 && !quoted;
}

CmdArg parse_arg(const std::string& word) {
  CmdArg arg;
  const size_t eq = word.find('=');
  if (eq == std::string::npos) {
    arg.key = word;
    arg.bare = true;
    return arg;
  }
  arg.key = word.substr(0, eq);
  std::string value = word.substr(eq + 1);
  if (value.size() >= 2 && value.front() == '(' && value.back() == ')') {
    std::string inner = value.substr(1, value.size() - 2);
    std::string item;
    bool quoted = false;
    auto flush = [&] {
      const size_t b = item.find_first_not_of(' ');
      const size_t e = item.find_last_not_of(' ');
      arg.vals.push_back(b == std::string::npos ? "" : unquote(item.substr(b, e - b + 1)));
      item.clear();
    };
    for (char c : inner) {
      if (c == '"') quoted = !quoted;
      if (c == ',' && !quoted) {
        flush();
        continue;
      }
      item += c;
    }
    if (!inner.empty()) flush();
  } else {
    arg.vals.push_back(unquote(std::move(value)));
  }
  return arg;
}

void fail_at(const std::string& file, int line, std::string_view message) {
  ADD_FAILURE_AT(file.c_str(), line) << message;
}

ParsedFile parse_file(std::string_view text, const std::string& file) {
  ParsedFile out;
  const std::vector<std::string> lines = split_lines(text);
  const size_t n = lines.size();
  size_t i = 0;
  size_t chunk_start = 0;
  for (;;) {
    while (i < n && (is_blank(lines[i]) || lines[i].starts_with('#'))) ++i;
    if (i == n) break;

    ParsedCase pc;
    TestCase& tc = pc.tc;
    tc.file = file;
    tc.line = static_cast<int>(i) + 1;
    std::vector<std::string> words;
    if (!split_words(lines[i], words)) {
      fail_at(file, tc.line, "unbalanced parenthesis or quote in: " + lines[i]);
      return out;
    }
    tc.command_line = lines[i];
    tc.cmd = words[0];
    for (size_t w = 1; w < words.size(); ++w) tc.args.push_back(parse_arg(words[w]));
    ++i;

    const size_t input_start = i;
    while (i < n && lines[i] != kSeparator) ++i;
    if (i == n) {
      fail_at(file, tc.line, "command \"" + tc.cmd + "\" has no \"----\" line after it");
      return out;
    }
    tc.input = join_lines(lines, input_start, i);
    pc.head = join_lines(lines, chunk_start, i);
    ++i;  // the separator

    std::vector<std::string> expected;
    if (i < n && lines[i] == kSeparator) {
      // Output with blank lines: up to a doubled separator.
      ++i;
      const size_t start = i;
      while (i + 1 < n && !(lines[i] == kSeparator && lines[i + 1] == kSeparator)) ++i;
      if (i + 1 >= n) {
        fail_at(file, tc.line, "output of \"" + tc.cmd + "\" opens with \"----\" twice but never closes so");
        return out;
      }
      expected.assign(lines.begin() + static_cast<long>(start), lines.begin() + static_cast<long>(i));
      i += 2;
      if (i < n && lines[i].empty()) ++i;
    } else {
      while (i < n && !lines[i].empty()) expected.push_back(lines[i++]);
      if (i < n) ++i;  // the blank line that ends the output
    }
    for (const auto& l : expected) tc.expected += l + "\n";
    out.cases.push_back(std::move(pc));
    chunk_start = i;
  }
  out.trailer = join_lines(lines, chunk_start, n);
  return out;
}

std::string with_final_newline(std::string s) {
  if (!s.empty() && s.back() != '\n') s += '\n';
  return s;
}

// The output as it is written after "----": plain, or in the double-separator form when it
// holds a blank line.
std::string format_output(const std::string& output) {
  bool has_blank = false;
  for (const auto& l : split_lines(output)) has_blank = has_blank || l.empty();
  // Output opening with "----" would read as the double-separator form.
  if (output.starts_with("----\n")) has_blank = true;
  if (!has_blank) return output;
  return std::string(kSeparator) + "\n" + output + std::string(kSeparator) + "\n" + std::string(kSeparator) + "\n";
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::string TestCase::pos() const { return file + ":" + std::to_string(line); }

const CmdArg* TestCase::find_arg(std::string_view key) const {
  for (const auto& a : args) {
    if (a.key == key) return &a;
  }
  return nullptr;
}

bool TestCase::has_arg(std::string_view key) const { return find_arg(key) != nullptr; }

std::optional<std::string> TestCase::arg(std::string_view key) const {
  const CmdArg* a = find_arg(key);
  if (!a || a->vals.empty()) return std::nullopt;
  return a->vals.front();
}

std::string TestCase::str_arg(std::string_view key, std::string fallback) const {
  auto v = arg(key);
  return v ? *v : std::move(fallback);
}

int64_t TestCase::int_arg(std::string_view key, int64_t fallback) const {
  auto v = arg(key);
  if (!v) return fallback;
  char* end = nullptr;
  const long long n = std::strtoll(v->c_str(), &end, 10);
  if (v->empty() || *end != '\0') {
    fail("argument " + std::string(key) + "=" + *v + " is not an integer");
    return fallback;
  }
  return n;
}

std::vector<std::string> TestCase::positional() const {
  std::vector<std::string> out;
  for (const auto& a : args) {
    if (a.bare) out.push_back(a.key);
  }
  return out;
}

void TestCase::fail(std::string_view message) const {
  fail_at(file, line, std::string(cmd) + ": " + std::string(message));
}

std::vector<TestCase> parse(std::string_view text, const std::string& file) {
  std::vector<TestCase> out;
  for (auto& pc : parse_file(text, file).cases) out.push_back(std::move(pc.tc));
  return out;
}

bool rewrite_mode() {
  if (const char* env = std::getenv("SHOAL_REWRITE"); env && std::string_view(env) == "1") return true;
  const auto argv = ::testing::internal::GetArgvs();
  return std::find(argv.begin(), argv.end(), "--rewrite") != argv.end();
}

void run_test_file(const std::string& path, const Handler& handler, Mode mode) {
  auto text = read_file(path);
  if (!text) {
    ADD_FAILURE() << "cannot read test file " << path;
    return;
  }
  ParsedFile file = parse_file(*text, path);
  const bool rewrite = mode == Mode::kRewrite || (mode == Mode::kFromEnvironment && rewrite_mode());
  std::string rewritten;
  for (size_t i = 0; i < file.cases.size(); ++i) {
    ParsedCase& pc = file.cases[i];
    const std::string actual = with_final_newline(handler(pc.tc));
    if (rewrite) {
      rewritten += pc.head + std::string(kSeparator) + "\n" + format_output(actual);
      if (i + 1 < file.cases.size() || !file.trailer.empty()) rewritten += "\n";
      continue;
    }
    if (actual != pc.tc.expected) {
      ADD_FAILURE_AT(path.c_str(), pc.tc.line)
          << "output of \"" << pc.tc.command_line << "\" differs (- expected, + actual; rerun with SHOAL_REWRITE=1 "
          << "to accept the actual output):\n"
          << line_diff(pc.tc.expected, actual);
    }
  }
  if (!rewrite) return;
  rewritten += file.trailer;
  if (rewritten == *text) return;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << rewritten;
  if (!out) ADD_FAILURE() << "cannot rewrite test file " << path;
}

std::vector<std::string> test_files(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".txt") out.push_back(entry.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string line_diff(std::string_view expected, std::string_view actual) {
  const std::vector<std::string> a = split_lines(expected);
  const std::vector<std::string> b = split_lines(actual);
  // Longest common subsequence of lines; outputs are small.
  std::vector<std::vector<size_t>> lcs(a.size() + 1, std::vector<size_t>(b.size() + 1, 0));
  for (size_t i = a.size(); i-- > 0;) {
    for (size_t j = b.size(); j-- > 0;) {
      lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  std::string out;
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (i < a.size() && j < b.size() && a[i] == b[j]) {
      out += "  " + a[i++] + "\n";
      ++j;
    } else if (i < a.size() && (j == b.size() || lcs[i + 1][j] >= lcs[i][j + 1])) {
      out += "- " + a[i++] + "\n";
    } else {
      out += "+ " + b[j++] + "\n";
    }
  }
  return out;
}

std::string test_name_of(const std::string& path) {
  std::string name = std::filesystem::path(path).stem().string();
  for (char& c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!ok) c = '_';
  }
  return name;
}

}  // namespace shoal::datadriven
