#include "api/app_data.h"

#include "api/data_routes.h"
#include "data/data_store.h"

namespace warden::api {

Status AppDataBridge::Available() const {
  if (ctx_.data == nullptr) {
    return FailedPreconditionError("the device keeps no personal-data store");
  }
  return Status::Ok();
}

Status AppDataBridge::Declare(const std::vector<app::DataKind>& kinds) {
  WARDEN_TRY(Available());
  std::vector<data::KindDeclaration> declarations;
  for (const app::DataKind& kind : kinds) {
    Result<data::Category> category = data::ParseCategory(kind.category);
    if (!category.ok()) {
      return InvalidArgumentError(kind.name + ": unknown category \"" +
                                  kind.category + "\"");
    }
    data::KindDeclaration d{kind.name, *category, kind.purpose,
                            kind.retention_seconds, kind.may_leave_device};
    Status valid = data::ValidateDeclaration(d);
    if (!valid.ok()) {
      return InvalidArgumentError(kind.name + ": " + valid.message());
    }
    declarations.push_back(std::move(d));
  }
  // Room for the new names is checked before any is kept, so a refused
  // list leaves the store as it was.
  WARDEN_ASSIGN_OR_RETURN(std::vector<data::KindInventory> held,
                          ctx_.data->Kinds());
  size_t total = held.size();
  for (const auto& d : declarations) {
    bool known = false;
    for (const auto& h : held) known = known || h.declaration.name == d.name;
    if (!known) ++total;
  }
  if (total > data::kMaxKinds) {
    return ResourceExhaustedError("more than " +
                                  std::to_string(data::kMaxKinds) +
                                  " kinds of personal data");
  }
  for (const auto& d : declarations) WARDEN_TRY(ctx_.data->Declare(d));
  return Status::Ok();
}

Result<int64_t> AppDataBridge::Write(std::string_view kind,
                                     std::string_view value) {
  WARDEN_TRY(Available());
  return ctx_.data->Write(kind, AsBytes(value));
}

Result<app::AppData::Record> AppDataBridge::Read(std::string_view kind,
                                                 int64_t id) {
  WARDEN_TRY(Available());
  WARDEN_ASSIGN_OR_RETURN(data::Record r, ctx_.data->Read(kind, id));
  return Record{r.id, r.created_at, ToString(r.value)};
}

Result<std::vector<app::AppData::Record>> AppDataBridge::List(
    std::string_view kind, int64_t after, size_t limit) {
  WARDEN_TRY(Available());
  WARDEN_ASSIGN_OR_RETURN(std::vector<data::Record> records,
                          ctx_.data->List(kind, after, limit));
  std::vector<Record> out;
  for (const auto& r : records) out.push_back({r.id, r.created_at, {}});
  return out;
}

Status AppDataBridge::Erase(std::string_view kind, int64_t id) {
  WARDEN_TRY(Available());
  return ctx_.data->Erase(kind, id);
}

Result<std::string> AppDataBridge::DeleteAll() {
  WARDEN_TRY(Available());
  WARDEN_ASSIGN_OR_RETURN(
      schema::Json reply,
      DeletePersonalData(ctx_, kDeviceButton, std::string(kDeviceButton)));
  return reply["receipt"].dump();
}

}  // namespace warden::api
