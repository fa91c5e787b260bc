// `warden release`: the maker's TUF repository tool (src/release/), its
// argument parsing and printing. Registered on the top-level app before it
// parses; Run() once it has, when parsed().
#ifndef WARDEN_CLI_RELEASE_CMD_H_
#define WARDEN_CLI_RELEASE_CMD_H_

#include <CLI/CLI.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace warden::cli {

class ReleaseCommand {
 public:
  // Adds "release" and its subcommands to `app`, which must outlive this.
  explicit ReleaseCommand(CLI::App& app);

  bool parsed() const;
  // Exit status: 0 done, 1 the operation failed, 2 a usage error.
  int Run();

 private:
  struct Args {
    std::string repo, root_keys, image, out;
    std::optional<int> root_threshold, root_key_count;
    std::vector<std::string> threshold, key_count, expires;
    std::string key_type = "ed25519";
    std::string hardware_model, version;
    std::optional<std::string> min_from, support_until;
    std::string role;
    std::optional<std::string> revoke;
    std::optional<int> days;
    std::string pkcs11_module, pkcs11_token;
    std::vector<std::string> pkcs11_key;
    bool json = false;
  };
  int Init();
  int Add();
  int Refresh();
  int Sign();
  int Rotate();
  int Status();
  int Publish();

  Args a_;
  CLI::App* release_ = nullptr;
  CLI::App* init_ = nullptr;
  CLI::App* add_ = nullptr;
  CLI::App* refresh_ = nullptr;
  CLI::App* sign_ = nullptr;
  CLI::App* rotate_ = nullptr;
  CLI::App* status_ = nullptr;
  CLI::App* publish_ = nullptr;
};

}  // namespace warden::cli

#endif  // WARDEN_CLI_RELEASE_CMD_H_
