// What a device sends on its login surfaces: telnet negotiation and
// prompts, FTP replies, HTTP Digest challenges, login pages and the
// replies to a form post, SSH banners. None of it may crash or hang the
// assessor, and what the parsers keep stays within their bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "assess/logins.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace warden::assess;
  warden::ByteView bytes(data, size);
  std::string_view text(reinterpret_cast<const char*>(data), size);

  // Fed in two pieces, as reads split it.
  TelnetDecoder decoder;
  warden::Bytes replies;
  decoder.Feed(bytes.subspan(0, size / 2), &replies);
  decoder.Feed(bytes.subspan(size / 2), &replies);
  if (decoder.text().size() > kMaxLoginConversationBytes) abort();
  (void)ClassifyTelnetText(decoder.text(), false);
  (void)ClassifyTelnetText(text, true);

  size_t used = 0;
  std::string_view rest = text;
  for (int i = 0; i < 64 && !rest.empty(); ++i) {
    warden::Result<std::optional<FtpReply>> r = ParseFtpReply(rest, &used);
    if (!r.ok() || !r->has_value()) break;
    if (used == 0 || used > rest.size() || (*r)->text.size() > 256) abort();
    (void)ClassifyFtpReply(**r, i % 2 == 1);
    rest.remove_prefix(used);
  }

  warden::Result<DigestChallenge> c = ParseDigestChallenge(text);
  if (c.ok()) {
    (void)DigestAuthorization(*c, "admin", "admin", "GET", "/", "0a1b2c3d");
  }
  (void)DigestChallengeOf(bytes);

  std::optional<LoginForm> form = FindLoginForm(text, "/admin/index.html");
  if (form) {
    if (form->hidden.size() > 32 || form->action.empty()) abort();
    (void)FormBody(*form, "admin", "admin");
  }
  std::string why;
  (void)ClassifyFormAttempt(bytes, "/", &why);
  (void)ParseSshBanner(bytes);
  return 0;
}
