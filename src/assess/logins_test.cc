#include "assess/logins.h"

#include <gtest/gtest.h>

namespace warden::assess {
namespace {

ByteView B(std::string_view s) { return AsBytes(s); }

TEST(Telnet, EveryOptionIsRefusedAndCommandsLeaveTheText) {
  TelnetDecoder d;
  Bytes replies;
  // WILL ECHO, DO TTYPE, a TTYPE subnegotiation, then the prompt, split in
  // the middle of a command.
  const std::string a = "\xff\xfb\x01\xff\xfd";
  const std::string b =
      "\x18\xff\xfa\x18\x01\xff\xf0"
      "camera login: ";
  d.Feed(B(a), &replies);
  d.Feed(B(b), &replies);
  EXPECT_EQ(d.text(), "camera login: ");
  const Bytes want = {255, 254, 1, 255, 252, 24};  // DONT ECHO, WONT TTYPE
  EXPECT_EQ(replies, want);
  EXPECT_EQ(ClassifyTelnetText(d.text(), false), TelnetPrompt::kLogin);
}

TEST(Telnet, TextKeptIsBounded) {
  TelnetDecoder d;
  Bytes replies;
  const std::string flood(3 * kMaxLoginConversationBytes, 'A');
  d.Feed(B(flood), &replies);
  EXPECT_EQ(d.text().size(), kMaxLoginConversationBytes);
}

TEST(Telnet, PromptsAndVerdicts) {
  // A banner's warning is not a refusal before anything was sent.
  EXPECT_EQ(ClassifyTelnetText("Unauthorized access denied\r\nLogin: ", false),
            TelnetPrompt::kLogin);
  EXPECT_EQ(ClassifyTelnetText("root\r\nPassword: ", false),
            TelnetPrompt::kPassword);
  EXPECT_EQ(ClassifyTelnetText("Welcome to the camera", false),
            TelnetPrompt::kNone);
  EXPECT_EQ(ClassifyTelnetText("\r\nLogin incorrect\r\n", true),
            TelnetPrompt::kRefused);
  EXPECT_EQ(ClassifyTelnetText("\r\ncamera login: ", true),
            TelnetPrompt::kRefused);
  EXPECT_EQ(ClassifyTelnetText("\r\nBusyBox v1.35 built-in shell\r\n# ", true),
            TelnetPrompt::kShell);
  EXPECT_EQ(ClassifyTelnetText("\r\nuser@cam:~$ ", true), TelnetPrompt::kShell);
  // Nothing decisive after the password: no verdict, never "accepted".
  EXPECT_EQ(ClassifyTelnetText("\r\nplease wait", true), TelnetPrompt::kNone);
}

TEST(Ftp, RepliesSingleAndMultiLine) {
  size_t used = 0;
  Result<std::optional<FtpReply>> r = ParseFtpReply(
      "220-Welcome\r\n220-camera\r\n220 ready\r\n331 x\r\n", &used);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->code, 220);
  EXPECT_EQ((*r)->text, "220-Welcome | 220-camera | 220 ready");
  EXPECT_EQ(used, 36u);
  // A line starting with another code does not end a multi-line reply.
  r = ParseFtpReply("220-a\r\n331 b\r\n", &used);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
  r = ParseFtpReply("530 Login incorrect.\r\n", &used);
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ((*r)->code, 530);
  r = ParseFtpReply("53", &used);  // not yet complete
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
  EXPECT_FALSE(ParseFtpReply("HTTP/1.1 400\r\n", &used).ok());
  EXPECT_FALSE(ParseFtpReply("2200 x\r\n", &used).ok());
}

TEST(Ftp, AnEndlessReplyIsRefusedAtTheBound) {
  size_t used = 0;
  std::string endless = "220-";
  endless += std::string(kMaxLoginConversationBytes, 'x');
  Result<std::optional<FtpReply>> r = ParseFtpReply(endless, &used);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kResourceExhausted);
  std::string lines = "220-hello\r\n";
  while (lines.size() <= kMaxLoginConversationBytes) lines += "220-more\r\n";
  r = ParseFtpReply(lines, &used);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kResourceExhausted);
}

TEST(Ftp, ReplyCodesDecideTheAttempt) {
  EXPECT_EQ(ClassifyFtpReply({331, ""}, false), std::nullopt);
  EXPECT_EQ(ClassifyFtpReply({230, ""}, false), AttemptOutcome::kAccepted);
  EXPECT_EQ(ClassifyFtpReply({230, ""}, true), AttemptOutcome::kAccepted);
  EXPECT_EQ(ClassifyFtpReply({530, ""}, true), AttemptOutcome::kRefused);
  EXPECT_EQ(ClassifyFtpReply({421, ""}, true), AttemptOutcome::kThrottled);
  EXPECT_EQ(ClassifyFtpReply({500, ""}, true), AttemptOutcome::kNoAnswer);
}

// RFC 7616 section 3.9.1: the same request answered with MD5 and SHA-256.
TEST(Digest, Rfc7616Examples) {
  const std::string params =
      "realm=\"http-auth@example.org\", qop=\"auth, auth-int\", "
      "nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", "
      "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";
  const std::string cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
  Result<DigestChallenge> md5 =
      ParseDigestChallenge("Digest " + params + ", algorithm=MD5");
  ASSERT_TRUE(md5.ok()) << md5.status().message();
  EXPECT_TRUE(md5->qop_auth);
  const std::string a = DigestAuthorization(*md5, "Mufasa", "Circle of Life",
                                            "GET", "/dir/index.html", cnonce);
  EXPECT_NE(a.find("response=\"8ca523f5e9506fed4657c9700eebdbec\""),
            std::string::npos)
      << a;
  EXPECT_NE(a.find("opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""),
            std::string::npos);
  EXPECT_NE(a.find("qop=auth, nc=00000001"), std::string::npos);
  Result<DigestChallenge> sha =
      ParseDigestChallenge("Digest " + params + ", algorithm=SHA-256");
  ASSERT_TRUE(sha.ok());
  const std::string b = DigestAuthorization(*sha, "Mufasa", "Circle of Life",
                                            "GET", "/dir/index.html", cnonce);
  EXPECT_NE(b.find("response=\"753927fa0e85d155564e2e272a28d1802ca10daf449679"
                   "4697cf8db5856cb6c1\""),
            std::string::npos)
      << b;
}

// RFC 2617 section 3.5: MD5 by default, the realm with an '@'.
TEST(Digest, Rfc2617Example) {
  Result<DigestChallenge> c = ParseDigestChallenge(
      "Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", "
      "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
      "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->algorithm, "MD5");
  const std::string a = DigestAuthorization(
      *c, "Mufasa", "Circle Of Life", "GET", "/dir/index.html", "0a4f113b");
  EXPECT_NE(a.find("response=\"6629fae49393a05397450978507c4ef1\""),
            std::string::npos)
      << a;
}

TEST(Digest, ChallengesOutsideTheRulesAreRefused) {
  EXPECT_FALSE(ParseDigestChallenge("Basic realm=\"x\"").ok());
  EXPECT_FALSE(ParseDigestChallenge("Digest realm=\"x\"").ok());  // no nonce
  EXPECT_FALSE(ParseDigestChallenge("Digest nonce=\"1\"").ok());  // no realm
  EXPECT_FALSE(
      ParseDigestChallenge("Digest realm=\"x\", nonce=\"1\", qop=\"auth-int\"")
          .ok());
  EXPECT_FALSE(
      ParseDigestChallenge("Digest realm=\"x\", nonce=\"1\", algorithm=SHA1")
          .ok());
  EXPECT_FALSE(ParseDigestChallenge("Digest realm=\"x, nonce=\"1").ok());
  EXPECT_FALSE(ParseDigestChallenge("Digest realm=\"x\", nonce=\"" +
                                    std::string(2000, 'n') + "\"")
                   .ok());
  Result<DigestChallenge> escaped =
      ParseDigestChallenge("Digest realm=\"a\\\"b\", nonce=\"1\"");
  ASSERT_TRUE(escaped.ok());
  EXPECT_EQ(escaped->realm, "a\"b");
  EXPECT_FALSE(escaped->qop_auth);
}

TEST(Digest, TheStrongestChallengeOfAReplyIsTaken) {
  Result<DigestChallenge> c = DigestChallengeOf(
      B("HTTP/1.1 401 Unauthorized\r\n"
        "WWW-Authenticate: Basic realm=\"cam\"\r\n"
        "WWW-Authenticate: Digest realm=\"cam\", nonce=\"1\", algorithm=MD5\r\n"
        "WWW-Authenticate: Digest realm=\"cam\", nonce=\"2\", "
        "algorithm=SHA-256\r\nContent-Length: 0\r\n\r\n"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->algorithm, "SHA-256");
  EXPECT_EQ(c->nonce, "2");
  EXPECT_FALSE(DigestChallengeOf(B("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
                                   "WWW-Authenticate: Digest realm=\"c\", "
                                   "nonce=\"1\"\r\n\r\n"))
                   .ok());
}

TEST(Form, TheLoginFormIsFoundWithItsHiddenFields) {
  std::optional<LoginForm> f = FindLoginForm(
      "<html><form method=get action=/search><input name=q></form>"
      "<FORM Method='POST' Action='login.cgi'>"
      "<input type=hidden name=csrf value=\"a&amp;b\">"
      "<input name=\"user\" autocomplete=off>"
      "<input type=\"password\" name=\"pass\"><input type=submit value=Go>"
      "</FORM></html>",
      "/admin/index.html");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->action, "/admin/login.cgi");
  EXPECT_EQ(f->user_field, "user");
  EXPECT_EQ(f->password_field, "pass");
  ASSERT_EQ(f->hidden.size(), 1u);
  EXPECT_EQ(f->hidden[0].second, "a&b");
  EXPECT_EQ(FormBody(*f, "ad min", "p&w=1"),
            "csrf=a%26b&user=ad+min&pass=p%26w%3D1");
}

TEST(Form, OnlyALoginFormOnThisDeviceIsTried) {
  // A form that posts elsewhere is never followed.
  EXPECT_FALSE(FindLoginForm("<form method=post action=\"https://cloud."
                             "example/login\"><input name=u>"
                             "<input type=password name=p></form>",
                             "/")
                   .has_value());
  EXPECT_FALSE(FindLoginForm("<form method=post action=\"javascript:go()\">"
                             "<input name=u><input type=password name=p>"
                             "</form>",
                             "/")
                   .has_value());
  // Changing a password (two password fields) is not a login.
  EXPECT_FALSE(FindLoginForm("<form method=post><input name=u>"
                             "<input type=password name=old>"
                             "<input type=password name=new></form>",
                             "/")
                   .has_value());
  // A form posting by GET would put the password in the URL: not tried.
  EXPECT_FALSE(FindLoginForm("<form><input name=u><input type=password "
                             "name=p></form>",
                             "/")
                   .has_value());
  // Empty action: the page itself.
  std::optional<LoginForm> f = FindLoginForm(
      "<form method=post><input name=u><input type=password name=p></form>",
      "/login");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->action, "/login");
}

TEST(Form, RepliesToAPostAreClassified) {
  std::string why;
  EXPECT_EQ(ClassifyFormAttempt(B("HTTP/1.1 302 Found\r\nLocation: "
                                  "/login.html?error=1\r\nContent-Length: "
                                  "0\r\n\r\n"),
                                "/", &why),
            AttemptOutcome::kRefused);
  EXPECT_EQ(ClassifyFormAttempt(B("HTTP/1.1 303 See Other\r\nLocation: "
                                  "http://10.0.0.5/\r\nContent-Length: "
                                  "0\r\n\r\n"),
                                "/", &why),
            AttemptOutcome::kRefused);  // back to the form's page
  EXPECT_EQ(ClassifyFormAttempt(B("HTTP/1.1 302 Found\r\nLocation: "
                                  "/status.html\r\nContent-Length: 0\r\n\r\n"),
                                "/", &why),
            AttemptOutcome::kAccepted);
  const std::string form =
      "<form method=post><input name=u><input type=password name=p></form>";
  EXPECT_EQ(
      ClassifyFormAttempt(B("HTTP/1.1 200 OK\r\nContent-Length: " +
                            std::to_string(form.size()) + "\r\n\r\n" + form),
                          "/", &why),
      AttemptOutcome::kRefused);
  EXPECT_EQ(ClassifyFormAttempt(B("HTTP/1.1 200 OK\r\nContent-Length: 16\r\n"
                                  "\r\nInvalid password"),
                                "/", &why),
            AttemptOutcome::kRefused);
  EXPECT_EQ(ClassifyFormAttempt(B("HTTP/1.1 200 OK\r\nContent-Length: 15\r\n"
                                  "\r\nCamera settings"),
                                "/", &why),
            AttemptOutcome::kAccepted);
  EXPECT_EQ(ClassifyFormAttempt(B("HTTP/1.1 429 Too Many Requests\r\n"
                                  "Content-Length: 0\r\n\r\n"),
                                "/", &why),
            AttemptOutcome::kThrottled);
  EXPECT_EQ(ClassifyFormAttempt(B("HTTP/1.1 200 OK\r\nRetry-After: 60\r\n"
                                  "Content-Length: 0\r\n\r\n"),
                                "/", &why),
            AttemptOutcome::kThrottled);
  EXPECT_EQ(ClassifyFormAttempt(B("HTTP/1.1 404 Not Found\r\n"
                                  "Content-Length: 0\r\n\r\n"),
                                "/", &why),
            AttemptOutcome::kNoAnswer);
}

TEST(Ssh, BannerLine) {
  EXPECT_EQ(ParseSshBanner(B("SSH-2.0-dropbear_2022.83\r\n")),
            "SSH-2.0-dropbear_2022.83");
  EXPECT_EQ(ParseSshBanner(B("SSH-2.0-no-end")), std::nullopt);
  EXPECT_EQ(ParseSshBanner(B("220 ftp\r\n")), std::nullopt);
  EXPECT_EQ(ParseSshBanner(B("SSH-" + std::string(300, 'x') + "\r\n")),
            std::nullopt);
}

TEST(RunCredentials, StopsAtTheFirstPairAccepted) {
  const std::vector<CredentialPair> pairs = {
      {"root", "a"}, {"root", "b"}, {"admin", "c"}, {"admin", "d"}};
  size_t calls = 0;
  CredentialRun run =
      RunCredentials(LoginSurface::kTelnet, 23, false, pairs,
                     [&](const CredentialPair& p, std::string* why) {
                       ++calls;
                       *why = "answer";
                       return p.password == "c" ? AttemptOutcome::kAccepted
                                                : AttemptOutcome::kRefused;
                     });
  EXPECT_EQ(calls, 3u);
  ASSERT_TRUE(run.accepted.has_value());
  EXPECT_EQ(run.accepted->user, "admin");
  TestUnit u = JudgeDefaultCredentials(run);
  EXPECT_EQ(u.verdict, Verdict::kFail);
  EXPECT_EQ(u.title.find("telnet login"), 0u);
  for (const std::string& s : u.evidence.sent) {
    EXPECT_EQ(s.find("\"c\""), std::string::npos) << s;
  }
}

TEST(RunCredentials, ThrottlingStopsTheRunAndNothingIsTriedTwice) {
  std::vector<CredentialPair> pairs;
  for (int i = 0; i < 20; ++i) pairs.push_back({"u", std::to_string(i)});
  size_t calls = 0;
  CredentialRun run =
      RunCredentials(LoginSurface::kFtp, 21, false, pairs,
                     [&](const CredentialPair&, std::string* why) {
                       *why = "421";
                       return ++calls > 4 ? AttemptOutcome::kThrottled
                                          : AttemptOutcome::kRefused;
                     });
  EXPECT_EQ(calls, 5u);
  EXPECT_EQ(JudgeThrottling(run).verdict, Verdict::kPass);
  EXPECT_EQ(JudgeDefaultCredentials(run).verdict, Verdict::kInconclusive);
}

}  // namespace
}  // namespace warden::assess
