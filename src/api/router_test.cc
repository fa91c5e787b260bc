#include "api/router.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <string>
#include <vector>

namespace warden::api {
namespace {

using http::status;
using http::verb;

// Owners by bearer token: "admin" and "member".
class FakeAuthenticator : public Authenticator {
 public:
  Result<Principal> Authenticate(const Request& request, Peer&) override {
    std::string_view auth = request[http::field::authorization];
    store::Owner owner;
    if (auth == "Bearer admin") {
      owner.name = "ada";
      owner.role = store::Role::kAdmin;
    } else if (auth == "Bearer member") {
      owner.name = "max";
      owner.role = store::Role::kMember;
    } else {
      return UnauthenticatedError("owner authentication required");
    }
    return Principal{owner, std::string(auth.substr(7))};
  }
};

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bus_.Subscribe([this](const events::Event& e) {
      events_.emplace_back(e.kind().name);
    });
    // Records what the handler was given and echoes it.
    auto echo = [this](Call& call) {
      ++calls_;
      schema::Json params = schema::Json::object();
      for (const auto& [k, v] : call.params) params[k] = v;
      return call.Json(status::ok,
                       {{"body", call.body},
                        {"params", params},
                        {"owner", call.principal ? call.owner().name : ""}});
    };
    ASSERT_TRUE(router_
                    .Add({verb::get, "/v1/things", Access::kPublic, "", false,
                          Immediate(echo)})
                    .ok());
    ASSERT_TRUE(router_
                    .Add({verb::put, "/v1/things/{name}", Access::kOwner,
                          R"({"type": "object", "required": ["size"],
                              "additionalProperties": false,
                              "properties": {"size": {"type": "integer",
                                                      "maximum": 10}}})",
                          false, Immediate(echo)})
                    .ok());
    ASSERT_TRUE(router_
                    .Add({verb::delete_, "/v1/things/{name}", Access::kAdmin,
                          "", false, Immediate(echo)})
                    .ok());
    ASSERT_TRUE(
        router_
            .Add({verb::post, "/v1/things/{name}/parts/{part}", Access::kOwner,
                  R"({"type": "object", "maxProperties": 0})", true,
                  Immediate(echo)})
            .ok());
  }

  Response Send(verb method, std::string target, std::string body = "",
                std::string bearer = "",
                std::string type = "application/json") {
    Request req(method, target, 11);
    if (!body.empty()) {
      req.set(http::field::content_type, type);
      req.body() = body;
      req.prepare_payload();
    }
    if (!bearer.empty())
      req.set(http::field::authorization, "Bearer " + bearer);
    boost::asio::io_context io;
    Response out;
    boost::asio::co_spawn(io, router_.Dispatch(std::move(req), peer_),
                          [&](std::exception_ptr e, Response r) {
                            ASSERT_FALSE(e);
                            out = std::move(r);
                          });
    io.run();
    return out;
  }

  static schema::Json Body(const Response& r) {
    return schema::Json::parse(r.body(), nullptr, false);
  }
  static schema::Json Error(const Response& r) { return Body(r)["error"]; }

  FakeClock clock_;
  events::Bus bus_{clock_};
  HttpLimits limits_;
  FakeAuthenticator auth_;
  Router router_{limits_, auth_, bus_};
  Peer peer_;
  std::vector<std::string> events_;
  int calls_ = 0;
};

TEST_F(RouterTest, UnknownPathsAre404AndOtherMethods405WithAllow) {
  EXPECT_EQ(Send(verb::get, "/v1/nothing").result(), status::not_found);
  EXPECT_EQ(Send(verb::get, "/v1/things/").result(), status::not_found);
  EXPECT_EQ(Send(verb::get, "/").result(), status::not_found);
  Response r = Send(verb::post, "/v1/things");
  EXPECT_EQ(r.result(), status::method_not_allowed);
  EXPECT_EQ(r[http::field::allow], "GET");
  r = Send(verb::get, "/v1/things/lamp");
  EXPECT_EQ(r.result(), status::method_not_allowed);
  EXPECT_EQ(r[http::field::allow], "PUT, DELETE");
  EXPECT_EQ(calls_, 0);
}

TEST_F(RouterTest, PathParametersArriveDecoded) {
  Response r = Send(verb::post, "/v1/things/living%20room/parts/a%2Fb?x=1", "",
                    "member");
  ASSERT_EQ(r.result(), status::ok) << r.body();
  EXPECT_EQ(Body(r)["params"]["name"], "living room");
  EXPECT_EQ(Body(r)["params"]["part"], "a/b");
  EXPECT_EQ(Body(r)["body"], schema::Json::object());
  EXPECT_EQ(Body(r)["owner"], "max");
  // A broken escape is refused, not guessed at.
  r = Send(verb::post, "/v1/things/a%2/parts/b", "", "member");
  EXPECT_EQ(r.result(), status::bad_request);
  EXPECT_EQ(Error(r)["rule"], "target");
  r = Send(verb::post, "/v1/things/a%00b/parts/b", "", "member");
  EXPECT_EQ(r.result(), status::bad_request);
}

TEST_F(RouterTest, OwnersAreAuthenticatedBeforeAnythingElse) {
  // Not even the body is looked at for a stranger.
  Response r = Send(verb::put, "/v1/things/lamp", "{not json");
  EXPECT_EQ(r.result(), status::unauthorized);
  EXPECT_EQ(Error(r)["code"], "unauthenticated");
  r = Send(verb::put, "/v1/things/lamp", R"({"size": 3})", "forged");
  EXPECT_EQ(r.result(), status::unauthorized);
  EXPECT_EQ(calls_, 0);
  r = Send(verb::get, "/v1/things");
  EXPECT_EQ(r.result(), status::ok);
  EXPECT_EQ(Body(r)["owner"], "");
}

TEST_F(RouterTest, AdministratorRoutesRefuseMembers) {
  Response r = Send(verb::delete_, "/v1/things/lamp", "", "member");
  EXPECT_EQ(r.result(), status::forbidden);
  EXPECT_EQ(Error(r)["code"], "permission_denied");
  EXPECT_EQ(Error(r)["rule"], "role");
  EXPECT_EQ(calls_, 0);
  EXPECT_EQ(events_, std::vector<std::string>{"access_denied"});
  r = Send(verb::delete_, "/v1/things/lamp", "", "admin");
  EXPECT_EQ(r.result(), status::ok);
  EXPECT_EQ(Body(r)["owner"], "ada");
}

TEST_F(RouterTest, BodiesAreCheckedAgainstTheRouteSchema) {
  Response r = Send(verb::put, "/v1/things/lamp", R"({"size": 11})", "member");
  EXPECT_EQ(r.result(), status::bad_request);
  EXPECT_EQ(Error(r)["field"], "/size");
  EXPECT_EQ(Error(r)["rule"], "maximum");
  EXPECT_EQ(Error(r)["message"], "size: 11 is greater than the maximum 10");
  r = Send(verb::put, "/v1/things/lamp", R"({})", "member");
  EXPECT_EQ(Error(r)["field"], "/size");
  EXPECT_EQ(Error(r)["rule"], "required");
  r = Send(verb::put, "/v1/things/lamp", R"({"size": 1, "colour": 2})",
           "member");
  EXPECT_EQ(Error(r)["field"], "/colour");
  EXPECT_EQ(Error(r)["rule"], "additionalProperties");
  r = Send(verb::put, "/v1/things/lamp", "", "member");
  EXPECT_EQ(r.result(), status::bad_request);  // a body is required
  EXPECT_EQ(Error(r)["rule"], "body");
  r = Send(verb::put, "/v1/things/lamp", R"({"size": 1})", "member",
           "text/plain");
  EXPECT_EQ(r.result(), status::unsupported_media_type);
  r = Send(verb::put, "/v1/things/lamp",
           std::string(40, '[') + std::string(40, ']'), "member");
  EXPECT_EQ(Error(r)["rule"], "max_depth");
  r = Send(verb::put, "/v1/things/lamp", R"({"size": 1, "size": 2})", "member");
  EXPECT_EQ(Error(r)["rule"], "duplicate_key");
  EXPECT_EQ(calls_, 0);

  r = Send(verb::put, "/v1/things/lamp", R"({"size": 4})", "member");
  ASSERT_EQ(r.result(), status::ok);
  EXPECT_EQ(Body(r)["body"]["size"], 4);
  EXPECT_EQ(calls_, 1);
}

TEST_F(RouterTest, ARouteWithoutASchemaTakesNoBody) {
  Response r = Send(verb::get, "/v1/things", R"({"a": 1})");
  EXPECT_EQ(r.result(), status::bad_request);
  EXPECT_EQ(Error(r)["rule"], "body");
  // An optional body may be empty, or must pass the schema.
  r = Send(verb::post, "/v1/things/a/parts/b", R"({"x": 1})", "member");
  EXPECT_EQ(r.result(), status::bad_request);
  EXPECT_EQ(Error(r)["rule"], "maxProperties");
  EXPECT_EQ(Send(verb::post, "/v1/things/a/parts/b", "{}", "member").result(),
            status::ok);
}

TEST_F(RouterTest, RegistrationRefusesMistakes) {
  auto nothing = Immediate([](Call& c) { return c.Empty(status::ok); });
  EXPECT_EQ(
      router_
          .Add({verb::get, "/v1/things", Access::kPublic, "", false, nothing})
          .code(),
      Code::kAlreadyExists);
  // The same shape with another parameter name is the same route.
  EXPECT_EQ(router_
                .Add({verb::put, "/v1/things/{other}", Access::kOwner, "",
                      false, nothing})
                .code(),
            Code::kAlreadyExists);
  EXPECT_EQ(
      router_.Add({verb::get, "v1/x", Access::kPublic, "", false, nothing})
          .code(),
      Code::kInvalidArgument);
  EXPECT_EQ(
      router_.Add({verb::get, "/v1//x", Access::kPublic, "", false, nothing})
          .code(),
      Code::kInvalidArgument);
  EXPECT_EQ(
      router_.Add({verb::get, "/v1/{x", Access::kPublic, "", false, nothing})
          .code(),
      Code::kInvalidArgument);
  EXPECT_EQ(router_
                .Add({verb::post, "/v1/y", Access::kPublic,
                      R"({"type": "nonsense"})", false, nothing})
                .code(),
            Code::kInvalidArgument);
  EXPECT_EQ(
      router_.Add({verb::post, "/v1/y", Access::kPublic, "{", false, nothing})
          .code(),
      Code::kInvalidArgument);
  EXPECT_EQ(router_.Describe().size(), 4u);
  EXPECT_EQ(router_.Describe()[2], "DELETE /v1/things/{name} admin");
}

}  // namespace
}  // namespace warden::api
