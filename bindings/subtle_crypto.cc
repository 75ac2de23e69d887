// crypto.subtle: the natives behind bindings/js/subtle_crypto.js, over
// crypto/key.h. They run on the isolate's thread, synchronously (each
// operation takes microseconds), and never throw for bad key data: an
// import returns a handle or a string saying why the data was refused, and
// the JavaScript side turns that into the DOMException the spec asks for
// (with its own captured DOMException, which a script cannot replace).
//
// Key handles. A CryptoKey keeps its key in C++: a shared_ptr<const Key>
// owned by a KeyHolder that lives in the backing store of an ArrayBuffer
// with a custom deleter. The ArrayBuffer sits in an internal field of an
// opaque handle object (from a template whose instances have two internal
// fields), which the CryptoKey holds in a private field. Scripts can reach
// neither, so the key bytes are only readable through exportKey(). V8 frees
// the holder when the handle is collected *and* when the isolate is
// disposed (it releases every backing store at teardown), which weak
// callbacks do not guarantee: an isolate that imported keys at start-up and
// is later discarded leaks nothing. The deleter may run on a V8 background
// thread; it only drops a shared_ptr to an immutable Key.
#include <nlohmann/json.hpp>

#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "bindings/js_installer.h"
#include "bindings/registry.h"
#include "crypto/base64url.h"
#include "crypto/key.h"
#include "runtime/js_errors.h"
#include "runtime/script_instance.h"

namespace isogate {

extern const char kJs_subtle_crypto[];

namespace {

using crypto::Hash;
using crypto::Key;
using crypto::KeyKind;

struct KeyHolder {
  std::shared_ptr<const Key> key;
};

// Its address marks handle objects (internal field 0).
const int kKeyHandleTag = 0;

void deleteKeyHolder(void* data, size_t, void*) { delete static_cast<KeyHolder*>(data); }

// A new handle for `key`; `ctor` (the natives' data) makes the objects.
v8::Local<v8::Value> wrapKey(const v8::FunctionCallbackInfo<v8::Value>& info, std::unique_ptr<Key> key) {
  v8::Isolate* isolate = info.GetIsolate();
  v8::Local<v8::Object> handle;
  if (!info.Data().As<v8::Function>()->NewInstance(isolate->GetCurrentContext()).ToLocal(&handle)) {
    return v8::Undefined(isolate);
  }
  auto holder = std::make_unique<KeyHolder>();
  holder->key = std::move(key);
  std::unique_ptr<v8::BackingStore> store =
      v8::ArrayBuffer::NewBackingStore(holder.get(), sizeof(KeyHolder), deleteKeyHolder, nullptr);
  holder.release();  // owned by the backing store now
  handle->SetAlignedPointerInInternalField(0, const_cast<int*>(&kKeyHandleTag));
  handle->SetInternalField(1, v8::ArrayBuffer::New(isolate, std::move(store)));
  return handle;
}

const Key* keyFromHandle(v8::Local<v8::Value> value) {
  if (!value->IsObject()) return nullptr;
  v8::Local<v8::Object> object = value.As<v8::Object>();
  if (object->InternalFieldCount() != 2 || object->GetAlignedPointerFromInternalField(0) != &kKeyHandleTag) {
    return nullptr;
  }
  v8::Local<v8::Value> owner = object->GetInternalField(1);
  if (!owner->IsArrayBuffer()) return nullptr;
  auto* holder = static_cast<KeyHolder*>(owner.As<v8::ArrayBuffer>()->Data());
  return holder ? holder->key.get() : nullptr;
}

// The natives are only called by subtle_crypto.js, with the argument types
// it documents; anything else is a bug there, reported as a TypeError
// rather than trusted.
void internalError(v8::Isolate* isolate, const char* what) {
  throwTypeError(isolate, (std::string("crypto.subtle internal error: ") + what).c_str());
}

// The bytes of one of the ArrayBuffer copies the JavaScript side makes.
std::optional<std::string_view> bufferBytes(v8::Local<v8::Value> value) {
  if (!value->IsArrayBuffer()) return std::nullopt;
  v8::Local<v8::ArrayBuffer> buffer = value.As<v8::ArrayBuffer>();
  size_t length = buffer->ByteLength();
  if (length == 0) return std::string_view();
  return std::string_view(static_cast<const char*>(buffer->Data()), length);
}

v8::Local<v8::ArrayBuffer> newArrayBuffer(v8::Isolate* isolate, std::string_view bytes) {
  v8::Local<v8::ArrayBuffer> buffer = v8::ArrayBuffer::New(isolate, bytes.size());
  if (!bytes.empty()) std::memcpy(buffer->Data(), bytes.data(), bytes.size());
  return buffer;
}

std::optional<Hash> hashFromId(v8::Local<v8::Value> value) {
  if (!value->IsUint32()) return std::nullopt;
  uint32_t id = value.As<v8::Uint32>()->Value();
  if (id > 3) return std::nullopt;
  return static_cast<Hash>(id);
}

// Data for a view or buffer (not copied), or nullopt for other values and
// SharedArrayBuffers.
std::optional<std::string_view> viewBytes(v8::Local<v8::Value> value) {
  if (value->IsArrayBuffer()) return bufferBytes(value);
  if (!value->IsArrayBufferView()) return std::nullopt;
  v8::Local<v8::ArrayBufferView> view = value.As<v8::ArrayBufferView>();
  v8::Local<v8::ArrayBuffer> buffer = view->Buffer();
  if (buffer->IsSharedArrayBuffer()) return std::nullopt;
  size_t length = view->ByteLength();
  if (length == 0) return std::string_view();
  return std::string_view(static_cast<const char*>(buffer->Data()) + view->ByteOffset(), length);
}

// ---------------------------------------------------------------------------
// BufferSource handling

void bufferSourceType(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Local<v8::Value> value = info[0];
  int type = 0;
  if (value->IsArrayBuffer()) {
    type = 1;
  } else if (value->IsSharedArrayBuffer()) {
    type = 2;
  } else if (value->IsArrayBufferView()) {
    v8::Local<v8::ArrayBufferView> view = value.As<v8::ArrayBufferView>();
    // A view without an allocated buffer lives on the V8 heap: never shared.
    type = view->HasBuffer() && view->Buffer()->IsSharedArrayBuffer() ? 2 : 1;
  }
  info.GetReturnValue().Set(type);
}

void copyBytes(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  v8::Local<v8::Value> value = info[0];
  if (value->IsArrayBufferView()) {
    v8::Local<v8::ArrayBufferView> view = value.As<v8::ArrayBufferView>();
    size_t length = view->ByteLength();
    v8::Local<v8::ArrayBuffer> copy = v8::ArrayBuffer::New(isolate, length);
    if (length) view->CopyContents(copy->Data(), length);
    info.GetReturnValue().Set(copy);
    return;
  }
  std::optional<std::string_view> bytes = bufferBytes(value);
  if (!bytes) return internalError(isolate, "copyBytes() needs a BufferSource");
  info.GetReturnValue().Set(newArrayBuffer(isolate, *bytes));
}

void base64urlDecode(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  if (!info[0]->IsString()) return internalError(isolate, "base64urlDecode() needs a string");
  std::optional<std::string> bytes = crypto::base64urlDecode(toUtf8(isolate, info[0]));
  if (bytes) info.GetReturnValue().Set(newArrayBuffer(isolate, *bytes));
}

// ---------------------------------------------------------------------------
// Digest, sign, verify

void digest(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  std::optional<Hash> hash = hashFromId(info[0]);
  std::optional<std::string_view> data = bufferBytes(info[1]);
  if (!hash || !data) return internalError(isolate, "digest(hashId, ArrayBuffer)");
  info.GetReturnValue().Set(newArrayBuffer(isolate, crypto::digest(*hash, *data)));
}

void sign(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  const Key* key = keyFromHandle(info[0]);
  std::optional<Hash> hash = hashFromId(info[1]);
  std::optional<std::string_view> data = bufferBytes(info[2]);
  if (!key || key->kind() != KeyKind::kSecret || !hash || !data) {
    return internalError(isolate, "sign(secretHandle, hashId, ArrayBuffer)");
  }
  std::string mac = crypto::hmac(*hash, key->secret(), *data);
  info.GetReturnValue().Set(newArrayBuffer(isolate, mac));
}

// Scheme ids shared with subtle_crypto.js (VERIFY_SCHEMES).
enum VerifyScheme : uint32_t { kHmac = 0, kRsaPkcs1 = 1, kRsaPss = 2, kEcdsa = 3, kEd25519 = 4 };

void verify(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  const Key* key = keyFromHandle(info[1]);
  std::optional<Hash> hash = hashFromId(info[2]);
  std::optional<std::string_view> data = bufferBytes(info[4]);
  std::optional<std::string_view> signature = bufferBytes(info[5]);
  if (!info[0]->IsUint32() || !key || !hash || !info[3]->IsNumber() || !data || !signature) {
    return internalError(isolate, "verify(scheme, handle, hashId, saltLength, data, signature)");
  }
  bool valid = false;
  switch (info[0].As<v8::Uint32>()->Value()) {
    case kHmac:
      valid = crypto::verifyHmac(*key, *hash, *data, *signature);
      break;
    case kRsaPkcs1:
      valid = crypto::verifyRsaPkcs1(*key, *hash, *data, *signature);
      break;
    case kRsaPss: {
      // An unsigned long from Web IDL: 0 .. 2^32 - 1, exact in a double.
      double salt = info[3].As<v8::Number>()->Value();
      valid = salt >= 0 && crypto::verifyRsaPss(*key, *hash, static_cast<size_t>(salt), *data, *signature);
      break;
    }
    case kEcdsa:
      valid = crypto::verifyEcdsa(*key, *hash, *data, *signature);
      break;
    case kEd25519:
      valid = crypto::verifyEd25519(*key, *data, *signature);
      break;
    default:
      return internalError(isolate, "unknown verify scheme");
  }
  info.GetReturnValue().Set(valid);
}

void timingSafeEqual(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  std::optional<std::string_view> a = viewBytes(info[0]);
  std::optional<std::string_view> b = viewBytes(info[1]);
  if (!a || !b) {
    return throwTypeError(isolate,
                          "Failed to execute 'timingSafeEqual' on 'SubtleCrypto': both arguments must be "
                          "ArrayBuffers or ArrayBufferViews.");
  }
  if (a->size() != b->size()) {
    return throwTypeError(isolate, "Failed to execute 'timingSafeEqual' on 'SubtleCrypto': the two buffers "
                                   "must have the same byte length.");
  }
  info.GetReturnValue().Set(crypto::timingSafeEqual(*a, *b));
}

// ---------------------------------------------------------------------------
// Import and export

// Returns the handle, or the reason as a string.
void returnImported(const v8::FunctionCallbackInfo<v8::Value>& info, std::unique_ptr<Key> key,
                    const std::string& error) {
  if (!key) {
    info.GetReturnValue().Set(v8Str(info.GetIsolate(), error.empty() ? "the key data was refused" : error));
    return;
  }
  info.GetReturnValue().Set(wrapKey(info, std::move(key)));
}

void importSecret(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  std::optional<std::string_view> data = bufferBytes(info[0]);
  if (!data || !info[1]->IsUint32()) return internalError(isolate, "importSecret(ArrayBuffer, bitLength)");
  uint32_t bits = info[1].As<v8::Uint32>()->Value();
  size_t bytes = (static_cast<size_t>(bits) + 7) / 8;
  if (bits == 0 || bytes > data->size()) return internalError(isolate, "importSecret() bit length");
  // "An HMAC key with the first length bits of data": when length is not a
  // multiple of 8, the unused low bits of the last byte are cleared.
  std::string secret(data->substr(0, bytes));
  if (bits % 8) secret.back() = static_cast<char>(secret.back() & (0xff << (8 - bits % 8)));
  returnImported(info, Key::fromSecret(std::move(secret)), {});
}

void importJwk(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  if (!info[0]->IsString()) return internalError(isolate, "importJwk(json)");
  nlohmann::json jwk = nlohmann::json::parse(toUtf8(isolate, info[0]), nullptr, /*allow_exceptions=*/false);
  if (jwk.is_discarded()) return returnImported(info, nullptr, "the JWK is not valid JSON text");
  std::string error;
  std::unique_ptr<Key> key = Key::fromJwk(jwk, &error);
  returnImported(info, std::move(key), error);
}

void importSpki(const v8::FunctionCallbackInfo<v8::Value>& info) {
  std::optional<std::string_view> der = bufferBytes(info[0]);
  if (!der) return internalError(info.GetIsolate(), "importSpki(ArrayBuffer)");
  std::string error;
  std::unique_ptr<Key> key = Key::fromSpki(*der, &error);
  returnImported(info, std::move(key), error);
}

// Kind ids shared with subtle_crypto.js (KIND_RAW_IDS).
void importRaw(const v8::FunctionCallbackInfo<v8::Value>& info) {
  std::optional<std::string_view> raw = bufferBytes(info[1]);
  if (!info[0]->IsUint32() || !raw) return internalError(info.GetIsolate(), "importRaw(kindId, ArrayBuffer)");
  KeyKind kind;
  switch (info[0].As<v8::Uint32>()->Value()) {
    case 1: kind = KeyKind::kEcP256; break;
    case 2: kind = KeyKind::kEcP384; break;
    case 3: kind = KeyKind::kEd25519; break;
    default: return internalError(info.GetIsolate(), "unknown raw key kind");
  }
  std::string error;
  std::unique_ptr<Key> key = Key::fromRawPublic(kind, *raw, &error);
  returnImported(info, std::move(key), error);
}

const char* kindName(KeyKind kind) {
  switch (kind) {
    case KeyKind::kSecret: return "secret";
    case KeyKind::kRsa: return "rsa";
    case KeyKind::kEcP256: return "P-256";
    case KeyKind::kEcP384: return "P-384";
    case KeyKind::kEd25519: return "Ed25519";
  }
  return "";
}

// [kind, RSA modulus bits, RSA public exponent as an ArrayBuffer].
void keyInfo(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  const Key* key = keyFromHandle(info[0]);
  if (!key) return internalError(isolate, "keyInfo(handle)");
  v8::Local<v8::Value> elements[3] = {
      v8Str(isolate, kindName(key->kind())),
      v8::Number::New(isolate, static_cast<double>(key->rsaModulusBits())),
      newArrayBuffer(isolate, key->rsaPublicExponent()),
  };
  info.GetReturnValue().Set(v8::Array::New(isolate, elements, 3));
}

void exportJwk(const v8::FunctionCallbackInfo<v8::Value>& info) {
  const Key* key = keyFromHandle(info[0]);
  if (!key) return internalError(info.GetIsolate(), "exportJwk(handle)");
  // Members are base64url text and fixed names: dump() cannot meet invalid UTF-8.
  info.GetReturnValue().Set(v8Str(info.GetIsolate(), key->toJwk().dump()));
}

void exportSpki(const v8::FunctionCallbackInfo<v8::Value>& info) {
  const Key* key = keyFromHandle(info[0]);
  if (!key || !key->isAsymmetric()) return internalError(info.GetIsolate(), "exportSpki(publicHandle)");
  info.GetReturnValue().Set(newArrayBuffer(info.GetIsolate(), key->toSpki()));
}

// The secret of an HMAC key; the raw public key of an EC or Ed25519 key.
void exportRaw(const v8::FunctionCallbackInfo<v8::Value>& info) {
  const Key* key = keyFromHandle(info[0]);
  if (!key || key->kind() == KeyKind::kRsa) return internalError(info.GetIsolate(), "exportRaw(handle)");
  info.GetReturnValue().Set(
      newArrayBuffer(info.GetIsolate(), key->kind() == KeyKind::kSecret ? key->secret() : key->toRawPublic()));
}

}  // namespace

void installSubtleCrypto(ScriptInstance& instance, v8::Local<v8::Context> context, v8::Local<v8::Object>) {
  v8::Isolate* isolate = instance.isolate();
  // Key handles: opaque objects with two internal fields (tag, owner).
  v8::Local<v8::FunctionTemplate> handle_template = v8::FunctionTemplate::New(isolate);
  handle_template->InstanceTemplate()->SetInternalFieldCount(2);
  v8::Local<v8::Function> make_handle = handle_template->GetFunction(context).ToLocalChecked();

  v8::Local<v8::Object> native = v8::Object::New(isolate);
  setMethod(context, native, "bufferSourceType", bufferSourceType);
  setMethod(context, native, "copyBytes", copyBytes);
  setMethod(context, native, "base64urlDecode", base64urlDecode);
  setMethod(context, native, "digest", digest);
  setMethod(context, native, "sign", sign);
  setMethod(context, native, "verify", verify);
  setMethod(context, native, "timingSafeEqual", timingSafeEqual);
  setMethod(context, native, "importSecret", importSecret, make_handle);
  setMethod(context, native, "importJwk", importJwk, make_handle);
  setMethod(context, native, "importSpki", importSpki, make_handle);
  setMethod(context, native, "importRaw", importRaw, make_handle);
  setMethod(context, native, "keyInfo", keyInfo);
  setMethod(context, native, "exportJwk", exportJwk);
  setMethod(context, native, "exportSpki", exportSpki);
  setMethod(context, native, "exportRaw", exportRaw);
  runJsInstaller(instance, "subtle_crypto.js", kJs_subtle_crypto, native);
}

}  // namespace isogate
