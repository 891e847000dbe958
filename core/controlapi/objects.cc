#include "core/controlapi/objects.h"

#include "core/store/object_id.h"

namespace shoal::controlapi {
namespace {

template <typename Obj>
Result<CreatedObject> create(const char* kind, Obj* (storepb::StoreAction::*mutable_in)(),
                             const storepb::Annotations& spec, std::string data, int64_t now_ns, Crypto& crypto) {
  if (spec.name().empty()) return Status::invalid_argument(std::string(kind) + " name is required");
  CreatedObject out;
  out.tx.set_now_ns(now_ns);
  auto* a = out.tx.add_actions();
  a->set_kind(storepb::StoreAction::CREATE);
  Obj* o = (a->*mutable_in)();
  o->set_id(store::new_object_id(crypto));
  *o->mutable_spec() = spec;
  o->set_data(std::move(data));
  out.id = o->id();
  return out;
}

template <typename Obj>
Result<storepb::Transaction> remove(const char* kind, const Obj* found, std::string_view ref,
                                    Obj* (storepb::StoreAction::*mutable_in)()) {
  if (!found) return Status::not_found(std::string(kind) + " " + std::string(ref) + " not found");
  storepb::Transaction tx;
  auto* a = tx.add_actions();
  a->set_kind(storepb::StoreAction::REMOVE);
  *(a->*mutable_in)() = *found;
  return tx;
}

}  // namespace

Result<CreatedObject> create_config(const storepb::Annotations& spec, std::string data, int64_t now_ns, Crypto& crypto) {
  return create("config", &storepb::StoreAction::mutable_config, spec, std::move(data), now_ns, crypto);
}

Result<CreatedObject> create_secret(const storepb::Annotations& spec, std::string data, int64_t now_ns, Crypto& crypto) {
  return create("secret", &storepb::StoreAction::mutable_secret, spec, std::move(data), now_ns, crypto);
}

Result<storepb::Transaction> remove_config(const store::Store& store, std::string_view ref) {
  return remove("config", store.find_config(ref), ref, &storepb::StoreAction::mutable_config);
}

Result<storepb::Transaction> remove_secret(const store::Store& store, std::string_view ref) {
  return remove("secret", store.find_secret(ref), ref, &storepb::StoreAction::mutable_secret);
}

}  // namespace shoal::controlapi
