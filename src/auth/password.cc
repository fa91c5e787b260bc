#include "auth/password.h"

#include <pwquality.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <string>
#include <unordered_set>

#include "auth/credential_list.h"
#include "platform/file.h"

namespace warden::auth {
namespace {

static_assert(crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE == 2,
              "HashParams default opslimit must track libsodium");
static_assert(crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE == size_t{64} << 20,
              "HashParams default memlimit must track libsodium");

constexpr std::string_view kArgon2idPrefix = "$argon2id$";

// A std::string that is wiped when it goes away, for copies of passwords.
class WipedString {
 public:
  explicit WipedString(std::string s) : s_(std::move(s)) {}
  ~WipedString() { sodium_memzero(s_.data(), s_.size()); }
  WipedString(const WipedString&) = delete;
  WipedString& operator=(const WipedString&) = delete;
  const std::string& get() const { return s_; }

 private:
  std::string s_;
};

bool SodiumReady() {
  // sodium_init is idempotent and thread-safe; doing it once keeps the
  // common path free of the call.
  static const bool ready = sodium_init() >= 0;
  return ready;
}

char AsciiLower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool IsAsciiAlnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
         (c >= 'A' && c <= 'Z');
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), AsciiLower);
  return out;
}

// Lowercase ASCII letters and digits only: "WD-2024/001" -> "wd2024001".
std::string Folded(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (IsAsciiAlnum(c)) out.push_back(AsciiLower(c));
  }
  return out;
}

enum class Utf8Verdict { kOk, kInvalid, kControl };

// Strict UTF-8 (no overlong forms, surrogates or code points above
// U+10FFFF). Counts code points into `*count`. C0/C1 controls and DEL are
// reported separately: no keyboard produces them, and a NUL would cut the
// password short for libraries that take C strings.
Utf8Verdict ScanUtf8(std::string_view s, size_t* count) {
  size_t n = 0;
  size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    uint32_t cp = 0;
    size_t len = 0;
    if (b0 < 0x80) {
      cp = b0;
      len = 1;
    } else if (b0 >= 0xC2 && b0 <= 0xDF) {
      cp = b0 & 0x1Fu;
      len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      cp = b0 & 0x0Fu;
      len = 3;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      cp = b0 & 0x07u;
      len = 4;
    } else {
      return Utf8Verdict::kInvalid;
    }
    if (s.size() - i < len) return Utf8Verdict::kInvalid;
    for (size_t k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0u) != 0x80u) return Utf8Verdict::kInvalid;
      cp = (cp << 6) | (b & 0x3Fu);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
      return Utf8Verdict::kInvalid;
    }
    if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) return Utf8Verdict::kControl;
    ++n;
    i += len;
  }
  *count = n;
  return Utf8Verdict::kOk;
}

const std::unordered_set<std::string>& KnownCredentials() {
  static const std::unordered_set<std::string>* set = [] {
    auto* out = new std::unordered_set<std::string>();
    std::string_view text = internal::DefaultCredentialListText();
    while (!text.empty()) {
      size_t end = text.find('\n');
      std::string_view line = text.substr(0, end);
      text = end == std::string_view::npos ? std::string_view()
                                           : text.substr(end + 1);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.empty() || line.front() == '#') continue;
      out->insert(Lower(line));
    }
    return out;
  }();
  return *set;
}

Status CheckContext(std::string_view password, const PasswordContext& ctx) {
  const WipedString lower(Lower(password));
  const WipedString folded(Folded(password));
  struct Field {
    const std::string& value;
    const char* what;
  };
  const std::array<Field, 3> fields = {{
      {ctx.serial, "the device's serial number"},
      {ctx.model, "the device's model name"},
      {ctx.maker, "the maker's name"},
  }};
  for (const Field& f : fields) {
    const std::string plain = Lower(f.value);
    const std::string bare = Folded(f.value);
    const bool found =
        (plain.size() >= 3 && lower.get().find(plain) != std::string::npos) ||
        (bare.size() >= 3 && folded.get().find(bare) != std::string::npos);
    if (found) {
      return InvalidArgumentError(
          std::string("the password must not contain ") + f.what +
          ", which is printed on the device and shown to anyone who asks");
    }
  }
  return Status::Ok();
}

// The cracklib dictionary libpwquality would use, or "" when none is
// installed. Without this check every password would be refused with "error
// loading dictionary" on a system that lacks the dictionary package.
std::string FindCracklibDictionary() {
  static constexpr std::array<const char*, 2> kCandidates = {
      "/var/cache/cracklib/cracklib_dict",  // Debian, Ubuntu
      "/usr/share/cracklib/pw_dict",        // Fedora, Arch, upstream default
  };
  for (const char* base : kCandidates) {
    const std::string b(base);
    if (platform::Exists(b + ".pwd") && platform::Exists(b + ".pwi") &&
        platform::Exists(b + ".hwm")) {
      return b;
    }
  }
  return "";
}

Status CheckQuality(std::string_view password) {
  pwquality_settings_t* settings = pwquality_default_settings();
  if (settings == nullptr) {
    return InternalError("libpwquality: cannot allocate settings");
  }
  pwquality_set_int_value(settings, PWQ_SETTING_MIN_LENGTH,
                          static_cast<int>(kMinPasswordLength));
  const std::string dict = FindCracklibDictionary();
  if (dict.empty()) {
    pwquality_set_int_value(settings, PWQ_SETTING_DICT_CHECK, 0);
  } else {
    pwquality_set_str_value(settings, PWQ_SETTING_DICT_PATH, dict.c_str());
  }
  const WipedString copy{std::string(password)};
  void* aux = nullptr;
  const int rc =
      pwquality_check(settings, copy.get().c_str(), nullptr, nullptr, &aux);
  Status result = Status::Ok();
  if (rc < 0) {
    std::array<char, PWQ_MAX_ERROR_MESSAGE_LEN> buf{};
    // pwquality_strerror also releases `aux`.
    const char* why = pwquality_strerror(buf.data(), buf.size(), rc, aux);
    result = InvalidArgumentError(std::string("the password is too weak: ") +
                                  (why != nullptr ? why : "refused"));
  }
  pwquality_free_settings(settings);
  return result;
}

bool ParamsInRange(const HashParams& p) {
  return p.opslimit >= crypto_pwhash_argon2id_OPSLIMIT_MIN &&
         p.opslimit <= crypto_pwhash_argon2id_OPSLIMIT_MAX &&
         p.memlimit >= crypto_pwhash_argon2id_MEMLIMIT_MIN &&
         p.memlimit <= crypto_pwhash_argon2id_MEMLIMIT_MAX;
}

}  // namespace

Status CheckPassword(std::string_view password, const PasswordContext& ctx) {
  if (password.size() > kMaxPasswordBytes) {
    return InvalidArgumentError("the password is longer than " +
                                std::to_string(kMaxPasswordBytes) + " bytes");
  }
  size_t chars = 0;
  switch (ScanUtf8(password, &chars)) {
    case Utf8Verdict::kInvalid:
      return InvalidArgumentError("the password is not valid UTF-8 text");
    case Utf8Verdict::kControl:
      return InvalidArgumentError("the password contains a control character");
    case Utf8Verdict::kOk:
      break;
  }
  if (chars < kMinPasswordLength) {
    return InvalidArgumentError("the password must have at least " +
                                std::to_string(kMinPasswordLength) +
                                " characters");
  }
  if (IsKnownDefaultCredential(password)) {
    return InvalidArgumentError(
        "the password is a factory default or one that botnets try first");
  }
  WARDEN_TRY(CheckContext(password, ctx));
  return CheckQuality(password);
}

bool IsKnownDefaultCredential(std::string_view password) {
  if (password.size() > kMaxPasswordBytes) return false;
  const WipedString lower(Lower(password));
  return KnownCredentials().count(lower.get()) != 0;
}

size_t KnownDefaultCredentialCount() { return KnownCredentials().size(); }

HashParams InteractiveHashParams() {
  return HashParams{crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
                    crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE};
}

HashParams MinimumHashParams() {
  return HashParams{crypto_pwhash_argon2id_OPSLIMIT_MIN,
                    crypto_pwhash_argon2id_MEMLIMIT_MIN};
}

Result<std::string> HashPassword(std::string_view password,
                                 const HashParams& params) {
  if (password.size() > kMaxPasswordBytes) {
    return InvalidArgumentError("password longer than " +
                                std::to_string(kMaxPasswordBytes) + " bytes");
  }
  if (!ParamsInRange(params)) {
    return InvalidArgumentError("Argon2id parameters out of range");
  }
  if (!SodiumReady()) return InternalError("libsodium failed to initialise");
  std::array<char, crypto_pwhash_STRBYTES> out{};
  if (crypto_pwhash_str_alg(out.data(), password.data(), password.size(),
                            params.opslimit, params.memlimit,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return ResourceExhaustedError("Argon2id: cannot allocate " +
                                  std::to_string(params.memlimit >> 10) +
                                  " KiB");
  }
  return std::string(out.data());
}

bool VerifyPassword(std::string_view encoded_hash, std::string_view password) {
  if (password.size() > kMaxPasswordBytes) return false;
  if (encoded_hash.size() >= crypto_pwhash_STRBYTES) return false;
  if (encoded_hash.substr(0, kArgon2idPrefix.size()) != kArgon2idPrefix) {
    return false;
  }
  if (encoded_hash.find('\0') != std::string_view::npos) return false;
  if (!SodiumReady()) return false;
  const std::string str(encoded_hash);  // libsodium needs a C string
  return crypto_pwhash_str_verify(str.c_str(), password.data(),
                                  password.size()) == 0;
}

bool HashNeedsRehash(std::string_view encoded_hash, const HashParams& params) {
  if (encoded_hash.size() >= crypto_pwhash_STRBYTES) return true;
  if (encoded_hash.substr(0, kArgon2idPrefix.size()) != kArgon2idPrefix) {
    return true;
  }
  if (!SodiumReady()) return true;
  const std::string str(encoded_hash);
  return crypto_pwhash_argon2id_str_needs_rehash(str.c_str(), params.opslimit,
                                                 params.memlimit) != 0;
}

}  // namespace warden::auth
