#include "api/data_routes.h"

#include "app/app_host.h"
#include "data/data_store.h"
#include "data/event_log.h"
#include "data/receipt.h"
#include "events/catalog.h"

namespace warden::api {
namespace {

using http::status;
using http::verb;

constexpr std::string_view kDeleteSchema =
    R"({"type": "object", "maxProperties": 0})";

// Entries read from the log at a time while a page is built.
constexpr size_t kEventBatch = 64;

schema::Json EntryJson(const data::EventEntry& e) {
  schema::Json fields = schema::Json::array();
  for (const auto& f : e.fields) {
    schema::Json field = {{"name", f.name}};
    std::visit([&field](const auto& v) { field["value"] = v; }, f.value);
    if (f.personal) {
      field["personal"] = true;
      field["pseudonym"] = f.pseudonym;
    }
    fields.push_back(std::move(field));
  }
  return {{"id", e.id},
          {"time", e.time},
          {"kind", e.kind},
          {"severity", e.severity},
          {"category", e.category},
          {"fields", std::move(fields)}};
}

// The decimal id in a path, or nullopt.
std::optional<int64_t> ParseId(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  int64_t id = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    id = id * 10 + (c - '0');
  }
  return id;
}

}  // namespace

Result<schema::Json> EventLogPage(data::EventLog& log, int64_t after,
                                  size_t max_bytes) {
  schema::Json entries = schema::Json::array();
  size_t bytes = 0;
  schema::Json next = nullptr;
  int64_t cursor = after;
  while (entries.size() < data::kMaxEventListSize) {
    WARDEN_ASSIGN_OR_RETURN(auto batch, log.List(cursor, kEventBatch));
    bool full = false;
    for (const auto& e : batch) {
      schema::Json j = EntryJson(e);
      // The entry's own text was made valid UTF-8 when it was stored.
      const size_t size =
          j.dump(-1, ' ', false, schema::Json::error_handler_t::replace)
              .size() +
          1;
      if ((!entries.empty() && bytes + size > max_bytes) ||
          entries.size() >= data::kMaxEventListSize) {
        full = true;
        break;
      }
      bytes += size;
      cursor = e.id;
      entries.push_back(std::move(j));
    }
    if (full) {
      next = cursor;
      break;
    }
    if (batch.size() < kEventBatch) break;
  }
  if (entries.size() >= data::kMaxEventListSize && next.is_null()) {
    next = cursor;
  }
  return schema::Json{{"entries", std::move(entries)}, {"next", next}};
}

schema::Json DeletionJson(const data::DeletionResult& result) {
  schema::Json kinds = schema::Json::array();
  for (const auto& k : result.kinds) {
    kinds.push_back({{"name", k.name}, {"records", k.records}});
  }
  return {{"kinds", kinds},
          {"requested_by", result.requested_by},
          {"started_at", result.started_at},
          {"completed_at", result.completed_at},
          {"keys_destroyed", result.keys_destroyed}};
}

Status DataRoutes::Register(Router& router) {
  WARDEN_TRY(
      router.Add({verb::get, "/v1/data/inventory", Access::kPublic, "", false,
                  Immediate([this](Call& c) { return Inventory(c); })}));
  WARDEN_TRY(
      router.Add({verb::get, "/v1/data/export", Access::kOwner, "", false,
                  Immediate([this](Call& c) { return Export(c); })}));
  WARDEN_TRY(
      router.Add({verb::get, "/v1/data/receipt", Access::kOwner, "", false,
                  Immediate([this](Call& c) { return Receipt(c); })}));
  WARDEN_TRY(
      router.Add({verb::get, "/v1/data/events", Access::kOwner, "", false,
                  Immediate([this](Call& c) { return Events(c); })}));
  WARDEN_TRY(
      router.Add({verb::get, "/v1/data/events/{after}", Access::kOwner, "",
                  false, Immediate([this](Call& c) { return Events(c); })}));
  WARDEN_TRY(
      router.Add({verb::get, "/v1/data/receipts", Access::kOwner, "", false,
                  Immediate([this](Call& c) { return Receipts(c); })}));
  return router.Add({verb::post, "/v1/data/delete", Access::kAdmin,
                     std::string(kDeleteSchema), true,
                     Immediate([this](Call& c) { return Delete(c); })});
}

std::optional<Response> DataRoutes::Unavailable(Call& call) {
  if (ctx_.data != nullptr) return std::nullopt;
  return call.Error(MakeError(status::service_unavailable, Code::kUnavailable,
                              "the device keeps no personal-data store"));
}

Response DataRoutes::Inventory(Call& call) {
  if (auto unavailable = Unavailable(call)) return *unavailable;
  auto kinds = ctx_.data->Kinds();
  if (!kinds.ok()) return call.Error(kinds.status());
  schema::Json list = schema::Json::array();
  for (const auto& k : *kinds) {
    const auto& d = k.declaration;
    list.push_back({{"name", d.name},
                    {"category", std::string(data::CategoryName(d.category))},
                    {"purpose", d.purpose},
                    {"retention_seconds", d.retention_seconds},
                    {"may_leave_device", d.may_leave_device}});
  }
  schema::Json own = schema::Json::array();
  if (ctx_.event_log != nullptr) {
    own.push_back(
        {{"name", std::string(data::kEventLogName)},
         {"category", "identity"},
         {"purpose",
          "the device's security and operational events with the personal "
          "values (owner names, peer addresses) that its system log shows "
          "only as pseudonyms, so the owner can learn what a log line refers "
          "to"},
         {"retention_seconds", ctx_.event_log->policy().retention_seconds},
         {"may_leave_device", false},
         {"leaves_only_in_export", true},
         {"read", "/v1/data/events"}});
  }
  return call.Json(status::ok, {{"kinds", list},
                                {"kept_by_wardend", own},
                                {"encrypted_at_rest", "AES-256-GCM"},
                                {"deletion", "/v1/data/delete"}});
}

Response DataRoutes::Events(Call& call) {
  if (ctx_.event_log == nullptr) {
    return call.Error(MakeError(status::service_unavailable, Code::kUnavailable,
                                "the device keeps no event log"));
  }
  int64_t after = 0;
  if (std::string_view text = call.Param("after"); !text.empty()) {
    auto id = ParseId(text);
    if (!id) {
      return call.Error(MakeError(status::bad_request, Code::kInvalidArgument,
                                  "after: an entry id in decimal", "after"));
    }
    after = *id;
  }
  auto page = EventLogPage(*ctx_.event_log, after);
  if (!page.ok()) return call.Error(page.status());
  return call.Json(status::ok, *page);
}

Response DataRoutes::Export(Call& call) {
  if (auto unavailable = Unavailable(call)) return *unavailable;
  auto text = ctx_.data->Export();
  if (!text.ok()) return call.Error(text.status());
  schema::Json body = schema::Json::parse(*text, nullptr, false);
  if (body.is_discarded()) {
    return call.Error(InternalError("the export is not JSON"));
  }
  // What wardend keeps about the owner is theirs as well; the client
  // follows "next" for the rest (GET /v1/data/events/{after}).
  if (ctx_.event_log != nullptr) {
    auto page = EventLogPage(*ctx_.event_log, 0, kExportEventPageBytes);
    if (!page.ok()) return call.Error(page.status());
    body["event_log"] = std::move(*page);
  }
  return call.Json(status::ok, body);
}

Result<schema::Json> DeletePersonalData(ServiceContext& ctx,
                                        std::string_view requested_by,
                                        std::string_view who, bool unpair) {
  auto result = ctx.data->DeleteAll(requested_by, unpair);
  if (!result.ok()) {
    ctx.events.Publish(events::Event(events::kStoreError)
                           .Text("operation", "delete personal data")
                           .Text("error", result.status().ToString()));
    return result.status();
  }
  int64_t records = 0;
  for (const auto& k : result->kinds) records += k.records;
  ctx.events.Publish(
      events::Event(events::kDataDeleted)
          .Int("kinds", static_cast<int64_t>(result->kinds.size()))
          .Int("records", records)
          .Int("keys_destroyed", result->keys_destroyed)
          .Personal("by", std::string(who)));
  if (ctx.app != nullptr) ctx.app->DataDeleted();
  schema::Json reply = DeletionJson(*result);
  if (result->unpaired) reply["unpaired"] = true;
  reply["receipt"] = nullptr;
  if (ctx.identity_key != nullptr && ctx.identity_certificate != nullptr) {
    auto receipt =
        data::MakeReceipt(*result, ctx.facts.info.serial,
                          *ctx.identity_certificate, *ctx.identity_key);
    Status kept =
        receipt.ok() ? ctx.data->KeepReceipt(*receipt) : receipt.status();
    if (kept.ok()) {
      reply["receipt"] = schema::Json::parse(*receipt, nullptr, false);
    } else {
      ctx.events.Publish(events::Event(events::kStoreError)
                             .Text("operation", "deletion receipt")
                             .Text("error", kept.ToString()));
    }
  }
  return reply;
}

Response DataRoutes::Delete(Call& call) {
  if (auto unavailable = Unavailable(call)) return *unavailable;
  auto reply =
      DeletePersonalData(ctx_, call.owner().fingerprint, call.owner().name);
  if (!reply.ok()) return call.Error(reply.status());
  return call.Json(status::ok, *reply);
}

Response DataRoutes::Receipt(Call& call) {
  if (auto unavailable = Unavailable(call)) return *unavailable;
  auto receipt = ctx_.data->LastReceipt();
  if (!receipt.ok()) return call.Error(receipt.status());
  if (!receipt->has_value()) {
    return call.Error(MakeError(status::not_found, Code::kNotFound,
                                "no deletion has been made"));
  }
  return call.Json(
      status::ok,
      {{"receipt", schema::Json::parse(**receipt, nullptr, false)}});
}

Response DataRoutes::Receipts(Call& call) {
  if (auto unavailable = Unavailable(call)) return *unavailable;
  auto receipts = ctx_.data->Receipts();
  if (!receipts.ok()) return call.Error(receipts.status());
  schema::Json list = schema::Json::array();
  for (const std::string& r : *receipts) {
    list.push_back(schema::Json::parse(r, nullptr, false));
  }
  return call.Json(status::ok, {{"receipts", std::move(list)}});
}

}  // namespace warden::api
