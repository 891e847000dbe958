// Config: the settings of one gossip member (SWIM + Lifeguard), and the test-only switches that
// break it on purpose.
//
// Two profiles:
//   - memberlist_lan(): hashicorp/memberlist's DefaultLANConfig, for comparison. At 1,000 nodes
//     its suspicion alone lasts at least 4 * log10(1000) * 1 s = 12 s.
//   - Config{} (the defaults below, "Shoal LAN"): a faster probe interval and timeout, same
//     suspicion multipliers. Chosen so a crash is known to every live member of a 1,000-node
//     cluster within 5 s at the median at 1 % loss, with no false deaths at 10 % loss; the
//     measured figures are in docs/gossip.md.
//
// Every duration is on the member's monotonic clock. Limits on sizes and counts are enforced
// where they are named; a limit that is hit is counted in Membership::stats().
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/env/planted_bugs.h"
#include "core/env/time.h"
#include "core/env/transport.h"

namespace shoal::gossip {

struct Config {
  NodeId id = 0;
  // Opaque bytes about this member (role, addresses), carried in its alive messages.
  // At most max_meta_bytes.
  std::string meta;

  // --- failure detection (SWIM)
  Duration probe_interval = std::chrono::milliseconds(200);  // one probe per interval
  Duration probe_timeout = std::chrono::milliseconds(100);   // direct ack wait, then indirect
  int indirect_checks = 3;  // k members asked to ping-req a silent target

  // --- suspicion (Lifeguard's dynamic suspicion)
  // min = suspicion_mult * max(1, log10(n)) * probe_interval; max = suspicion_max_timeout_mult * min.
  // The timeout starts at max and shrinks toward min as up to suspicion_mult - 2 independent
  // confirmations arrive.
  int suspicion_mult = 4;
  int suspicion_max_timeout_mult = 6;

  // --- local health (Lifeguard LHA): probe interval and timeout are scaled by (score + 1).
  int awareness_max_multiplier = 8;

  // --- dissemination
  int retransmit_mult = 8;  // each broadcast sent retransmit_mult * ceil(log10(n + 1)) times
  Duration gossip_interval = std::chrono::milliseconds(200);
  int gossip_nodes = 3;
  // Recently dead members still receive gossip for this long, so they can refute.
  Duration gossip_to_the_dead = std::chrono::seconds(30);

  // --- anti-entropy
  // Full-state exchange with one random member; scaled up above 32 members as memberlist does.
  Duration push_pull_interval = std::chrono::seconds(30);
  // Every reconnect_interval, with probability dead / alive, a push-pull with one random dead
  // (not left) member, so a healed partition merges even after both sides declared the other
  // dead (Serf's reconnect). Members dead longer than reconnect_timeout are no longer tried.
  Duration reconnect_interval = std::chrono::seconds(10);
  Duration reconnect_timeout = std::chrono::hours(24);

  // A datagram from an unknown member triggers a push-pull with it, at most once per this.
  Duration stranger_sync_interval = std::chrono::seconds(1);

  // --- join
  Duration join_retry = std::chrono::seconds(1);  // resend the join push-pull until one answers
  int join_max_attempts = 10;

  // --- the replicated table (table.h)
  // A deleted entry is kept as a tombstone this long, so an older copy still travelling cannot
  // bring it back; entries of a dead or departed owner are forgotten as long after its death.
  Duration tombstone_ttl = std::chrono::minutes(5);
  Duration table_reap_interval = std::chrono::seconds(10);

  // --- limits
  size_t max_packet_bytes = 1400;         // one packet (UDP-sized), including broadcasts
  size_t max_push_pull_bytes = 8 << 20;   // one full-state message
  size_t max_parts = 256;                 // messages in one compound packet
  size_t max_meta_bytes = 512;
  size_t max_members = 100'000;           // members known, any state
  size_t max_broadcasts = 8192;           // queued broadcasts (oldest, most-sent dropped first)
  size_t max_relayed_probes = 1024;       // indirect probes served at once
  size_t max_table_entries = 100'000;     // table entries held or carried in one push-pull
  size_t max_entry_name_bytes = 256;      // an entry's table name plus key
  size_t max_entry_value_bytes = 1024;

  PlantedBugs bugs;  // test-only (core/env/planted_bugs.h)
};

// hashicorp/memberlist DefaultLANConfig (the figures docs/gossip.md compares against).
inline Config memberlist_lan() {
  Config c;
  c.probe_interval = std::chrono::seconds(1);
  c.probe_timeout = std::chrono::milliseconds(500);
  c.indirect_checks = 3;
  c.suspicion_mult = 4;
  c.suspicion_max_timeout_mult = 6;
  c.awareness_max_multiplier = 8;
  c.retransmit_mult = 4;
  c.gossip_interval = std::chrono::milliseconds(200);
  c.gossip_nodes = 3;
  c.gossip_to_the_dead = std::chrono::seconds(30);
  c.push_pull_interval = std::chrono::seconds(30);
  return c;
}

}  // namespace shoal::gossip
