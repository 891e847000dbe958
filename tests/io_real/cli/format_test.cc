#include "io_real/cli/format.h"

#include <gtest/gtest.h>

namespace shoal::real {
namespace {

using namespace std::chrono_literals;

TEST(FormatTable, LaysColumnsOutAsDockersTabwriter) {
  // minwidth 10, padding 3: a column is max(widest cell + 3, 10) wide; the last is not padded.
  const std::string t = format_table({"ID", "HOSTNAME", "STATUS"},
                                     {{"0123456789abcdef *", "manager-one", "Ready"}, {"fedcba9876543210", "w2", "Down"}});
  EXPECT_EQ(t,
            "ID                   HOSTNAME      STATUS\n"
            "0123456789abcdef *   manager-one   Ready\n"
            "fedcba9876543210     w2            Down\n");
}

TEST(FormatTable, MinimumWidthEmptyCellsAndNoTrailingBlanks) {
  const std::string t = format_table({"A", "B", "C"}, {{"x", "", ""}, {"y"}});
  EXPECT_EQ(t,
            "A         B         C\n"
            "x\n"
            "y\n");
  EXPECT_EQ(format_table({"ID", "NAME"}, {}), "ID        NAME\n");
}

TEST(FormatTable, CountsCodePointsNotBytes) {
  const std::string t = format_table({"NAME", "X"}, {{"h\xC3\xA9llo-w\xC3\xB6rld", "1"}});  // 11 code points
  EXPECT_EQ(t,
            "NAME          X\n"
            "h\xC3\xA9llo-w\xC3\xB6rld   1\n");
}

TEST(HumanDuration, MatchesGoUnits) {
  EXPECT_EQ(human_duration(500ms), "Less than a second");
  EXPECT_EQ(human_duration(1s), "1 second");
  EXPECT_EQ(human_duration(59s), "59 seconds");
  EXPECT_EQ(human_duration(60s), "About a minute");
  EXPECT_EQ(human_duration(119s), "About a minute");
  EXPECT_EQ(human_duration(2min), "2 minutes");
  EXPECT_EQ(human_duration(59min), "59 minutes");
  EXPECT_EQ(human_duration(60min), "About an hour");
  EXPECT_EQ(human_duration(89min), "About an hour");
  EXPECT_EQ(human_duration(90min), "2 hours");  // go-units rounds hours
  EXPECT_EQ(human_duration(47h), "47 hours");
  EXPECT_EQ(human_duration(48h), "2 days");
  EXPECT_EQ(human_duration(24h * 13), "13 days");
  EXPECT_EQ(human_duration(24h * 14), "2 weeks");
  EXPECT_EQ(human_duration(24h * 60), "2 months");
  EXPECT_EQ(human_duration(24h * 365 * 2), "2 years");
  EXPECT_EQ(human_duration(24h * 90), "3 months") << "the default certificate expiry";
}

TEST(Rfc3339, ParsesWhatTheApiWrites) {
  auto epoch = parse_rfc3339("1970-01-01T00:00:00Z");
  ASSERT_TRUE(epoch.ok());
  EXPECT_EQ(*epoch, 0);
  auto t = parse_rfc3339("2009-11-10T23:00:00.123456789Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, 1257894000'123456789LL);
  auto offset = parse_rfc3339("2009-11-11T01:00:00+02:00");
  ASSERT_TRUE(offset.ok());
  EXPECT_EQ(*offset, 1257894000'000000000LL);
  auto short_frac = parse_rfc3339("2009-11-10T23:00:00.5Z");
  ASSERT_TRUE(short_frac.ok());
  EXPECT_EQ(*short_frac, 1257894000'500000000LL);
  auto leap_day = parse_rfc3339("2024-02-29T00:00:00Z");
  ASSERT_TRUE(leap_day.ok());
  EXPECT_EQ(*leap_day, 1709164800'000000000LL);
}

TEST(Rfc3339, RefusesMalformedTimes) {
  for (const char* bad : {"", "2009-11-10", "2009-11-10T23:00:00", "2009-13-10T23:00:00Z", "2009-11-10X23:00:00Z",
                          "2009-11-10T23:00:00.Z", "2009-11-10T23:00:00Zjunk", "2009-11-10T23:00:00+0200",
                          "0001-01-01T00:00:00"}) {
    EXPECT_FALSE(parse_rfc3339(bad).ok()) << bad;
  }
}

TEST(Ago, IsHumanDurationPlusAgo) {
  const int64_t created = *parse_rfc3339("2024-05-01T12:00:00Z");
  EXPECT_EQ(ago("2024-05-01T12:00:00Z", created + int64_t{120} * 1'000'000'000), "2 minutes ago");
  EXPECT_EQ(ago("2024-05-01T12:00:00Z", created + int64_t{3} * 3600 * 1'000'000'000), "3 hours ago");
  EXPECT_EQ(ago("2024-05-01T12:00:00Z", created - 5'000'000'000), "Less than a second ago") << "clock skew";
  EXPECT_EQ(ago("not a time", created), "");
}

TEST(PrettyTime, IsGosTimeStringLowerCased) {
  EXPECT_EQ(pretty_time(1257894000'000000000LL), "2009-11-10 23:00:00 +0000 utc");
  EXPECT_EQ(pretty_time(1257894000'120000000LL), "2009-11-10 23:00:00.12 +0000 utc");
  EXPECT_EQ(pretty_time(0), "1970-01-01 00:00:00 +0000 utc");
}

TEST(GoDuration, ParsesGoSyntax) {
  EXPECT_EQ(*parse_go_duration("90m"), 90min);
  EXPECT_EQ(*parse_go_duration("1h30m"), 90min);
  EXPECT_EQ(*parse_go_duration("1.5h"), 90min);
  EXPECT_EQ(*parse_go_duration("2160h0m0s"), 2160h);
  EXPECT_EQ(*parse_go_duration("250ms"), 250ms);
  EXPECT_EQ(*parse_go_duration("10us"), 10us);
  EXPECT_EQ(*parse_go_duration("10\xC2\xB5s"), 10us);
  EXPECT_EQ(*parse_go_duration("0"), Duration(0));
  EXPECT_EQ(*parse_go_duration("-1m"), -1min);
  EXPECT_EQ(*parse_go_duration("90d"), 2160h) << "shoald's flags take days too";
  for (const char* bad : {"", "h", "10", "10x", "1h30", "--1h", ".h", "99999999999999999999h"}) {
    auto d = parse_go_duration(bad);
    ASSERT_FALSE(d.ok()) << bad;
    EXPECT_NE(d.status().message().find("invalid duration"), std::string::npos);
  }
}

TEST(GoDuration, FormatsAsGosString) {
  EXPECT_EQ(format_go_duration(Duration(0)), "0s");
  EXPECT_EQ(format_go_duration(2160h), "2160h0m0s");
  EXPECT_EQ(format_go_duration(90s), "1m30s");
  EXPECT_EQ(format_go_duration(1500ms), "1.5s");
  EXPECT_EQ(format_go_duration(250ms), "250ms");
  EXPECT_EQ(format_go_duration(1500us), "1.5ms");
  EXPECT_EQ(format_go_duration(Duration(999)), "999ns");
  EXPECT_EQ(format_go_duration(-90s), "-1m30s");
  for (Duration d : {Duration(1), Duration(1234567), Duration(3723000000000LL), Duration(2160h)}) {
    EXPECT_EQ(*parse_go_duration(format_go_duration(d)), d) << format_go_duration(d);
  }
}

TEST(BytesSize, MatchesGoUnits) {
  EXPECT_EQ(bytes_size(512), "512B");
  EXPECT_EQ(bytes_size(20 * 1024 * 1024), "20MiB");
  EXPECT_EQ(bytes_size(8222068736.0), "7.657GiB");
}

TEST(PrettyWord, CapitalizesLikeDocker) {
  EXPECT_EQ(pretty_word("ready"), "Ready");
  EXPECT_EQ(pretty_word("UNREACHABLE"), "Unreachable");
  EXPECT_EQ(pretty_word(""), "");
}

TEST(NaturalLess, OrdersDigitRunsAsNumbers) {
  EXPECT_TRUE(natural_less("node2", "node10"));
  EXPECT_FALSE(natural_less("node10", "node2"));
  EXPECT_TRUE(natural_less("a", "b"));
  EXPECT_TRUE(natural_less("node", "node1"));
  EXPECT_FALSE(natural_less("x", "x"));
  EXPECT_TRUE(natural_less("n01", "n2"));
}

TEST(Base64, RoundTripsAndRefusesJunk) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  EXPECT_EQ(*base64_decode(base64_encode(all)), all);
  EXPECT_EQ(*base64_decode("Zm8="), "fo");
  EXPECT_FALSE(base64_decode("Zm8").ok());
  EXPECT_FALSE(base64_decode("Zm!=").ok());
  EXPECT_FALSE(base64_decode("=Zm8").ok());
}

TEST(Trim, StripsWhitespaceAtBothEnds) {
  EXPECT_EQ(trim("  SWMKEY-1-abc\n"), "SWMKEY-1-abc");
  EXPECT_EQ(trim("\r\n"), "");
  EXPECT_EQ(trim("a b"), "a b");
}

}  // namespace
}  // namespace shoal::real
