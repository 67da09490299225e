// check_customer (issue 20 §2): what an app key's call about a customer needs, at its boundaries.
#include "domain/customer_access.h"

#include <gtest/gtest.h>

namespace leadgate {
namespace {

TEST(CustomerAccess, ServerKeysNeedNoToken) {
  const CustomerAccess server;  // not required
  EXPECT_EQ(check_customer(server, "orbit", "bidx-a"), CustomerVerdict::allowed);
  EXPECT_EQ(check_customer(server, "homfinity", ""), CustomerVerdict::allowed);
}

TEST(CustomerAccess, AppKeysWithoutAValidTokenAreAskedForOne) {
  const CustomerAccess none{true, "", ""};
  EXPECT_EQ(check_customer(none, "orbit", "bidx-a"), CustomerVerdict::token_required);
  EXPECT_EQ(check_customer({true, "orbit", ""}, "orbit", "bidx-a"),
            CustomerVerdict::token_required);
}

TEST(CustomerAccess, AppKeysNeedTheSameEnvironmentAndPhone) {
  const CustomerAccess token{true, "orbit", "bidx-a"};
  EXPECT_EQ(check_customer(token, "orbit", "bidx-a"), CustomerVerdict::allowed);
  EXPECT_EQ(check_customer(token, "orbit", "bidx-b"), CustomerVerdict::mismatch);
  EXPECT_EQ(check_customer(token, "homfinity", "bidx-a"), CustomerVerdict::mismatch);
  EXPECT_EQ(check_customer(token, "orbit", ""), CustomerVerdict::mismatch);  // no phone known
}

TEST(CustomerAccess, KeyKinds) {
  EXPECT_TRUE(is_key_kind("server"));
  EXPECT_TRUE(is_key_kind("app"));
  EXPECT_FALSE(is_key_kind("App"));
  EXPECT_FALSE(is_key_kind(""));
  EXPECT_FALSE(is_key_kind("ops"));
}

}  // namespace
}  // namespace leadgate
