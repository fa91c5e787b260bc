#include "data/receipt.h"

#include <nlohmann/json.hpp>

#include "crypto/secret.h"
#include "schema/json.h"

namespace warden::data {
namespace {

using nlohmann::json;

Bytes SignedBytes(const json& receipt) {
  Bytes out = ToBytes(kReceiptContext);
  const std::string body = receipt.dump();
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

// The fields a receipt must have, with their types; anything else is
// refused so that a receipt means one thing.
Status CheckShape(const json& doc) {
  auto bad = [](std::string what) {
    return InvalidArgumentError("not a deletion receipt: " + what);
  };
  if (!doc.is_object() || doc.size() != 2 || !doc.contains("receipt") ||
      !doc.contains("signature") || !doc["signature"].is_string()) {
    return bad("want {\"receipt\", \"signature\"}");
  }
  const json& r = doc["receipt"];
  static constexpr const char* kFields[] = {
      "format",       "device",     "kinds",       "keys_destroyed",
      "requested_by", "started_at", "completed_at"};
  // "unpaired" is the one optional field, and only ever true.
  const bool unpaired = r.is_object() && r.contains("unpaired");
  if (unpaired && !(r["unpaired"].is_boolean() && r["unpaired"].get<bool>())) {
    return bad("unpaired is true or absent");
  }
  if (!r.is_object() || r.size() != std::size(kFields) + (unpaired ? 1 : 0)) {
    return bad("the receipt has other fields");
  }
  for (const char* f : kFields) {
    if (!r.contains(f)) return bad(std::string("no ") + f);
  }
  if (!r["format"].is_string() || r["format"] != kReceiptFormat) {
    return bad("unknown format");
  }
  const json& d = r["device"];
  if (!d.is_object() || d.size() != 2 || !d.contains("serial") ||
      !d["serial"].is_string() || !d.contains("certificate") ||
      !d["certificate"].is_string()) {
    return bad("device is {\"serial\", \"certificate\"}");
  }
  // The declared kinds and the one store DataStore::AlsoErase adds.
  if (!r["kinds"].is_array() || r["kinds"].size() > kMaxKinds + 1) {
    return bad("kinds");
  }
  for (const json& k : r["kinds"]) {
    if (!k.is_object() || k.size() != 2 || !k.contains("name") ||
        !k["name"].is_string() || !k.contains("records") ||
        !k["records"].is_number_integer() || k["records"].get<int64_t>() < 0) {
      return bad("a kind is {\"name\", \"records\"}");
    }
  }
  for (const char* f : {"keys_destroyed", "started_at", "completed_at"}) {
    if (!r[f].is_number_integer() || r[f].get<int64_t>() < 0) {
      return bad(std::string(f) + " is a count");
    }
  }
  if (!r["requested_by"].is_string()) return bad("requested_by");
  return Status::Ok();
}

}  // namespace

Result<std::string> MakeReceipt(const DeletionResult& deletion,
                                std::string_view serial,
                                const crypto::Certificate& certificate,
                                const crypto::PrivateKey& key) {
  json kinds = json::array();
  for (const auto& k : deletion.kinds) {
    kinds.push_back({{"name", k.name}, {"records", k.records}});
  }
  json receipt = {
      {"format", kReceiptFormat},
      {"device",
       {{"serial", std::string(serial)}, {"certificate", certificate.ToPem()}}},
      {"kinds", std::move(kinds)},
      {"keys_destroyed", deletion.keys_destroyed},
      {"requested_by", deletion.requested_by},
      {"started_at", deletion.started_at},
      {"completed_at", deletion.completed_at}};
  if (deletion.unpaired) receipt["unpaired"] = true;
  try {
    WARDEN_ASSIGN_OR_RETURN(Bytes sig, key.Sign(SignedBytes(receipt)));
    return json{{"receipt", std::move(receipt)},
                {"signature", Base64Encode(sig)}}
        .dump(2);
  } catch (const std::exception& e) {
    return InternalError(std::string("receipt: ") + e.what());
  }
}

Result<Receipt> ParseReceipt(std::string_view text) {
  if (text.size() > kMaxReceiptSize) {
    return InvalidArgumentError("a deletion receipt is at most 32 KiB");
  }
  schema::JsonLimits limits;
  limits.max_bytes = kMaxReceiptSize;
  limits.max_depth = 6;
  limits.max_string = kMaxReceiptSize;
  limits.max_items = 64;
  WARDEN_ASSIGN_OR_RETURN(json doc, schema::ParseJson(text, limits));
  WARDEN_TRY(CheckShape(doc));
  const json& r = doc["receipt"];
  Receipt out;
  out.serial = r["device"]["serial"].get<std::string>();
  out.certificate_pem = r["device"]["certificate"].get<std::string>();
  for (const json& k : r["kinds"]) {
    out.deletion.kinds.push_back(
        {k["name"].get<std::string>(), k["records"].get<int64_t>()});
  }
  out.deletion.keys_destroyed = r["keys_destroyed"].get<int64_t>();
  out.deletion.requested_by = r["requested_by"].get<std::string>();
  out.deletion.started_at = r["started_at"].get<int64_t>();
  out.deletion.completed_at = r["completed_at"].get<int64_t>();
  out.deletion.unpaired = r.contains("unpaired");
  return out;
}

Result<Receipt> VerifyReceipt(std::string_view text,
                              const crypto::Certificate& certificate) {
  WARDEN_ASSIGN_OR_RETURN(Receipt receipt, ParseReceipt(text));
  // Parsed again only after the shape is known to be right.
  schema::JsonLimits limits;
  limits.max_bytes = kMaxReceiptSize;
  limits.max_depth = 6;
  limits.max_string = kMaxReceiptSize;
  limits.max_items = 64;
  WARDEN_ASSIGN_OR_RETURN(json doc, schema::ParseJson(text, limits));
  auto named = crypto::Certificate::FromPem(receipt.certificate_pem);
  if (!named.ok() || named->Fingerprint() != certificate.Fingerprint()) {
    return BadSignatureError("the receipt names another device certificate");
  }
  auto sig = Base64Decode(doc["signature"].get<std::string>());
  if (!sig.ok()) return BadSignatureError("the signature is not base64");
  Status st =
      certificate.public_key().Verify(SignedBytes(doc["receipt"]), *sig);
  if (!st.ok()) {
    return BadSignatureError("the receipt's signature does not verify");
  }
  return receipt;
}

Result<Receipt> VerifyReceiptPinned(std::string_view text,
                                    std::string_view certificate_fingerprint) {
  WARDEN_ASSIGN_OR_RETURN(Receipt receipt, ParseReceipt(text));
  auto cert = crypto::Certificate::FromPem(receipt.certificate_pem);
  if (!cert.ok() || cert->Fingerprint() != certificate_fingerprint) {
    return BadSignatureError(
        "the receipt names a device certificate other than the one pinned");
  }
  return VerifyReceipt(text, *cert);
}

}  // namespace warden::data
