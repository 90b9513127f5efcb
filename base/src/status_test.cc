#include "heapsnap/base/status.h"

#include <gtest/gtest.h>

namespace heapsnap {
namespace {

StatusOr<int> Parse(bool ok) {
  if (!ok) return DataLoss("not a number");
  return 41;
}

StatusOr<int> AddOne(bool ok) {
  HEAPSNAP_ASSIGN_OR_RETURN(int value, Parse(ok));
  return value + 1;
}

Status Check(bool ok) {
  HEAPSNAP_ASSIGN_OR_RETURN(int value, Parse(ok));
  HEAPSNAP_ASSIGN_OR_RETURN(value, Parse(ok));  // assigns to an existing variable
  return value == 41 ? Status::Ok() : Internal("wrong");
}

TEST(Status, AssignOrReturnPassesValuesOnAndErrorsOut) {
  StatusOr<int> good = AddOne(true);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 42);
  StatusOr<int> bad = AddOne(false);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(bad.status().message(), "not a number");
  EXPECT_TRUE(Check(true).ok());
  EXPECT_EQ(Check(false).code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace heapsnap
