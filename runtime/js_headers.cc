#include "runtime/js_headers.h"

#include <vector>

#include "runtime/js_errors.h"

namespace isogate {

v8::Local<v8::Array> toFlatHeaders(v8::Isolate* isolate, v8::Local<v8::Context>, const HeaderList& headers) {
  std::vector<v8::Local<v8::Value>> items;
  items.reserve(headers.size() * 2);
  for (const Header& h : headers) {
    items.push_back(v8Str(isolate, h.name));
    items.push_back(v8Str(isolate, h.value));
  }
  return v8::Array::New(isolate, items.data(), items.size());
}

v8::Local<v8::Array> toFlatHeadersWith(v8::Isolate* isolate, const HeaderList& headers, std::string_view name,
                                       std::string_view value) {
  std::vector<v8::Local<v8::Value>> items;
  items.reserve(headers.size() * 2 + 2);
  for (const Header& h : headers) {
    if (equalsIgnoreCase(h.name, name)) continue;
    items.push_back(v8Str(isolate, h.name));
    items.push_back(v8Str(isolate, h.value));
  }
  items.push_back(v8Str(isolate, name));
  items.push_back(v8Str(isolate, value));
  return v8::Array::New(isolate, items.data(), items.size());
}

namespace {
bool isAscii(std::string_view s) {
  unsigned char any = 0;
  for (char c : s) any |= static_cast<unsigned char>(c);
  return any < 0x80;
}
}  // namespace

bool survivesFlatRoundTrip(const HeaderList& headers) {
  for (const Header& h : headers) {
    if (!isAscii(h.name) || !isAscii(h.value)) return false;
  }
  return true;
}

HeaderList fromFlatHeaders(v8::Isolate* isolate, v8::Local<v8::Context> context, v8::Local<v8::Value> flat) {
  HeaderList out;
  if (!flat->IsArray()) return out;
  v8::Local<v8::Array> array = flat.As<v8::Array>();
  const uint32_t length = array->Length();
  out.reserve(length / 2);
  for (uint32_t i = 0; i + 1 < length; i += 2) {
    v8::Local<v8::Value> name, value;
    if (!array->Get(context, i).ToLocal(&name) || !array->Get(context, i + 1).ToLocal(&value)) break;
    out.push_back({toUtf8(isolate, name), toUtf8(isolate, value)});
  }
  return out;
}

}  // namespace isogate
