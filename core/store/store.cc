#include "core/store/store.h"

#include "core/env/check.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>

namespace shoal::store {
namespace {

template <typename Map>
const typename Map::mapped_type* find_by_id_or_name(const Map& m, const LookupIndex<std::string>& names,
                                                    std::string_view key) {
  if (auto it = m.find(std::string(key)); it != m.end()) return &it->second;
  if (const std::string* id = names.find(std::string(key))) return &m.at(*id);
  return nullptr;
}

// Keeps a name -> id index in step with an object map (configs and secrets have unique names).
template <typename Map>
void index_names(const Map& m, LookupIndex<std::string>& names) {
  names.clear();
  for (const auto& [id, obj] : m) names.set(obj.spec().name(), id);
}

// Object kind name and id, for error messages.
std::string describe(const storepb::StoreAction& a) {
  switch (a.object_case()) {
    case storepb::StoreAction::kNode: return "node " + a.node().id();
    case storepb::StoreAction::kConfig: return "config " + a.config().id();
    case storepb::StoreAction::kSecret: return "secret " + a.secret().id();
    case storepb::StoreAction::kCluster: return "cluster " + a.cluster().id();
    case storepb::StoreAction::kService: return "service " + a.service().id();
    case storepb::StoreAction::kTask: return "task " + a.task().id();
    case storepb::StoreAction::kTaskStatus: return "task " + a.task_status().task_id();
    default: return "nothing";
  }
}

// Existence and version rules shared by every kind. `stored` is null when absent.
template <typename Obj>
Status check_versioned(const storepb::StoreAction& a, const Obj* stored, const Obj& proposed) {
  switch (a.kind()) {
    case storepb::StoreAction::CREATE:
      if (stored) return Status::already_exists(describe(a) + " already exists");
      return {};
    case storepb::StoreAction::UPDATE:
    case storepb::StoreAction::REMOVE:
      if (!stored) return Status::not_found(describe(a) + " not found");
      if (a.kind() == storepb::StoreAction::UPDATE && stored->version() != proposed.version()) {
        return Status::failed_precondition("update out of sequence: " + describe(a) + " is at version " +
                                           std::to_string(stored->version()) + ", the update was made against " +
                                           std::to_string(proposed.version()) + "; read it again and retry");
      }
      return {};
    default:
      return Status::invalid_argument("unknown store action kind");
  }
}

Status check_name_free(const LookupIndex<std::string>& names, const storepb::StoreAction& a,
                       const std::string& id, const std::string& name, const char* kind) {
  if (a.kind() != storepb::StoreAction::CREATE) return {};
  if (name.empty()) return Status::invalid_argument(std::string(kind) + " needs a name");
  if (const std::string* owner = names.find(name); owner && *owner != id) {
    return Status::already_exists(std::string(kind) + " with name '" + name + "' already exists (id " + *owner +
                                  ")");
  }
  return {};
}

// An object's version only grows: it is the index of the entry that last wrote it (several
// actions of one entry may write the same object).
void check_version_grows(const char* kind, const std::string& id, uint64_t stored, uint64_t written, uint64_t index) {
  SHOAL_CHECK(written > stored || (written == stored && stored == index), "%s %s: version %lu written over %lu at index %lu",
              kind, id.c_str(), written, stored, index);
}

template <typename Map, typename Obj>
void put_or_remove(Map& m, storepb::StoreAction::Kind kind, Obj obj, uint64_t index, int64_t now_ns,
                   const PlantedBugs& bugs) {
  if (kind == storepb::StoreAction::REMOVE) {
    m.erase(obj.id());
    return;
  }
  auto stored = m.find(obj.id());  // present for an UPDATE (the check saw to it), absent for a CREATE
  obj.set_created_at_ns(stored == m.end() ? now_ns : stored->second.created_at_ns());
  obj.set_updated_at_ns(now_ns);
  const uint64_t version = bugs.store_keeps_writer_version && kind == storepb::StoreAction::UPDATE ? obj.version() : index;
  obj.set_version(version);
  if (stored == m.end()) {
    m[obj.id()] = std::move(obj);
    return;
  }
  check_version_grows(Obj::descriptor()->name().c_str(), obj.id(), stored->second.version(), version, index);
  stored->second = std::move(obj);
}

}  // namespace

const storepb::NodeObject* Store::find_node(std::string_view id_or_name) const {
  if (auto it = nodes_.find(std::string(id_or_name)); it != nodes_.end()) return &it->second;
  for (const auto& [id, n] : nodes_) {
    if (n.hostname() == id_or_name || n.spec().annotations().name() == id_or_name) return &n;
  }
  return nullptr;
}
const storepb::ConfigObject* Store::find_config(std::string_view k) const {
  return find_by_id_or_name(configs_, config_names_, k);
}
const storepb::SecretObject* Store::find_secret(std::string_view k) const {
  return find_by_id_or_name(secrets_, secret_names_, k);
}
const storepb::ServiceObject* Store::find_service(std::string_view k) const {
  return find_by_id_or_name(services_, service_names_, k);
}
const storepb::TaskObject* Store::find_task(std::string_view id) const {
  auto it = tasks_.find(std::string(id));
  return it == tasks_.end() ? nullptr : &it->second;
}

std::vector<const storepb::TaskObject*> Store::tasks_of_service(std::string_view service_id) const {
  return tasks_in(tasks_by_service_, service_id);
}
std::vector<const storepb::TaskObject*> Store::tasks_on_node(std::string_view node_id) const {
  return tasks_in(tasks_by_node_, node_id);
}
std::vector<const storepb::TaskObject*> Store::tasks_in(const TaskIndex& index, std::string_view key) const {
  std::vector<const storepb::TaskObject*> out;
  auto it = index.find(std::string(key));
  if (it == index.end()) return out;
  out.reserve(it->second.size());
  for (const auto& id : it->second) out.push_back(&tasks_.at(id));
  return out;
}

void Store::index_task(const storepb::TaskObject& t) {
  tasks_by_service_[t.service_id()].insert(t.id());
  if (!t.node_id().empty()) tasks_by_node_[t.node_id()].insert(t.id());
}

void Store::unindex_task(const storepb::TaskObject& t) {
  auto drop = [&](TaskIndex& index, const std::string& key) {
    auto it = index.find(key);
    if (it == index.end()) return;
    it->second.erase(t.id());
    if (it->second.empty()) index.erase(it);
  };
  drop(tasks_by_service_, t.service_id());
  if (!t.node_id().empty()) drop(tasks_by_node_, t.node_id());
}

Status Store::check_action(const storepb::StoreAction& a) const {
  switch (a.object_case()) {
    case storepb::StoreAction::kNode: {
      auto it = nodes_.find(a.node().id());
      if (a.node().id().empty()) return Status::invalid_argument("node without an id");
      return check_versioned(a, it == nodes_.end() ? nullptr : &it->second, a.node());
    }
    case storepb::StoreAction::kConfig: {
      const auto& c = a.config();
      if (c.id().empty()) return Status::invalid_argument("config without an id");
      if (c.data().size() > kMaxConfigBytes) {
        return Status::invalid_argument("config data too long (" + std::to_string(c.data().size()) +
                                        " bytes; at most 1000 KiB)");
      }
      auto it = configs_.find(c.id());
      if (Status s = check_versioned(a, it == configs_.end() ? nullptr : &it->second, c); !s.ok()) return s;
      return check_name_free(config_names_, a, c.id(), c.spec().name(), "config");
    }
    case storepb::StoreAction::kSecret: {
      const auto& c = a.secret();
      if (c.id().empty()) return Status::invalid_argument("secret without an id");
      if (c.data().size() > kMaxSecretBytes) {
        return Status::invalid_argument("secret data too long (" + std::to_string(c.data().size()) +
                                        " bytes; at most 500 KiB)");
      }
      auto it = secrets_.find(c.id());
      if (Status s = check_versioned(a, it == secrets_.end() ? nullptr : &it->second, c); !s.ok()) return s;
      return check_name_free(secret_names_, a, c.id(), c.spec().name(), "secret");
    }
    case storepb::StoreAction::kCluster:
      if (a.kind() == storepb::StoreAction::REMOVE) return Status::invalid_argument("the cluster cannot be removed");
      return check_versioned(a, has_cluster_ ? &cluster_ : nullptr, a.cluster());
    case storepb::StoreAction::kService: {
      const auto& svc = a.service();
      if (svc.id().empty()) return Status::invalid_argument("service without an id");
      auto it = services_.find(svc.id());
      if (Status s = check_versioned(a, it == services_.end() ? nullptr : &it->second, svc); !s.ok()) return s;
      if (a.kind() == storepb::StoreAction::UPDATE && svc.spec().annotations().name() != it->second.spec().annotations().name()) {
        return Status::invalid_argument("a service cannot be renamed");
      }
      return check_name_free(service_names_, a, svc.id(), svc.spec().annotations().name(), "service");
    }
    case storepb::StoreAction::kTask: {
      const auto& t = a.task();
      if (t.id().empty()) return Status::invalid_argument("task without an id");
      if (a.kind() == storepb::StoreAction::CREATE && t.service_id().empty()) {
        return Status::invalid_argument("task " + t.id() + " names no service");
      }
      auto it = tasks_.find(t.id());
      const storepb::TaskObject* stored = it == tasks_.end() ? nullptr : &it->second;
      if (Status s = check_versioned(a, stored, t); !s.ok()) return s;
      if (stored && a.kind() == storepb::StoreAction::UPDATE) {
        if (t.service_id() != stored->service_id() || t.slot() != stored->slot()) {
          return Status::invalid_argument("task " + t.id() + " cannot move to another service or slot");
        }
        if (t.desired_state() < stored->desired_state() || t.status().state() < stored->status().state()) {
          return Status::invalid_argument("task " + t.id() + ": states only move forward");
        }
      }
      return {};
    }
    case storepb::StoreAction::kTaskStatus:
      // Reports race with everything else by nature: one about a task that is gone, or that is
      // behind what is stored, changes nothing rather than failing the batch it came in.
      if (a.kind() != storepb::StoreAction::UPDATE) return Status::invalid_argument("a task status can only be updated");
      if (a.task_status().task_id().empty()) return Status::invalid_argument("task status without a task id");
      return {};
    default:
      return Status::invalid_argument("store action names no object");
  }
}

Status Store::check(const storepb::Transaction& tx) const {
  // Actions are checked against the state as it stands; a transaction that creates and then
  // updates the same object is not something any caller needs.
  for (const auto& a : tx.actions()) {
    if (Status s = check_action(a); !s.ok()) return s;
  }
  return {};
}

void Store::apply_action(storepb::StoreAction a, uint64_t index, int64_t now_ns) {
  const auto kind = a.kind();
  switch (a.object_case()) {
    case storepb::StoreAction::kNode: put_or_remove(nodes_, kind, std::move(*a.mutable_node()), index, now_ns, bugs_); break;
    case storepb::StoreAction::kConfig:
      if (auto it = configs_.find(a.config().id()); it != configs_.end()) config_names_.erase(it->second.spec().name());
      if (kind != storepb::StoreAction::REMOVE) config_names_.set(a.config().spec().name(), a.config().id());
      put_or_remove(configs_, kind, std::move(*a.mutable_config()), index, now_ns, bugs_);
      break;
    case storepb::StoreAction::kSecret:
      if (auto it = secrets_.find(a.secret().id()); it != secrets_.end()) secret_names_.erase(it->second.spec().name());
      if (kind != storepb::StoreAction::REMOVE) secret_names_.set(a.secret().spec().name(), a.secret().id());
      put_or_remove(secrets_, kind, std::move(*a.mutable_secret()), index, now_ns, bugs_);
      break;
    case storepb::StoreAction::kService:
      if (auto it = services_.find(a.service().id()); it != services_.end()) {
        service_names_.erase(it->second.spec().annotations().name());
      }
      if (kind != storepb::StoreAction::REMOVE) service_names_.set(a.service().spec().annotations().name(), a.service().id());
      put_or_remove(services_, kind, std::move(*a.mutable_service()), index, now_ns, bugs_);
      break;
    case storepb::StoreAction::kTask:
      if (auto it = tasks_.find(a.task().id()); it != tasks_.end()) unindex_task(it->second);
      if (kind != storepb::StoreAction::REMOVE) index_task(a.task());
      if (kind == storepb::StoreAction::CREATE) {
        a.mutable_task()->set_created_index(index);
      } else if (auto it = tasks_.find(a.task().id()); it != tasks_.end()) {
        a.mutable_task()->set_created_index(it->second.created_index());  // a writer cannot move it
      }
      put_or_remove(tasks_, kind, std::move(*a.mutable_task()), index, now_ns, bugs_);
      break;
    case storepb::StoreAction::kTaskStatus: {
      auto it = tasks_.find(a.task_status().task_id());
      if (it == tasks_.end() || a.task_status().status().state() < it->second.status().state()) break;
      *it->second.mutable_status() = std::move(*a.mutable_task_status()->mutable_status());
      it->second.set_updated_at_ns(now_ns);
      check_version_grows("task", it->second.id(), it->second.version(), index, index);
      it->second.set_version(index);
      break;
    }
    case storepb::StoreAction::kCluster: {
      storepb::ClusterObject c = std::move(*a.mutable_cluster());
      c.set_created_at_ns(has_cluster_ ? cluster_.created_at_ns() : now_ns);
      c.set_updated_at_ns(now_ns);
      c.set_version(index);
      cluster_ = std::move(c);
      has_cluster_ = true;
      break;
    }
    default: break;
  }
}

void Store::when_applied(uint64_t index, std::function<void()> fn) {
  if (index <= last_index_) {
    fn();
    return;
  }
  waiting_apply_.emplace(index, std::move(fn));
}

void Store::run_waiting() {
  while (!waiting_apply_.empty() && waiting_apply_.begin()->first <= last_index_) {
    auto fn = std::move(waiting_apply_.begin()->second);
    waiting_apply_.erase(waiting_apply_.begin());
    fn();
  }
}

void Store::apply(const raft::raftpb::Entry& entry) {
  SHOAL_CHECK(entry.index() > last_index_, "store: entry %lu applied after entry %lu", entry.index(), last_index_);
  last_index_ = entry.index();
  apply_entry(entry);
  run_waiting();
}

void Store::apply_entry(const raft::raftpb::Entry& entry) {
  if (entry.data().empty()) return;  // a leader's empty entry
  storepb::Transaction tx;
  if (!tx.ParseFromString(entry.data())) {
    failed_[entry.index()] = Status::corruption("committed entry is not a store transaction");
    return;
  }
  if (Status s = check(tx); !s.ok()) {
    failed_[entry.index()] = s;
    // Outcomes nobody takes (a proposer that moved on) must not pile up.
    while (failed_.size() > 1024) failed_.erase(failed_.begin());
    return;
  }
  for (auto& a : *tx.mutable_actions()) {
    apply_action(a, entry.index(), tx.now_ns());
    for (auto& w : watchers_) w(a);
  }
}

Status Store::take_result(uint64_t index) {
  auto it = failed_.find(index);
  if (it == failed_.end()) return {};
  Status s = it->second;
  failed_.erase(it);
  return s;
}

// Written field by field as a StoreSnapshot (the same bytes as building one and serializing
// it), without copying every object into a message first: a store of many objects is
// snapshotted every few thousand entries, and copying every object would cost more than
// writing it.
std::string Store::snapshot() const {
  using google::protobuf::internal::WireFormatLite;
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    auto put = [&coded](int field, const google::protobuf::MessageLite& m) {
      coded.WriteTag(WireFormatLite::MakeTag(field, WireFormatLite::WIRETYPE_LENGTH_DELIMITED));
      coded.WriteVarint32(static_cast<uint32_t>(m.ByteSizeLong()));
      m.SerializeWithCachedSizes(&coded);
    };
    for (const auto& [id, n] : nodes_) put(storepb::StoreSnapshot::kNodesFieldNumber, n);
    for (const auto& [id, c] : configs_) put(storepb::StoreSnapshot::kConfigsFieldNumber, c);
    for (const auto& [id, s] : secrets_) put(storepb::StoreSnapshot::kSecretsFieldNumber, s);
    for (const auto& [id, s] : services_) put(storepb::StoreSnapshot::kServicesFieldNumber, s);
    for (const auto& [id, t] : tasks_) put(storepb::StoreSnapshot::kTasksFieldNumber, t);
    if (has_cluster_) put(storepb::StoreSnapshot::kClusterFieldNumber, cluster_);
    coded.WriteTag(WireFormatLite::MakeTag(storepb::StoreSnapshot::kLastIndexFieldNumber, WireFormatLite::WIRETYPE_VARINT));
    coded.WriteVarint64(last_index_);
  }
  return out;
}

void Store::restore(std::string_view data) {
  storepb::StoreSnapshot snap;
  const bool parsed = snap.ParseFromArray(data.data(), static_cast<int>(data.size()));
  // The snapshot came through Raft from a sealed store; failing to parse it is a broken invariant.
  SHOAL_CHECK(parsed, "store snapshot does not parse");
  nodes_.clear();
  configs_.clear();
  secrets_.clear();
  services_.clear();
  tasks_.clear();
  tasks_by_service_.clear();
  tasks_by_node_.clear();
  for (auto& n : *snap.mutable_nodes()) nodes_[n.id()] = n;
  for (auto& c : *snap.mutable_configs()) configs_[c.id()] = c;
  for (auto& s : *snap.mutable_secrets()) secrets_[s.id()] = s;
  for (auto& s : *snap.mutable_services()) services_[s.id()] = s;
  for (auto& t : *snap.mutable_tasks()) {
    index_task(t);
    tasks_[t.id()] = t;
  }
  index_names(configs_, config_names_);
  index_names(secrets_, secret_names_);
  service_names_.clear();
  for (const auto& [id, svc] : services_) service_names_.set(svc.spec().annotations().name(), id);
  has_cluster_ = snap.has_cluster();
  if (has_cluster_) cluster_ = snap.cluster();
  last_index_ = snap.last_index();
  // Watchers learn the restored state as a set of creates.
  for (const auto& [id, n] : nodes_) {
    storepb::StoreAction a;
    *a.mutable_node() = n;
    for (auto& w : watchers_) w(a);
  }
  run_waiting();
}

void Store::check_invariants() const {
  if (last_index_ == checked_index_) return;  // nothing applied since the previous check
  checked_index_ = last_index_;
  SHOAL_CHECK(config_names_.size() == configs_.size(), "store: %zu config names for %zu configs", config_names_.size(),
              configs_.size());
  SHOAL_CHECK(secret_names_.size() == secrets_.size(), "store: %zu secret names for %zu secrets", secret_names_.size(),
              secrets_.size());
  SHOAL_CHECK(service_names_.size() == services_.size(), "store: %zu service names for %zu services",
              service_names_.size(), services_.size());
  size_t by_service = 0;
  for (const auto& [service, ids] : tasks_by_service_) by_service += ids.size();
  SHOAL_CHECK(by_service == tasks_.size(), "store: %zu tasks indexed by service, %zu stored", by_service, tasks_.size());
  SHOAL_CHECK(!has_cluster_ || cluster_.version() <= last_index_, "store: cluster at version %lu past index %lu",
              cluster_.version(), last_index_);
}

}  // namespace shoal::store
