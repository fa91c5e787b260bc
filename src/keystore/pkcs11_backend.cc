#include "keystore/pkcs11_backend.h"

#include <dlfcn.h>
#include <p11-kit/pkcs11.h>

#include <cstdio>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "crypto/aead.h"
#include "crypto/pkcs11.h"
#include "crypto/secret.h"

namespace warden::keystore {
namespace {

constexpr char kBindingLabel[] = "warden-keystore-binding";
constexpr size_t kIdSize = 16;
constexpr size_t kIvSize = 12;
constexpr size_t kTagSize = 16;
// Every blob starts with the item's object id sealed under the binding key.
constexpr size_t kSealedIdSize = kIvSize + kIdSize + kTagSize;
// DER of the P-256 curve's OID, as CKA_EC_PARAMS wants it.
constexpr CK_BYTE kP256Params[] = {0x06, 0x08, 0x2a, 0x86, 0x48,
                                   0xce, 0x3d, 0x03, 0x01, 0x07};

std::string LabelFor(char kind, ByteView id) {
  return std::string("wks-") + kind + "-" + HexEncode(id);
}

Status Failed(std::string_view what, CK_RV rv) {
  char code[24];
  std::snprintf(code, sizeof(code), "0x%lx", static_cast<unsigned long>(rv));
  return UnavailableError("PKCS#11: " + std::string(what) + " failed (CKR " +
                          code + ")");
}

// libp11 finalises the module when one of its contexts goes, which ends
// every session on the module in this process, another backend's too; so
// every backend on a token shares one token object, which goes with the
// last of them. Login is per process in PKCS#11 anyway: once one opener
// has logged in, the token is open to every session of the process.
// Single-threaded, as the keystore is.
Result<std::shared_ptr<crypto::Pkcs11Token>> SharedToken(
    const Pkcs11BackendOptions& options) {
  static auto* tokens = new std::map<std::pair<std::string, std::string>,
                                     std::weak_ptr<crypto::Pkcs11Token>>();
  auto& slot = (*tokens)[{options.module_path, options.token_label}];
  if (auto token = slot.lock()) return token;
  WARDEN_ASSIGN_OR_RETURN(
      auto token, crypto::Pkcs11Token::Open(options.module_path,
                                            options.token_label, options.pin));
  auto shared = std::make_shared<crypto::Pkcs11Token>(std::move(token));
  slot = shared;
  return shared;
}

}  // namespace

struct Pkcs11Backend::Module {
  std::shared_ptr<crypto::Pkcs11Token> token;  // signs; opened first
  void* handle = nullptr;
  CK_FUNCTION_LIST_PTR f = nullptr;
  CK_SESSION_HANDLE session = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE binding = CK_INVALID_HANDLE;

  // The module stays initialised: libp11 finalises it when its token goes,
  // after this.
  ~Module() {
    if (session != CK_INVALID_HANDLE) f->C_CloseSession(session);
    if (handle != nullptr) dlclose(handle);
  }

  // Objects of `cls` labelled `label`.
  Result<std::vector<CK_OBJECT_HANDLE>> Find(CK_OBJECT_CLASS cls,
                                             const std::string& label) {
    CK_ATTRIBUTE tmpl[] = {
        {CKA_CLASS, &cls, sizeof(cls)},
        {CKA_LABEL, const_cast<char*>(label.data()), label.size()},
    };
    CK_RV rv = f->C_FindObjectsInit(session, tmpl, 2);
    if (rv != CKR_OK) return Failed("C_FindObjectsInit", rv);
    std::vector<CK_OBJECT_HANDLE> found;
    CK_OBJECT_HANDLE objects[8];
    CK_ULONG count = 0;
    do {
      rv = f->C_FindObjects(session, objects, 8, &count);
      if (rv != CKR_OK) break;
      found.insert(found.end(), objects, objects + count);
    } while (count == 8 && found.size() < 64);
    f->C_FindObjectsFinal(session);
    if (rv != CKR_OK) return Failed("C_FindObjects", rv);
    return found;
  }

  Result<CK_OBJECT_HANDLE> FindOne(CK_OBJECT_CLASS cls,
                                   const std::string& label) {
    WARDEN_ASSIGN_OR_RETURN(auto found, Find(cls, label));
    if (found.empty()) {
      return NotFoundError("PKCS#11: the token holds no object \"" + label +
                           "\"");
    }
    return found.front();
  }

  // A new AES-256 key in the token, sensitive and not extractable.
  Result<CK_OBJECT_HANDLE> NewAesKey(const std::string& label) {
    CK_MECHANISM mech = {CKM_AES_KEY_GEN, nullptr, 0};
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE type = CKK_AES;
    CK_ULONG len = 32;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_ATTRIBUTE tmpl[] = {
        {CKA_CLASS, &cls, sizeof(cls)},
        {CKA_KEY_TYPE, &type, sizeof(type)},
        {CKA_VALUE_LEN, &len, sizeof(len)},
        {CKA_TOKEN, &yes, sizeof(yes)},
        {CKA_PRIVATE, &yes, sizeof(yes)},
        {CKA_SENSITIVE, &yes, sizeof(yes)},
        {CKA_EXTRACTABLE, &no, sizeof(no)},
        {CKA_ENCRYPT, &yes, sizeof(yes)},
        {CKA_DECRYPT, &yes, sizeof(yes)},
        {CKA_LABEL, const_cast<char*>(label.data()), label.size()},
    };
    CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
    CK_RV rv = f->C_GenerateKey(session, &mech, tmpl,
                                sizeof(tmpl) / sizeof(tmpl[0]), &key);
    if (rv != CKR_OK) return Failed("C_GenerateKey (AES)", rv);
    return key;
  }

  // AES-256-GCM by the token: iv || ciphertext || tag.
  Result<Bytes> Seal(CK_OBJECT_HANDLE key, Rng& rng, ByteView aad,
                     ByteView plain) {
    WARDEN_ASSIGN_OR_RETURN(Bytes iv, RandomBytes(rng, kIvSize));
    CK_GCM_PARAMS params = {};
    params.pIv = iv.data();
    params.ulIvLen = iv.size();
    params.ulIvBits = iv.size() * 8;
    params.pAAD = const_cast<CK_BYTE*>(aad.data());
    params.ulAADLen = aad.size();
    params.ulTagBits = kTagSize * 8;
    CK_MECHANISM mech = {CKM_AES_GCM, &params, sizeof(params)};
    CK_RV rv = f->C_EncryptInit(session, &mech, key);
    if (rv != CKR_OK) return Failed("C_EncryptInit (AES-GCM)", rv);
    Bytes out(kIvSize + plain.size() + kTagSize);
    std::copy(iv.begin(), iv.end(), out.begin());
    CK_ULONG len = out.size() - kIvSize;
    rv = f->C_Encrypt(session, const_cast<CK_BYTE*>(plain.data()), plain.size(),
                      out.data() + kIvSize, &len);
    if (rv != CKR_OK) return Failed("C_Encrypt", rv);
    out.resize(kIvSize + len);
    return out;
  }

  Result<crypto::SecretBytes> Open(CK_OBJECT_HANDLE key, ByteView aad,
                                   ByteView sealed) {
    if (sealed.size() < kIvSize + kTagSize) {
      return IntegrityError("keystore: a sealed blob is too short");
    }
    CK_GCM_PARAMS params = {};
    params.pIv = const_cast<CK_BYTE*>(sealed.data());
    params.ulIvLen = kIvSize;
    params.ulIvBits = kIvSize * 8;
    params.pAAD = const_cast<CK_BYTE*>(aad.data());
    params.ulAADLen = aad.size();
    params.ulTagBits = kTagSize * 8;
    CK_MECHANISM mech = {CKM_AES_GCM, &params, sizeof(params)};
    CK_RV rv = f->C_DecryptInit(session, &mech, key);
    if (rv != CKR_OK) return Failed("C_DecryptInit (AES-GCM)", rv);
    Bytes out(sealed.size() - kIvSize);
    CK_ULONG len = out.size();
    rv = f->C_Decrypt(session, const_cast<CK_BYTE*>(sealed.data() + kIvSize),
                      sealed.size() - kIvSize, out.data(), &len);
    if (rv != CKR_OK) {
      // The tag did not verify: tokens report it as they like
      // (CKR_ENCRYPTED_DATA_INVALID, SoftHSM's CKR_GENERAL_ERROR).
      crypto::Wipe(out);
      return IntegrityError(
          "keystore: a blob does not open (altered, or another item's)");
    }
    out.resize(len);
    return crypto::SecretBytes(std::move(out));
  }

  Status DestroyAll(CK_OBJECT_CLASS cls, const std::string& label) {
    WARDEN_ASSIGN_OR_RETURN(auto found, Find(cls, label));
    for (CK_OBJECT_HANDLE object : found) {
      CK_RV rv = f->C_DestroyObject(session, object);
      if (rv != CKR_OK) return Failed("C_DestroyObject", rv);
    }
    return Status::Ok();
  }
};

Pkcs11Backend::Pkcs11Backend(Rng& rng, std::unique_ptr<Module> module)
    : rng_(rng), module_(std::move(module)) {}

Pkcs11Backend::~Pkcs11Backend() = default;

Result<std::unique_ptr<Pkcs11Backend>> Pkcs11Backend::Open(
    Pkcs11BackendOptions options, Rng& rng) {
  auto module = std::make_unique<Module>();
  auto token = SharedToken(options);
  if (!token.ok()) {
    crypto::Wipe(options.pin);
    return token.status();
  }
  module->token = std::move(*token);
  module->handle = dlopen(options.module_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (module->handle == nullptr) {
    crypto::Wipe(options.pin);
    return UnavailableError("PKCS#11: cannot load " + options.module_path);
  }
  auto get_list = reinterpret_cast<CK_RV (*)(CK_FUNCTION_LIST_PTR_PTR)>(
      dlsym(module->handle, "C_GetFunctionList"));
  if (get_list == nullptr || get_list(&module->f) != CKR_OK) {
    crypto::Wipe(options.pin);
    return UnavailableError("PKCS#11: " + options.module_path +
                            " has no function list");
  }
  CK_RV rv = module->f->C_Initialize(nullptr);
  if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
    crypto::Wipe(options.pin);
    return Failed("C_Initialize", rv);
  }
  // The slot whose token carries the label (blank-padded to 32 bytes).
  CK_ULONG count = 0;
  rv = module->f->C_GetSlotList(CK_TRUE, nullptr, &count);
  std::vector<CK_SLOT_ID> slots(count);
  if (rv == CKR_OK && count > 0) {
    rv = module->f->C_GetSlotList(CK_TRUE, slots.data(), &count);
  }
  std::optional<CK_SLOT_ID> slot;
  for (CK_ULONG i = 0; rv == CKR_OK && i < count; ++i) {
    CK_TOKEN_INFO info;
    if (module->f->C_GetTokenInfo(slots[i], &info) != CKR_OK) continue;
    std::string label(reinterpret_cast<const char*>(info.label),
                      sizeof(info.label));
    label.erase(label.find_last_not_of(' ') + 1);
    if (label == options.token_label) {
      slot = slots[i];
      break;
    }
  }
  if (!slot) {
    crypto::Wipe(options.pin);
    return NotFoundError("PKCS#11: no token labelled \"" + options.token_label +
                         "\"");
  }
  rv = module->f->C_OpenSession(*slot, CKF_SERIAL_SESSION | CKF_RW_SESSION,
                                nullptr, nullptr, &module->session);
  if (rv != CKR_OK) {
    crypto::Wipe(options.pin);
    return Failed("C_OpenSession", rv);
  }
  rv = module->f->C_Login(module->session, CKU_USER,
                          reinterpret_cast<CK_UTF8CHAR*>(options.pin.data()),
                          options.pin.size());
  crypto::Wipe(options.pin);
  if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
    return UnauthenticatedError("PKCS#11: the token refused the login");
  }
  auto binding = module->FindOne(CKO_SECRET_KEY, kBindingLabel);
  if (!binding.ok()) {
    if (binding.status().code() != Code::kNotFound) return binding.status();
    binding = module->NewAesKey(kBindingLabel);
    if (!binding.ok()) return binding.status();
  }
  module->binding = *binding;
  return std::unique_ptr<Pkcs11Backend>(
      new Pkcs11Backend(rng, std::move(module)));
}

Result<Bytes> Pkcs11Backend::NewSigningKey(ByteView aad) {
  WARDEN_ASSIGN_OR_RETURN(Bytes id, RandomBytes(rng_, kIdSize));
  const std::string label = LabelFor('k', id);
  CK_MECHANISM mech = {CKM_EC_KEY_PAIR_GEN, nullptr, 0};
  CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
  CK_ATTRIBUTE pub[] = {
      {CKA_TOKEN, &yes, sizeof(yes)},
      {CKA_VERIFY, &yes, sizeof(yes)},
      {CKA_EC_PARAMS, const_cast<CK_BYTE*>(kP256Params), sizeof(kP256Params)},
      {CKA_LABEL, const_cast<char*>(label.data()), label.size()},
      {CKA_ID, id.data(), id.size()},
  };
  CK_ATTRIBUTE priv[] = {
      {CKA_TOKEN, &yes, sizeof(yes)},
      {CKA_PRIVATE, &yes, sizeof(yes)},
      {CKA_SENSITIVE, &yes, sizeof(yes)},
      {CKA_EXTRACTABLE, &no, sizeof(no)},
      {CKA_SIGN, &yes, sizeof(yes)},
      {CKA_LABEL, const_cast<char*>(label.data()), label.size()},
      {CKA_ID, id.data(), id.size()},
  };
  CK_OBJECT_HANDLE pub_key, priv_key;
  CK_RV rv = module_->f->C_GenerateKeyPair(
      module_->session, &mech, pub, sizeof(pub) / sizeof(pub[0]), priv,
      sizeof(priv) / sizeof(priv[0]), &pub_key, &priv_key);
  if (rv != CKR_OK) return Failed("C_GenerateKeyPair (EC P-256)", rv);
  return module_->Seal(module_->binding, rng_, aad, id);
}

Result<Bytes> Pkcs11Backend::ItemId(ByteView aad, ByteView blob) {
  if (blob.size() < kSealedIdSize) {
    return IntegrityError("keystore: a sealed blob is too short");
  }
  WARDEN_ASSIGN_OR_RETURN(
      crypto::SecretBytes id,
      module_->Open(module_->binding, aad, blob.first(kSealedIdSize)));
  if (id.size() != kIdSize) {
    return DataLossError("keystore: a blob names no token object");
  }
  return id.bytes();
}

Result<crypto::PrivateKey> Pkcs11Backend::LoadSigningKey(ByteView aad,
                                                         ByteView blob) {
  WARDEN_ASSIGN_OR_RETURN(Bytes id, ItemId(aad, blob));
  const std::string label = LabelFor('k', id);
  // Asked of the token itself: libp11 keeps the key list it read first,
  // and would hand out a key destroyed since, which then fails to sign.
  WARDEN_TRY(module_->FindOne(CKO_PRIVATE_KEY, label).status());
  return module_->token->PrivateKeyByLabel(label);
}

Result<Bytes> Pkcs11Backend::SealSecret(ByteView aad, ByteView secret) {
  WARDEN_ASSIGN_OR_RETURN(Bytes id, RandomBytes(rng_, kIdSize));
  WARDEN_ASSIGN_OR_RETURN(Bytes blob,
                          module_->Seal(module_->binding, rng_, aad, id));
  WARDEN_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE key,
                          module_->NewAesKey(LabelFor('s', id)));
  auto sealed = module_->Seal(key, rng_, aad, secret);
  if (!sealed.ok()) {
    module_->f->C_DestroyObject(module_->session, key);
    return sealed.status();
  }
  blob.insert(blob.end(), sealed->begin(), sealed->end());
  return blob;
}

Result<crypto::SecretBytes> Pkcs11Backend::UnsealSecret(ByteView aad,
                                                        ByteView blob) {
  WARDEN_ASSIGN_OR_RETURN(Bytes id, ItemId(aad, blob));
  WARDEN_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE key,
                          module_->FindOne(CKO_SECRET_KEY, LabelFor('s', id)));
  return module_->Open(key, aad, blob.subspan(kSealedIdSize));
}

Status Pkcs11Backend::Erase(ByteView aad, ByteView blob) {
  auto id = ItemId(aad, blob);
  // A blob that does not open names nothing this item may destroy.
  if (!id.ok()) return Status::Ok();
  WARDEN_TRY(module_->DestroyAll(CKO_SECRET_KEY, LabelFor('s', *id)));
  WARDEN_TRY(module_->DestroyAll(CKO_PRIVATE_KEY, LabelFor('k', *id)));
  return module_->DestroyAll(CKO_PUBLIC_KEY, LabelFor('k', *id));
}

}  // namespace warden::keystore
