// Deletion receipts (guideline 11): a statement, signed by the device's
// identity key, of what one deletion of personal data removed, when, and
// at whose request. The device keeps it and gives it to the caller; anyone
// holding the device's certificate can check it later.
//
// A receipt is one JSON document:
//   {"receipt": {"format": "warden-deletion-receipt/1",
//                "device": {"serial", "certificate" (PEM)},
//                "kinds": [{"name", "records"}], "keys_destroyed",
//                "requested_by", "started_at", "completed_at",
//                "unpaired" (optional)},
//    "signature": base64}
// "unpaired": true says that the same deletion also unpaired the device (a
// transfer of ownership, `warden reset NAME --transfer`); it is under the
// signature like every other field. A receipt without it (every receipt of
// a plain deletion, and those made before the field existed) says nothing
// about pairing; any other value than true is refused.
// The signature is over kReceiptContext followed by the "receipt" object
// serialised compactly with its keys sorted (nlohmann's dump, which is what
// both sides compute from the parsed object, so spacing and key order in
// the file do not matter).
#ifndef WARDEN_DATA_RECEIPT_H_
#define WARDEN_DATA_RECEIPT_H_

#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "crypto/keys.h"
#include "crypto/x509.h"
#include "data/data_store.h"

namespace warden::data {

inline constexpr std::string_view kReceiptFormat = "warden-deletion-receipt/1";
inline constexpr std::string_view kReceiptContext =
    "warden deletion receipt v1\n";
// Largest receipt text read: a certificate and kMaxKinds kinds fit easily.
inline constexpr size_t kMaxReceiptSize = 32 * 1024;

struct Receipt {
  std::string serial;
  std::string certificate_pem;
  DeletionResult deletion;
};

// Signs a receipt for `deletion` with `key` (which may live in a token or
// a TPM: only Sign is used); "unpaired" is written when
// `deletion.unpaired`. `certificate` is the device's, whose key is
// `key`'s public half. Errors from signing.
Result<std::string> MakeReceipt(const DeletionResult& deletion,
                                std::string_view serial,
                                const crypto::Certificate& certificate,
                                const crypto::PrivateKey& key);

// Parses a receipt without checking its signature: kInvalidArgument for
// text over kMaxReceiptSize, not JSON, or not of the shape above.
Result<Receipt> ParseReceipt(std::string_view text);

// Parses `text` and checks its signature with the public key of
// `certificate` (the device's, as its owner or the caller knows it), which
// must also be the certificate the receipt names. kInvalidArgument as
// ParseReceipt; kBadSignature when the signature does not verify or the
// receipt names another certificate.
Result<Receipt> VerifyReceipt(std::string_view text,
                              const crypto::Certificate& certificate);

// As VerifyReceipt, with the device known by the hex SHA-256 of its
// certificate (what an owner pinned at pairing): the certificate the
// receipt carries must have that fingerprint, else kBadSignature.
Result<Receipt> VerifyReceiptPinned(std::string_view text,
                                    std::string_view certificate_fingerprint);

}  // namespace warden::data

#endif  // WARDEN_DATA_RECEIPT_H_
