// The `kv` binding: env.NAME is a KvNamespace with the Workers KV API
// (get, getWithMetadata, put, delete, list) over the host's LMDB store.
//
// Evaluated once per context, on first use by an env binding, and called
// with (global, native). Natives (`handle` names the binding's namespace):
//   native.kvGet(handle, key, asText) -> undefined | [value, metadataJson|undefined, expiration]
//       value: a string when asText, else an ArrayBuffer; throws Error on store failure
//   native.kvPut(handle, key, value (string | Uint8Array), expiration (0 = none), metadataJson|undefined)
//       -> Promise<undefined>, settled once the write committed
//   native.kvDelete(handle, key) -> Promise<undefined>
//   native.kvList(handle, prefix, limit, cursor) -> [names[], expirations[], metadataJsons[], complete, cursor]
// Returns { makeKvNamespace(handle) -> KvNamespace }.
//
// Argument checks and their messages follow Workers ("KV PUT failed: 414
// UTF-8 encoded length of 600 exceeds key length limit of 512.").
(function (global, native) {
  'use strict';

  const kMaxKeyBytes = 512;
  const kMaxValueBytes = 25 * 1024 * 1024;
  const kMaxMetadataBytes = 1024;
  const kMinTtlSeconds = 60;
  const kMaxListLimit = 1000;
  const kMaxBulkKeys = 100;
  const kInternal = Symbol('kv internal');

  function utf8Length(text) {
    let bytes = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c < 0x80) bytes += 1;
      else if (c < 0x800) bytes += 2;
      else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length &&
               (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        bytes += 4;
        i++;
      } else bytes += 3;
    }
    return bytes;
  }

  function checkKey(op, key) {
    key = String(key);
    if (key === '') throw new TypeError('Key name cannot be empty.');
    if (key === '.') throw new TypeError('"." is not allowed as a key name.');
    if (key === '..') throw new TypeError('".." is not allowed as a key name.');
    const length = utf8Length(key);
    if (length > kMaxKeyBytes) {
      throw new Error(`KV ${op} failed: 414 UTF-8 encoded length of ${length} exceeds key length limit of ${kMaxKeyBytes}.`);
    }
    return key;
  }

  // get()'s second argument: a type string or { type, cacheTtl }.
  function readType(options) {
    let type = 'text';
    if (typeof options === 'string') {
      type = options;
    } else if (options !== undefined && options !== null) {
      if (typeof options !== 'object') throw new TypeError('KV get() options must be a string or an object.');
      if (options.type !== undefined) type = String(options.type);
      if (options.cacheTtl !== undefined) {
        const ttl = Number(options.cacheTtl);
        // Accepted for compatibility: reads are local, so there is no edge cache to tune.
        if (!Number.isFinite(ttl) || ttl < 30) {
          throw new Error(`KV GET failed: 400 Invalid cache_ttl of ${options.cacheTtl}. Cache TTL must be at least 30.`);
        }
      }
    }
    if (type === 'stream') {
      throw new TypeError('KV get() type "stream" needs ReadableStream, which this runtime does not have yet; ' +
                          'use "arrayBuffer" or "text".');
    }
    if (type !== 'text' && type !== 'json' && type !== 'arrayBuffer') {
      throw new TypeError(`Unknown response type. Possible types are "text", "arrayBuffer", "json", and "stream".`);
    }
    return type;
  }

  function convert(value, type) {
    if (type === 'json') return JSON.parse(value);
    return value;
  }

  function readOne(handle, key, type) {
    const found = native.kvGet(handle, key, type !== 'arrayBuffer');
    if (found === undefined) return null;
    return found;
  }

  function parseMetadata(json) {
    return json === undefined ? null : JSON.parse(json);
  }

  // The value of put(): bytes or a string, copied now (the caller may reuse its buffer).
  function readValue(value) {
    if (typeof value === 'string') return value;
    if (value instanceof ArrayBuffer) return new Uint8Array(value.slice(0));
    if (ArrayBuffer.isView(value)) {
      return new Uint8Array(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength));
    }
    throw new TypeError('KV put() accepts only strings, ArrayBuffers, ArrayBufferViews, and ReadableStreams as values.');
  }

  function nowSeconds() {
    return Math.floor(Date.now() / 1000);
  }

  class KvNamespace {
    #handle;

    constructor(internal, handle) {
      if (internal !== kInternal) throw new TypeError('Illegal constructor');
      this.#handle = handle;
    }

    async get(key, options = undefined) {
      const type = readType(options);
      if (Array.isArray(key)) return this.#getMany(key, type, false);
      key = checkKey('GET', key);
      const found = readOne(this.#handle, key, type);
      return found === null ? null : convert(found[0], type);
    }

    async getWithMetadata(key, options = undefined) {
      const type = readType(options);
      if (Array.isArray(key)) return this.#getMany(key, type, true);
      key = checkKey('GET', key);
      const found = readOne(this.#handle, key, type);
      if (found === null) return { value: null, metadata: null, cacheStatus: null };
      return { value: convert(found[0], type), metadata: parseMetadata(found[1]), cacheStatus: null };
    }

    // get([keys]) as Workers has it: a Map of key -> value (null when missing).
    #getMany(keys, type, withMetadata) {
      if (type === 'arrayBuffer') {
        throw new TypeError('KV get() with several keys supports only the "text" and "json" types.');
      }
      if (keys.length > kMaxBulkKeys) {
        throw new Error(`KV GET_BULK failed: 400 You can request a maximum of ${kMaxBulkKeys} keys.`);
      }
      const out = new Map();
      for (const raw of keys) {
        const key = checkKey('GET_BULK', raw);
        const found = readOne(this.#handle, key, type);
        let value = found === null ? null : convert(found[0], type);
        if (withMetadata) value = { value, metadata: found === null ? null : parseMetadata(found[1]) };
        out.set(key, value);
      }
      return out;
    }

    async put(key, value, options = undefined) {
      key = checkKey('PUT', key);
      const bytes = readValue(value);
      const size = typeof bytes === 'string' ? utf8Length(bytes) : bytes.byteLength;
      if (size > kMaxValueBytes) {
        throw new Error(`KV PUT failed: 413 Value length of ${size} exceeds limit of ${kMaxValueBytes}.`);
      }
      let expiration = 0;
      let metadata;
      if (options !== undefined && options !== null) {
        if (typeof options !== 'object') throw new TypeError('KV put() options must be an object.');
        if (options.expiration !== undefined) {
          const at = Number(options.expiration);
          if (!Number.isFinite(at) || Math.floor(at) < nowSeconds() + kMinTtlSeconds) {
            throw new Error(`KV PUT failed: 400 Invalid expiration of ${options.expiration}. Expiration times must be ` +
                            `at least ${kMinTtlSeconds} seconds in the future.`);
          }
          expiration = Math.floor(at);
        }
        if (options.expirationTtl !== undefined) {
          const ttl = Number(options.expirationTtl);
          if (!Number.isFinite(ttl) || Math.floor(ttl) < kMinTtlSeconds) {
            throw new Error(`KV PUT failed: 400 Invalid expiration_ttl of ${options.expirationTtl}. ` +
                            `Expiration TTL must be at least ${kMinTtlSeconds}.`);
          }
          expiration = nowSeconds() + Math.floor(ttl);
        }
        if (options.metadata !== undefined && options.metadata !== null) {
          metadata = JSON.stringify(options.metadata);
          if (metadata === undefined) throw new TypeError('KV put() metadata must be serialisable to JSON.');
          const length = utf8Length(metadata);
          if (length > kMaxMetadataBytes) {
            throw new Error(`KV PUT failed: 413 Metadata length of ${length} exceeds limit of ${kMaxMetadataBytes}.`);
          }
        }
      }
      await native.kvPut(this.#handle, key, bytes, expiration, metadata);
    }

    async delete(key) {
      key = checkKey('DELETE', key);
      await native.kvDelete(this.#handle, key);
    }

    async list(options = undefined) {
      let prefix = '';
      let limit = kMaxListLimit;
      let cursor = '';
      if (options !== undefined && options !== null) {
        if (typeof options !== 'object') throw new TypeError('KV list() options must be an object.');
        if (options.prefix !== undefined && options.prefix !== null) prefix = String(options.prefix);
        if (options.limit !== undefined && options.limit !== null) {
          limit = Math.floor(Number(options.limit));
          if (!Number.isFinite(limit) || limit < 1) {
            throw new Error(`KV LIST failed: 400 Invalid key_count_limit of ${options.limit}. Please specify an ` +
                            'integer greater than 0.');
          }
          if (limit > kMaxListLimit) limit = kMaxListLimit;
        }
        if (options.cursor !== undefined && options.cursor !== null) cursor = String(options.cursor);
      }
      const [names, expirations, metadatas, complete, next] = native.kvList(this.#handle, prefix, limit, cursor);
      const keys = new Array(names.length);
      for (let i = 0; i < names.length; i++) {
        const entry = { name: names[i] };
        if (expirations[i]) entry.expiration = expirations[i];
        if (metadatas[i] !== undefined) entry.metadata = JSON.parse(metadatas[i]);
        keys[i] = entry;
      }
      const result = { keys, list_complete: complete };
      if (!complete) result.cursor = next;
      result.cacheStatus = null;
      return result;
    }
  }

  Object.defineProperty(KvNamespace.prototype, Symbol.toStringTag, { value: 'KvNamespace', configurable: true });

  return {
    makeKvNamespace(handle) {
      return new KvNamespace(kInternal, handle);
    },
  };
})
