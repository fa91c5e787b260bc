#include "assess/robustness.h"

#include <gtest/gtest.h>

namespace warden::assess {
namespace {

TEST(Robustness, HeldConnectionsVerdicts) {
  HeldFacts f;
  f.port = 8443;
  f.served_before = true;
  f.before = "GET / answered HTTP 404";
  f.held = kHeldConnections;
  f.served_while_held = true;
  f.while_held = "GET / answered HTTP 404";
  TestUnit u = JudgeHeldConnections(f);
  EXPECT_EQ(u.id, "robustness.8443.held_connections");
  EXPECT_EQ(u.verdict, Verdict::kPass);

  f.served_while_held = false;
  f.while_held = "GET / not answered (no more within the deadline)";
  EXPECT_EQ(JudgeHeldConnections(f).verdict, Verdict::kFail);

  // A device that stops accepting after 3 and then serves nobody fails;
  // one that serves with only 3 held proves nothing about 12.
  f.held = 3;
  f.hold_error = "The socket was closed due to a timeout";
  EXPECT_EQ(JudgeHeldConnections(f).verdict, Verdict::kFail);
  f.served_while_held = true;
  EXPECT_EQ(JudgeHeldConnections(f).verdict, Verdict::kInconclusive);
  f.held = 0;
  EXPECT_EQ(JudgeHeldConnections(f).verdict, Verdict::kInconclusive);
  f.held = kHeldConnections;
  f.served_before = false;
  EXPECT_EQ(JudgeHeldConnections(f).verdict, Verdict::kInconclusive);
}

}  // namespace
}  // namespace warden::assess
