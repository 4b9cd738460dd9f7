// A small JSON value with a strict parser and a compact writer.
//
// Why our own: the core must build with nothing but a C++17 compiler (it is
// compiled with em++ for the browser and with LibTorch alone on GPU machines),
// yet model cards, safetensors headers and `eval` output are all JSON.
// Numbers are doubles; objects keep insertion order so written files are stable.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace facekeys {

class Json {
public:
  enum class Type { Null, Bool, Number, String, Array, Object };
  using Array = std::vector<Json>;
  using Object = std::vector<std::pair<std::string, Json>>;

  Json() = default;
  Json(std::nullptr_t) {}
  Json(bool b) : type_(Type::Bool), bool_(b) {}
  Json(double v) : type_(Type::Number), number_(v) {}
  Json(int v) : Json(static_cast<double>(v)) {}
  Json(std::int64_t v) : Json(static_cast<double>(v)) {}
  Json(std::size_t v) : Json(static_cast<double>(v)) {}
  Json(const char* s) : type_(Type::String), string_(s) {}
  Json(std::string s) : type_(Type::String), string_(std::move(s)) {}
  Json(Array a) : type_(Type::Array), array_(std::move(a)) {}
  static Json object() { Json j; j.type_ = Type::Object; return j; }
  // An object of these members, in order (keys assumed distinct).
  static Json object(Object members) { Json j = object(); j.object_ = std::move(members); return j; }
  static Json array() { Json j; j.type_ = Type::Array; return j; }

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::Null; }
  bool is_number() const { return type_ == Type::Number; }
  bool is_string() const { return type_ == Type::String; }
  bool is_array() const { return type_ == Type::Array; }
  bool is_object() const { return type_ == Type::Object; }

  // Typed access; throws std::runtime_error naming the expected type.
  bool as_bool() const;
  double as_number() const;
  std::int64_t as_int() const;  // throws unless the number is integral
  const std::string& as_string() const;
  const Array& as_array() const;
  const Object& as_object() const;

  // Object access. operator[] inserts (keeps order); at() throws on a missing key.
  Json& operator[](const std::string& key);
  const Json& at(const std::string& key) const;
  const Json* find(const std::string& key) const;
  bool contains(const std::string& key) const { return find(key) != nullptr; }
  // Array append.
  void push_back(Json v);
  std::size_t size() const;

  // Compact when indent < 0, otherwise pretty-printed with that many spaces.
  std::string dump(int indent = -1) const;

  // Throws std::runtime_error("<name>: JSON offset N: ...") on malformed text,
  // nesting deeper than 64 or trailing garbage.
  static Json parse(const std::string& text, const std::string& name = "json");

private:
  void dump_to(std::string& out, int indent, int depth) const;

  Type type_ = Type::Null;
  bool bool_ = false;
  double number_ = 0.0;
  std::string string_;
  Array array_;
  Object object_;
};

}  // namespace facekeys
