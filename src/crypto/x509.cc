#include "crypto/x509.h"

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <ctime>

#include "crypto/hash.h"
#include "crypto/ossl.h"

namespace warden::crypto {
namespace {

using internal::CheckOrAbort;
using internal::X509Ptr;

constexpr size_t kMaxCertificate = 64 * 1024;
constexpr size_t kMaxDnsName = 253;

std::shared_ptr<X509> Share(X509Ptr x) {
  return std::shared_ptr<X509>(x.release(), X509_free);
}

// Certificates whose key we could not hand out as a PublicKey are refused
// at the door, so public_key() never fails later.
Status CheckKey(X509* x) {
  EVP_PKEY* pkey = X509_get0_pubkey(x);
  if (pkey == nullptr) {
    ERR_clear_error();
    return InvalidArgumentError("certificate: unreadable public key");
  }
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(pkey, &der);
  if (len <= 0) {
    return InvalidArgumentError(
        internal::TakeOpenSslError("certificate: unreadable public key"));
  }
  Result<PublicKey> key = PublicKey::FromDer(ByteView(der, len));
  OPENSSL_free(der);
  if (!key.ok()) return key.status().WithContext("certificate");
  return Status::Ok();
}

// What every certificate we hand out must satisfy, so that the accessors
// never meet something they cannot represent.
Status CheckParsed(X509* x) {
  WARDEN_TRY(CheckKey(x));
  struct tm tm = {};
  if (ASN1_TIME_to_tm(X509_get0_notBefore(x), &tm) != 1 ||
      ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1) {
    ERR_clear_error();
    return InvalidArgumentError("certificate: malformed validity dates");
  }
  return Status::Ok();
}

std::optional<std::string> NameEntry(const X509_NAME* name, int nid) {
  int idx = X509_NAME_get_index_by_NID(name, nid, -1);
  if (idx < 0) return std::nullopt;
  const ASN1_STRING* data =
      X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0) {
    ERR_clear_error();
    return std::nullopt;
  }
  std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

WallTime FromAsn1Time(const ASN1_TIME* t) {
  struct tm tm = {};
  CheckOrAbort(t != nullptr && ASN1_TIME_to_tm(t, &tm) == 1);
  return FromUnixSeconds(static_cast<int64_t>(timegm(&tm)));
}

Status AddNameEntry(X509_NAME* name, int nid, const std::string& value,
                    const char* what) {
  if (X509_NAME_add_entry_by_NID(
          name, nid, MBSTRING_UTF8,
          reinterpret_cast<const unsigned char*>(value.data()),
          static_cast<int>(value.size()), -1, 0) != 1) {
    return InvalidArgumentError(internal::TakeOpenSslError(what));
  }
  return Status::Ok();
}

bool IsDnsName(const std::string& s) {
  if (s.empty() || s.size() > kMaxDnsName) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '*';
    if (!ok) return false;
  }
  return true;
}

// subjectAltName built from typed GENERAL_NAMEs rather than a config string,
// so a name containing a comma cannot smuggle in another entry.
Status AddSubjectAltNames(X509* x, const CertificateRequest& r) {
  if (r.dns_names.empty() && r.ip_addresses.empty()) return Status::Ok();
  internal::GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
  if (!names) return InternalError("certificate: out of memory");
  for (const std::string& dns : r.dns_names) {
    if (!IsDnsName(dns)) {
      return InvalidArgumentError("certificate: invalid DNS name: " + dns);
    }
    internal::GeneralNamePtr gn(GENERAL_NAME_new());
    ASN1_IA5STRING* ia5 = ASN1_IA5STRING_new();
    if (!gn || ia5 == nullptr ||
        ASN1_STRING_set(ia5, dns.data(), static_cast<int>(dns.size())) != 1) {
      ASN1_IA5STRING_free(ia5);
      return InternalError("certificate: out of memory");
    }
    GENERAL_NAME_set0_value(gn.get(), GEN_DNS, ia5);
    if (sk_GENERAL_NAME_push(names.get(), gn.get()) <= 0) {
      return InternalError("certificate: out of memory");
    }
    gn.release();
  }
  for (const std::string& ip : r.ip_addresses) {
    ASN1_OCTET_STRING* octets = a2i_IPADDRESS(ip.c_str());
    if (octets == nullptr || ip.find('\0') != std::string::npos) {
      ASN1_OCTET_STRING_free(octets);
      ERR_clear_error();
      return InvalidArgumentError("certificate: invalid IP address: " + ip);
    }
    internal::GeneralNamePtr gn(GENERAL_NAME_new());
    if (!gn) {
      ASN1_OCTET_STRING_free(octets);
      return InternalError("certificate: out of memory");
    }
    GENERAL_NAME_set0_value(gn.get(), GEN_IPADD, octets);
    if (sk_GENERAL_NAME_push(names.get(), gn.get()) <= 0) {
      return InternalError("certificate: out of memory");
    }
    gn.release();
  }
  if (X509_add1_ext_i2d(x, NID_subject_alt_name, names.get(), 0,
                        X509V3_ADD_DEFAULT) != 1) {
    return InternalError(internal::TakeOpenSslError("certificate: SAN"));
  }
  return Status::Ok();
}

// `value` is one of our constant strings, never caller text.
Status AddExtension(X509* x, X509V3_CTX* ctx, int nid, const char* value) {
  internal::X509ExtPtr ext(
      X509V3_EXT_conf_nid(nullptr, ctx, nid, const_cast<char*>(value)));
  if (!ext || X509_add_ext(x, ext.get(), -1) != 1) {
    return InternalError(internal::TakeOpenSslError("certificate: extension"));
  }
  return Status::Ok();
}

Status SetTime(ASN1_TIME* field, WallTime t) {
  // ASN1_TIME_set picks UTCTime up to 2049 and GeneralizedTime after, as
  // RFC 5280 section 4.1.2.5 requires.
  if (ASN1_TIME_set(field, static_cast<time_t>(UnixSeconds(t))) == nullptr) {
    return InvalidArgumentError(
        internal::TakeOpenSslError("certificate: time out of range"));
  }
  return Status::Ok();
}

Status SetRandomSerial(X509* x) {
  // 128 random bits with the top bit cleared keeps the DER INTEGER positive
  // and at most 16 bytes; a zero serial is not allowed.
  uint8_t buf[16];
  do {
    if (RAND_bytes(buf, sizeof(buf)) != 1) {
      return InternalError(internal::TakeOpenSslError("certificate: serial"));
    }
    buf[0] &= 0x7f;
  } while (
      std::all_of(buf, buf + sizeof(buf), [](uint8_t b) { return b == 0; }));
  internal::BnPtr bn(BN_bin2bn(buf, sizeof(buf), nullptr));
  if (!bn) return InternalError("certificate: out of memory");
  internal::Asn1IntegerPtr serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (!serial || X509_set_serialNumber(x, serial.get()) != 1) {
    return InternalError(internal::TakeOpenSslError("certificate: serial"));
  }
  return Status::Ok();
}

}  // namespace

Result<Certificate> Certificate::FromPem(std::string_view pem) {
  if (pem.empty() || pem.size() > kMaxCertificate) {
    return InvalidArgumentError("certificate: PEM size out of range");
  }
  internal::BioPtr bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return InternalError("certificate: out of memory");
  X509Ptr x(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!x) {
    return InvalidArgumentError(
        internal::TakeOpenSslError("certificate: not a PEM certificate"));
  }
  WARDEN_TRY(CheckParsed(x.get()));
  return Certificate(Share(std::move(x)));
}

Result<Certificate> Certificate::FromDer(ByteView der) {
  if (der.empty() || der.size() > kMaxCertificate) {
    return InvalidArgumentError("certificate: DER size out of range");
  }
  const unsigned char* p = der.data();
  X509Ptr x(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!x) {
    return InvalidArgumentError(
        internal::TakeOpenSslError("certificate: malformed DER"));
  }
  if (p != der.data() + der.size()) {
    return InvalidArgumentError("certificate: trailing bytes after DER");
  }
  WARDEN_TRY(CheckParsed(x.get()));
  return Certificate(Share(std::move(x)));
}

std::string Certificate::ToPem() const {
  internal::BioPtr bio(BIO_new(BIO_s_mem()));
  CheckOrAbort(bio != nullptr && PEM_write_bio_X509(bio.get(), raw()) == 1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  CheckOrAbort(len >= 0);
  return std::string(data, static_cast<size_t>(len));
}

Bytes Certificate::ToDer() const {
  unsigned char* der = nullptr;
  int len = i2d_X509(raw(), &der);
  CheckOrAbort(len > 0);
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

PublicKey Certificate::public_key() const {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(X509_get0_pubkey(raw()), &der);
  CheckOrAbort(len > 0);
  Result<PublicKey> key = PublicKey::FromDer(ByteView(der, len));
  OPENSSL_free(der);
  // Checked when the certificate was read or issued.
  CheckOrAbort(key.ok());
  return std::move(key).value();
}

std::string Certificate::subject_common_name() const {
  return NameEntry(X509_get_subject_name(raw()), NID_commonName)
      .value_or(std::string());
}

std::optional<std::string> Certificate::subject_serial_number() const {
  return NameEntry(X509_get_subject_name(raw()), NID_serialNumber);
}

WallTime Certificate::not_before() const {
  return FromAsn1Time(X509_get0_notBefore(raw()));
}

WallTime Certificate::not_after() const {
  return FromAsn1Time(X509_get0_notAfter(raw()));
}

bool Certificate::is_ca() const {
  return (X509_get_extension_flags(raw()) & EXFLAG_CA) != 0;
}

std::string Certificate::Fingerprint() const {
  return HexEncode(Sha256(ToDer()));
}

Result<Certificate> IssueCertificate(const CertificateRequest& request,
                                     const PrivateKey& issuer_key,
                                     const Certificate* issuer) {
  if (request.common_name.empty()) {
    return InvalidArgumentError("certificate: empty common name");
  }
  if (request.not_after <= request.not_before) {
    return InvalidArgumentError("certificate: empty validity period");
  }
  if (issuer == nullptr) {
    if (!(issuer_key.public_key() == request.subject_key)) {
      return InvalidArgumentError(
          "certificate: self-signed needs the subject's own key");
    }
  } else {
    if (!issuer->is_ca()) {
      return InvalidArgumentError("certificate: issuer is not a CA");
    }
    if (!(issuer_key.public_key() == issuer->public_key())) {
      return InvalidArgumentError(
          "certificate: key does not match the issuer certificate");
    }
  }

  X509Ptr x(X509_new());
  internal::X509NamePtr name(X509_NAME_new());
  if (!x || !name) return InternalError("certificate: out of memory");
  if (X509_set_version(x.get(), X509_VERSION_3) != 1) {
    return InternalError(internal::TakeOpenSslError("certificate: version"));
  }
  WARDEN_TRY(SetRandomSerial(x.get()));
  if (!request.organization.empty()) {
    WARDEN_TRY(AddNameEntry(name.get(), NID_organizationName,
                            request.organization,
                            "certificate: invalid organization"));
  }
  WARDEN_TRY(AddNameEntry(name.get(), NID_commonName, request.common_name,
                          "certificate: invalid common name"));
  if (request.serial_number.has_value()) {
    WARDEN_TRY(AddNameEntry(name.get(), NID_serialNumber,
                            *request.serial_number,
                            "certificate: invalid serial number"));
  }
  if (X509_set_subject_name(x.get(), name.get()) != 1 ||
      X509_set_issuer_name(x.get(), issuer != nullptr
                                        ? X509_get_subject_name(issuer->raw())
                                        : name.get()) != 1) {
    return InternalError(internal::TakeOpenSslError("certificate: names"));
  }
  WARDEN_TRY(SetTime(X509_getm_notBefore(x.get()), request.not_before));
  WARDEN_TRY(SetTime(X509_getm_notAfter(x.get()), request.not_after));
  if (X509_set_pubkey(x.get(), request.subject_key.raw()) != 1) {
    return InternalError(internal::TakeOpenSslError("certificate: key"));
  }

  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer != nullptr ? issuer->raw() : x.get(), x.get(),
                 nullptr, nullptr, 0);
  if (request.is_ca) {
    WARDEN_TRY(
        AddExtension(x.get(), &ctx, NID_basic_constraints, "critical,CA:TRUE"));
    WARDEN_TRY(AddExtension(x.get(), &ctx, NID_key_usage,
                            "critical,keyCertSign,cRLSign"));
  } else {
    WARDEN_TRY(AddExtension(x.get(), &ctx, NID_basic_constraints,
                            "critical,CA:FALSE"));
    WARDEN_TRY(AddExtension(x.get(), &ctx, NID_key_usage,
                            "critical,digitalSignature"));
  }
  if (request.server_auth || request.client_auth) {
    const char* eku = request.server_auth && request.client_auth
                          ? "serverAuth,clientAuth"
                          : (request.server_auth ? "serverAuth" : "clientAuth");
    WARDEN_TRY(AddExtension(x.get(), &ctx, NID_ext_key_usage, eku));
  }
  WARDEN_TRY(AddSubjectAltNames(x.get(), request));
  WARDEN_TRY(AddExtension(x.get(), &ctx, NID_subject_key_identifier, "hash"));
  if (issuer != nullptr) {
    WARDEN_TRY(AddExtension(x.get(), &ctx, NID_authority_key_identifier,
                            "keyid:always"));
  }

  // ed25519 signs the certificate as is; ECDSA with SHA-256.
  const EVP_MD* md =
      issuer_key.type() == KeyType::kEd25519 ? nullptr : EVP_sha256();
  if (X509_sign(x.get(), issuer_key.raw(), md) <= 0) {
    return InternalError(internal::TakeOpenSslError("certificate: sign"));
  }
  // Handed out through the parser, so an issued certificate is exactly what
  // a peer will read back.
  unsigned char* der = nullptr;
  int len = i2d_X509(x.get(), &der);
  if (len <= 0) {
    return InternalError(internal::TakeOpenSslError("certificate: encode"));
  }
  Result<Certificate> cert = Certificate::FromDer(ByteView(der, len));
  OPENSSL_free(der);
  return cert;
}

Status VerifyCertificate(const Certificate& leaf, const Certificate& ca,
                         WallTime now) {
  internal::X509StorePtr store(X509_STORE_new());
  internal::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!store || !ctx) return InternalError("certificate: out of memory");
  if (X509_STORE_add_cert(store.get(), ca.raw()) != 1 ||
      X509_STORE_CTX_init(ctx.get(), store.get(), leaf.raw(), nullptr) != 1) {
    return InternalError(internal::TakeOpenSslError("certificate: store"));
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(UnixSeconds(now)));
  // The anchor is whatever the caller trusts, self-signed or not.
  X509_VERIFY_PARAM_set_flags(
      param, X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_X509_STRICT);
  int rc = X509_verify_cert(ctx.get());
  int err = X509_STORE_CTX_get_error(ctx.get());
  ERR_clear_error();
  if (rc == 1) return Status::Ok();
  std::string why = X509_verify_cert_error_string(err);
  switch (err) {
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
      return BadSignatureError("certificate: " + why);
    case X509_V_ERR_CERT_NOT_YET_VALID:
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return ExpiredError("certificate: " + why);
    default:
      return UnauthenticatedError("certificate: " + why);
  }
}

namespace {

using X509ReqPtr =
    std::unique_ptr<X509_REQ, internal::Deleter<X509_REQ, X509_REQ_free>>;
constexpr size_t kMaxSigningRequest = 16 * 1024;

}  // namespace

Result<std::string> MakeSigningRequest(std::string_view common_name,
                                       std::string_view serial_number,
                                       const PrivateKey& key) {
  if (common_name.empty()) {
    return InvalidArgumentError("signing request: empty common name");
  }
  X509ReqPtr req(X509_REQ_new());
  if (!req || X509_REQ_set_version(req.get(), 0) != 1) {
    return InternalError("signing request: out of memory");
  }
  X509_NAME* name = X509_REQ_get_subject_name(req.get());
  WARDEN_TRY(AddNameEntry(name, NID_commonName, std::string(common_name),
                          "signing request: common name"));
  if (!serial_number.empty()) {
    WARDEN_TRY(AddNameEntry(name, NID_serialNumber, std::string(serial_number),
                            "signing request: serial number"));
  }
  // The public half in software: a key in hardware need not export even
  // that through its own EVP_PKEY.
  const PublicKey public_key = key.public_key();
  if (X509_REQ_set_pubkey(req.get(), public_key.raw()) != 1) {
    return InternalError(internal::TakeOpenSslError("signing request: key"));
  }
  const int nid =
      key.type() == KeyType::kEd25519 ? NID_ED25519 : NID_ecdsa_with_SHA256;
  X509_ALGOR* alg = X509_ALGOR_new();
  if (alg == nullptr ||
      X509_ALGOR_set0(alg, OBJ_nid2obj(nid), V_ASN1_UNDEF, nullptr) != 1 ||
      X509_REQ_set1_signature_algo(req.get(), alg) != 1) {
    X509_ALGOR_free(alg);
    return InternalError("signing request: algorithm");
  }
  X509_ALGOR_free(alg);
  // Signed over the encoded request info by PrivateKey::Sign, which runs
  // where the key lives, rather than by X509_REQ_sign, which would look
  // the algorithm up in the default library context.
  unsigned char* tbs = nullptr;
  const int tbs_len = i2d_re_X509_REQ_tbs(req.get(), &tbs);
  if (tbs_len <= 0) {
    return InternalError(internal::TakeOpenSslError("signing request: encode"));
  }
  auto sig = key.Sign(ByteView(tbs, static_cast<size_t>(tbs_len)));
  OPENSSL_free(tbs);
  if (!sig.ok()) return sig.status();
  ASN1_BIT_STRING* bits = ASN1_BIT_STRING_new();
  if (bits == nullptr ||
      ASN1_BIT_STRING_set(bits, sig->data(), static_cast<int>(sig->size())) !=
          1) {
    ASN1_BIT_STRING_free(bits);
    return InternalError("signing request: out of memory");
  }
  bits->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
  bits->flags |= ASN1_STRING_FLAG_BITS_LEFT;
  X509_REQ_set0_signature(req.get(), bits);
  internal::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509_REQ(bio.get(), req.get()) != 1) {
    return InternalError(internal::TakeOpenSslError("signing request: PEM"));
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

Result<SigningRequest> ParseSigningRequest(std::string_view pem) {
  if (pem.empty() || pem.size() > kMaxSigningRequest) {
    return InvalidArgumentError("signing request: size out of range");
  }
  internal::BioPtr bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return InternalError("signing request: out of memory");
  X509ReqPtr req(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  if (!req) {
    return InvalidArgumentError(
        internal::TakeOpenSslError("signing request: not a PEM request"));
  }
  EVP_PKEY* pkey = X509_REQ_get0_pubkey(req.get());
  if (pkey == nullptr) {
    return InvalidArgumentError(
        internal::TakeOpenSslError("signing request: unreadable key"));
  }
  unsigned char* der = nullptr;
  const int der_len = i2d_PUBKEY(pkey, &der);
  if (der_len <= 0) {
    return InvalidArgumentError(
        internal::TakeOpenSslError("signing request: unreadable key"));
  }
  auto key = PublicKey::FromDer(ByteView(der, static_cast<size_t>(der_len)));
  OPENSSL_free(der);
  WARDEN_TRY(key.status());
  if (X509_REQ_verify(req.get(), pkey) != 1) {
    ERR_clear_error();
    return BadSignatureError(
        "signing request: not signed by the key it carries");
  }
  const X509_NAME* name = X509_REQ_get_subject_name(req.get());
  auto cn = NameEntry(name, NID_commonName);
  if (!cn || cn->empty()) {
    return InvalidArgumentError("signing request: no common name");
  }
  return SigningRequest{*cn, NameEntry(name, NID_serialNumber),
                        std::move(*key)};
}

}  // namespace warden::crypto
