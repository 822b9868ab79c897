// Test helpers shared by every engine test (as leveldb's util/testutil.h): assertions on Status
// and Result<T> that print the error message when they fail.
#pragma once

#include <gtest/gtest.h>

#include "base/status.h"

namespace nflux::testing {

inline Status StatusOf(const Status& status) { return status; }
template <typename T>
Status StatusOf(const Result<T>& result) {
  return result.status();
}

}  // namespace nflux::testing

// ASSERT_OK(expr) / EXPECT_OK(expr): expr is a Status or a Result<T>; on failure the message of
// the error is printed.
#define ASSERT_OK(expr)                                                             \
  do {                                                                              \
    const ::nflux::Status nflux_status_ = ::nflux::testing::StatusOf(expr);         \
    ASSERT_TRUE(nflux_status_.ok()) << #expr << ": " << nflux_status_.message();    \
  } while (0)
#define EXPECT_OK(expr)                                                             \
  do {                                                                              \
    const ::nflux::Status nflux_status_ = ::nflux::testing::StatusOf(expr);         \
    EXPECT_TRUE(nflux_status_.ok()) << #expr << ": " << nflux_status_.message();    \
  } while (0)
