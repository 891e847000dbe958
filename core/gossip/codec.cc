#include "core/gossip/codec.h"

namespace shoal::gossip {

namespace {

Status bad(const char* reason) { return Status::invalid_argument(reason); }

Status check_entry(const gossippb::TableEntry& e, const Config& config) {
  if (e.owner() == 0) return bad("zero-node");
  if (e.table().empty() || e.key().empty() || e.ltime() == 0 || e.ltime() > kMaxLamportTime) return bad("bad-entry");
  if (e.deleted() && !e.value().empty()) return bad("bad-entry");
  if (e.table().size() + e.key().size() > config.max_entry_name_bytes ||
      e.value().size() > config.max_entry_value_bytes) {
    return bad("entry-too-big");
  }
  return {};
}

Status check_part(const gossippb::Part& p, const Config& config) {
  switch (p.kind_case()) {
    case gossippb::Part::kPing:
      if (p.ping().target() == 0) return bad("zero-node");
      return {};
    case gossippb::Part::kIndirectPing:
      if (p.indirect_ping().target() == 0) return bad("zero-node");
      return {};
    case gossippb::Part::kAck:
    case gossippb::Part::kNack:
      return {};
    case gossippb::Part::kAlive:
      if (p.alive().node() == 0) return bad("zero-node");
      if (p.alive().meta().size() > config.max_meta_bytes) return bad("meta-too-big");
      return {};
    case gossippb::Part::kSuspect:
      if (p.suspect().node() == 0 || p.suspect().from() == 0) return bad("zero-node");
      return {};
    case gossippb::Part::kDead:
      if (p.dead().node() == 0 || p.dead().from() == 0) return bad("zero-node");
      return {};
    case gossippb::Part::kEntry:
      return check_entry(p.entry(), config);
    case gossippb::Part::KIND_NOT_SET:
      break;
  }
  return bad("empty-part");
}

}  // namespace

Result<gossippb::Envelope> decode(std::string_view bytes, const Config& config) {
  if (bytes.size() > config.max_push_pull_bytes) return bad("too-big");
  gossippb::Envelope env;
  if (!env.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return bad("unparsable");
  if (env.version() != kWireVersion) return bad("version");
  switch (env.body_case()) {
    case gossippb::Envelope::kCompound: {
      if (bytes.size() > kMaxUdpPayload) return bad("too-big");
      const auto& parts = env.compound().parts();
      if (parts.empty()) return bad("no-body");
      if (static_cast<size_t>(parts.size()) > config.max_parts) return bad("too-many-parts");
      for (const auto& p : parts) {
        if (Status s = check_part(p, config); !s.ok()) return s;
      }
      return env;
    }
    case gossippb::Envelope::kPushPull: {
      const auto& states = env.push_pull().states();
      if (static_cast<size_t>(states.size()) > config.max_members) return bad("too-many-states");
      for (const auto& st : states) {
        if (st.node() == 0) return bad("zero-node");
        if (st.meta().size() > config.max_meta_bytes) return bad("meta-too-big");
        if (!gossippb::MemberState_IsValid(st.state())) return bad("bad-state");
      }
      const auto& entries = env.push_pull().entries();
      if (static_cast<size_t>(entries.size()) > config.max_table_entries) return bad("too-many-entries");
      if (env.push_pull().table_ltime() > kMaxLamportTime) return bad("bad-entry");
      for (const auto& e : entries) {
        if (Status s = check_entry(e, config); !s.ok()) return s;
      }
      return env;
    }
    case gossippb::Envelope::BODY_NOT_SET:
      break;
  }
  return bad("no-body");
}

}  // namespace shoal::gossip
