#include <gtest/gtest.h>

#include "api/dashboard.h"

namespace leadgate {
namespace {

TEST(DashboardCookie, SecureUnlessListeningOnLoopbackOnly) {
  EXPECT_FALSE(secure_session_cookie("127.0.0.1"));
  EXPECT_FALSE(secure_session_cookie("127.0.0.2"));
  EXPECT_FALSE(secure_session_cookie("::1"));
  EXPECT_FALSE(secure_session_cookie("localhost"));
  EXPECT_TRUE(secure_session_cookie("0.0.0.0"));
  EXPECT_TRUE(secure_session_cookie("::"));
  EXPECT_TRUE(secure_session_cookie("10.1.2.3"));
  EXPECT_TRUE(secure_session_cookie("leadgate.internal"));  // a name: assume a real network
}

}  // namespace
}  // namespace leadgate
