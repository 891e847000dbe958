// Every SHOAL_PROBE in core/ is listed in kAllProbes or kGossipProbes (core/env/probe.h), so the
// sweeps can name the probes they never reach; and every listed probe exists in the code.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "core/env/probe.h"

namespace shoal {
namespace {

TEST(ProbeList, EveryProbeInCoreIsListedAndEveryListedProbeExists) {
  std::set<std::string> in_code;
  const std::regex probe(R"re(SHOAL_PROBE\("([a-z_.]+)"\))re");
  for (const auto& f : std::filesystem::recursive_directory_iterator(std::filesystem::path(SHOAL_SOURCE_DIR) / "core")) {
    if (!f.is_regular_file() || f.path().extension() != ".cc") continue;
    std::ifstream in(f.path());
    std::stringstream text;
    text << in.rdbuf();
    const std::string s = text.str();
    for (std::sregex_iterator it(s.begin(), s.end(), probe), end; it != end; ++it) in_code.insert((*it)[1]);
  }
  std::set<std::string> listed;
  for (const char* p : kAllProbes) listed.insert(p);
  for (const char* p : kGossipProbes) listed.insert(p);
  ASSERT_FALSE(in_code.empty());
  for (const auto& p : in_code) EXPECT_TRUE(listed.count(p)) << p << " is not listed in core/env/probe.h";
  for (const auto& p : listed) EXPECT_TRUE(in_code.count(p)) << p << " is listed but no code hits it";
}

}  // namespace
}  // namespace shoal
