#ifndef SWAPCHAOS_CONTROLLER_CLI_USAGE_H_
#define SWAPCHAOS_CONTROLLER_CLI_USAGE_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace swapchaos::controller {

// The usage text (`swapchaos --help`) is the one definition of the
// commands and their flags: the help, the man page and the bash completion
// all come from it, and the tests check the commands take what it lists.

// One command's usage: the words naming it, then its flags, each with
// whether it takes a value.
struct Synopsis {
  std::vector<std::string> words;  // {"kernel", "show", "x"}: positionals as "x"
  std::vector<std::pair<std::string, bool>> flags;
};

// "kernel show NAME|ID [--kernels DIR] [--json]" as a Synopsis.
Synopsis ParseSynopsis(absl::string_view text);
// Every usage in the text: a command's line (two spaces, a lower-case
// word) with the lines that carry on its flags ("[" after the indent), and
// each row of boot's flag table.
std::vector<Synopsis> Synopses(absl::string_view usage);

// A bash completion script (function _swapchaos): commands, subcommands,
// each usage's flags, files for positionals and flag values.
std::string BashCompletion(absl::string_view usage);
// The usage as a man page (roff, man(7) macros), section 1.
std::string ManPage(absl::string_view usage, absl::string_view version);

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_CLI_USAGE_H_
