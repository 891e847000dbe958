// shoal config create|ls|inspect|rm, and the code `shoal secret` shares with it.
//
//   create   POST {/configs,/secrets}/create {"Name", "Labels", "Data": base64} -> 201 {"ID"}
//   ls       GET /configs (or /secrets)
//   inspect  GET /configs/{id or name} for each (a secret's Spec.Data is never printed)
//   rm       DELETE /configs/{id or name} for each
#include <memory>
#include <ostream>

#include <CLI/CLI.hpp>

#include "io_real/api/http_types.h"
#include "io_real/cli/commands.h"
#include "io_real/cli/format.h"
#include "io_real/cli/views.h"

namespace shoal::real {

namespace {

struct CreateOptions {
  std::string name;
  std::string file;
  std::vector<std::string> labels;
};

Status run_create(Context& ctx, const ApiClient& client, const StoredObjectKind& kind, const CreateOptions& opts) {
  auto data = read_data_file(ctx, opts.file);
  if (!data.ok()) return data.status();
  const nlohmann::json body{{"Name", opts.name}, {"Labels", labels_json(opts.labels)}, {"Data", base64_encode(*data)}};
  auto r = client.post(kind.collection + "/create", body);
  if (!r.ok()) return r.status();
  ctx.io.out << str_at(*r, {"ID"}) << "\n";
  return Status::ok_status();
}

Status run_ls(Context& ctx, const ApiClient& client, const StoredObjectKind& kind, bool quiet) {
  auto list = client.get(kind.collection);
  if (!list.ok()) return list.status();
  if (!list->is_array()) return Status::io_error("the daemon's " + kind.noun + " list is not an array");
  std::vector<nlohmann::json> objects(list->begin(), list->end());
  sort_by_name(objects);
  if (quiet) {
    for (const auto& o : objects) ctx.io.out << str_at(o, {"ID"}) << "\n";
    return Status::ok_status();
  }
  ctx.io.out << object_table(objects, kind.is_secret, ctx.now_ns());
  return Status::ok_status();
}

struct InspectOptions {
  bool pretty = false;
  std::vector<std::string> refs;
};

Status run_inspect(Context& ctx, const ApiClient& client, const StoredObjectKind& kind, const InspectOptions& opts) {
  nlohmann::json found = nlohmann::json::array();
  std::string errors;
  for (const auto& ref : opts.refs) {
    auto o = client.get(kind.collection + "/" + real::percent_encode(ref), NotFound{kind.noun, ref});
    if (!o.ok()) {
      if (o.status().code() != StatusCode::kNotFound) return o.status();
      errors += (errors.empty() ? "" : "\n") + o.status().message();
      continue;
    }
    if (kind.is_secret && o->contains("Spec") && (*o)["Spec"].is_object()) (*o)["Spec"].erase("Data");
    found.push_back(std::move(*o));
  }
  if (opts.pretty) {
    for (size_t i = 0; i < found.size(); ++i) {
      if (i > 0) ctx.io.out << "\n\n";
      ctx.io.out << object_pretty(found[i], kind.is_secret);
    }
    if (!found.empty()) ctx.io.out << "\n";
  } else {
    ctx.io.out << inspect_json(found);
  }
  if (!errors.empty()) return Status::not_found(errors);
  return Status::ok_status();
}

Status run_rm(Context& ctx, const ApiClient& client, const StoredObjectKind& kind, const std::vector<std::string>& refs) {
  std::string errors;
  for (const auto& ref : refs) {
    auto r = client.del(kind.collection + "/" + real::percent_encode(ref), NotFound{kind.noun, ref});
    if (!r.ok()) {
      errors += (errors.empty() ? "" : "\n") + r.status().message();
      continue;
    }
    ctx.io.out << ref << "\n";
  }
  if (!errors.empty()) return Status::aborted(errors);
  return Status::ok_status();
}

}  // namespace

void add_stored_object_commands(CLI::App& app, Context& ctx, const StoredObjectKind& kind_in) {
  auto kind = std::make_shared<StoredObjectKind>(kind_in);
  const std::string Noun = pretty_word(kind->noun);
  auto* group = app.add_subcommand(kind->noun, "Manage Shoal " + kind->noun + "s");
  group->require_subcommand(1);

  auto create_opts = std::make_shared<CreateOptions>();
  auto* create = group->add_subcommand("create", "Create a " + kind->noun + " from a file or STDIN as content");
  create->add_option("-l,--label", create_opts->labels, Noun + " labels (key=value)");
  create->add_option("NAME", create_opts->name, Noun + " name")->required();
  create->add_option("FILE", create_opts->file, "File with the " + kind->noun + "'s content, or - for STDIN")->required();
  create->callback([&ctx, kind, create_opts] {
    ctx.run([&](const ApiClient& c) { return run_create(ctx, c, *kind, *create_opts); });
  });

  auto quiet = std::make_shared<bool>(false);
  auto* ls = group->add_subcommand("ls", "List " + kind->noun + "s");
  ls->alias("list");
  ls->add_flag("-q,--quiet", *quiet, "Only display IDs");
  ls->callback([&ctx, kind, quiet] { ctx.run([&](const ApiClient& c) { return run_ls(ctx, c, *kind, *quiet); }); });

  auto in_opts = std::make_shared<InspectOptions>();
  auto* inspect = group->add_subcommand("inspect", "Display detailed information on one or more " + kind->noun + "s");
  inspect->add_flag("--pretty", in_opts->pretty, "Print the information in a human friendly format");
  inspect->add_option(kind->noun == "config" ? "CONFIG" : "SECRET", in_opts->refs, Noun + " ID or name")->required();
  inspect->callback([&ctx, kind, in_opts] {
    ctx.run([&](const ApiClient& c) { return run_inspect(ctx, c, *kind, *in_opts); });
  });

  auto refs = std::make_shared<std::vector<std::string>>();
  auto* rm = group->add_subcommand("rm", "Remove one or more " + kind->noun + "s");
  rm->alias("remove");
  rm->add_option(kind->noun == "config" ? "CONFIG" : "SECRET", *refs, Noun + " ID or name")->required();
  rm->callback([&ctx, kind, refs] { ctx.run([&](const ApiClient& c) { return run_rm(ctx, c, *kind, *refs); }); });
}

void add_config_commands(CLI::App& app, Context& ctx) {
  add_stored_object_commands(app, ctx, {"config", "/configs", /*is_secret=*/false});
}

}  // namespace shoal::real
