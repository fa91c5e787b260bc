// SSH through libssh: the server's banner, the authentication methods it
// offers, and one password attempt per connection. libssh's calls block;
// its own timeout (set from ProbeOptions::io_timeout) bounds each of them.
#include <libssh/libssh.h>

#include <memory>

#include "assess/logins.h"

namespace warden::assess {
namespace {

struct SessionFree {
  void operator()(ssh_session s) const {
    ssh_disconnect(s);
    ssh_free(s);
  }
};
using SshSession = std::unique_ptr<ssh_session_struct, SessionFree>;

// A session connected to the target with key exchange done, or why not.
SshSession Open(const boost::asio::ip::address& address, uint16_t port,
                const std::string& user, const ProbeOptions& options,
                std::string* error) {
  SshSession s(ssh_new());
  if (!s) {
    *error = "cannot create an SSH session";
    return nullptr;
  }
  const std::string host = address.to_string();
  const unsigned int port_value = port;
  const long usec = static_cast<long>(options.io_timeout.count()) * 1000;
  const long sec = 0;
  int no = 0;
  // The assessor's own ~/.ssh/config must not change where it connects.
  if (ssh_options_set(s.get(), SSH_OPTIONS_PROCESS_CONFIG, &no) != SSH_OK ||
      ssh_options_set(s.get(), SSH_OPTIONS_HOST, host.c_str()) != SSH_OK ||
      ssh_options_set(s.get(), SSH_OPTIONS_PORT, &port_value) != SSH_OK ||
      ssh_options_set(s.get(), SSH_OPTIONS_USER, user.c_str()) != SSH_OK ||
      ssh_options_set(s.get(), SSH_OPTIONS_TIMEOUT, &sec) != SSH_OK ||
      ssh_options_set(s.get(), SSH_OPTIONS_TIMEOUT_USEC, &usec) != SSH_OK) {
    *error = "cannot set the SSH options";
    return nullptr;
  }
  if (ssh_connect(s.get()) != SSH_OK) {
    *error = std::string("SSH connect: ") + ssh_get_error(s.get());
    return nullptr;
  }
  return s;
}

}  // namespace

SshFacts ProbeSsh(const boost::asio::ip::address& address, uint16_t port,
                  const ProbeOptions& options) {
  SshFacts out;
  SshSession s =
      Open(address, port, std::string(kThrottleProbeUser), options, &out.error);
  if (!s) return out;
  out.answered = true;
  if (const char* banner = ssh_get_serverbanner(s.get())) {
    out.banner = Printable(AsBytes(std::string_view(banner)), 255);
  }
  const int rc = ssh_userauth_none(s.get(), nullptr);
  if (rc == SSH_AUTH_SUCCESS) {
    out.methods = "none (no authentication at all)";
    out.password_offered = true;
    return out;
  }
  if (rc == SSH_AUTH_ERROR) {
    out.error = std::string("SSH \"none\" request: ") + ssh_get_error(s.get());
    return out;
  }
  const int methods = ssh_userauth_list(s.get(), nullptr);
  auto add = [&](int bit, std::string_view name) {
    if ((methods & bit) == 0) return;
    out.methods += (out.methods.empty() ? "" : ", ") + std::string(name);
  };
  add(SSH_AUTH_METHOD_PUBLICKEY, "publickey");
  add(SSH_AUTH_METHOD_PASSWORD, "password");
  add(SSH_AUTH_METHOD_INTERACTIVE, "keyboard-interactive");
  add(SSH_AUTH_METHOD_HOSTBASED, "hostbased");
  add(SSH_AUTH_METHOD_GSSAPI_MIC, "gssapi-with-mic");
  out.password_offered = (methods & SSH_AUTH_METHOD_PASSWORD) != 0;
  out.keyboard_interactive = (methods & SSH_AUTH_METHOD_INTERACTIVE) != 0;
  return out;
}

AttemptOutcome TrySshPassword(const boost::asio::ip::address& address,
                              uint16_t port, const CredentialPair& pair,
                              const ProbeOptions& options, std::string* why) {
  SshSession s = Open(address, port, pair.user, options, why);
  if (!s) return AttemptOutcome::kNoAnswer;
  switch (ssh_userauth_password(s.get(), nullptr, pair.password.c_str())) {
    case SSH_AUTH_SUCCESS:
      *why = "password authentication succeeded";
      return AttemptOutcome::kAccepted;
    case SSH_AUTH_DENIED:
    case SSH_AUTH_PARTIAL:
      *why = "password authentication denied";
      return AttemptOutcome::kRefused;
    default:
      *why = std::string("SSH: ") + ssh_get_error(s.get());
      return AttemptOutcome::kNoAnswer;
  }
}

}  // namespace warden::assess
