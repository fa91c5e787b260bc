#include "keystore/tpm_backend.h"

#include <algorithm>
#include <optional>
#include <string_view>

#include "crypto/aead.h"
#include "platform/file.h"
#include "platform/owner.h"

namespace warden::keystore {
namespace {

constexpr uint8_t kBlobVersion = 1;
constexpr std::string_view kSignContext = "warden keystore tpm blob v1";
constexpr std::string_view kKeysMagic = "WTK1";
// An RSA-2048 key's TSS2 blob is about 700 bytes, a P-256 key's about 250.
constexpr size_t kMaxKeysFile = 2 * crypto::kMaxTpmKeyBlob + 16;
// A DER ECDSA P-256 signature.
constexpr size_t kMaxSignature = 72;
constexpr size_t kWrappedKeySize = 256;

void PutU16(Bytes& out, size_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}

// Takes a 16-bit length and that many bytes off the front of `in`.
bool TakeField(ByteView& in, ByteView& field) {
  if (in.size() < 2) return false;
  const size_t len = (size_t{in[0]} << 8) | in[1];
  if (in.size() - 2 < len) return false;
  field = in.subspan(2, len);
  in = in.subspan(2 + len);
  return true;
}

Bytes SignedData(ByteView aad, ByteView payload) {
  Bytes data(kSignContext.begin(), kSignContext.end());
  PutU16(data, aad.size());
  data.insert(data.end(), aad.begin(), aad.end());
  data.push_back(kBlobVersion);
  data.insert(data.end(), payload.begin(), payload.end());
  return data;
}

Status CheckKeysFile(platform::Env& env, const std::string& path) {
  WARDEN_ASSIGN_OR_RETURN(auto info, env.Stat(path));
  if (info.type != platform::FileType::kRegular) {
    return PermissionDeniedError("keystore: the TPM key file " + path +
                                 " is not a regular file");
  }
  WARDEN_ASSIGN_OR_RETURN(uid_t owner, platform::FileOwner(path));
  if (owner != platform::EffectiveUser()) {
    return PermissionDeniedError("keystore: the TPM key file " + path +
                                 " is not owned by the running user");
  }
  if ((info.mode & 077) != 0) {
    return PermissionDeniedError("keystore: the TPM key file " + path +
                                 " is accessible to group or others");
  }
  return Status::Ok();
}

Result<std::string> MakeKeysFile(const crypto::Tpm& tpm) {
  WARDEN_ASSIGN_OR_RETURN(Bytes binding, tpm.GenerateP256());
  WARDEN_ASSIGN_OR_RETURN(Bytes wrapping, tpm.GenerateRsa2048());
  Bytes out(kKeysMagic.begin(), kKeysMagic.end());
  PutU16(out, binding.size());
  out.insert(out.end(), binding.begin(), binding.end());
  PutU16(out, wrapping.size());
  out.insert(out.end(), wrapping.begin(), wrapping.end());
  return ToString(out);
}

}  // namespace

Result<TpmBlobParts> ParseTpmBlob(ByteView blob) {
  if (blob.empty() || blob[0] != kBlobVersion) {
    return IntegrityError("keystore: not a TPM backend blob");
  }
  ByteView rest = blob.subspan(1);
  TpmBlobParts parts;
  if (!TakeField(rest, parts.payload) || parts.payload.empty() ||
      rest.empty() || rest.size() > kMaxSignature) {
    return IntegrityError("keystore: malformed TPM backend blob");
  }
  parts.signature = rest;
  return parts;
}

Result<TpmSecretParts> ParseTpmSecret(ByteView payload) {
  TpmSecretParts parts;
  if (!TakeField(payload, parts.wrapped_key) ||
      parts.wrapped_key.size() != kWrappedKeySize || payload.empty()) {
    return IntegrityError("keystore: malformed TPM sealed secret");
  }
  parts.sealed = payload;
  return parts;
}

Result<std::unique_ptr<TpmBackend>> TpmBackend::Open(
    platform::Env& env, const TpmBackendOptions& options, Rng& rng) {
  if (options.keys_path.empty()) {
    return InvalidArgumentError("keystore: no TPM key file path");
  }
  WARDEN_ASSIGN_OR_RETURN(crypto::Tpm tpm, crypto::Tpm::Open(options.tcti));
  if (options.create_keys && !platform::Exists(env, options.keys_path)) {
    WARDEN_TRY(
        platform::MakeDirs(env, platform::DirName(options.keys_path), 0700));
    WARDEN_ASSIGN_OR_RETURN(std::string fresh, MakeKeysFile(tpm));
    Status made =
        platform::CreateFileExclusive(env, options.keys_path, fresh, 0600);
    // Another opener may have made it first; then its keys are the ones.
    if (!made.ok() && made.code() != Code::kAlreadyExists) return made;
  }
  WARDEN_TRY(CheckKeysFile(env, options.keys_path));
  WARDEN_ASSIGN_OR_RETURN(
      std::string raw,
      platform::ReadFile(env, options.keys_path, kMaxKeysFile));
  ByteView binding_blob, wrapping_blob;
  ByteView in = AsBytes(raw);
  bool well_formed =
      in.size() >= kKeysMagic.size() &&
      std::equal(kKeysMagic.begin(), kKeysMagic.end(), in.begin());
  if (well_formed) {
    in = in.subspan(kKeysMagic.size());
    well_formed = TakeField(in, binding_blob) && TakeField(in, wrapping_blob) &&
                  in.empty();
  }
  if (!well_formed) {
    return IntegrityError("keystore: the TPM key file " + options.keys_path +
                          " is malformed");
  }
  Bytes wrapping_public;
  std::optional<crypto::PublicKey> binding_public;
  // One key in the TPM at a time (object slots, crypto/tpm.h).
  Status loaded = [&]() -> Status {
    {
      WARDEN_ASSIGN_OR_RETURN(crypto::PrivateKey binding,
                              tpm.LoadP256(binding_blob));
      binding_public = binding.public_key();
    }
    WARDEN_ASSIGN_OR_RETURN(crypto::TpmRsaKey wrapping,
                            tpm.LoadRsa(wrapping_blob));
    WARDEN_ASSIGN_OR_RETURN(wrapping_public, wrapping.PublicDer());
    return Status::Ok();
  }();
  if (!loaded.ok()) {
    return IntegrityError(
        "keystore: the keys in " + options.keys_path +
        " do not load in this TPM (another TPM's, or its owner hierarchy was "
        "cleared): " +
        loaded.ToString());
  }
  return std::unique_ptr<TpmBackend>(new TpmBackend(
      rng, std::move(tpm), Bytes(binding_blob.begin(), binding_blob.end()),
      std::move(*binding_public),
      Bytes(wrapping_blob.begin(), wrapping_blob.end()),
      std::move(wrapping_public)));
}

Result<Bytes> TpmBackend::Signed(ByteView aad, ByteView payload) {
  if (payload.size() > 0xffff) {
    return InvalidArgumentError("keystore: TPM blob payload too large");
  }
  WARDEN_ASSIGN_OR_RETURN(crypto::PrivateKey binding,
                          tpm_.LoadP256(binding_blob_));
  WARDEN_ASSIGN_OR_RETURN(Bytes signature,
                          binding.Sign(SignedData(aad, payload)));
  Bytes blob{kBlobVersion};
  PutU16(blob, payload.size());
  blob.insert(blob.end(), payload.begin(), payload.end());
  blob.insert(blob.end(), signature.begin(), signature.end());
  return blob;
}

Result<Bytes> TpmBackend::Verified(ByteView aad, ByteView blob) {
  WARDEN_ASSIGN_OR_RETURN(TpmBlobParts parts, ParseTpmBlob(blob));
  if (!binding_public_.Verify(SignedData(aad, parts.payload), parts.signature)
           .ok()) {
    return IntegrityError(
        "keystore: a blob was not made by this keystore's TPM for this item "
        "(altered, another item's, or another TPM's)");
  }
  return Bytes(parts.payload.begin(), parts.payload.end());
}

Result<Bytes> TpmBackend::NewSigningKey(ByteView aad) {
  WARDEN_ASSIGN_OR_RETURN(Bytes key, tpm_.GenerateP256());
  return Signed(aad, key);
}

Result<crypto::PrivateKey> TpmBackend::LoadSigningKey(ByteView aad,
                                                      ByteView blob) {
  WARDEN_ASSIGN_OR_RETURN(Bytes key, Verified(aad, blob));
  return tpm_.LoadP256(key);
}

Result<Bytes> TpmBackend::SealSecret(ByteView aad, ByteView secret) {
  WARDEN_ASSIGN_OR_RETURN(Bytes fresh, RandomBytes(rng_, crypto::kAeadKeySize));
  crypto::SecretBytes data_key(std::move(fresh));
  WARDEN_ASSIGN_OR_RETURN(
      Bytes wrapped, crypto::RsaEncrypt(wrapping_public_, data_key.view()));
  WARDEN_ASSIGN_OR_RETURN(
      Bytes sealed,
      crypto::AeadSealRandomNonce(rng_, data_key.view(), aad, secret));
  Bytes payload;
  PutU16(payload, wrapped.size());
  payload.insert(payload.end(), wrapped.begin(), wrapped.end());
  payload.insert(payload.end(), sealed.begin(), sealed.end());
  return Signed(aad, payload);
}

Result<crypto::SecretBytes> TpmBackend::UnsealSecret(ByteView aad,
                                                     ByteView blob) {
  WARDEN_ASSIGN_OR_RETURN(Bytes payload, Verified(aad, blob));
  WARDEN_ASSIGN_OR_RETURN(TpmSecretParts parts, ParseTpmSecret(payload));
  WARDEN_ASSIGN_OR_RETURN(crypto::TpmRsaKey wrapping,
                          tpm_.LoadRsa(wrapping_blob_));
  WARDEN_ASSIGN_OR_RETURN(crypto::SecretBytes data_key,
                          wrapping.Decrypt(parts.wrapped_key));
  if (data_key.size() != crypto::kAeadKeySize) {
    return IntegrityError("keystore: a wrapped data key has the wrong size");
  }
  auto plain = crypto::AeadOpenRandomNonce(data_key.view(), aad, parts.sealed);
  if (!plain.ok()) {
    return IntegrityError("keystore: a sealed secret does not open");
  }
  return crypto::SecretBytes(std::move(*plain));
}

}  // namespace warden::keystore
