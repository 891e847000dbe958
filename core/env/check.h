// SHOAL_CHECK: an assertion that stays on in release builds and aborts with context.
// Use it for programmer errors (broken invariants), never for bad input: bad input gets a Status.
#pragma once

#include <cstdio>
#include <cstdlib>

#define SHOAL_CHECK(cond, ...)                                                         \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      std::fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);   \
      std::fprintf(stderr, "" __VA_ARGS__);                                            \
      std::fprintf(stderr, "\n");                                                      \
      std::abort();                                                                    \
    }                                                                                  \
  } while (0)
