// The protobuf wire format, read by hand with every length checked against the
// bytes that are there (onnx_info.cpp, onnx_fold.cpp): files come from elsewhere,
// and a length a file claims is never trusted before it is checked. Sizes a file
// declares are added up saturating (sat_add, sat_mul), never wrapping.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

namespace facekeys {
namespace wire_detail {

constexpr std::uint64_t kU64Max = std::numeric_limits<std::uint64_t>::max();
inline std::uint64_t sat_add(std::uint64_t a, std::uint64_t b) { return a > kU64Max - b ? kU64Max : a + b; }
inline std::uint64_t sat_mul(std::uint64_t a, std::uint64_t b) {
  if (a == 0 || b == 0) return 0;
  return a > kU64Max / b ? kU64Max : a * b;
}

enum WireType { kVarint = 0, kFixed64 = 1, kLen = 2, kStartGroup = 3, kEndGroup = 4, kFixed32 = 5 };

// One protobuf message: a range of bytes read field by field.
class Wire {
 public:
  Wire(const std::uint8_t* p, const std::uint8_t* end, const std::string& name) : p_(p), end_(end), name_(name) {}

  bool done() const { return p_ >= end_; }

  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error(name_ + ": corrupt or not an ONNX file: " + what);
  }

  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ >= end_) fail("a number runs past the end of its message");
      const std::uint8_t b = *p_++;
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    fail("a number longer than 10 bytes");
  }

  // The next field's number and wire type; false at the end of the message.
  bool next(std::uint32_t& field, int& type) {
    if (done()) return false;
    const std::uint64_t tag = varint();
    field = static_cast<std::uint32_t>(tag >> 3);
    type = static_cast<int>(tag & 7);
    if (field == 0 || (tag >> 3) > 0x1fffffff) fail("a field number of 0 or over 2^29");
    if (type == kStartGroup || type == kEndGroup) fail("protobuf groups (ONNX has none)");
    if (type > kFixed32) fail("an unknown wire type " + std::to_string(type));
    return true;
  }

  // The next length-delimited field's number (a message, string or packed run), skipping
  // the fields of other wire types; false at the end of the message.
  bool next_len(std::uint32_t& field) {
    int type;
    while (next(field, type)) {
      if (type == kLen) return true;
      skip(type);
    }
    return false;
  }

  // The bytes of a length-delimited field, checked against what is left.
  Wire sub() {
    const std::uint64_t n = varint();
    if (n > static_cast<std::uint64_t>(end_ - p_))
      fail("a field claims " + std::to_string(n) + " bytes where " + std::to_string(end_ - p_) + " are left");
    Wire w(p_, p_ + n, name_);
    p_ += n;
    return w;
  }

  std::string string() {
    const Wire w = sub();
    return std::string(reinterpret_cast<const char*>(w.p_), static_cast<std::size_t>(w.end_ - w.p_));
  }

  std::size_t size() const { return static_cast<std::size_t>(end_ - p_); }

  void skip(int type) {
    switch (type) {
      case kVarint: varint(); break;
      case kFixed64: advance(8); break;
      case kFixed32: advance(4); break;
      case kLen: sub(); break;
      default: fail("an unknown wire type");
    }
  }

  // How many varints a packed field holds (each ends with a byte below 0x80).
  std::uint64_t packed_varint_count() const {
    std::uint64_t n = 0;
    for (const std::uint8_t* q = p_; q < end_; ++q)
      if (!(*q & 0x80)) ++n;
    if (p_ < end_ && (end_[-1] & 0x80)) fail("a packed number runs past the end of its field");
    return n;
  }

  const std::string& name() const { return name_; }
  // Where the reader is: the next field's first byte (its tag), or end() when done.
  const std::uint8_t* pos() const { return p_; }
  const std::uint8_t* end() const { return end_; }

 private:
  void advance(std::size_t n) {
    if (n > size()) fail("a fixed-size field runs past the end of its message");
    p_ += n;
  }

  const std::uint8_t* p_;
  const std::uint8_t* end_;
  const std::string& name_;
};

// A repeated integer field, packed (one length-delimited run) or not.
template <typename F>
void for_each_int(Wire& w, int type, F&& f) {
  if (type == kVarint) {
    f(w.varint());
  } else if (type == kLen) {
    Wire s = w.sub();
    while (!s.done()) f(s.varint());
  } else {
    w.skip(type);
  }
}

}  // namespace wire_detail
}  // namespace facekeys
