// The app's personal data (guideline 8), from the app socket to the data
// store: app::AppData over ServiceContext::data. Declarations are checked
// as the store checks them (data::ValidateDeclaration), all before any is
// kept; a deletion the app asks for is the device's own (its button): the
// receipt names "device button" as who asked, and it is signed and kept as
// an owner's deletion is (DeletePersonalData).
#ifndef WARDEN_API_APP_DATA_H_
#define WARDEN_API_APP_DATA_H_

#include <string>
#include <string_view>
#include <vector>

#include "api/service_context.h"
#include "app/app_host.h"

namespace warden::api {

// Who asked, in the receipt of a deletion the app asked for.
inline constexpr std::string_view kDeviceButton = "device button";

class AppDataBridge : public app::AppData {
 public:
  // `ctx` must outlive the bridge. With ctx.data null every call is
  // kFailedPrecondition.
  explicit AppDataBridge(ServiceContext& ctx) : ctx_(ctx) {}

  Status Declare(const std::vector<app::DataKind>& kinds) override;
  Result<int64_t> Write(std::string_view kind, std::string_view value) override;
  Result<Record> Read(std::string_view kind, int64_t id) override;
  Result<std::vector<Record>> List(std::string_view kind, int64_t after,
                                   size_t limit) override;
  Status Erase(std::string_view kind, int64_t id) override;
  Result<std::string> DeleteAll() override;

 private:
  Status Available() const;
  ServiceContext& ctx_;
};

}  // namespace warden::api

#endif  // WARDEN_API_APP_DATA_H_
