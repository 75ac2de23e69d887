#include "runtime/js_headers.h"

#include "runtime/js_errors.h"

namespace isogate {

v8::Local<v8::Array> toFlatHeaders(v8::Isolate* isolate, v8::Local<v8::Context> context, const HeaderList& headers) {
  v8::Local<v8::Array> flat = v8::Array::New(isolate, static_cast<int>(headers.size() * 2));
  uint32_t i = 0;
  for (const Header& h : headers) {
    flat->Set(context, i++, v8Str(isolate, h.name)).Check();
    flat->Set(context, i++, v8Str(isolate, h.value)).Check();
  }
  return flat;
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
