#include "core/controlapi/services.h"

#include <google/protobuf/util/message_differencer.h>

#include <iterator>

#include "core/controlapi/resolve.h"
#include "core/controlapi/service_spec.h"
#include "core/store/object_id.h"

namespace shoal::controlapi {
namespace {

// A name for a service created without one, as Docker's namesgenerator makes them.
std::string generated_name(Crypto& crypto, const store::Store& store) {
  static constexpr const char* kLeft[] = {"admiring", "bold",   "brave",  "busy",    "calm",    "clever",  "eager",
                                          "gallant",  "happy",  "keen",   "nifty",   "quirky",  "serene",  "sharp",
                                          "stoic",    "tender", "upbeat", "vibrant", "wizardly", "zealous"};
  static constexpr const char* kRight[] = {"babbage", "curie",  "darwin",  "euler",   "fermi",   "galois", "hopper",
                                           "hypatia", "kepler", "lamport", "liskov",  "lovelace", "noether", "ongaro",
                                           "pascal",  "ritchie", "shannon", "thompson", "turing", "wing"};
  std::string name;
  for (int attempt = 0; attempt < 20; ++attempt) {
    uint8_t r[3];
    crypto.random_bytes(r, sizeof r);
    name = std::string(kLeft[r[0] % std::size(kLeft)]) + "_" + kRight[r[1] % std::size(kRight)];
    if (attempt > 0) name += std::to_string(r[2] % 10);  // Docker's retry appends a digit
    if (!store.find_service(name)) break;
  }
  return name;
}

Status out_of_sequence(const storepb::ServiceObject& current, uint64_t version) {
  return Status::failed_precondition("update out of sequence: service " + current.spec().annotations().name() +
                                     " is at version " + std::to_string(current.version()) +
                                     ", the update was made against " + std::to_string(version) +
                                     "; read it again and retry");
}

// A new update (or rollback) begins: the updater (core/orchestrator/updater.h) replaces the
// tasks of older specs while the state is UPDATING or ROLLBACK_STARTED, so this also restarts a
// paused one.
void begin_update(storepb::ServiceObject& svc, storepb::UpdateStatus::State state, const std::string& message,
                  int64_t now_ns) {
  storepb::UpdateStatus* u = svc.mutable_update_status();
  u->Clear();
  u->set_state(state);
  u->set_started_at_ns(now_ns);
  u->set_message(message);
}

storepb::ServiceObject* update_action(storepb::Transaction& tx, const storepb::ServiceObject& current) {
  auto* a = tx.add_actions();
  a->set_kind(storepb::StoreAction::UPDATE);
  *a->mutable_service() = current;
  return a->mutable_service();
}

}  // namespace

Result<CreatedService> create_service(const store::Store& store, storepb::ServiceSpec spec, int64_t now_ns,
                                      Crypto& crypto) {
  if (spec.annotations().name().empty()) spec.mutable_annotations()->set_name(generated_name(crypto, store));
  if (Status s = validate_service_spec(spec); !s.ok()) return s;
  if (const auto* existing = store.find_service(spec.annotations().name())) {
    return Status::already_exists("name conflicts with an existing object: service " + spec.annotations().name() +
                                  " exists (" + existing->id() + ")");
  }
  CreatedService out;
  out.tx.set_now_ns(now_ns);
  auto* a = out.tx.add_actions();
  a->set_kind(storepb::StoreAction::CREATE);
  storepb::ServiceObject* svc = a->mutable_service();
  svc->set_id(store::new_object_id(crypto));
  *svc->mutable_spec() = std::move(spec);
  svc->set_spec_version(1);
  out.id = svc->id();
  return out;
}

Result<storepb::Transaction> update_service(const store::Store& store, std::string_view ref, uint64_t version,
                                            storepb::ServiceSpec spec, int64_t now_ns) {
  auto found = resolve_service(store, ref);
  if (!found.ok()) return found.status();
  const storepb::ServiceObject& current = **found;
  if (Status s = validate_service_spec(spec); !s.ok()) return s;
  if (spec.annotations().name() != current.spec().annotations().name()) {
    return Status::invalid_argument("renaming services is not supported");
  }
  if (spec.has_global() != current.spec().has_global()) {
    return Status::invalid_argument("service mode change is not allowed");
  }
  if (version != current.version()) return out_of_sequence(current, version);
  storepb::Transaction tx;
  tx.set_now_ns(now_ns);
  storepb::ServiceObject* svc = update_action(tx, current);
  const bool task_changed = !google::protobuf::util::MessageDifferencer::Equals(current.spec().task(), spec.task());
  *svc->mutable_previous_spec() = current.spec();
  *svc->mutable_spec() = std::move(spec);
  if (task_changed) {
    svc->set_spec_version(current.spec_version() + 1);
    begin_update(*svc, storepb::UpdateStatus::UPDATING, "update in progress", now_ns);
  }
  return tx;
}

Result<storepb::Transaction> rollback_service(const store::Store& store, std::string_view ref, uint64_t version,
                                              int64_t now_ns) {
  auto found = resolve_service(store, ref);
  if (!found.ok()) return found.status();
  const storepb::ServiceObject& current = **found;
  if (version != current.version()) return out_of_sequence(current, version);
  if (!current.has_previous_spec()) {
    return Status::invalid_argument("service " + current.spec().annotations().name() + " does not have a previous spec");
  }
  storepb::Transaction tx;
  tx.set_now_ns(now_ns);
  storepb::ServiceObject* svc = update_action(tx, current);
  *svc->mutable_spec() = current.previous_spec();
  *svc->mutable_previous_spec() = current.spec();
  svc->set_spec_version(current.spec_version() + 1);
  begin_update(*svc, storepb::UpdateStatus::ROLLBACK_STARTED, "manually requested rollback", now_ns);
  return tx;
}

Result<storepb::Transaction> remove_service(const store::Store& store, std::string_view ref) {
  auto found = resolve_service(store, ref);
  if (!found.ok()) return found.status();
  storepb::Transaction tx;
  auto* a = tx.add_actions();
  a->set_kind(storepb::StoreAction::REMOVE);
  *a->mutable_service() = **found;
  return tx;
}

}  // namespace shoal::controlapi
