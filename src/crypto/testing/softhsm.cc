#include "crypto/testing/softhsm.h"

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace warden::crypto::testing {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

Result<SoftHsmToken> SoftHsmToken::Make(const std::string& dir,
                                        const std::string& label) {
  std::error_code ec;
  if (!fs::exists(kModule, ec)) {
    return NotFoundError(
        "SoftHSM is missing: scripts/install-deps.sh installs softhsm2");
  }
  fs::create_directories(dir + "/tokens", ec);
  if (ec) return UnavailableError("cannot make " + dir + "/tokens");
  {
    std::ofstream conf(dir + "/softhsm2.conf", std::ios::trunc);
    conf << "directories.tokendir = " << dir << "/tokens\n"
         << "objectstore.backend = file\nlog.level = ERROR\n";
    if (!conf)
      return UnavailableError("cannot write " + dir + "/softhsm2.conf");
  }
  setenv("SOFTHSM2_CONF", (dir + "/softhsm2.conf").c_str(), 1);
  SoftHsmToken token(dir, label);
  WARDEN_TRY(
      token.Run(std::string("softhsm2-util --init-token --free --label ") +
                label + " --so-pin " + kSoPin + " --pin " + kPin));
  return token;
}

Status SoftHsmToken::GenerateKeyPair(const std::string& type,
                                     const std::string& key_label,
                                     const std::string& id) const {
  return Run(std::string("pkcs11-tool --module ") + kModule +
             " --token-label " + label_ + " --login --pin " + kPin +
             " --keypairgen --key-type " + type + " --label " + key_label +
             " --id " + id);
}

Status SoftHsmToken::Run(const std::string& command) const {
  const std::string log = dir_ + "/tool.log";
  const std::string quiet = command + " >" + log + " 2>&1";
  if (std::system(quiet.c_str()) != 0) {
    return UnavailableError(command + " failed:\n" + Slurp(log));
  }
  return Status::Ok();
}

}  // namespace warden::crypto::testing
