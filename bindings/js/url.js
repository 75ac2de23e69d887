// WHATWG URL Standard: the `URL` and `URLSearchParams` globals, in plain JS.
//
// This file is a single function expression. The host evaluates it once per
// context and calls it with (global, native); it installs `URL` and
// `URLSearchParams` on `global` like Web IDL interfaces (non-enumerable,
// writable, configurable). `native.domainToASCII(string) -> string` is the
// only host hook: UTS #46 ToASCII (CheckBidi, CheckJoiners, nontransitional,
// no STD3 rules, no hyphen or DNS-length checks) returning "" on failure. It is
// called only for domains that contain non-ASCII code points; ASCII domains,
// "xn--" labels included, are only lower-cased (what the WPT data expects:
// "http://a.b.c.xn--pokxncvks" parses).
//
// Internals: a URL object holds one URLRecord (components as serialised
// strings, plus a cached href) that is mutated in place by setters, so its
// URLSearchParams can hold the record rather than the URL object. Parsing has
// a fast path for plain ASCII http(s) URLs that skips the state machine.
(function (global, native) {
  'use strict';

  // Captured once: later changes to `native` or to Function.prototype do not
  // reach the parser.
  const nativeDomainToASCII =
      native != null && typeof native.domainToASCII === 'function' ?
      native.domainToASCII : null;
  const apply = Reflect.apply;

  // ---------------------------------------------------------------------------
  // Strings and encodings

  const EOF = -1;
  const HEX = [];
  for (let i = 0; i < 256; i++) {
    HEX.push('%' + (i < 16 ? '0' : '') + i.toString(16).toUpperCase());
  }

  // Percent-encode sets as bits of a per-code-unit table (ASCII only; every
  // code point above U+007E is in every set).
  const C0_SET = 1, FRAGMENT_SET = 2, QUERY_SET = 4, SPECIAL_QUERY_SET = 8,
        PATH_SET = 16, USERINFO_SET = 32, COMPONENT_SET = 64, FORM_SET = 128;
  const ENCODE = new Uint8Array(128);
  (function () {
    const add = (bits, chars) => {
      for (let i = 0; i < chars.length; i++) ENCODE[chars.charCodeAt(i)] |= bits;
    };
    for (let c = 0; c < 0x20; c++) ENCODE[c] = 0xFF;
    ENCODE[0x7F] = 0xFF;
    add(FRAGMENT_SET, ' "<>`');
    add(QUERY_SET | SPECIAL_QUERY_SET | PATH_SET | USERINFO_SET | COMPONENT_SET | FORM_SET,
        ' "#<>');
    add(SPECIAL_QUERY_SET, '\'');
    add(PATH_SET | USERINFO_SET | COMPONENT_SET | FORM_SET, '?^`{}');
    add(USERINFO_SET | COMPONENT_SET | FORM_SET, '/:;=@[\\]^|');
    add(COMPONENT_SET | FORM_SET, '$%&+,');
    add(FORM_SET, '!\'()~');
  })();

  // Forbidden host code points (opaque hosts) and forbidden domain code points.
  const FORBIDDEN_HOST = new Uint8Array(128);
  const FORBIDDEN_DOMAIN = new Uint8Array(128);
  (function () {
    const host = '\0\t\n\r #/:<>?@[\\]^|';
    for (let i = 0; i < host.length; i++) {
      FORBIDDEN_HOST[host.charCodeAt(i)] = 1;
      FORBIDDEN_DOMAIN[host.charCodeAt(i)] = 1;
    }
    for (let c = 0; c < 0x20; c++) FORBIDDEN_DOMAIN[c] = 1;
    FORBIDDEN_DOMAIN[0x25] = 1;
    FORBIDDEN_DOMAIN[0x7F] = 1;
  })();

  // Code units the http(s) fast path may copy verbatim into path, query and
  // fragment: printable ASCII not in the respective encode set. '\' is left
  // out of paths (it is a separator in special URLs).
  const FAST_PATH = new Uint8Array(128);
  const FAST_QUERY = new Uint8Array(128);
  const FAST_FRAGMENT = new Uint8Array(128);
  for (let c = 0x21; c < 0x7F; c++) {
    if ((ENCODE[c] & PATH_SET) === 0 && c !== 0x5C) FAST_PATH[c] = 1;
    if ((ENCODE[c] & SPECIAL_QUERY_SET) === 0) FAST_QUERY[c] = 1;
    if ((ENCODE[c] & FRAGMENT_SET) === 0) FAST_FRAGMENT[c] = 1;
  }

  function utf8PercentEncodeCodePoint(cp) {
    if (cp < 0x80) return HEX[cp];
    if (cp < 0x800) return HEX[0xC0 | (cp >> 6)] + HEX[0x80 | (cp & 0x3F)];
    if (cp < 0x10000) {
      return HEX[0xE0 | (cp >> 12)] + HEX[0x80 | ((cp >> 6) & 0x3F)] +
          HEX[0x80 | (cp & 0x3F)];
    }
    return HEX[0xF0 | (cp >> 18)] + HEX[0x80 | ((cp >> 12) & 0x3F)] +
        HEX[0x80 | ((cp >> 6) & 0x3F)] + HEX[0x80 | (cp & 0x3F)];
  }

  // UTF-8 percent-encodes every code point of `s` in `set`. Lone surrogates
  // encode as U+FFFD. `spaceAsPlus` is the form-urlencoded serialiser's rule.
  function percentEncode(s, set, spaceAsPlus) {
    const n = s.length;
    let out = '', last = 0;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      let enc;
      if (c < 0x7F) {
        if ((ENCODE[c] & set) === 0) continue;
        enc = c === 0x20 && spaceAsPlus ? '+' : HEX[c];
      } else if (c >= 0xD800 && c <= 0xDFFF) {
        const d = i + 1 < n ? s.charCodeAt(i + 1) : 0;
        if (c <= 0xDBFF && d >= 0xDC00 && d <= 0xDFFF) {
          enc = utf8PercentEncodeCodePoint(0x10000 + ((c - 0xD800) << 10) + (d - 0xDC00));
          out += s.slice(last, i) + enc;
          last = ++i + 1;
          continue;
        }
        enc = utf8PercentEncodeCodePoint(0xFFFD);
      } else {
        enc = utf8PercentEncodeCodePoint(c);
      }
      out += s.slice(last, i) + enc;
      last = i + 1;
    }
    return last === 0 ? s : out + s.slice(last);
  }

  function hexValue(c) {
    if (c >= 0x30 && c <= 0x39) return c - 0x30;
    if (c >= 0x41 && c <= 0x46) return c - 0x37;
    if (c >= 0x61 && c <= 0x66) return c - 0x57;
    return -1;
  }

  // Percent-decodes `s` (its UTF-8 encoding, really) into bytes.
  function percentDecodeToBytes(s) {
    const n = s.length;
    const bytes = [];
    for (let i = 0; i < n; i++) {
      let c = s.charCodeAt(i);
      if (c === 0x25 && i + 2 < n) {
        const h = hexValue(s.charCodeAt(i + 1)), l = hexValue(s.charCodeAt(i + 2));
        if (h >= 0 && l >= 0) {
          bytes.push((h << 4) | l);
          i += 2;
          continue;
        }
      }
      if (c < 0x80) {
        bytes.push(c);
        continue;
      }
      if (c >= 0xD800 && c <= 0xDFFF) {
        const d = i + 1 < n ? s.charCodeAt(i + 1) : 0;
        if (c <= 0xDBFF && d >= 0xDC00 && d <= 0xDFFF) {
          c = 0x10000 + ((c - 0xD800) << 10) + (d - 0xDC00);
          i++;
        } else {
          c = 0xFFFD;
        }
      }
      if (c < 0x800) {
        bytes.push(0xC0 | (c >> 6), 0x80 | (c & 0x3F));
      } else if (c < 0x10000) {
        bytes.push(0xE0 | (c >> 12), 0x80 | ((c >> 6) & 0x3F), 0x80 | (c & 0x3F));
      } else {
        bytes.push(0xF0 | (c >> 18), 0x80 | ((c >> 12) & 0x3F),
                   0x80 | ((c >> 6) & 0x3F), 0x80 | (c & 0x3F));
      }
    }
    return bytes;
  }

  // UTF-8 decode without BOM, replacing each maximal invalid subpart with
  // U+FFFD (WHATWG Encoding).
  function utf8Decode(bytes) {
    const n = bytes.length;
    const units = [];
    let out = '';
    let cp = 0, needed = 0, seen = 0, lower = 0x80, upper = 0xBF;
    for (let i = 0; i < n; i++) {
      const b = bytes[i];
      if (needed === 0) {
        if (b < 0x80) {
          units.push(b);
        } else if (b >= 0xC2 && b <= 0xDF) {
          needed = 1;
          cp = b & 0x1F;
        } else if (b >= 0xE0 && b <= 0xEF) {
          if (b === 0xE0) lower = 0xA0;
          else if (b === 0xED) upper = 0x9F;
          needed = 2;
          cp = b & 0xF;
        } else if (b >= 0xF0 && b <= 0xF4) {
          if (b === 0xF0) lower = 0x90;
          else if (b === 0xF4) upper = 0x8F;
          needed = 3;
          cp = b & 0x7;
        } else {
          units.push(0xFFFD);
        }
      } else if (b < lower || b > upper) {
        cp = needed = seen = 0;
        lower = 0x80;
        upper = 0xBF;
        units.push(0xFFFD);
        i--;
      } else {
        lower = 0x80;
        upper = 0xBF;
        cp = (cp << 6) | (b & 0x3F);
        if (++seen === needed) {
          if (cp >= 0x10000) {
            cp -= 0x10000;
            units.push(0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF));
          } else {
            units.push(cp);
          }
          cp = needed = seen = 0;
        }
      }
      if (units.length >= 4096) {
        out += String.fromCharCode.apply(null, units);
        units.length = 0;
      }
    }
    if (needed !== 0) units.push(0xFFFD);
    return out + String.fromCharCode.apply(null, units);
  }

  function percentDecodeString(s) {
    return s.indexOf('%') === -1 ? s : utf8Decode(percentDecodeToBytes(s));
  }

  const isWellFormed = String.prototype.isWellFormed;
  const toWellFormed = String.prototype.toWellFormed;
  const SURROGATE = /[\uD800-\uDFFF]/;

  function fixSurrogates(s) {
    if (toWellFormed !== undefined) return toWellFormed.call(s);
    let out = '', last = 0;
    const n = s.length;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0xD800 || c > 0xDFFF) continue;
      const d = i + 1 < n ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xDBFF && d >= 0xDC00 && d <= 0xDFFF) {
        i++;
        continue;
      }
      out += s.slice(last, i) + '\uFFFD';
      last = i + 1;
    }
    return out + s.slice(last);
  }

  // Web IDL USVString conversion (throws TypeError for symbols).
  function toUSVString(v) {
    const s = typeof v === 'string' ? v : `${v}`;
    const ok = isWellFormed !== undefined ? isWellFormed.call(s) : !SURROGATE.test(s);
    return ok ? s : fixSurrogates(s);
  }

  function asciiLowerCase(s) {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x41 && c <= 0x5A) return s.toLowerCase();
    }
    return s;
  }

  function requireArgs(count, required, what) {
    if (count < required) {
      throw new TypeError(`Failed to execute ${what}: ${required} argument${
          required > 1 ? 's' : ''} required, but only ${count} present.`);
    }
  }

  // ---------------------------------------------------------------------------
  // Hosts

  // IPv4 number parser: NaN on failure.
  function parseIPv4Number(s) {
    const n = s.length;
    if (n === 0) return NaN;
    let radix = 10, i = 0;
    if (n >= 2 && s.charCodeAt(0) === 0x30) {
      const x = s.charCodeAt(1);
      if (x === 0x78 || x === 0x58) {
        radix = 16;
        i = 2;
      } else {
        radix = 8;
        i = 1;
      }
    }
    let value = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      let d;
      if (radix === 16) {
        d = hexValue(c);
        if (d < 0) return NaN;
      } else {
        d = c - 0x30;
        if (d < 0 || d >= radix) return NaN;
      }
      value = value * radix + d;
    }
    return value;
  }

  function endsInANumber(s) {
    let end = s.length;
    if (s.charCodeAt(end - 1) === 0x2E) {
      if (end === 1) return false;
      end--;
    }
    const start = s.lastIndexOf('.', end - 1) + 1;
    if (start >= end) return false;
    let digits = true;
    for (let i = start; i < end; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x30 || c > 0x39) {
        digits = false;
        break;
      }
    }
    return digits || !Number.isNaN(parseIPv4Number(s.slice(start, end)));
  }

  // Returns the serialised address or null.
  function parseIPv4(s) {
    const parts = s.split('.');
    if (parts[parts.length - 1] === '' && parts.length > 1) parts.pop();
    const n = parts.length;
    if (n > 4) return null;
    let ipv4 = 0;
    for (let i = 0; i < n; i++) {
      const v = parseIPv4Number(parts[i]);
      if (Number.isNaN(v)) return null;
      if (i < n - 1) {
        if (v > 255) return null;
        ipv4 += v * 2 ** (8 * (3 - i));
      } else {
        if (v >= 2 ** (8 * (5 - n))) return null;
        ipv4 += v;
      }
    }
    return (ipv4 >>> 24) + '.' + ((ipv4 >>> 16) & 255) + '.' + ((ipv4 >>> 8) & 255) + '.' +
        (ipv4 & 255);
  }

  // Parses s[start, end) as an IPv6 address; returns 8 pieces or null.
  function parseIPv6(s, start, end) {
    const address = [0, 0, 0, 0, 0, 0, 0, 0];
    let pieceIndex = 0, compress = -1, p = start;
    const at = (i) => (i < end ? s.charCodeAt(i) : EOF);
    if (at(p) === 0x3A) {
      if (at(p + 1) !== 0x3A) return null;
      p += 2;
      compress = ++pieceIndex;
    }
    while (at(p) !== EOF) {
      if (pieceIndex === 8) return null;
      if (at(p) === 0x3A) {
        if (compress !== -1) return null;
        p++;
        compress = ++pieceIndex;
        continue;
      }
      let value = 0, length = 0;
      while (length < 4 && hexValue(at(p)) >= 0) {
        value = value * 16 + hexValue(at(p));
        p++;
        length++;
      }
      if (at(p) === 0x2E) {
        if (length === 0) return null;
        p -= length;
        if (pieceIndex > 6) return null;
        let numbersSeen = 0;
        while (at(p) !== EOF) {
          let ipv4Piece = -1;
          if (numbersSeen > 0) {
            if (at(p) === 0x2E && numbersSeen < 4) p++;
            else return null;
          }
          let c = at(p);
          if (c < 0x30 || c > 0x39) return null;
          while (c >= 0x30 && c <= 0x39) {
            const number = c - 0x30;
            if (ipv4Piece === -1) ipv4Piece = number;
            else if (ipv4Piece === 0) return null;
            else ipv4Piece = ipv4Piece * 10 + number;
            if (ipv4Piece > 255) return null;
            c = at(++p);
          }
          address[pieceIndex] = address[pieceIndex] * 0x100 + ipv4Piece;
          numbersSeen++;
          if (numbersSeen === 2 || numbersSeen === 4) pieceIndex++;
        }
        if (numbersSeen !== 4) return null;
        break;
      } else if (at(p) === 0x3A) {
        p++;
        if (at(p) === EOF) return null;
      } else if (at(p) !== EOF) {
        return null;
      }
      address[pieceIndex++] = value;
    }
    if (compress !== -1) {
      let swaps = pieceIndex - compress;
      pieceIndex = 7;
      while (pieceIndex !== 0 && swaps > 0) {
        const t = address[pieceIndex];
        address[pieceIndex] = address[compress + swaps - 1];
        address[compress + swaps - 1] = t;
        pieceIndex--;
        swaps--;
      }
    } else if (pieceIndex !== 8) {
      return null;
    }
    return address;
  }

  function serializeIPv6(a) {
    // The first longest run of two or more zero pieces is compressed.
    let compress = -1, best = 1;
    for (let i = 0; i < 8;) {
      if (a[i] !== 0) {
        i++;
        continue;
      }
      let j = i;
      while (j < 8 && a[j] === 0) j++;
      if (j - i > best) {
        best = j - i;
        compress = i;
      }
      i = j;
    }
    let out = '';
    for (let i = 0; i < 8; i++) {
      if (i === compress) {
        out += i === 0 ? '::' : ':';
        i += best - 1;
        continue;
      }
      out += a[i].toString(16);
      if (i !== 7) out += ':';
    }
    return out;
  }

  // Domain to ASCII with beStrict false; null on failure.
  function domainToASCII(domain) {
    // UTS #46 keeps every ASCII code point (lower-cased), except that NFC
    // composes "<" and ">" with U+0338 into U+226E and U+226F; so all other
    // forbidden code points fail here, before any IDNA processing, and ASCII
    // input needs no IDNA processing at all.
    let upper = false, angle = false, ascii = true;
    const n = domain.length;
    for (let i = 0; i < n; i++) {
      const c = domain.charCodeAt(i);
      if (c >= 0x80) {
        ascii = false;
      } else if (FORBIDDEN_DOMAIN[c] === 1) {
        if (c !== 0x3C && c !== 0x3E) return null;
        angle = true;
      } else if (c >= 0x41 && c <= 0x5A) {
        upper = true;
      }
    }
    if (!ascii) return nonASCIIDomainToASCII(domain);
    if (n === 0 || angle) return null;
    return upper ? domain.toLowerCase() : domain;
  }

  function nonASCIIDomainToASCII(domain) {
    // A lone surrogate is U+FFFD to a USVString, which UTS #46 disallows.
    if (nativeDomainToASCII === null || toUSVString(domain) !== domain) return null;
    const result = `${apply(nativeDomainToASCII, native, [domain])}`;
    if (result === '') return null;
    for (let i = 0; i < result.length; i++) {
      const c = result.charCodeAt(i);
      if (c >= 0x80 || FORBIDDEN_DOMAIN[c] === 1) return null;
    }
    return result;
  }

  // Host parser: returns the serialised host (IPv6 in brackets) or null.
  function parseHost(input, isOpaque) {
    if (input.charCodeAt(0) === 0x5B) {
      if (input.charCodeAt(input.length - 1) !== 0x5D) return null;
      const address = parseIPv6(input, 1, input.length - 1);
      return address === null ? null : '[' + serializeIPv6(address) + ']';
    }
    if (isOpaque) {
      for (let i = 0; i < input.length; i++) {
        const c = input.charCodeAt(i);
        if (c < 0x80 && FORBIDDEN_HOST[c] === 1) return null;
      }
      return percentEncode(input, C0_SET, false);
    }
    const ascii = domainToASCII(percentDecodeString(input));
    if (ascii === null) return null;
    return endsInANumber(ascii) ? parseIPv4(ascii) : ascii;
  }

  // ---------------------------------------------------------------------------
  // URL records

  function isSpecialScheme(s) {
    switch (s) {
      case 'http': case 'https': case 'ws': case 'wss': case 'ftp': case 'file':
        return true;
    }
    return false;
  }

  function defaultPort(s) {
    switch (s) {
      case 'http': case 'ws': return '80';
      case 'https': case 'wss': return '443';
      case 'ftp': return '21';
    }
    return null;
  }

  // A URL record. `path` is the serialised path (the opaque path itself when
  // `opaque`); `port` is a decimal string or null; `href` caches the
  // serialisation and is reset to null by every mutation.
  class URLRecord {
    constructor(scheme, special, username, password, host, port, path, opaque, query,
                fragment, href) {
      this.scheme = scheme;
      this.special = special;
      this.username = username;
      this.password = password;
      this.host = host;
      this.port = port;
      this.path = path;
      this.opaque = opaque;
      this.query = query;
      this.fragment = fragment;
      this.href = href;
    }
  }

  function newRecord() {
    return new URLRecord('', false, '', '', null, null, '', false, null, null, null);
  }

  function copyRecord(to, from) {
    to.scheme = from.scheme;
    to.special = from.special;
    to.username = from.username;
    to.password = from.password;
    to.host = from.host;
    to.port = from.port;
    to.path = from.path;
    to.opaque = from.opaque;
    to.query = from.query;
    to.fragment = from.fragment;
    to.href = from.href;
  }

  function serializeURL(r) {
    let out = r.scheme + ':';
    if (r.host !== null) {
      out += '//';
      if (r.username !== '' || r.password !== '') {
        out += r.username;
        if (r.password !== '') out += ':' + r.password;
        out += '@';
      }
      out += r.host;
      if (r.port !== null) out += ':' + r.port;
    } else if (!r.opaque && r.path.charCodeAt(0) === 0x2F && r.path.charCodeAt(1) === 0x2F) {
      out += '/.';
    }
    out += r.path;
    if (r.query !== null) out += '?' + r.query;
    if (r.fragment !== null) out += '#' + r.fragment;
    return out;
  }

  function hrefOf(r) {
    const h = r.href;
    return h !== null ? h : (r.href = serializeURL(r));
  }

  function hostAndPort(r) {
    if (r.host === null) return '';
    return r.port === null ? r.host : r.host + ':' + r.port;
  }

  function originOf(r) {
    switch (r.scheme) {
      case 'http': case 'https': case 'ws': case 'wss': case 'ftp':
        return r.scheme + '://' + hostAndPort(r);
      case 'blob': {
        const inner = basicParse(r.path, null, null, 0);
        if (inner !== null && (inner.scheme === 'http' || inner.scheme === 'https')) {
          return originOf(inner);
        }
        return 'null';
      }
    }
    return 'null';
  }

  // Path lists live in the parser only; records store "/a/b" ("" is []).
  function splitPath(path) {
    const segs = [];
    if (path === '') return segs;
    let start = 1;
    for (;;) {
      const slash = path.indexOf('/', start);
      if (slash === -1) break;
      segs.push(path.slice(start, slash));
      start = slash + 1;
    }
    segs.push(path.slice(start));
    return segs;
  }

  function isAsciiAlpha(c) {
    return (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A;
  }

  function isWindowsDriveLetter(s) {
    if (s.length !== 2 || !isAsciiAlpha(s.charCodeAt(0))) return false;
    const c = s.charCodeAt(1);
    return c === 0x3A || c === 0x7C;
  }

  function isNormalizedWindowsDriveLetter(s) {
    return s !== undefined && s.length === 2 && isAsciiAlpha(s.charCodeAt(0)) &&
        s.charCodeAt(1) === 0x3A;
  }

  function startsWithWindowsDriveLetter(s, p) {
    const n = s.length;
    if (n - p < 2 || !isAsciiAlpha(s.charCodeAt(p))) return false;
    const c = s.charCodeAt(p + 1);
    if (c !== 0x3A && c !== 0x7C) return false;
    if (n - p === 2) return true;
    const d = s.charCodeAt(p + 2);
    return d === 0x2F || d === 0x5C || d === 0x3F || d === 0x23;
  }

  function shortenPath(segs, r) {
    if (r.scheme === 'file' && segs.length === 1 && isNormalizedWindowsDriveLetter(segs[0])) {
      return;
    }
    segs.pop();
  }

  function isSingleDot(s) {
    return s === '.' || (s.length === 3 && s.charCodeAt(0) === 0x25 && s.charCodeAt(1) === 0x32 &&
                         (s.charCodeAt(2) | 0x20) === 0x65);
  }

  function isDoubleDot(s) {
    switch (s.length) {
      case 2: return s === '..';
      case 4: return (s.charCodeAt(0) === 0x2E && isSingleDot(s.slice(1))) ||
                     (s.charCodeAt(3) === 0x2E && isSingleDot(s.slice(0, 3)));
      case 6: return isSingleDot(s.slice(0, 3)) && isSingleDot(s.slice(3));
    }
    return false;
  }

  // ---------------------------------------------------------------------------
  // The basic URL parser

  // The scheme state is folded into SCHEME_START (it scans the whole scheme).
  const SCHEME_START = 1, NO_SCHEME = 3, SPECIAL_RELATIVE_OR_AUTHORITY = 4,
        PATH_OR_AUTHORITY = 5, RELATIVE = 6, RELATIVE_SLASH = 7,
        SPECIAL_AUTHORITY_SLASHES = 8, SPECIAL_AUTHORITY_IGNORE_SLASHES = 9, AUTHORITY = 10,
        HOST = 11, HOSTNAME = 12, PORT = 13, FILE = 14, FILE_SLASH = 15, FILE_HOST = 16,
        PATH_START = 17, PATH = 18, OPAQUE_PATH = 19, QUERY = 20, FRAGMENT = 21;

  const HAS_TAB_OR_NEWLINE = /[\t\n\r]/;
  const TABS_AND_NEWLINES = /[\t\n\r]/g;

  // Runs the basic URL parser. Without `url` it returns a new record or null
  // (failure). With `url` and a state override it mutates `url` in place and
  // returns null on failure; callers of setters ignore the result.
  function basicParse(input, base, url, override) {
    if (url === null) {
      url = newRecord();
      let s = 0, e = input.length;
      while (s < e && input.charCodeAt(s) <= 0x20) s++;
      while (e > s && input.charCodeAt(e - 1) <= 0x20) e--;
      if (s !== 0 || e !== input.length) input = input.slice(s, e);
    }
    if (HAS_TAB_OR_NEWLINE.test(input)) input = input.replace(TABS_AND_NEWLINES, '');

    const len = input.length;
    let state = override || SCHEME_START;
    let buffer = '';
    let atSignSeen = false, insideBrackets = false, passwordTokenSeen = false;
    let special = url.special;
    let segs = [];
    let p = 0;

    for (;;) {
      const c = p < len ? input.charCodeAt(p) : EOF;
      switch (state) {
        case SCHEME_START: {
          if (c !== EOF && isAsciiAlpha(c)) {
            let q = p + 1;
            for (; q < len; q++) {
              const d = input.charCodeAt(q);
              if (!(isAsciiAlpha(d) || (d >= 0x30 && d <= 0x39) || d === 0x2B || d === 0x2D ||
                    d === 0x2E)) {
                break;
              }
            }
            if (q < len && input.charCodeAt(q) === 0x3A) {
              buffer = asciiLowerCase(input.slice(p, q));
              p = q;
              const bufferSpecial = isSpecialScheme(buffer);
              if (override) {
                if (url.special !== bufferSpecial) return url;
                if ((url.username !== '' || url.password !== '' || url.port !== null) &&
                    buffer === 'file') {
                  return url;
                }
                if (url.scheme === 'file' && url.host === '') return url;
              }
              url.scheme = buffer;
              url.special = special = bufferSpecial;
              if (override) {
                if (url.port !== null && url.port === defaultPort(buffer)) url.port = null;
                return url;
              }
              buffer = '';
              if (url.scheme === 'file') {
                state = FILE;
              } else if (special && base !== null && base.scheme === url.scheme) {
                state = SPECIAL_RELATIVE_OR_AUTHORITY;
              } else if (special) {
                state = SPECIAL_AUTHORITY_SLASHES;
              } else if (p + 1 < len && input.charCodeAt(p + 1) === 0x2F) {
                state = PATH_OR_AUTHORITY;
                p++;
              } else {
                url.opaque = true;
                url.path = '';
                state = OPAQUE_PATH;
              }
            } else if (!override) {
              state = NO_SCHEME;
              p = -1;
            } else {
              return null;
            }
          } else if (!override) {
            state = NO_SCHEME;
            p--;
          } else {
            return null;
          }
          break;
        }

        case NO_SCHEME:
          if (base === null || (base.opaque && c !== 0x23)) return null;
          if (base.opaque) {
            url.scheme = base.scheme;
            url.special = special = base.special;
            url.path = base.path;
            url.opaque = true;
            url.query = base.query;
            url.fragment = '';
            state = FRAGMENT;
          } else {
            state = base.scheme !== 'file' ? RELATIVE : FILE;
            p--;
          }
          break;

        case SPECIAL_RELATIVE_OR_AUTHORITY:
          if (c === 0x2F && p + 1 < len && input.charCodeAt(p + 1) === 0x2F) {
            state = SPECIAL_AUTHORITY_IGNORE_SLASHES;
            p++;
          } else {
            state = RELATIVE;
            p--;
          }
          break;

        case PATH_OR_AUTHORITY:
          if (c === 0x2F) {
            state = AUTHORITY;
          } else {
            state = PATH;
            p--;
          }
          break;

        case RELATIVE:
          url.scheme = base.scheme;
          url.special = special = base.special;
          if (c === 0x2F || (special && c === 0x5C)) {
            state = RELATIVE_SLASH;
          } else {
            url.username = base.username;
            url.password = base.password;
            url.host = base.host;
            url.port = base.port;
            segs = splitPath(base.path);
            url.query = base.query;
            if (c === 0x3F) {
              url.query = '';
              state = QUERY;
            } else if (c === 0x23) {
              url.fragment = '';
              state = FRAGMENT;
            } else if (c !== EOF) {
              url.query = null;
              shortenPath(segs, url);
              state = PATH;
              p--;
            }
          }
          break;

        case RELATIVE_SLASH:
          if (special && (c === 0x2F || c === 0x5C)) {
            state = SPECIAL_AUTHORITY_IGNORE_SLASHES;
          } else if (c === 0x2F) {
            state = AUTHORITY;
          } else {
            url.username = base.username;
            url.password = base.password;
            url.host = base.host;
            url.port = base.port;
            state = PATH;
            p--;
          }
          break;

        case SPECIAL_AUTHORITY_SLASHES:
          state = SPECIAL_AUTHORITY_IGNORE_SLASHES;
          if (c === 0x2F && p + 1 < len && input.charCodeAt(p + 1) === 0x2F) p++;
          else p--;
          break;

        case SPECIAL_AUTHORITY_IGNORE_SLASHES:
          if (c !== 0x2F && c !== 0x5C) {
            state = AUTHORITY;
            p--;
          }
          break;

        case AUTHORITY: {
          let q = p;
          for (; q < len; q++) {
            const d = input.charCodeAt(q);
            if (d === 0x40 || d === 0x2F || d === 0x3F || d === 0x23 || (special && d === 0x5C)) {
              break;
            }
          }
          buffer += input.slice(p, q);
          p = q;
          if (p < len && input.charCodeAt(p) === 0x40) {
            if (atSignSeen) buffer = '%40' + buffer;
            atSignSeen = true;
            const colon = passwordTokenSeen ? -1 : buffer.indexOf(':');
            if (passwordTokenSeen) {
              url.password += percentEncode(buffer, USERINFO_SET, false);
            } else if (colon === -1) {
              url.username += percentEncode(buffer, USERINFO_SET, false);
            } else {
              passwordTokenSeen = true;
              url.username += percentEncode(buffer.slice(0, colon), USERINFO_SET, false);
              url.password += percentEncode(buffer.slice(colon + 1), USERINFO_SET, false);
            }
            buffer = '';
          } else {
            if (atSignSeen && buffer === '') return null;
            p -= buffer.length + 1;
            buffer = '';
            state = HOST;
          }
          break;
        }

        case HOST:
        case HOSTNAME: {
          if (override && url.scheme === 'file') {
            p--;
            state = FILE_HOST;
            break;
          }
          let q = p, d = EOF;
          for (; q < len; q++) {
            d = input.charCodeAt(q);
            if (d === 0x3A) {
              if (!insideBrackets) break;
            } else if (d === 0x2F || d === 0x3F || d === 0x23 || (special && d === 0x5C)) {
              break;
            } else if (d === 0x5B) {
              insideBrackets = true;
            } else if (d === 0x5D) {
              insideBrackets = false;
            }
          }
          buffer += input.slice(p, q);
          p = q;
          if (q < len && d === 0x3A) {
            if (buffer === '') return null;
            if (override === HOSTNAME) return null;
            const host = parseHost(buffer, !special);
            if (host === null) return null;
            url.host = host;
            buffer = '';
            state = PORT;
          } else {
            p--;
            if (special && buffer === '') return null;
            if (override && buffer === '' &&
                (url.username !== '' || url.password !== '' || url.port !== null)) {
              return null;
            }
            const host = parseHost(buffer, !special);
            if (host === null) return null;
            url.host = host;
            buffer = '';
            state = PATH_START;
            if (override) return url;
          }
          break;
        }

        case PORT: {
          let q = p;
          while (q < len) {
            const d = input.charCodeAt(q);
            if (d < 0x30 || d > 0x39) break;
            q++;
          }
          buffer = input.slice(p, q);
          p = q;
          const d = p < len ? input.charCodeAt(p) : EOF;
          if (d === EOF || d === 0x2F || d === 0x3F || d === 0x23 || (special && d === 0x5C) ||
              override) {
            if (buffer !== '') {
              let z = 0;
              while (z < buffer.length - 1 && buffer.charCodeAt(z) === 0x30) z++;
              const digits = z === 0 ? buffer : buffer.slice(z);
              if (digits.length > 5) return null;
              let value = 0;
              for (let k = 0; k < digits.length; k++) value = value * 10 + digits.charCodeAt(k) - 0x30;
              if (value > 65535) return null;
              url.port = digits === defaultPort(url.scheme) ? null : digits;
              buffer = '';
            }
            if (override) return url;
            state = PATH_START;
            p--;
          } else {
            return null;
          }
          break;
        }

        case FILE:
          url.scheme = 'file';
          url.special = special = true;
          url.host = '';
          if (c === 0x2F || c === 0x5C) {
            state = FILE_SLASH;
          } else if (base !== null && base.scheme === 'file') {
            url.host = base.host;
            segs = splitPath(base.path);
            url.query = base.query;
            if (c === 0x3F) {
              url.query = '';
              state = QUERY;
            } else if (c === 0x23) {
              url.fragment = '';
              state = FRAGMENT;
            } else if (c !== EOF) {
              url.query = null;
              if (!startsWithWindowsDriveLetter(input, p)) shortenPath(segs, url);
              else segs = [];
              state = PATH;
              p--;
            }
          } else {
            state = PATH;
            p--;
          }
          break;

        case FILE_SLASH:
          if (c === 0x2F || c === 0x5C) {
            state = FILE_HOST;
          } else {
            if (base !== null && base.scheme === 'file') {
              url.host = base.host;
              if (!startsWithWindowsDriveLetter(input, p)) {
                const first = splitPath(base.path)[0];
                if (isNormalizedWindowsDriveLetter(first)) segs.push(first);
              }
            }
            state = PATH;
            p--;
          }
          break;

        case FILE_HOST: {
          let q = p;
          for (; q < len; q++) {
            const d = input.charCodeAt(q);
            if (d === 0x2F || d === 0x5C || d === 0x3F || d === 0x23) break;
          }
          buffer += input.slice(p, q);
          p = q - 1;
          if (!override && isWindowsDriveLetter(buffer)) {
            // The drive-letter quirk: buffer is kept and becomes the first
            // path segment.
            state = PATH;
          } else if (buffer === '') {
            url.host = '';
            if (override) return url;
            state = PATH_START;
          } else {
            let host = parseHost(buffer, !special);
            if (host === null) return null;
            if (host === 'localhost') host = '';
            url.host = host;
            if (override) return url;
            buffer = '';
            state = PATH_START;
          }
          break;
        }

        case PATH_START:
          if (special) {
            state = PATH;
            if (c !== 0x2F && c !== 0x5C) p--;
          } else if (!override && c === 0x3F) {
            url.query = '';
            state = QUERY;
          } else if (!override && c === 0x23) {
            url.fragment = '';
            state = FRAGMENT;
          } else if (c !== EOF) {
            state = PATH;
            if (c !== 0x2F) p--;
          } else if (override && url.host === null) {
            segs.push('');
          }
          break;

        case PATH: {
          let q = p, d = EOF;
          for (; q < len; q++) {
            d = input.charCodeAt(q);
            if (d === 0x2F || (special && d === 0x5C) || (!override && (d === 0x3F || d === 0x23))) {
              break;
            }
          }
          if (q === len) d = EOF;
          if (q > p) buffer += input.slice(p, q);
          p = q;
          const slash = d === 0x2F || (special && d === 0x5C);
          if (isDoubleDot(buffer)) {
            shortenPath(segs, url);
            if (!slash) segs.push('');
          } else if (isSingleDot(buffer)) {
            if (!slash) segs.push('');
          } else {
            if (url.scheme === 'file' && segs.length === 0 && isWindowsDriveLetter(buffer)) {
              buffer = buffer[0] + ':';
            }
            segs.push(percentEncode(buffer, PATH_SET, false));
          }
          buffer = '';
          if (d === 0x3F) {
            url.query = '';
            state = QUERY;
          } else if (d === 0x23) {
            url.fragment = '';
            state = FRAGMENT;
          }
          break;
        }

        case OPAQUE_PATH: {
          let q = p;
          for (; q < len; q++) {
            const d = input.charCodeAt(q);
            if (d === 0x3F || d === 0x23) break;
          }
          const run = input.slice(p, q);
          p = q;
          if (q < len && run.charCodeAt(run.length - 1) === 0x20) {
            // A space right before '?' or '#' is encoded so that it survives
            // removal of the query or fragment.
            url.path += percentEncode(run.slice(0, -1), C0_SET, false) + '%20';
          } else {
            url.path += percentEncode(run, C0_SET, false);
          }
          if (q < len) {
            if (input.charCodeAt(q) === 0x3F) {
              url.query = '';
              state = QUERY;
            } else {
              url.fragment = '';
              state = FRAGMENT;
            }
          }
          break;
        }

        case QUERY: {
          let q = p;
          if (!override) {
            q = input.indexOf('#', p);
            if (q === -1) q = len;
          } else {
            q = len;
          }
          url.query += percentEncode(input.slice(p, q), special ? SPECIAL_QUERY_SET : QUERY_SET,
                                     false);
          p = q;
          if (q < len) {
            url.fragment = '';
            state = FRAGMENT;
          }
          break;
        }

        case FRAGMENT:
          if (p < len) url.fragment += percentEncode(input.slice(p), FRAGMENT_SET, false);
          p = len;
          break;
      }
      if (p >= len) break;
      p++;
    }

    if (!url.opaque && (override === 0 || override === PATH_START)) {
      let path = '';
      for (let i = 0; i < segs.length; i++) path += '/' + segs[i];
      url.path = path;
    }
    return url;
  }

  // The common case: "http(s)://host[:port][/path][?query][#fragment]" in
  // canonical ASCII form (a domain of [a-z0-9-_.], upper case allowed, or a
  // dotted-quad host; no userinfo, nothing to percent-encode, no dot
  // segments, no default port). Returns a record, or null when the general
  // parser must decide.
  function fastParse(input) {
    const len = input.length;
    if (len < 8 || input.charCodeAt(0) !== 0x68 || input.charCodeAt(1) !== 0x74 ||
        input.charCodeAt(2) !== 0x74 || input.charCodeAt(3) !== 0x70) {
      return null;
    }
    let i, scheme;
    if (input.charCodeAt(4) === 0x3A) {
      scheme = 'http';
      i = 5;
    } else if (input.charCodeAt(4) === 0x73 && input.charCodeAt(5) === 0x3A) {
      scheme = 'https';
      i = 6;
    } else {
      return null;
    }
    if (input.charCodeAt(i) !== 0x2F || input.charCodeAt(i + 1) !== 0x2F) return null;
    i += 2;
    const hostStart = i;
    let labelStart = i, letters = false, upper = false, c = EOF;
    for (; i < len; i++) {
      c = input.charCodeAt(i);
      if (c >= 0x61 && c <= 0x7A || c === 0x2D || c === 0x5F) {
        letters = true;
      } else if (c === 0x2E) {
        labelStart = i + 1;
      } else if (c >= 0x41 && c <= 0x5A) {
        letters = upper = true;
      } else if (c < 0x30 || c > 0x39) {
        break;
      }
    }
    if (i === len) c = EOF;
    const hostEnd = i;
    if (hostEnd === labelStart) return null;  // empty host or trailing dot
    const first = input.charCodeAt(labelStart);
    if (first >= 0x30 && first <= 0x39) {
      // Possibly IPv4: accept only a canonical dotted quad.
      if (letters || !isCanonicalIPv4(input, hostStart, hostEnd)) return null;
    }
    let port = null;
    if (c === 0x3A) {
      const portStart = ++i;
      for (; i < len; i++) {
        c = input.charCodeAt(i);
        if (c < 0x30 || c > 0x39) break;
      }
      const n = i - portStart;
      if (n === 0 || n > 5 || input.charCodeAt(portStart) === 0x30) return null;
      port = input.slice(portStart, i);
      if (+port > 65535 || port === (scheme === 'http' ? '80' : '443')) return null;
    }
    let host = input.slice(hostStart, hostEnd);
    if (upper) host = host.toLowerCase();
    const r = new URLRecord(scheme, true, '', '', host, port, '/', false, null, null, null);
    if (!fastTail(input, i, r)) return null;
    if (upper) {
      r.href = null;
    } else if (i === len) {
      r.href = input + '/';
    } else if (input.charCodeAt(i) !== 0x2F) {
      r.href = input.slice(0, i) + '/' + input.slice(i);
    } else {
      r.href = input;
    }
    return r;
  }

  // Relative references that start with a single '/' against a special,
  // non-file base: only the path, query and fragment come from the input.
  function fastParseRelative(input, base) {
    const c1 = input.charCodeAt(1);
    if (input.charCodeAt(0) !== 0x2F || c1 === 0x2F || c1 === 0x5C || !base.special ||
        base.scheme === 'file') {
      return null;
    }
    const r = new URLRecord(base.scheme, true, base.username, base.password, base.host,
                            base.port, '/', false, null, null, null);
    return fastTail(input, 0, r) ? r : null;
  }

  // Parses input[i..] as [/path][?query][#fragment] of a special URL into r,
  // when it needs no encoding, dot-segment removal or backslash handling.
  // input[i] must be '/', '?', '#' or the end. Returns false to defer to the
  // general parser.
  function fastTail(input, i, r) {
    const len = input.length;
    let c = i < len ? input.charCodeAt(i) : EOF;
    if (c === 0x2F) {
      const pathStart = i;
      let segStart = ++i;
      for (; i <= len; i++) {
        c = i < len ? input.charCodeAt(i) : EOF;
        if (c === 0x2F || c === 0x3F || c === 0x23 || c === EOF) {
          const n = i - segStart;
          if (n > 0 && n <= 6) {
            const f = input.charCodeAt(segStart);
            if ((f === 0x2E || f === 0x25) && isDotSegment(input.slice(segStart, i))) {
              return false;
            }
          }
          if (c !== 0x2F) break;
          segStart = i + 1;
        } else if (c >= 0x80 || FAST_PATH[c] === 0) {
          return false;
        }
      }
      r.path = input.slice(pathStart, i);
    } else if (c !== EOF && c !== 0x3F && c !== 0x23) {
      return false;
    }
    if (c === 0x3F) {
      const queryStart = ++i;
      for (; i < len; i++) {
        c = input.charCodeAt(i);
        if (c === 0x23) break;
        if (c >= 0x80 || FAST_QUERY[c] === 0) return false;
      }
      if (i === len) c = EOF;
      r.query = input.slice(queryStart, i);
    }
    if (c === 0x23) {
      const fragmentStart = ++i;
      for (; i < len; i++) {
        c = input.charCodeAt(i);
        if (c >= 0x80 || FAST_FRAGMENT[c] === 0) return false;
      }
      r.fragment = input.slice(fragmentStart);
    }
    return true;
  }

  function isDotSegment(s) {
    return isSingleDot(s) || isDoubleDot(s);
  }

  // s[start, end) is four decimal numbers 0-255 without leading zeros.
  function isCanonicalIPv4(s, start, end) {
    let parts = 0, value = 0, digits = 0;
    for (let i = start; i <= end; i++) {
      const c = i < end ? s.charCodeAt(i) : 0x2E;
      if (c === 0x2E) {
        if (digits === 0 || value > 255) return false;
        parts++;
        value = digits = 0;
      } else {
        if (digits > 0 && value === 0) return false;
        value = value * 10 + (c - 0x30);
        digits++;
      }
    }
    return parts === 4;
  }

  // `input` is a string. The USVString conversion (lone surrogates to
  // U+FFFD) is left to percentEncode, the host parser and the IDNA hook:
  // every non-ASCII code unit of the input reaches the output through one of
  // them, and each treats a lone surrogate as U+FFFD.
  function parseURL(input, base) {
    if (base === undefined) return fastParse(input) || basicParse(input, null, null, 0);
    const baseString = typeof base === 'string' ? base : `${base}`;
    const baseRecord = fastParse(baseString) || basicParse(baseString, null, null, 0);
    if (baseRecord === null) return null;
    return fastParse(input) || fastParseRelative(input, baseRecord) ||
        basicParse(input, baseRecord, null, 0);
  }

  // ---------------------------------------------------------------------------
  // application/x-www-form-urlencoded

  function formDecode(s) {
    if (s.indexOf('+') !== -1) s = s.replace(/\+/g, ' ');
    return percentDecodeString(s);
  }

  // Returns a flat list [name0, value0, name1, value1, ...].
  function parseFormURLEncoded(s) {
    const list = [];
    const n = s.length;
    let start = 0;
    while (start < n) {
      let i = start, eq = -1, escaped = false;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c === 0x26) break;
        if (c === 0x3D) {
          if (eq === -1) eq = i;
        } else if (c === 0x2B || c === 0x25) {
          escaped = true;
        }
      }
      if (i > start) {
        let name, value;
        if (eq === -1) {
          name = s.slice(start, i);
          value = '';
        } else {
          name = s.slice(start, eq);
          value = s.slice(eq + 1, i);
        }
        if (escaped) {
          name = formDecode(name);
          value = formDecode(value);
        }
        list.push(name, value);
      }
      start = i + 1;
    }
    return list;
  }

  function serializeFormURLEncoded(list) {
    let out = '';
    for (let i = 0; i < list.length; i += 2) {
      if (i !== 0) out += '&';
      out += percentEncode(list[i], FORM_SET, true) + '=' +
          percentEncode(list[i + 1], FORM_SET, true);
    }
    return out;
  }

  // ---------------------------------------------------------------------------
  // Interfaces

  // Passed as the first constructor argument to build objects from internal
  // state; scripts cannot obtain it.
  const INTERNAL = Object.freeze(Object.create(null));

  let checkSearchParams;      // (value, operation) -> void, throws if not params
  let searchParamsList;       // (params) -> flat list
  let searchParamsReset;      // (params, list) -> void
  let newLinkedSearchParams;  // (record) -> URLSearchParams
  let linkingRecord = null;   // argument of newLinkedSearchParams

  class URL {
    #r;
    #params = null;

    constructor(url, base = undefined) {
      if (url === INTERNAL) {
        this.#r = base;
        return;
      }
      requireArgs(arguments.length, 1, "'URL' constructor");
      const input = typeof url === 'string' ? url : `${url}`;
      const r = parseURL(input, base);
      if (r === null) throw new TypeError(`Invalid URL: "${input}"`);
      this.#r = r;
    }

    static canParse(url, base = undefined) {
      requireArgs(arguments.length, 1, "'canParse' on 'URL'");
      return parseURL(typeof url === 'string' ? url : `${url}`, base) !== null;
    }

    static parse(url, base = undefined) {
      requireArgs(arguments.length, 1, "'parse' on 'URL'");
      const r = parseURL(typeof url === 'string' ? url : `${url}`, base);
      return r === null ? null : new URL(INTERNAL, r);
    }

    get href() {
      return hrefOf(this.#r);
    }

    set href(value) {
      const s = toUSVString(value);
      const parsed = fastParse(s) || basicParse(s, null, null, 0);
      if (parsed === null) throw new TypeError(`Invalid URL: "${s}"`);
      const r = this.#r;
      copyRecord(r, parsed);
      if (this.#params !== null) {
        searchParamsReset(this.#params, r.query === null ? [] : parseFormURLEncoded(r.query));
      }
    }

    get origin() {
      return originOf(this.#r);
    }

    get protocol() {
      return this.#r.scheme + ':';
    }

    set protocol(value) {
      const r = this.#r;
      basicParse(toUSVString(value) + ':', null, r, SCHEME_START);
      r.href = null;
    }

    get username() {
      return this.#r.username;
    }

    set username(value) {
      const r = this.#r;
      const s = toUSVString(value);
      if (r.host === null || r.host === '' || r.scheme === 'file') return;
      r.username = percentEncode(s, USERINFO_SET, false);
      r.href = null;
    }

    get password() {
      return this.#r.password;
    }

    set password(value) {
      const r = this.#r;
      const s = toUSVString(value);
      if (r.host === null || r.host === '' || r.scheme === 'file') return;
      r.password = percentEncode(s, USERINFO_SET, false);
      r.href = null;
    }

    get host() {
      return hostAndPort(this.#r);
    }

    set host(value) {
      const r = this.#r;
      const s = toUSVString(value);
      if (r.opaque) return;
      basicParse(s, null, r, HOST);
      r.href = null;
    }

    get hostname() {
      const h = this.#r.host;
      return h === null ? '' : h;
    }

    set hostname(value) {
      const r = this.#r;
      const s = toUSVString(value);
      if (r.opaque) return;
      basicParse(s, null, r, HOSTNAME);
      r.href = null;
    }

    get port() {
      const p = this.#r.port;
      return p === null ? '' : p;
    }

    set port(value) {
      const r = this.#r;
      const s = toUSVString(value);
      if (r.host === null || r.host === '' || r.scheme === 'file') return;
      if (s === '') r.port = null;
      else basicParse(s, null, r, PORT);
      r.href = null;
    }

    get pathname() {
      return this.#r.path;
    }

    set pathname(value) {
      const r = this.#r;
      const s = toUSVString(value);
      if (r.opaque) return;
      r.path = '';
      basicParse(s, null, r, PATH_START);
      r.href = null;
    }

    get search() {
      const q = this.#r.query;
      return q === null || q === '' ? '' : '?' + q;
    }

    set search(value) {
      const r = this.#r;
      const s = toUSVString(value);
      r.href = null;
      if (s === '') {
        r.query = null;
        if (this.#params !== null) searchParamsReset(this.#params, []);
        return;
      }
      const input = s.charCodeAt(0) === 0x3F ? s.slice(1) : s;
      r.query = '';
      basicParse(input, null, r, QUERY);
      // The list comes from the raw input; it differs from parsing the query
      // only when tabs or newlines were removed, so create params eagerly
      // in that case and lazily otherwise.
      if (this.#params === null && HAS_TAB_OR_NEWLINE.test(input)) {
        this.#params = newLinkedSearchParams(r);
      }
      if (this.#params !== null) searchParamsReset(this.#params, parseFormURLEncoded(input));
    }

    get searchParams() {
      let params = this.#params;
      if (params === null) params = this.#params = newLinkedSearchParams(this.#r);
      return params;
    }

    get hash() {
      const f = this.#r.fragment;
      return f === null || f === '' ? '' : '#' + f;
    }

    set hash(value) {
      const r = this.#r;
      const s = toUSVString(value);
      r.href = null;
      if (s === '') {
        r.fragment = null;
        return;
      }
      r.fragment = '';
      basicParse(s.charCodeAt(0) === 0x23 ? s.slice(1) : s, null, r, FRAGMENT);
    }

    toString() {
      return hrefOf(this.#r);
    }

    toJSON() {
      return hrefOf(this.#r);
    }
  }

  class URLSearchParams {
    #list;
    #url = null;  // the URLRecord this object is the query object of

    constructor(init = undefined) {
      if (init === INTERNAL) {
        const r = linkingRecord;
        linkingRecord = null;
        this.#url = r;
        this.#list = r.query === null ? [] : parseFormURLEncoded(r.query);
        return;
      }
      const list = this.#list = [];
      if (init === undefined) return;
      if (typeof init === 'object' && init !== null || typeof init === 'function') {
        const iteratorMethod = init[Symbol.iterator];
        if (iteratorMethod != null) {
          if (typeof iteratorMethod !== 'function') {
            throw new TypeError("Failed to construct 'URLSearchParams': " +
                                'The provided value is not iterable.');
          }
          for (const pair of { [Symbol.iterator]: () => iteratorMethod.call(init) }) {
            if (typeof pair !== 'object' && typeof pair !== 'function' || pair === null ||
                typeof pair[Symbol.iterator] !== 'function') {
              throw new TypeError("Failed to construct 'URLSearchParams': " +
                                  'Each query pair must be an iterable [name, value] tuple.');
            }
            const items = Array.from(pair);
            if (items.length !== 2) {
              throw new TypeError("Failed to construct 'URLSearchParams': " +
                                  'Each query pair must be an iterable [name, value] tuple.');
            }
            list.push(toUSVString(items[0]), toUSVString(items[1]));
          }
        } else {
          const keys = Reflect.ownKeys(init);
          for (let i = 0; i < keys.length; i++) {
            const key = keys[i];
            const desc = Reflect.getOwnPropertyDescriptor(init, key);
            if (desc === undefined || !desc.enumerable) continue;
            const name = toUSVString(key);
            const value = toUSVString(init[key]);
            // record<> semantics: a later duplicate key (after USV
            // conversion) replaces the earlier value in place.
            let found = -1;
            for (let j = 0; j < list.length; j += 2) {
              if (list[j] === name) {
                found = j;
                break;
              }
            }
            if (found === -1) list.push(name, value);
            else list[found + 1] = value;
          }
        }
        return;
      }
      let s = toUSVString(init);
      if (s.charCodeAt(0) === 0x3F) s = s.slice(1);
      if (s !== '') this.#list = parseFormURLEncoded(s);
    }

    static {
      checkSearchParams = (params, what) => {
        if (!(#list in params)) {
          throw new TypeError(`Failed to execute '${what}' on 'URLSearchParams': Illegal invocation`);
        }
      };
      searchParamsList = (params) => params.#list;
      searchParamsReset = (params, list) => {
        params.#list = list;
      };
      newLinkedSearchParams = (record) => {
        linkingRecord = record;
        return new URLSearchParams(INTERNAL);
      };
    }

    #update() {
      const r = this.#url;
      if (r === null) return;
      const serialized = serializeFormURLEncoded(this.#list);
      r.query = serialized === '' ? null : serialized;
      r.href = null;
    }

    get size() {
      return this.#list.length >> 1;
    }

    append(name, value) {
      const list = this.#list;
      requireArgs(arguments.length, 2, "'append' on 'URLSearchParams'");
      list.push(toUSVString(name), toUSVString(value));
      this.#update();
    }

    delete(name, value = undefined) {
      const list = this.#list;
      requireArgs(arguments.length, 1, "'delete' on 'URLSearchParams'");
      const n = toUSVString(name);
      const v = value === undefined ? undefined : toUSVString(value);
      let w = 0;
      for (let i = 0; i < list.length; i += 2) {
        if (list[i] === n && (v === undefined || list[i + 1] === v)) continue;
        list[w++] = list[i];
        list[w++] = list[i + 1];
      }
      list.length = w;
      this.#update();
    }

    get(name) {
      const list = this.#list;
      requireArgs(arguments.length, 1, "'get' on 'URLSearchParams'");
      const n = typeof name === 'string' ? name : toUSVString(name);
      for (let i = 0; i < list.length; i += 2) {
        if (list[i] === n) return list[i + 1];
      }
      return null;
    }

    getAll(name) {
      const list = this.#list;
      requireArgs(arguments.length, 1, "'getAll' on 'URLSearchParams'");
      const n = toUSVString(name);
      const out = [];
      for (let i = 0; i < list.length; i += 2) {
        if (list[i] === n) out.push(list[i + 1]);
      }
      return out;
    }

    has(name, value = undefined) {
      const list = this.#list;
      requireArgs(arguments.length, 1, "'has' on 'URLSearchParams'");
      const n = toUSVString(name);
      const v = value === undefined ? undefined : toUSVString(value);
      for (let i = 0; i < list.length; i += 2) {
        if (list[i] === n && (v === undefined || list[i + 1] === v)) return true;
      }
      return false;
    }

    set(name, value) {
      const list = this.#list;
      requireArgs(arguments.length, 2, "'set' on 'URLSearchParams'");
      const n = toUSVString(name);
      const v = toUSVString(value);
      let found = false, w = 0;
      for (let i = 0; i < list.length; i += 2) {
        if (list[i] === n) {
          if (found) continue;
          found = true;
          list[w++] = n;
          list[w++] = v;
        } else {
          list[w++] = list[i];
          list[w++] = list[i + 1];
        }
      }
      list.length = w;
      if (!found) list.push(n, v);
      this.#update();
    }

    sort() {
      const list = this.#list;
      const pairs = [];
      for (let i = 0; i < list.length; i += 2) pairs.push([list[i], list[i + 1]]);
      // Array.prototype.sort is stable; names compare by UTF-16 code units.
      pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      for (let i = 0; i < pairs.length; i++) {
        list[2 * i] = pairs[i][0];
        list[2 * i + 1] = pairs[i][1];
      }
      this.#update();
    }

    forEach(callback, thisArg = undefined) {
      requireArgs(arguments.length, 1, "'forEach' on 'URLSearchParams'");
      if (typeof callback !== 'function') {
        throw new TypeError("Failed to execute 'forEach' on 'URLSearchParams': " +
                            'parameter 1 is not of type \'Function\'.');
      }
      for (let i = 0; i < this.#list.length; i += 2) {
        const list = this.#list;
        callback.call(thisArg, list[i + 1], list[i], this);
      }
    }

    entries() {
      checkSearchParams(this, 'entries');
      return new URLSearchParamsIterator(this, KIND_ENTRIES);
    }

    keys() {
      checkSearchParams(this, 'keys');
      return new URLSearchParamsIterator(this, KIND_KEYS);
    }

    values() {
      checkSearchParams(this, 'values');
      return new URLSearchParamsIterator(this, KIND_VALUES);
    }

    toString() {
      return serializeFormURLEncoded(this.#list);
    }
  }

  const KIND_KEYS = 0, KIND_VALUES = 1, KIND_ENTRIES = 2;

  class URLSearchParamsIterator {
    #params;
    #kind;
    #index = 0;

    constructor(params, kind) {
      this.#params = params;
      this.#kind = kind;
    }

    next() {
      const list = searchParamsList(this.#params);
      const i = this.#index;
      if (i >= list.length) return { value: undefined, done: true };
      this.#index = i + 2;
      const kind = this.#kind;
      const value = kind === KIND_KEYS ? list[i] :
          kind === KIND_VALUES ? list[i + 1] : [list[i], list[i + 1]];
      return { value, done: false };
    }
  }

  // ---------------------------------------------------------------------------
  // Web IDL shape: operations and attributes enumerable, @@toStringTag,
  // @@iterator === entries, interface objects non-enumerable on the global.

  function makeEnumerable(object) {
    for (const key of Reflect.ownKeys(object)) {
      if (key === 'constructor' || key === 'prototype' || key === 'length' || key === 'name') {
        continue;
      }
      const desc = Reflect.getOwnPropertyDescriptor(object, key);
      desc.enumerable = true;
      Object.defineProperty(object, key, desc);
    }
  }

  makeEnumerable(URL.prototype);
  makeEnumerable(URL);
  makeEnumerable(URLSearchParams.prototype);
  Object.defineProperty(URL.prototype, Symbol.toStringTag,
                        { value: 'URL', writable: false, enumerable: false, configurable: true });
  Object.defineProperty(URLSearchParams.prototype, Symbol.toStringTag, {
    value: 'URLSearchParams', writable: false, enumerable: false, configurable: true,
  });
  Object.defineProperty(URLSearchParams.prototype, Symbol.iterator, {
    value: URLSearchParams.prototype.entries, writable: true, enumerable: false,
    configurable: true,
  });

  const iteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()));
  const iterProto = URLSearchParamsIterator.prototype;
  Object.setPrototypeOf(iterProto, iteratorPrototype);
  delete iterProto.constructor;
  makeEnumerable(iterProto);
  Object.defineProperty(iterProto, Symbol.toStringTag, {
    value: 'URLSearchParams Iterator', writable: false, enumerable: false, configurable: true,
  });

  Object.defineProperty(global, 'URL',
                        { value: URL, writable: true, enumerable: false, configurable: true });
  Object.defineProperty(global, 'URLSearchParams', {
    value: URLSearchParams, writable: true, enumerable: false, configurable: true,
  });
})
