#pragma once
// Header lists cross the host/JavaScript boundary as flat arrays
// [name0, value0, name1, value1, ...] in wire order (the contract of
// bindings/js/fetch_api.js). These convert them, on the isolate's thread.

#include <v8.h>

#include "runtime/http_message.h"

namespace isogate {

v8::Local<v8::Array> toFlatHeaders(v8::Isolate* isolate, v8::Local<v8::Context> context, const HeaderList& headers);
// The same with one header set by the host (e.g. CF-Connecting-IP): any
// field of that name in `headers` is dropped and `name: value` appended.
v8::Local<v8::Array> toFlatHeadersWith(v8::Isolate* isolate, const HeaderList& headers, std::string_view name,
                                       std::string_view value);
// Whether fromFlatHeaders(toFlatHeaders(headers)) gives `headers` back byte
// for byte, so the host may keep its own list instead of converting back:
// true when every byte is ASCII (the trip through UTF-16 replaces invalid
// UTF-8 with U+FFFD).
bool survivesFlatRoundTrip(const HeaderList& headers);
// Anything that is not an array gives an empty list.
HeaderList fromFlatHeaders(v8::Isolate* isolate, v8::Local<v8::Context> context, v8::Local<v8::Value> flat);

}  // namespace isogate
