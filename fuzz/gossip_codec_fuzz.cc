// Gossip datagrams from another node: arbitrary bytes through the codec, then into a
// live member. A datagram the codec refuses must be counted as bad and change nothing; one it
// accepts must re-encode to bytes it accepts again; and no datagram, however crafted, may make
// the member lose itself, think itself not alive, or break its own invariants (SHOAL_CHECK); nor
// may the replicated table riding on it (table entries, push-pull bulk sync) break its own.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <google/protobuf/stubs/logging.h>

#include "core/env/check.h"
#include "core/gossip/codec.h"
#include "core/gossip/membership.h"
#include "core/gossip/table.h"
#include "tests/core/manual_env.h"

using namespace shoal;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Protobuf logs every invalid UTF-8 string it refuses; the refusal is what we test, not the log.
  static const bool quiet = [] {
    google::protobuf::SetLogHandler(nullptr);
    return true;
  }();
  (void)quiet;
  if (size == 0) return 0;
  const NodeId from = 1 + data[0] % 4;  // a known member, itself (1), or a stranger (4)
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);

  gossip::Config config;
  config.id = 1;
  auto decoded = gossip::decode(bytes, config);
  if (decoded.ok()) {
    auto again = gossip::decode(decoded->SerializeAsString(), config);
    SHOAL_CHECK(again.ok(), "an accepted envelope must re-encode to one the codec accepts");
  }

  test::ManualClock clock;
  test::ManualTimers timers(clock);
  Rng rng(7);
  test::NoTransport transport;
  test::NoDisk disk;
  test::RecordingLogSink log_sink;
  Log log{clock, log_sink};
  Env env{clock, timers, rng, transport, disk, log};
  gossip::Membership member(env, config);
  gossip::Table table(env, member);
  (void)table.put("endpoints", "own", "198.18.0.1");
  member.join({2, 3});
  timers.advance(std::chrono::milliseconds(10));
  const auto members_before = member.members().size();
  const uint64_t bad_before = member.stats().bad_messages;
  const auto table_before = table.visible();

  member.receive(from, bytes);
  if (!decoded.ok()) {
    SHOAL_CHECK(member.stats().bad_messages == bad_before + 1, "a refused datagram is counted");
    SHOAL_CHECK(member.members().size() == members_before, "a refused datagram changes no membership");
    SHOAL_CHECK(table.visible() == table_before, "a refused datagram changes no table entry");
  }
  timers.advance(std::chrono::seconds(5));  // probes, suspicions and gossip run on what it learnt

  bool self_alive = false;
  for (const auto& m : member.members()) {
    if (m.id == config.id) self_alive = m.state == gossip::State::kAlive;
  }
  SHOAL_CHECK(self_alive, "a member stays alive in its own view whatever it is told");
  table.check_invariants();  // the table keeps its invariants whatever it is told
  return 0;
}
