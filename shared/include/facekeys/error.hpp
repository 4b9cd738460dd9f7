// FormatError: the one exception type thrown by every annotation parser.
//
// Parsers are fed hand-edited files and browser uploads, so a failure must tell
// the user exactly where and what: the file (or upload) name, the 1-based line
// (0 when no line applies, e.g. "cannot open file"), and a message naming what
// was expected and what was found. what() renders "FILE:LINE: MESSAGE" (or
// "FILE: MESSAGE" without a line), the format compilers use, so editors and
// terminals can jump to the spot.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

namespace facekeys {

class FormatError : public std::runtime_error {
 public:
  FormatError(std::string file, int line, std::string message)
      : std::runtime_error(render(file, line, message)),
        file_(std::move(file)),
        line_(line),
        message_(std::move(message)) {}

  const std::string& file() const noexcept { return file_; }
  int line() const noexcept { return line_; }              // 1-based; 0 = unknown / not applicable
  const std::string& message() const noexcept { return message_; }  // without the "FILE:LINE: " prefix

 private:
  static std::string render(const std::string& file, int line, const std::string& message) {
    std::string out = file.empty() ? std::string("<input>") : file;
    if (line > 0) out += ":" + std::to_string(line);
    out += ": ";
    out += message;
    return out;
  }

  std::string file_;
  int line_;
  std::string message_;
};

}  // namespace facekeys
