// shoal secret create|ls|inspect|rm: the config commands (config.cc) on /secrets, where the
// daemon never returns data and the CLI never prints any.
#include "io_real/cli/commands.h"

namespace shoal::real {

void add_secret_commands(CLI::App& app, Context& ctx) {
  add_stored_object_commands(app, ctx, {"secret", "/secrets", /*is_secret=*/true});
}

}  // namespace shoal::real
