// Option checks whose messages say what is wrong. CLI11's PositiveNumber
// answers `--epochs 0` with "Value 0 not in range 0.000000 to 1797...(300
// digits)", which is unreadable and, for 0, self-contradictory.
#pragma once

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace facekeys::cli {

namespace detail {
// A check that the option's value is a finite number accepted by `ok`; `what`
// completes "must be ...", `desc` is what --help shows.
template <class Ok>
CLI::Validator number_check(const std::string& desc, const std::string& what, Ok ok) {
  return CLI::Validator(
      [what, ok](std::string& text) -> std::string {
        double v = 0;
        std::size_t used = 0;
        try {
          v = std::stod(text, &used);
        } catch (...) {
          used = 0;
        }
        if (used != text.size() || !std::isfinite(v)) return "must be a number, got '" + text + "'";
        return ok(v) ? std::string() : "must be " + what + ", got " + text;
      },
      desc);
}
}  // namespace detail

inline CLI::Validator positive() {
  return detail::number_check("POSITIVE", "a positive number", [](double v) { return v > 0; });
}
inline CLI::Validator non_negative() {
  return detail::number_check("NONNEGATIVE", "zero or more", [](double v) { return v >= 0; });
}
// lo <= v <= hi.
inline CLI::Validator between(double lo, double hi) {
  char desc[64], what[96];
  std::snprintf(desc, sizeof desc, "[%g - %g]", lo, hi);
  std::snprintf(what, sizeof what, "between %g and %g", lo, hi);
  return detail::number_check(desc, what, [lo, hi](double v) { return v >= lo && v <= hi; });
}

// An option whose value is one of `names`, parsed into the enum `target` by
// `from_name` when it is given (the library sees the enum, never the text);
// --help shows the names and the default, `name_of(target)`.
template <class Enum>
CLI::Option* add_enum_option(CLI::App* cmd, const std::string& flag, Enum& target, const std::string& description,
                             const std::vector<std::string>& names, Enum (*from_name)(const std::string&),
                             const char* (*name_of)(Enum)) {
  return cmd
      ->add_option_function<std::string>(
          flag, [&target, from_name](const std::string& text) { target = from_name(text); }, description)
      ->check(CLI::IsMember(names))
      ->default_str(name_of(target));
}

}  // namespace facekeys::cli
