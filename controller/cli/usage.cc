#include "controller/cli/usage.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"

namespace swapchaos::controller {

namespace {

bool IsCommandLine(absl::string_view line) {
  return line.size() > 2 && absl::StartsWith(line, "  ") && absl::ascii_islower(line[2]);
}
// "           [--slurm ...]": a usage that goes on.
bool IsContinuation(absl::string_view line) {
  size_t first = line.find_first_not_of(' ');
  return first != absl::string_view::npos && first > 2 && line[first] == '[';
}
bool IsBootFlagsHeading(absl::string_view line) {
  return absl::StartsWith(line, "swapchaos boot flags");
}

}  // namespace

Synopsis ParseSynopsis(absl::string_view text) {
  std::vector<std::string> tokens;
  for (absl::string_view piece : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    std::string t(piece);
    t.erase(std::remove_if(t.begin(), t.end(), [](char c) { return c == '[' || c == ']'; }),
            t.end());
    if (absl::EndsWith(t, "...")) t.resize(t.size() - 3);
    if (!t.empty()) tokens.push_back(t);
  }
  Synopsis s;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (absl::StartsWith(tokens[i], "--")) {
      bool value = i + 1 < tokens.size() && !absl::StartsWith(tokens[i + 1], "--");
      s.flags.emplace_back(tokens[i], value);
      if (value) ++i;
    } else if (s.flags.empty()) {
      s.words.push_back(absl::ascii_islower(tokens[i][0]) ? tokens[i] : "x");
    }
  }
  return s;
}

std::vector<Synopsis> Synopses(absl::string_view usage) {
  std::vector<Synopsis> out;
  std::string entry;
  bool boot_flags = false;
  auto flush = [&] {
    if (!entry.empty()) out.push_back(ParseSynopsis(entry));
    entry.clear();
  };
  for (absl::string_view line : absl::StrSplit(usage, '\n')) {
    if (IsBootFlagsHeading(line)) boot_flags = true;
    bool flag_row = boot_flags && absl::StartsWith(line, "  --");
    if (IsCommandLine(line) || flag_row) {
      flush();
      // A flag row: the flag and its value; the rest is what it does.
      entry =
          flag_row ? absl::StrCat("boot ", line.substr(0, line.find("  ", 3))) : std::string(line);
    } else if (!entry.empty() && IsContinuation(line)) {
      absl::StrAppend(&entry, " ", line);
    } else {
      flush();
    }
  }
  flush();
  return out;
}

std::string BashCompletion(absl::string_view usage) {
  // Per command, and per "command subcommand": its flags and those taking
  // a value; a command's literal second words are its subcommands.
  std::map<std::string, std::set<std::string>> flags, valued, subcommands;
  std::set<std::string> commands;
  for (const Synopsis& s : Synopses(usage)) {
    if (s.words.empty()) continue;
    commands.insert(s.words[0]);
    std::string key = s.words[0];
    if (s.words.size() > 1 && s.words[1] != "x") {
      subcommands[s.words[0]].insert(s.words[1]);
      key = absl::StrCat(s.words[0], " ", s.words[1]);
    }
    for (const auto& [flag, value] : s.flags) {
      flags[key].insert(flag);
      if (value) valued[key].insert(flag);
    }
    flags[key].insert("--help");
  }
  std::string cases;
  for (const auto& [key, f] : flags) {
    absl::StrAppend(&cases, "    \"", key, "\") flags=\"", absl::StrJoin(f, " "), "\"; valued=\" ",
                    absl::StrJoin(valued[key], " "), " \" ;;\n");
  }
  std::string subs;
  for (const auto& [command, s] : subcommands) {
    absl::StrAppend(&subs, "    ", command, ") subs=\"", absl::StrJoin(s, " "), "\" ;;\n");
  }
  return absl::StrCat(
      "# bash completion for swapchaos; made by `swapchaos completion bash` from the\n"
      "# usage text, so it lists exactly what `swapchaos --help` does.\n"
      "_swapchaos() {\n"
      "  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
      "  if ((COMP_CWORD == 1)); then\n"
      "    COMPREPLY=($(compgen -W \"",
      absl::StrJoin(commands, " "),
      " --help --version\" -- \"$cur\"))\n"
      "    return\n"
      "  fi\n"
      "  local command=${COMP_WORDS[1]} sub=${COMP_WORDS[2]} subs= flags= valued=\n"
      "  case $command in\n",
      subs,
      "  esac\n"
      "  if ((COMP_CWORD == 2)) && [[ -n $subs && $cur != -* ]]; then\n"
      "    COMPREPLY=($(compgen -W \"$subs\" -- \"$cur\"))\n"
      "    return\n"
      "  fi\n"
      "  local key=$command\n"
      "  [[ \" $subs \" == *\" $sub \"* ]] && key=\"$command $sub\"\n"
      "  case $key in\n",
      cases,
      "  esac\n"
      "  if [[ $valued == *\" $prev \"* ]]; then\n"
      "    COMPREPLY=($(compgen -f -- \"$cur\"))\n"
      "  elif [[ $cur == -* ]]; then\n"
      "    COMPREPLY=($(compgen -W \"$flags\" -- \"$cur\"))\n"
      "  else\n"
      "    COMPREPLY=($(compgen -f -- \"$cur\"))\n"
      "  fi\n"
      "}\n"
      "complete -o filenames -F _swapchaos swapchaos\n");
}

namespace {

// Text as roff takes it: backslashes escaped, hyphens as minus signs (so
// flags copy and search as typed), no line read as a request.
std::string Roff(absl::string_view text) {
  std::string out = absl::StrReplaceAll(text, {{"\\", "\\e"}, {"-", "\\-"}});
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out.insert(0, "\\&");
  return out;
}

}  // namespace

std::string ManPage(absl::string_view usage, absl::string_view version) {
  std::string out =
      absl::StrCat(".TH SWAPCHAOS 1 \"\" \"", Roff(version), "\" \"User Commands\"\n",
                   ".SH NAME\n"
                   "swapchaos \\- fault\\-injection chaos for Linux swap over NBD\n"
                   ".SH SYNOPSIS\n"
                   ".B swapchaos\n"
                   ".I COMMAND\n"
                   "[\\fIFLAGS\\fR]\n"
                   ".br\n"
                   ".B swapchaos\n"
                   ".I COMMAND\n"
                   "\\-\\-help\n"
                   ".br\n"
                   ".B swapchaos\n"
                   "\\-\\-help | \\-\\-version\n"
                   ".SH DESCRIPTION\n"
                   "swapchaos boots QEMU VMs (a victim with swap on NBD, a wire carrying its NBD "
                   "traffic), injects network and server faults on that path, and judges from "
                   "telemetry and the kernel console whether the kernel recovered, woke its "
                   "throttled tasks and lost no data. Full documentation: "
                   "/usr/share/doc/swapchaos/README.md.\n");
  bool in_usage = false;
  for (absl::string_view line : absl::StrSplit(usage, '\n')) {
    if (absl::StartsWith(line, "usage:")) continue;
    if (!line.empty() && line[0] != ' ') {
      // A heading: "commands:", "swapchaos boot flags:".
      std::string heading(absl::StripSuffix(line, ":"));
      absl::AsciiStrToUpper(&heading);
      absl::StrAppend(&out, ".SH ", Roff(heading), "\n");
      in_usage = false;
      continue;
    }
    absl::string_view text = absl::StripLeadingAsciiWhitespace(line);
    if (text.empty()) continue;
    if (IsCommandLine(line) || absl::StartsWith(line, "  --")) {
      // The usage in bold, on the tag line; what it does (after a gap of
      // two spaces on the same line, as boot's and the flag rows have it)
      // below.
      size_t gap = text.find("  ");
      absl::StrAppend(&out, ".TP\n.B ", Roff(text.substr(0, gap)), "\n");
      in_usage = gap == absl::string_view::npos;
      if (!in_usage) {
        absl::StrAppend(&out, Roff(absl::StripLeadingAsciiWhitespace(text.substr(gap))), "\n");
      }
    } else if (in_usage && IsContinuation(line)) {
      absl::StrAppend(&out, ".B ", Roff(text), "\n.br\n");
    } else {
      in_usage = false;
      absl::StrAppend(&out, Roff(text), "\n");
    }
  }
  absl::StrAppend(&out,
                  ".SH SEE ALSO\n"
                  ".BR qemu\\-system\\-x86_64 (1),\n"
                  ".BR nbd\\-server (1),\n"
                  ".BR tc\\-netem (8)\n");
  return out;
}

}  // namespace swapchaos::controller
