// Test only: runs the built `warden` binary as a user would, with its
// standard input from a string and its output captured, and the checks
// every CLI test makes of an error.
#ifndef WARDEN_CLI_TESTING_RUN_CLI_H_
#define WARDEN_CLI_TESTING_RUN_CLI_H_

#include <string>
#include <vector>

namespace warden::cli::testing {

struct RunResult {
  int exit_code = -1;  // -1 when the program did not exit normally
  std::string out;
  std::string err;
};

// Runs `binary` with `args` (each passed as one argument, whatever it
// holds), `stdin_text` as its standard input, through scratch files in
// directory `dir` (which must exist).
RunResult RunBinary(const std::string& binary,
                    const std::vector<std::string>& args,
                    const std::string& stdin_text, const std::string& dir);

// The whole content of the file at `path`; empty when it cannot be read.
std::string Slurp(const std::string& path);

// Expects exit status `code` and one line on stderr starting "warden: "
// that contains `needle` (when not empty).
void ExpectOneLineError(const RunResult& r, int code,
                        const std::string& needle = "");

}  // namespace warden::cli::testing

#endif  // WARDEN_CLI_TESTING_RUN_CLI_H_
