// The owner's view of personal data (guidelines 8 and 11): what the device
// keeps and why, everything it holds, and deletion in one request.
//
//   GET  /v1/data/inventory  public: the declared kinds (name, category,
//                            purpose, retention, may leave the device),
//                            without counts. It says what the device may
//                            hold, as a privacy notice does, so anyone
//                            (an assessor, a buyer) can read it; what it
//                            does hold is the owner's.
//   GET  /v1/data/export     owner: every record, as data/data_store.h's
//                            Export gives it, with the counts, and the
//                            first 64 KiB page of the event log
//                            ("event_log").
//   GET  /v1/data/events     owner: wardend's event log (data/
//   GET  /v1/data/events/{after}  event_log.h), a page at a time: the
//                            entries after id `after` (from the first
//                            without), each with its clear personal
//                            values and the pseudonyms stderr showed, and
//                            "next", the `after` of the following page, or
//                            null at the end.
//   POST /v1/data/delete     administrator: deletes all personal data and
//                            returns what was deleted, when, and the
//                            requesting owner's fingerprint, with the
//                            signed receipt (data/receipt.h), which the
//                            device keeps.
//   GET  /v1/data/receipt    owner: the receipt of the last deletion.
//   GET  /v1/data/receipts   owner: {"receipts": [...]}, the receipts of
//                            the last data::kMaxReceiptsKept deletions,
//                            newest first (an empty list when none).
#ifndef WARDEN_API_DATA_ROUTES_H_
#define WARDEN_API_DATA_ROUTES_H_

#include <optional>
#include <string>
#include <string_view>

#include "api/router.h"
#include "api/service_context.h"

namespace warden::data {
struct DeletionResult;
class EventLog;
}  // namespace warden::data

namespace warden::api {

class DataRoutes {
 public:
  explicit DataRoutes(ServiceContext& context) : ctx_(context) {}
  Status Register(Router& router);

 private:
  Response Inventory(Call& call);
  Response Export(Call& call);
  Response Delete(Call& call);
  Response Receipt(Call& call);
  Response Events(Call& call);
  Response Receipts(Call& call);
  // A 503 reply when there is no data store, else nullopt.
  std::optional<Response> Unavailable(Call& call);

  ServiceContext& ctx_;
};

// A page's entries stop short of this many bytes of JSON, so that a page
// fits the owner's client's reply limit (web/http.h DeviceReplyLimits).
inline constexpr size_t kEventPageBytes = 512 * 1024;
// The export's first page is smaller: it shares the reply with the records.
inline constexpr size_t kExportEventPageBytes = 64 * 1024;

// The page of `log` after entry id `after`, of at most `max_bytes` of JSON
// (but at least one entry when there is one): {"entries": [{"id", "time",
// "kind", "severity", "category", "fields": [{"name", "value",
// "personal", "pseudonym"}]}], "next": id | null}. Errors from
// EventLog::List.
Result<schema::Json> EventLogPage(data::EventLog& log, int64_t after,
                                  size_t max_bytes = kEventPageBytes);

// The JSON an API reply and the CLI show for a deletion.
schema::Json DeletionJson(const data::DeletionResult& result);

// Deletes all personal data in ctx.data (which must be set) at the request
// of `requested_by` (kept in the receipt; `who` is the personal name the
// data_deleted event carries), then signs and keeps the receipt. The reply
// is DeletionJson with "receipt": the receipt object, or null when the
// device has no identity key set or signing failed (a store_error event
// says which). Errors from DataStore::DeleteAll, after a store_error event.
// With `unpair` the same intent also unpairs the device (transfer of
// ownership; DataStore::DeleteAll) and the reply has "unpaired": true.
Result<schema::Json> DeletePersonalData(ServiceContext& ctx,
                                        std::string_view requested_by,
                                        std::string_view who,
                                        bool unpair = false);

}  // namespace warden::api

#endif  // WARDEN_API_DATA_ROUTES_H_
