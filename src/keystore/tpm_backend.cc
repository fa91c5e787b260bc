#include "keystore/tpm_backend.h"

#include <tss2/tss2_esys.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <set>
#include <string_view>

#include "crypto/aead.h"
#include "crypto/hash.h"
#include "platform/file.h"
#include "platform/owner.h"

namespace warden::keystore {
namespace {

// Version 1 blobs have no NV index; version 2 ones name theirs.
constexpr uint8_t kLegacyBlobVersion = 1;
constexpr uint8_t kBlobVersion = 2;
constexpr std::string_view kSignContext = "warden keystore tpm blob v1";
constexpr std::string_view kNvTagContext = "warden keystore tpm nv tag";
constexpr std::string_view kNvKeyContext = "warden keystore tpm nv key";
constexpr size_t kNvSecretSize = 32;
// Tries at a random free handle before giving up on a crowded range.
constexpr int kHandleTries = 16;
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

void PutU32(Bytes& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<uint8_t>(v >> shift));
  }
}

// The version byte is signed with the rest: a version 2 blob cannot be
// passed off as one without an index.
Bytes SignedData(uint8_t version, ByteView aad, ByteView payload) {
  Bytes data(kSignContext.begin(), kSignContext.end());
  PutU16(data, aad.size());
  data.insert(data.end(), aad.begin(), aad.end());
  data.push_back(version);
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

// The TPM's NV through the TSS ESAPI, on a connection of its own beside the
// provider's. Every command authorises as the owner hierarchy with its
// empty password.
struct TpmBackend::Nv {
  ~Nv() {
    if (esys != nullptr) Esys_Finalize(&esys);
    if (tcti != nullptr) Tss2_TctiLdr_Finalize(&tcti);
  }

  static Status Failed(std::string_view what, TSS2_RC rc) {
    const std::string message =
        "TPM: " + std::string(what) + " failed (" + Tss2_RC_Decode(rc) + ")";
    if (rc == TPM2_RC_NV_SPACE) {
      return ResourceExhaustedError(message + ": the TPM's NV memory is full");
    }
    return UnavailableError(message);
  }

  // The defined handles from `first` to `last`.
  Result<std::vector<uint32_t>> Handles(uint32_t first, uint32_t last) {
    std::vector<uint32_t> found;
    uint32_t next = first;
    TPMI_YES_NO more = TPM2_YES;
    while (more == TPM2_YES && next <= last) {
      TPMS_CAPABILITY_DATA* data = nullptr;
      TSS2_RC rc = Esys_GetCapability(esys, ESYS_TR_NONE, ESYS_TR_NONE,
                                      ESYS_TR_NONE, TPM2_CAP_HANDLES, next,
                                      TPM2_MAX_CAP_HANDLES, &more, &data);
      if (rc != TSS2_RC_SUCCESS) return Failed("GetCapability (handles)", rc);
      const TPML_HANDLE& list = data->data.handles;
      bool past = list.count == 0;
      for (UINT32 i = 0; i < list.count; ++i) {
        const uint32_t handle = list.handle[i];
        if (handle < next || handle > last) {
          past = true;
          break;
        }
        found.push_back(handle);
        next = handle + 1;
      }
      Esys_Free(data);
      if (past || next == 0) break;
    }
    return found;
  }

  // Asked of the TPM's handle list first: ESAPI reports (on stderr) every
  // command that fails, and an absent index is an answer, not a failure.
  Result<bool> Exists(uint32_t handle) {
    WARDEN_ASSIGN_OR_RETURN(auto found, Handles(handle, handle));
    return !found.empty();
  }

  // An ESYS_TR for `handle` and whether the index carries `tag`; nullopt
  // when the TPM has no such index. The caller closes the ESYS_TR.
  struct Index {
    ESYS_TR object = ESYS_TR_NONE;
    bool tagged = false;
    uint16_t size = 0;
  };
  Result<std::optional<Index>> Open(uint32_t handle, ByteView tag) {
    WARDEN_ASSIGN_OR_RETURN(bool exists, Exists(handle));
    if (!exists) return std::optional<Index>();
    Index index;
    TSS2_RC rc = Esys_TR_FromTPMPublic(esys, handle, ESYS_TR_NONE, ESYS_TR_NONE,
                                       ESYS_TR_NONE, &index.object);
    if (rc != TSS2_RC_SUCCESS) return Failed("NV_ReadPublic", rc);
    TPM2B_NV_PUBLIC* pub = nullptr;
    rc = Esys_NV_ReadPublic(esys, index.object, ESYS_TR_NONE, ESYS_TR_NONE,
                            ESYS_TR_NONE, &pub, nullptr);
    if (rc != TSS2_RC_SUCCESS) {
      Esys_TR_Close(esys, &index.object);
      return Failed("NV_ReadPublic", rc);
    }
    const TPM2B_DIGEST& policy = pub->nvPublic.authPolicy;
    index.tagged = policy.size == tag.size() &&
                   std::equal(tag.begin(), tag.end(), policy.buffer);
    index.size = pub->nvPublic.dataSize;
    Esys_Free(pub);
    return std::optional<Index>(index);
  }

  // Defines `handle` with `tag` and writes `secret` to it; kAlreadyExists
  // when the handle is taken. A failed write undefines it again.
  Status Define(uint32_t handle, ByteView tag, ByteView secret) {
    TPM2B_NV_PUBLIC pub = {};
    pub.nvPublic.nvIndex = handle;
    pub.nvPublic.nameAlg = TPM2_ALG_SHA256;
    // Ordinary index, owner-read and -write only, written once here.
    pub.nvPublic.attributes =
        TPMA_NV_OWNERWRITE | TPMA_NV_OWNERREAD | TPMA_NV_NO_DA;
    pub.nvPublic.authPolicy.size = static_cast<UINT16>(tag.size());
    std::copy(tag.begin(), tag.end(), pub.nvPublic.authPolicy.buffer);
    pub.nvPublic.dataSize = static_cast<UINT16>(secret.size());
    TPM2B_AUTH auth = {};
    ESYS_TR object = ESYS_TR_NONE;
    TSS2_RC rc =
        Esys_NV_DefineSpace(esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD,
                            ESYS_TR_NONE, ESYS_TR_NONE, &auth, &pub, &object);
    if (rc == TPM2_RC_NV_DEFINED) {
      return AlreadyExistsError("TPM: NV index in use");
    }
    if (rc != TSS2_RC_SUCCESS) return Failed("NV_DefineSpace", rc);
    TPM2B_MAX_NV_BUFFER data = {};
    data.size = static_cast<UINT16>(secret.size());
    std::copy(secret.begin(), secret.end(), data.buffer);
    rc = Esys_NV_Write(esys, ESYS_TR_RH_OWNER, object, ESYS_TR_PASSWORD,
                       ESYS_TR_NONE, ESYS_TR_NONE, &data, 0);
    crypto::Wipe(data.buffer, sizeof(data.buffer));
    if (rc != TSS2_RC_SUCCESS) {
      Esys_NV_UndefineSpace(esys, ESYS_TR_RH_OWNER, object, ESYS_TR_PASSWORD,
                            ESYS_TR_NONE, ESYS_TR_NONE);
      return Failed("NV_Write", rc);
    }
    Esys_TR_Close(esys, &object);
    return Status::Ok();
  }

  // The bytes at `handle`. kNotFound when it is undefined or not this
  // keystore's.
  Result<crypto::SecretBytes> Read(uint32_t handle, ByteView tag) {
    WARDEN_ASSIGN_OR_RETURN(auto index, Open(handle, tag));
    if (!index.has_value() || !index->tagged || index->size != kNvSecretSize) {
      if (index.has_value()) Esys_TR_Close(esys, &index->object);
      return NotFoundError(
          "keystore: the TPM no longer holds this item version's NV index "
          "(it was destroyed)");
    }
    TPM2B_MAX_NV_BUFFER* data = nullptr;
    TSS2_RC rc =
        Esys_NV_Read(esys, ESYS_TR_RH_OWNER, index->object, ESYS_TR_PASSWORD,
                     ESYS_TR_NONE, ESYS_TR_NONE, kNvSecretSize, 0, &data);
    Esys_TR_Close(esys, &index->object);
    // Defined but never written: a crash between the two, so no version.
    if (rc == TPM2_RC_NV_UNINITIALIZED) {
      return NotFoundError(
          "keystore: this item version's NV index was never written");
    }
    if (rc != TSS2_RC_SUCCESS) return Failed("NV_Read", rc);
    crypto::SecretBytes secret(Bytes(data->buffer, data->buffer + data->size));
    crypto::Wipe(data->buffer, sizeof(data->buffer));
    Esys_Free(data);
    if (secret.size() != kNvSecretSize) {
      return IntegrityError("keystore: an NV index has the wrong size");
    }
    return secret;
  }

  // Undefines `handle` if it is this keystore's; Ok when it is gone.
  Status Undefine(uint32_t handle, ByteView tag) {
    WARDEN_ASSIGN_OR_RETURN(auto index, Open(handle, tag));
    if (!index.has_value()) return Status::Ok();
    if (!index->tagged) {
      Esys_TR_Close(esys, &index->object);
      return Status::Ok();
    }
    TSS2_RC rc =
        Esys_NV_UndefineSpace(esys, ESYS_TR_RH_OWNER, index->object,
                              ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE);
    if (rc != TSS2_RC_SUCCESS) {
      Esys_TR_Close(esys, &index->object);
      return Failed("NV_UndefineSpace", rc);
    }
    return Status::Ok();
  }

  TSS2_TCTI_CONTEXT* tcti = nullptr;
  ESYS_CONTEXT* esys = nullptr;
};

Result<TpmBlobParts> ParseTpmBlob(ByteView blob) {
  if (blob.empty() ||
      (blob[0] != kBlobVersion && blob[0] != kLegacyBlobVersion)) {
    return IntegrityError("keystore: not a TPM backend blob");
  }
  ByteView rest = blob.subspan(1);
  TpmBlobParts parts;
  parts.version = blob[0];
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

Result<TpmNvParts> ParseTpmNvPayload(ByteView payload) {
  if (payload.size() <= 4) {
    return IntegrityError("keystore: malformed TPM blob payload");
  }
  TpmNvParts parts;
  parts.handle = (uint32_t{payload[0]} << 24) | (uint32_t{payload[1]} << 16) |
                 (uint32_t{payload[2]} << 8) | payload[3];
  if (parts.handle < kTpmNvFirst || parts.handle > kTpmNvLast) {
    return IntegrityError(
        "keystore: a TPM blob names an NV handle outside "
        "the keystore's range");
  }
  parts.sealed = payload.subspan(4);
  return parts;
}

TpmBackend::TpmBackend(Rng& rng, crypto::Tpm tpm, std::unique_ptr<Nv> nv,
                       size_t max_nv_indices, Bytes binding_blob,
                       crypto::PublicKey binding_public, Bytes wrapping_blob,
                       Bytes wrapping_public)
    : rng_(rng),
      tpm_(std::move(tpm)),
      nv_(std::move(nv)),
      max_nv_indices_(max_nv_indices),
      binding_blob_(std::move(binding_blob)),
      binding_public_(std::move(binding_public)),
      wrapping_blob_(std::move(wrapping_blob)),
      wrapping_public_(std::move(wrapping_public)) {
  Bytes tagged(kNvTagContext.begin(), kNvTagContext.end());
  const Bytes der = binding_public_.ToDer();
  tagged.insert(tagged.end(), der.begin(), der.end());
  nv_tag_ = crypto::Sha256(tagged);
}

TpmBackend::~TpmBackend() = default;

Result<std::unique_ptr<TpmBackend>> TpmBackend::Open(
    platform::Env& env, const TpmBackendOptions& options, Rng& rng) {
  if (options.keys_path.empty()) {
    return InvalidArgumentError("keystore: no TPM key file path");
  }
  if (options.max_nv_indices == 0 ||
      options.max_nv_indices > size_t{kTpmNvLast - kTpmNvFirst + 1}) {
    return InvalidArgumentError("keystore: max_nv_indices out of range");
  }
  WARDEN_ASSIGN_OR_RETURN(crypto::Tpm tpm, crypto::Tpm::Open(options.tcti));
  // The same TCTI string, checked plain by crypto::Tpm::Open.
  auto nv = std::make_unique<Nv>();
  TSS2_RC rc = Tss2_TctiLdr_Initialize(options.tcti.c_str(), &nv->tcti);
  if (rc != TSS2_RC_SUCCESS) {
    nv->tcti = nullptr;
    return UnavailableError("TPM: the TSS cannot reach " + options.tcti + " (" +
                            Tss2_RC_Decode(rc) + ")");
  }
  rc = Esys_Initialize(&nv->esys, nv->tcti, nullptr);
  if (rc != TSS2_RC_SUCCESS) {
    nv->esys = nullptr;
    return UnavailableError(std::string("TPM: ESAPI does not start (") +
                            Tss2_RC_Decode(rc) + ")");
  }
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
  return std::unique_ptr<TpmBackend>(
      new TpmBackend(rng, std::move(tpm), std::move(nv), options.max_nv_indices,
                     Bytes(binding_blob.begin(), binding_blob.end()),
                     std::move(*binding_public),
                     Bytes(wrapping_blob.begin(), wrapping_blob.end()),
                     std::move(wrapping_public)));
}

Result<Bytes> TpmBackend::Signed(uint8_t version, ByteView aad,
                                 ByteView payload) {
  if (payload.size() > 0xffff) {
    return InvalidArgumentError("keystore: TPM blob payload too large");
  }
  WARDEN_ASSIGN_OR_RETURN(crypto::PrivateKey binding,
                          tpm_.LoadP256(binding_blob_));
  WARDEN_ASSIGN_OR_RETURN(Bytes signature,
                          binding.Sign(SignedData(version, aad, payload)));
  Bytes blob{version};
  PutU16(blob, payload.size());
  blob.insert(blob.end(), payload.begin(), payload.end());
  blob.insert(blob.end(), signature.begin(), signature.end());
  return blob;
}

Result<TpmBackend::VerifiedBlob> TpmBackend::Verified(ByteView aad,
                                                      ByteView blob) {
  WARDEN_ASSIGN_OR_RETURN(TpmBlobParts parts, ParseTpmBlob(blob));
  if (!binding_public_
           .Verify(SignedData(parts.version, aad, parts.payload),
                   parts.signature)
           .ok()) {
    return IntegrityError(
        "keystore: a blob was not made by this keystore's TPM for this item "
        "(altered, another item's, or another TPM's)");
  }
  return VerifiedBlob{parts.version,
                      Bytes(parts.payload.begin(), parts.payload.end())};
}

namespace {

// The key sealing a version 2 payload: the index's bytes, bound to its
// handle and to the item.
Result<crypto::SecretBytes> NvKey(ByteView nv_secret, uint32_t handle,
                                  ByteView aad) {
  Bytes info(kNvKeyContext.begin(), kNvKeyContext.end());
  PutU32(info, handle);
  info.insert(info.end(), aad.begin(), aad.end());
  WARDEN_ASSIGN_OR_RETURN(
      Bytes key, crypto::Hkdf(crypto::HashAlg::kSha256, nv_secret, {}, info,
                              crypto::kAeadKeySize));
  return crypto::SecretBytes(std::move(key));
}

}  // namespace

Result<size_t> TpmBackend::NvIndicesInUse() {
  WARDEN_ASSIGN_OR_RETURN(auto handles, nv_->Handles(kTpmNvFirst, kTpmNvLast));
  return handles.size();
}

Result<Bytes> TpmBackend::Bind(ByteView aad, ByteView inner) {
  WARDEN_ASSIGN_OR_RETURN(size_t in_use, NvIndicesInUse());
  if (in_use >= max_nv_indices_) {
    return ResourceExhaustedError(
        "keystore: the TPM keystore holds its most item versions (" +
        std::to_string(max_nv_indices_) +
        " NV indices, counting staged versions); destroy an item first");
  }
  WARDEN_ASSIGN_OR_RETURN(Bytes fresh, RandomBytes(rng_, kNvSecretSize));
  crypto::SecretBytes nv_secret(std::move(fresh));
  std::optional<uint32_t> handle;
  for (int i = 0; i < kHandleTries && !handle.has_value(); ++i) {
    WARDEN_ASSIGN_OR_RETURN(Bytes pick, RandomBytes(rng_, 2));
    const uint32_t candidate =
        kTpmNvFirst + ((uint32_t{pick[0]} << 8) | pick[1]);
    Status defined = nv_->Define(candidate, nv_tag_, nv_secret.view());
    if (defined.ok()) {
      handle = candidate;
    } else if (defined.code() != Code::kAlreadyExists) {
      return defined;
    }
  }
  if (!handle.has_value()) {
    return ResourceExhaustedError(
        "keystore: no free NV handle found in the keystore's range");
  }
  // From here on the index is undefined again on any failure: no blob
  // will name it.
  Result<Bytes> blob = [&]() -> Result<Bytes> {
    WARDEN_ASSIGN_OR_RETURN(crypto::SecretBytes key,
                            NvKey(nv_secret.view(), *handle, aad));
    WARDEN_ASSIGN_OR_RETURN(Bytes sealed, crypto::AeadSealRandomNonce(
                                              rng_, key.view(), aad, inner));
    Bytes payload;
    PutU32(payload, *handle);
    payload.insert(payload.end(), sealed.begin(), sealed.end());
    return Signed(kBlobVersion, aad, payload);
  }();
  if (!blob.ok()) nv_->Undefine(*handle, nv_tag_).IgnoreError();
  return blob;
}

Result<Bytes> TpmBackend::Unbind(ByteView aad, ByteView blob) {
  WARDEN_ASSIGN_OR_RETURN(VerifiedBlob verified, Verified(aad, blob));
  if (verified.version == kLegacyBlobVersion) {
    return std::move(verified.payload);
  }
  WARDEN_ASSIGN_OR_RETURN(TpmNvParts parts,
                          ParseTpmNvPayload(verified.payload));
  WARDEN_ASSIGN_OR_RETURN(crypto::SecretBytes nv_secret,
                          nv_->Read(parts.handle, nv_tag_));
  WARDEN_ASSIGN_OR_RETURN(crypto::SecretBytes key,
                          NvKey(nv_secret.view(), parts.handle, aad));
  auto inner = crypto::AeadOpenRandomNonce(key.view(), aad, parts.sealed);
  if (!inner.ok()) {
    // The blob is this TPM's, unaltered (signed): its index holds other
    // bytes, so it was destroyed and its handle given to another version.
    return NotFoundError(
        "keystore: the TPM no longer holds this item version's NV index (it "
        "was destroyed)");
  }
  return std::move(*inner);
}

Status TpmBackend::Erase(ByteView aad, ByteView blob) {
  auto verified = Verified(aad, blob);
  // A blob that does not verify names nothing this item may destroy.
  if (!verified.ok() || verified->version == kLegacyBlobVersion) {
    return Status::Ok();
  }
  auto parts = ParseTpmNvPayload(verified->payload);
  if (!parts.ok()) return Status::Ok();
  return nv_->Undefine(parts->handle, nv_tag_);
}

Status TpmBackend::ReleaseOrphans(const std::vector<Bytes>& live) {
  std::set<uint32_t> named;
  for (const Bytes& blob : live) {
    auto parts = ParseTpmBlob(blob);
    if (!parts.ok() || parts->version != kBlobVersion) continue;
    auto nv = ParseTpmNvPayload(parts->payload);
    if (nv.ok()) named.insert(nv->handle);
  }
  WARDEN_ASSIGN_OR_RETURN(auto handles, nv_->Handles(kTpmNvFirst, kTpmNvLast));
  Status first = Status::Ok();
  for (uint32_t handle : handles) {
    if (named.count(handle) != 0) continue;
    Status released = nv_->Undefine(handle, nv_tag_);
    if (!released.ok() && first.ok()) first = released;
  }
  return first;
}

Result<Bytes> TpmBackend::NewSigningKey(ByteView aad) {
  WARDEN_ASSIGN_OR_RETURN(Bytes key, tpm_.GenerateP256());
  return Bind(aad, key);
}

Result<crypto::PrivateKey> TpmBackend::LoadSigningKey(ByteView aad,
                                                      ByteView blob) {
  WARDEN_ASSIGN_OR_RETURN(Bytes key, Unbind(aad, blob));
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
  return Bind(aad, payload);
}

Result<crypto::SecretBytes> TpmBackend::UnsealSecret(ByteView aad,
                                                     ByteView blob) {
  WARDEN_ASSIGN_OR_RETURN(Bytes payload, Unbind(aad, blob));
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
