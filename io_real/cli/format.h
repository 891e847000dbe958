// Text formatting for the `shoal` CLI, matching the docker CLI's output: tables laid out as
// docker's tabwriter lays them out, durations as go-units writes them ("2 minutes ago"), Go
// duration syntax for flags ("2160h"), RFC 3339 timestamps as the API sends them, and base64
// for config and secret data.
//
// Pure functions, no I/O and no clock (callers pass `now`), so each is unit-tested on its own.
//
//   std::cout << format_table({"ID", "NAME"}, {{"abc", "web"}});
//   std::string created = ago(node["CreatedAt"], now_ns);   // "3 hours ago"
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/env/status.h"
#include "core/env/time.h"

#include "core/wire/base64.h"

namespace shoal::real {

using Row = std::vector<std::string>;

// Columns as docker's tabwriter (minwidth 10, padding 3) sets them: every column but the last is
// as wide as its widest cell plus 3, and at least 10; the last is not padded; no trailing blanks.
// Widths count UTF-8 code points. Each line ends with '\n'. Rows shorter than the header are
// padded with empty cells.
std::string format_table(const Row& header, const std::vector<Row>& rows);

// go-units' HumanDuration: "Less than a second", "1 second", "45 seconds", "About a minute",
// "12 minutes", "About an hour", "5 hours", "3 days", "2 weeks", "4 months", "2 years".
std::string human_duration(Duration d);

// "<human_duration> ago" for an RFC 3339 timestamp relative to `now_ns` (ns since the Unix epoch);
// "" when the timestamp does not parse. A time in the future counts as "Less than a second ago".
std::string ago(std::string_view rfc3339, int64_t now_ns);

// Parses an RFC 3339 timestamp as the API writes it ("2024-05-01T12:00:00.123456789Z",
// "2024-05-01T14:00:00+02:00") into ns since the Unix epoch.
Result<int64_t> parse_rfc3339(std::string_view text);

// Go's time.Time.String() of a UTC instant, lower-cased as the docker CLI's PrettyPrint shows it:
// "2009-11-10 23:00:00 +0000 utc" (fractional seconds only when non-zero).
std::string pretty_time(int64_t ns_since_epoch);

// Go's time.ParseDuration: a sequence of decimal numbers with units ns, us, µs, ms, s, m, h
// ("90m", "1h30m", "1.5h", "2160h0m0s"), plus d for 24h ("90d") as shoald's flags take it.
// Errors name the bad text.
Result<Duration> parse_go_duration(std::string_view text);
// Go's time.Duration.String(): "2160h0m0s", "1m30s", "1.5s", "250ms", "0s".
std::string format_go_duration(Duration d);

// go-units' BytesSize: binary units, four significant digits ("7.657GiB", "20MiB", "512B").
std::string bytes_size(double bytes);

// go-units' RAMInBytes, as docker's --reserve-memory/--limit-memory take sizes: a decimal number
// with an optional binary unit k, m, g, t or p (any case, optionally followed by "b" or "ib", a
// space allowed before it): "64M", "1.5g", "512kb", "1048576". Errors: "invalid size: '<text>'".
Result<int64_t> parse_ram_bytes(std::string_view text);

// Docker's opts.NanoCPUs: a decimal number of CPUs ("0.5", "2") as nano CPUs. Errors: not a
// number, or "value is too precise" (finer than 1e-9).
Result<int64_t> parse_nano_cpus(std::string_view text);
// The reverse, as docker prints CPUs: "0.5", "2", "0.001".
std::string format_cpus(int64_t nano_cpus);

// `text` cut to at most `max_width` code points, the last one replaced by "…" when cut (as the
// docker CLI shortens task errors).
std::string ellipsize(std::string_view text, size_t max_width);

// The docker CLI's PrettyPrint of a word: first letter upper case, the rest lower ("ready" -> "Ready").
std::string pretty_word(std::string_view word);

// Natural order, as docker sorts node hostnames and object names: digit runs compare as numbers
// ("node2" < "node10").
bool natural_less(std::string_view a, std::string_view b);

using wire::base64_decode;
using wire::base64_encode;

std::string trim(std::string_view text);

}  // namespace shoal::real
