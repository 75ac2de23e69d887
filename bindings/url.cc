// URL and URLSearchParams (bindings/js/url.js), with IDNA (UTS #46) host
// processing from ICU as the WHATWG URL standard asks for non-ASCII domains.
#include <unicode/uidna.h>

#include "bindings/js_installer.h"
#include "bindings/registry.h"
#include "runtime/js_errors.h"

namespace isogate {

extern const char kJs_url[];

namespace {

// UTS #46 ToASCII with the URL standard's options: CheckHyphens false,
// CheckBidi true, CheckJoiners true, Transitional_Processing false,
// VerifyDnsLength false. Returns "" on failure.
std::string domainToAscii(const std::string& domain) {
  UErrorCode status = U_ZERO_ERROR;
  UIDNA* idna = uidna_openUTS46(UIDNA_CHECK_BIDI | UIDNA_CHECK_CONTEXTJ | UIDNA_NONTRANSITIONAL_TO_ASCII, &status);
  if (U_FAILURE(status)) return "";
  UIDNAInfo info = UIDNA_INFO_INITIALIZER;
  std::string out(domain.size() * 4 + 64, '\0');
  int32_t len = uidna_nameToASCII_UTF8(idna, domain.data(), static_cast<int32_t>(domain.size()), out.data(),
                                       static_cast<int32_t>(out.size()), &info, &status);
  uidna_close(idna);
  const uint32_t ignored = UIDNA_ERROR_EMPTY_LABEL | UIDNA_ERROR_LABEL_TOO_LONG | UIDNA_ERROR_DOMAIN_NAME_TOO_LONG |
                           UIDNA_ERROR_LEADING_HYPHEN | UIDNA_ERROR_TRAILING_HYPHEN | UIDNA_ERROR_HYPHEN_3_4;
  if (U_FAILURE(status) || (info.errors & ~ignored) != 0) return "";
  out.resize(static_cast<size_t>(len));
  return out;
}

void domainToAsciiCallback(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  info.GetReturnValue().Set(v8Str(isolate, domainToAscii(toUtf8(isolate, info[0]))));
}

}  // namespace

void installUrl(ScriptInstance& instance, v8::Local<v8::Context> context, v8::Local<v8::Object>) {
  v8::Local<v8::Object> native = v8::Object::New(instance.isolate());
  setMethod(context, native, "domainToASCII", domainToAsciiCallback);
  runJsInstaller(instance, "url.js", kJs_url, native);
}

}  // namespace isogate
