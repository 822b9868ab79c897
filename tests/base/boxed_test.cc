// Boxed<T>: std::optional's behaviour with the value on the heap; copies are deep.
#include "base/boxed.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace nflux {
namespace {

TEST(Boxed, BehavesAsAnOptional) {
  Boxed<std::string> box;
  EXPECT_FALSE(box.has_value());
  EXPECT_FALSE(box);
  EXPECT_THROW(box.value(), std::bad_optional_access);
  box = std::string("ferritin");
  ASSERT_TRUE(box);
  EXPECT_EQ("ferritin", *box);
  EXPECT_EQ(8u, box->size());
  EXPECT_EQ("ferritin", box.value());
  box = std::nullopt;
  EXPECT_FALSE(box.has_value());
  EXPECT_EQ("ab", box.emplace(2, 'a').replace(1, 1, "b"));
  box.reset();
  EXPECT_FALSE(box);
}

TEST(Boxed, CopiesAreDeepAndMovesTakeTheBox) {
  Boxed<std::vector<int>> original = std::vector<int>{1, 2};
  Boxed<std::vector<int>> copy = original;
  copy->push_back(3);
  EXPECT_EQ((std::vector<int>{1, 2}), *original);
  EXPECT_EQ((std::vector<int>{1, 2, 3}), *copy);
  copy = original;
  EXPECT_EQ(*original, *copy);
  EXPECT_NE(&*original, &*copy);
  Boxed<std::vector<int>> empty;
  copy = empty;
  EXPECT_FALSE(copy);

  const std::vector<int>* held = &*original;
  Boxed<std::vector<int>> moved = std::move(original);
  EXPECT_EQ(held, &*moved);  // the same value, not a copy
  EXPECT_FALSE(original);    // NOLINT(bugprone-use-after-move): a moved-from box is empty
}

}  // namespace
}  // namespace nflux
