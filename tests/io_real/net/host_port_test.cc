// split_host_port: the forms flags and the store use, and a clear error for each bad one.
#include "io_real/net/host_port.h"

#include <gtest/gtest.h>

namespace shoal::real {
namespace {

TEST(HostPort, SplitsIPv4NamesAndBracketedIPv6) {
  auto v4 = split_host_port("127.0.0.1:2377");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->first, "127.0.0.1");
  EXPECT_EQ(v4->second, 2377);
  auto name = split_host_port("manager-1.example:7946");
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(name->first, "manager-1.example");
  auto v6 = split_host_port("[::1]:0");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->first, "::1");
  EXPECT_EQ(v6->second, 0);
}

TEST(HostPort, RefusesWhatCouldBeReadTwoWaysOrIsNotAnAddress) {
  struct Case {
    const char* in;
    const char* says;
  };
  const Case cases[] = {
      {"fe80::1:7946", "write IPv6 as [v6]:port"},
      {"[127.0.0.1]:80", "only IPv6 addresses go in brackets"},
      {"127.0.0.1", "is not host:port"},
      {"127.0.0.1:", "is not host:port"},
      {"127.0.0.1:65536", "bad port"},
      {"127.0.0.1:99999999999", "bad port"},
      {"127.0.0.1:12a", "bad port"},
      {":2377", "has no host"},
  };
  for (const Case& c : cases) {
    auto r = split_host_port(c.in);
    ASSERT_FALSE(r.ok()) << c.in;
    EXPECT_NE(r.status().message().find(c.says), std::string::npos) << c.in << ": " << r.status().message();
  }
}

}  // namespace
}  // namespace shoal::real
