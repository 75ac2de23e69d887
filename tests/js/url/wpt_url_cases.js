// Runs the WPT URL conformance data (../shared/conformance/wpt-url/*.json)
// and a URLSearchParams suite against a given URL implementation.
//
// A plain script (no imports, no Node APIs) so that the node driver
// (run_wpt_url.mjs) and the V8 runtime's JS tests can both evaluate it. It
// defines these global functions, each returning
// { passed, total, failures: [{ name, message }] }:
//
//   runUrlTestData(URL, data)           urltestdata.json
//   runUrlStaticsTestData(URL, data)    URL.canParse / URL.parse on the same data
//   runSetterTestData(URL, data)        setters_tests.json
//   runToASCIITestData(URL, data)       toascii.json (needs the native IDNA hook)
//   runPercentEncodingTestData(URL, data)  percent-encoding.json (UTF-8 only)
//   runSearchParamsTests(URL, URLSearchParams)  ported WPT urlsearchparams-*
//
// No 'use strict' directive: an indirect eval of strict code would keep the
// function declarations out of the global scope.

var URL_COMPONENTS = ['href', 'protocol', 'username', 'password', 'host', 'hostname', 'port',
                      'pathname', 'search', 'hash', 'origin'];

function urlCaseName(c) {
  return JSON.stringify(c.input) + (c.base == null ? '' : ' against ' + JSON.stringify(c.base));
}

function isTypeError(e) {
  return e !== null && typeof e === 'object' && e.name === 'TypeError';
}

function runUrlTestData(URL, data) {
  var passed = 0, total = 0, failures = [];
  for (var i = 0; i < data.length; i++) {
    var c = data[i];
    if (typeof c === 'string') continue;
    total++;
    var name = urlCaseName(c);
    var url;
    try {
      url = c.base == null ? new URL(c.input) : new URL(c.input, c.base);
    } catch (e) {
      if (c.failure && isTypeError(e)) passed++;
      else failures.push({ name: name, message: c.failure ? 'threw ' + e : 'threw ' + e });
      continue;
    }
    if (c.failure) {
      failures.push({ name: name, message: 'expected failure, got ' + JSON.stringify(url.href) });
      continue;
    }
    var wrong = [];
    for (var k = 0; k < URL_COMPONENTS.length; k++) {
      var key = URL_COMPONENTS[k];
      if (key in c && url[key] !== c[key]) {
        wrong.push(key + ': got ' + JSON.stringify(url[key]) + ', want ' + JSON.stringify(c[key]));
      }
    }
    if ('searchParams' in c && url.searchParams.toString() !== c.searchParams) {
      wrong.push('searchParams: got ' + JSON.stringify(url.searchParams.toString()) +
                 ', want ' + JSON.stringify(c.searchParams));
    }
    if (wrong.length === 0) passed++;
    else failures.push({ name: name, message: wrong.join('; ') });
  }
  return { passed: passed, total: total, failures: failures };
}

function runUrlStaticsTestData(URL, data) {
  var passed = 0, total = 0, failures = [];
  for (var i = 0; i < data.length; i++) {
    var c = data[i];
    if (typeof c === 'string') continue;
    total++;
    var name = urlCaseName(c);
    try {
      var can = c.base == null ? URL.canParse(c.input) : URL.canParse(c.input, c.base);
      var parsed = c.base == null ? URL.parse(c.input) : URL.parse(c.input, c.base);
      if (can !== !c.failure) {
        failures.push({ name: name, message: 'canParse returned ' + can });
      } else if (c.failure ? parsed !== null : parsed === null || parsed.href !== c.href) {
        failures.push({ name: name, message: 'parse returned ' + (parsed && parsed.href) });
      } else {
        passed++;
      }
    } catch (e) {
      failures.push({ name: name, message: 'threw ' + e });
    }
  }
  return { passed: passed, total: total, failures: failures };
}

function runSetterTestData(URL, data) {
  var passed = 0, total = 0, failures = [];
  for (var attribute in data) {
    if (attribute === 'comment') continue;
    var cases = data[attribute];
    for (var i = 0; i < cases.length; i++) {
      var c = cases[i];
      total++;
      var name = attribute + ' = ' + JSON.stringify(c.new_value) + ' on ' + JSON.stringify(c.href);
      try {
        var url = new URL(c.href);
        url[attribute] = c.new_value;
        var wrong = [];
        for (var key in c.expected) {
          if (url[key] !== c.expected[key]) {
            wrong.push(key + ': got ' + JSON.stringify(url[key]) + ', want ' +
                       JSON.stringify(c.expected[key]));
          }
        }
        if (wrong.length === 0) passed++;
        else failures.push({ name: name, message: wrong.join('; ') });
      } catch (e) {
        failures.push({ name: name, message: 'threw ' + e });
      }
    }
  }
  return { passed: passed, total: total, failures: failures };
}

// As WPT url/toascii.window.js does for URL: the host parser, the host
// setter and the hostname setter.
function runToASCIITestData(URL, data) {
  var passed = 0, total = 0, failures = [];
  function check(name, fn) {
    total++;
    try {
      var msg = fn();
      if (msg === '') passed++;
      else failures.push({ name: name, message: msg });
    } catch (e) {
      failures.push({ name: name, message: 'threw ' + e });
    }
  }
  for (var i = 0; i < data.length; i++) {
    var c = data[i];
    if (typeof c === 'string') continue;
    (function (c) {
      var name = JSON.stringify(c.input);
      check(name + ' (URL parser)', function () {
        if (c.output === null) {
          try {
            var u = new URL('https://' + c.input + '/x');
            return 'expected failure, got ' + JSON.stringify(u.host);
          } catch (e) {
            return isTypeError(e) ? '' : 'threw ' + e;
          }
        }
        var url = new URL('https://' + c.input + '/x');
        return url.host === c.output && url.hostname === c.output && url.pathname === '/x' &&
            url.href === 'https://' + c.output + '/x' ? '' :
            'got host ' + JSON.stringify(url.host);
      });
      ['host', 'hostname'].forEach(function (setter) {
        check(name + ' (' + setter + ' setter)', function () {
          var url = new URL('https://x/x');
          url[setter] = c.input;
          var want = c.output === null ? 'x' : c.output;
          return url[setter] === want ? '' : 'got ' + JSON.stringify(url[setter]);
        });
      });
    })(c);
  }
  return { passed: passed, total: total, failures: failures };
}

function runPercentEncodingTestData(URL, data) {
  var passed = 0, total = 0, failures = [];
  for (var i = 0; i < data.length; i++) {
    var c = data[i];
    if (typeof c === 'string' || !('utf-8' in c.output)) continue;
    total++;
    var name = JSON.stringify(c.input);
    try {
      var url = new URL('https://doesnotmatter.invalid/?' + c.input + '#' + c.input);
      var want = c.output['utf-8'];
      if (url.search === '?' + want) passed++;
      else failures.push({ name: name, message: 'got ' + JSON.stringify(url.search) });
    } catch (e) {
      failures.push({ name: name, message: 'threw ' + e });
    }
  }
  return { passed: passed, total: total, failures: failures };
}

// Ported from WPT url/urlsearchparams-*.any.js and url-searchparams.any.js.
function runSearchParamsTests(URL, URLSearchParams) {
  var passed = 0, total = 0, failures = [];

  function fail(message) {
    throw new Error(message);
  }
  function eq(actual, expected, what) {
    if (actual !== expected) {
      fail((what ? what + ': ' : '') + 'got ' + JSON.stringify(actual) + ', want ' +
           JSON.stringify(expected));
    }
  }
  function deepEq(actual, expected, what) {
    eq(JSON.stringify(actual), JSON.stringify(expected), what);
  }
  function throwsTypeError(fn, what) {
    try {
      fn();
    } catch (e) {
      if (isTypeError(e)) return;
      fail((what || '') + ' threw ' + e + ' instead of a TypeError');
    }
    fail((what || '') + ' did not throw');
  }
  function test(name, fn) {
    total++;
    try {
      fn();
      passed++;
    } catch (e) {
      failures.push({ name: name, message: String(e && e.message || e) });
    }
  }
  function entries(params) {
    var out = [];
    params.forEach(function (value, name) { out.push([name, value]); });
    return out;
  }

  // --- constructor
  test('Basic URLSearchParams construction', function () {
    var params = new URLSearchParams();
    eq(params + '', '');
    params = new URLSearchParams('');
    eq(params + '', '');
    params = new URLSearchParams('a=b');
    eq(params + '', 'a=b');
    params = new URLSearchParams(params);
    eq(params + '', 'a=b');
  });
  test('URLSearchParams constructor, no arguments', function () {
    eq(new URLSearchParams().toString(), '');
  });
  test('URLSearchParams constructor, remove leading "?"', function () {
    eq(new URLSearchParams('?a=b').toString(), 'a=b');
    eq(new URLSearchParams('??a=b').toString(), '%3Fa=b');
  });
  test('URLSearchParams constructor, {} as argument', function () {
    eq(new URLSearchParams({}).toString(), '');
  });
  test('URLSearchParams constructor, string', function () {
    var params = new URLSearchParams('a=b');
    eq(params.has('a'), true);
    eq(params.has('b'), false);
    params = new URLSearchParams('a=b&c');
    eq(params.has('a'), true);
    eq(params.has('c'), true);
    eq(params.has('d'), false);
    params = new URLSearchParams('&a&&& &&&&&a+b=& c&m%c3%b8%c3%b8');
    eq(params.has('a'), true, 'a');
    eq(params.has('a b'), true, 'a b');
    eq(params.has(' '), true, 'space');
    eq(params.has('c'), false, 'c');
    eq(params.has(' c'), true, ' c');
    eq(params.has('møø'), true, 'møø');
    params = new URLSearchParams('id=0&value=%');
    eq(params.get('id'), '0');
    eq(params.get('value'), '%');
    params = new URLSearchParams('b=%2sf%2a');
    eq(params.get('b'), '%2sf*');
    params = new URLSearchParams('b=%2%2af%2a');
    eq(params.get('b'), '%2*f*');
    params = new URLSearchParams('b=%%2a');
    eq(params.get('b'), '%*');
  });
  test('URLSearchParams constructor, object', function () {
    var seed = new URLSearchParams('a=b&c=d');
    var params = new URLSearchParams(seed);
    eq(params.get('a'), 'b');
    eq(params.get('c'), 'd');
    eq(params.has('d'), false);
    seed.append('e', 'f');
    eq(params.has('e'), false, 'copy is independent');
    params.append('g', 'h');
    eq(seed.has('g'), false, 'seed is independent');
  });
  test('URLSearchParams constructor, + and spaces', function () {
    var params = new URLSearchParams('a=b+c');
    eq(params.get('a'), 'b c');
    params = new URLSearchParams('a+b=c');
    eq(params.get('a b'), 'c');
    params = new URLSearchParams('a=b c');
    eq(params.get('a'), 'b c');
    params = new URLSearchParams('a%2bb=c');
    eq(params.get('a+b'), 'c');
  });
  test('URLSearchParams constructor, encoded characters', function () {
    eq(new URLSearchParams('a=b%20c').get('a'), 'b c');
    eq(new URLSearchParams('a=b%00c').get('a'), 'b\0c');
    eq(new URLSearchParams('a=b%f0%9f%92%a9c').get('a'), 'b\uD83D\uDCA9c');
    eq(new URLSearchParams('a=b\uD83D\uDCA9c').get('a'), 'b\uD83D\uDCA9c');
    eq(new URLSearchParams('a\0b=c').get('a\0b'), 'c');
    eq(new URLSearchParams('a%e2%80%a0b=c').get('a\u2020b'), 'c');
    eq(new URLSearchParams('a=%ff%fe').get('a'), '\uFFFD\uFFFD', 'invalid UTF-8');
    eq(new URLSearchParams('a=%e2%80').get('a'), '\uFFFD', 'truncated UTF-8');
    eq(new URLSearchParams('a=%ed%a0%80').get('a'), '\uFFFD\uFFFD\uFFFD', 'encoded surrogate');
  });
  test('Constructor with sequence of sequences of strings', function () {
    var params = new URLSearchParams([]);
    eq(params.toString(), '');
    params = new URLSearchParams([['a', 'b'], ['c', 'd']]);
    eq(params.get('a'), 'b');
    eq(params.get('c'), 'd');
    throwsTypeError(function () { new URLSearchParams([[1]]); }, 'pair of one');
    throwsTypeError(function () { new URLSearchParams([[1, 2, 3]]); }, 'pair of three');
    throwsTypeError(function () { new URLSearchParams(['ab']); }, 'string as pair');
    throwsTypeError(function () { new URLSearchParams([{ 0: 'a', 1: 'b', length: 2 }]); },
                    'array-like pair');
    var set = new Set();
    set.add(['x', 'y']);
    eq(new URLSearchParams(set).toString(), 'x=y', 'any iterable');
  });
  test('Construct with object with + and unpaired surrogates', function () {
    eq(new URLSearchParams({ '+': '%C2' }).toString(), '%2B=%25C2');
    eq(new URLSearchParams({ c: 'x', a: '?' }).toString(), 'c=x&a=%3F');
    eq(new URLSearchParams([['c', 'x'], ['a', '?']]).toString(), 'c=x&a=%3F');
    var params = new URLSearchParams({ 'a\uD83Db': 'c', 'a\uFFFDb': 'd' });
    deepEq(entries(params), [['a\uFFFDb', 'd']], 'later duplicate key wins');
    params = new URLSearchParams([['a\uDC01b', 'c']]);
    eq(params.toString(), 'a%EF%BF%BDb=c');
  });
  test('Constructor with custom iterator and record', function () {
    var params = new URLSearchParams({ a: 1, b: true, c: null, d: undefined });
    eq(params.toString(), 'a=1&b=true&c=null&d=undefined');
    var proto = { inherited: 'x' };
    var o = Object.create(proto);
    o.own = 'y';
    Object.defineProperty(o, 'hidden', { value: 'z', enumerable: false });
    eq(new URLSearchParams(o).toString(), 'own=y', 'only own enumerable keys');
    throwsTypeError(function () {
      var x = {};
      x[Symbol.iterator] = 1;
      new URLSearchParams(x);
    }, 'non-callable @@iterator');
  });
  test('Constructor with null and numbers', function () {
    eq(new URLSearchParams(null).toString(), 'null=');
    eq(new URLSearchParams(12).toString(), '12=');
  });

  // --- append / delete / get / getAll / has / set / size
  test('append', function () {
    var params = new URLSearchParams();
    params.append('a', 'b');
    eq(params + '', 'a=b');
    params.append('a', 'b');
    eq(params + '', 'a=b&a=b');
    params.append('a', 'c');
    eq(params + '', 'a=b&a=b&a=c');
    params = new URLSearchParams();
    params.append('', '');
    eq(params + '', '=');
    params.append('', '');
    eq(params + '', '=&=');
    params = new URLSearchParams();
    params.append(null, null);
    eq(params + '', 'null=null');
    params = new URLSearchParams();
    params.append('first', 1);
    params.append('second', 2);
    params.append('third', '');
    params.append('first', 10);
    eq(params.has('first'), true);
    eq(params.get('first'), '1');
    eq(params.get('second'), '2');
    eq(params.get('third'), '');
    params.append('first', 10);
    eq(params.get('first'), '1');
    throwsTypeError(function () { params.append('a'); }, 'append with one argument');
  });
  test('delete', function () {
    var params = new URLSearchParams('a=b&c=d');
    params.delete('a');
    eq(params + '', 'c=d');
    params = new URLSearchParams('a=a&b=b&a=a&c=c');
    params.delete('a');
    eq(params + '', 'b=b&c=c');
    params = new URLSearchParams('a=a&=&b=b&c=c');
    params.delete('');
    eq(params + '', 'a=a&b=b&c=c');
    params = new URLSearchParams('a=a&null=null&b=b');
    params.delete(null);
    eq(params + '', 'a=a&b=b');
    params = new URLSearchParams('a=a&undefined=undefined&b=b');
    params.delete(undefined);
    eq(params + '', 'a=a&b=b');
    params = new URLSearchParams();
    params.append('first', 1);
    params.delete('first');
    eq(params.has('first'), false);
  });
  test('delete with value', function () {
    var params = new URLSearchParams();
    params.append('a', 'b');
    params.append('a', 'c');
    params.append('a', 'd');
    params.delete('a', 'c');
    eq(params.toString(), 'a=b&a=d');
    params = new URLSearchParams();
    params.append('a', 'b');
    params.append('a', 'c');
    params.append('b', 'c');
    params.append('b', 'd');
    params.delete('b', 'c');
    params.delete('a', undefined);
    eq(params.toString(), 'b=d');
  });
  test('delete last pair removes "?" from the URL', function () {
    var url = new URL('http://example.com/?param1&param2');
    url.searchParams.delete('param1');
    url.searchParams.delete('param2');
    eq(url.href, 'http://example.com/');
    eq(url.search, '');
    url = new URL('http://example.com/?');
    url.searchParams.delete('param1');
    eq(url.href, 'http://example.com/');
    eq(url.search, '');
  });
  test('delete keeps opaque paths', function () {
    var url = new URL('data:space    ?test');
    eq(url.searchParams.has('test'), true);
    url.searchParams.delete('test');
    eq(url.searchParams.has('test'), false);
    eq(url.search, '');
    eq(url.pathname, 'space   %20');
    eq(url.href, 'data:space   %20');
  });
  test('get', function () {
    var params = new URLSearchParams('a=b&c=d');
    eq(params.get('a'), 'b');
    eq(params.get('c'), 'd');
    eq(params.get('e'), null);
    params = new URLSearchParams('a=b&c=d&a=e');
    eq(params.get('a'), 'b');
    params = new URLSearchParams('=b&c=d');
    eq(params.get(''), 'b');
    params = new URLSearchParams('a=&c=d&a=e');
    eq(params.get('a'), '');
    params = new URLSearchParams('first=second&third&&');
    eq(params.has('first'), true);
    eq(params.get('first'), 'second');
    eq(params.get('third'), '');
    eq(params.get('fourth'), null);
    throwsTypeError(function () { params.get(); }, 'get with no argument');
  });
  test('getAll', function () {
    var params = new URLSearchParams('a=b&c=d');
    deepEq(params.getAll('a'), ['b']);
    deepEq(params.getAll('c'), ['d']);
    deepEq(params.getAll('e'), []);
    params = new URLSearchParams('a=b&c=d&a=e');
    deepEq(params.getAll('a'), ['b', 'e']);
    params = new URLSearchParams('=b&c=d');
    deepEq(params.getAll(''), ['b']);
    params = new URLSearchParams('a=1&a=2&a=3&a');
    deepEq(params.getAll('a'), ['1', '2', '3', '']);
    params.set('a', 'one');
    deepEq(params.getAll('a'), ['one']);
  });
  test('has', function () {
    var params = new URLSearchParams('a=b&c=d');
    eq(params.has('a'), true);
    eq(params.has('c'), true);
    eq(params.has('e'), false);
    params = new URLSearchParams('a=b&c=d&a=e');
    eq(params.has('a'), true);
    params = new URLSearchParams('=b&c=d');
    eq(params.has(''), true);
    params = new URLSearchParams('null=a');
    eq(params.has(null), true);
  });
  test('has with value', function () {
    var params = new URLSearchParams('a=b&a=d&c&e&');
    eq(params.has('a', 'b'), true);
    eq(params.has('a', 'c'), false);
    eq(params.has('a', 'd'), true);
    eq(params.has('e', ''), true);
    params.append('first', null);
    eq(params.has('first', 'null'), true);
    params.delete('a', 'b');
    eq(params.has('a', 'd'), true);
    eq(params.has('a', undefined), true, 'undefined value means any');
  });
  test('set', function () {
    var params = new URLSearchParams('a=b&c=d');
    params.set('a', 'B');
    eq(params + '', 'a=B&c=d');
    params = new URLSearchParams('a=b&c=d&a=e');
    params.set('a', 'B');
    eq(params + '', 'a=B&c=d');
    params.set('e', 'f');
    eq(params + '', 'a=B&c=d&e=f');
    params = new URLSearchParams('a=1&a=2&a=3');
    params.set('first', 4);
    eq(params.get('first'), '4');
    params.set('a', 4);
    eq(params + '', 'a=4&first=4');
  });
  test('size', function () {
    var params = new URLSearchParams('a=1&b=2&a=3');
    eq(params.size, 3);
    params.delete('a');
    eq(params.size, 1);
    params.append('c', 'd');
    eq(params.size, 2);
    var url = new URL('http://localhost/query?a=1&b=2&a=3');
    eq(url.searchParams.size, 3);
    url.search = '?';
    eq(url.searchParams.size, 0);
    var desc = Object.getOwnPropertyDescriptor(URLSearchParams.prototype, 'size');
    eq(typeof desc.get, 'function', 'size is an accessor');
    eq(desc.set, undefined, 'size is read-only');
  });

  // --- stringifier
  test('Serialize space', function () {
    var params = new URLSearchParams();
    params.append('a', 'b c');
    eq(params + '', 'a=b+c');
    params.delete('a');
    params.append('a b', 'c');
    eq(params + '', 'a+b=c');
  });
  test('Serialize special characters', function () {
    var params = new URLSearchParams();
    params.append('a', '');
    eq(params + '', 'a=');
    params.append('a', '');
    eq(params + '', 'a=&a=');
    params.append('', 'b');
    eq(params + '', 'a=&a=&=b');
    params = new URLSearchParams();
    params.append('a', 'b+c');
    eq(params + '', 'a=b%2Bc');
    params = new URLSearchParams();
    params.append('=', 'a');
    eq(params + '', '%3D=a');
    params = new URLSearchParams();
    params.append('a', 'b&c');
    eq(params + '', 'a=b%26c');
    params = new URLSearchParams();
    params.append('a', '*-._');
    eq(params + '', 'a=*-._');
    params = new URLSearchParams();
    params.append('a', '%');
    eq(params + '', 'a=%25');
    params = new URLSearchParams();
    params.append('a', '\0');
    eq(params + '', 'a=%00');
    params = new URLSearchParams();
    params.append('a', '\uD83D\uDCA9');
    eq(params + '', 'a=%F0%9F%92%A9');
    params = new URLSearchParams();
    params.append('a', "!'()~");
    eq(params + '', 'a=%21%27%28%29%7E');
    params = new URLSearchParams();
    params.append('a', '\u2020b\uD800');
    eq(params + '', 'a=%E2%80%A0b%EF%BF%BD');
  });
  test('URLSearchParams.toString round trips', function () {
    var params = new URLSearchParams('a=b&c=d&&e&&');
    eq(params.toString(), 'a=b&c=d&e=');
    params = new URLSearchParams('a = b &a=b&c=d%20');
    eq(params.toString(), 'a+=+b+&a=b&c=d+');
    params = new URLSearchParams('a=&a=b');
    eq(params.toString(), 'a=&a=b');
    params = new URLSearchParams('b=%2sf%2a');
    eq(params.toString(), 'b=%252sf*');
    params = new URLSearchParams('foo=bar&foo=baz');
    eq(params.toString(), 'foo=bar&foo=baz');
    params = new URLSearchParams('a%2Bb=c');
    eq(params.toString(), 'a%2Bb=c');
  });

  // --- sort
  var sortCases = [
    ['z=b&a=b&z=a&a=a', [['a', 'b'], ['a', 'a'], ['z', 'b'], ['z', 'a']]],
    ['\uFFFD=x&\uFFFC&\uFFFD=a', [['\uFFFC', ''], ['\uFFFD', 'x'], ['\uFFFD', 'a']]],
    ['\uFB03&\uD83C\uDF08', [['\uD83C\uDF08', ''], ['\uFB03', '']]],
    ['\u00E9&e\uFFFD&e\u0301', [['e\u0301', ''], ['e\uFFFD', ''], ['\u00E9', '']]],
    ['z=z&a=a&z=y&a=b&z=x&a=c&z=w&a=d&z=v&a=e&z=u&a=f&z=t&a=g',
     [['a', 'a'], ['a', 'b'], ['a', 'c'], ['a', 'd'], ['a', 'e'], ['a', 'f'], ['a', 'g'],
      ['z', 'z'], ['z', 'y'], ['z', 'x'], ['z', 'w'], ['z', 'v'], ['z', 'u'], ['z', 't']]],
    ['bbb&bb&aaa&aa=x&aa=y', [['aa', 'x'], ['aa', 'y'], ['aaa', ''], ['bb', ''], ['bbb', '']]],
    ['z=z&=f&=t&=x', [['', 'f'], ['', 't'], ['', 'x'], ['z', 'z']]],
    ['a\uD83C\uDF08&a\uD83D\uDCA9', [['a\uD83C\uDF08', ''], ['a\uD83D\uDCA9', '']]],
  ];
  sortCases.forEach(function (sc) {
    test('Parse and sort: ' + JSON.stringify(sc[0]), function () {
      var params = new URLSearchParams(sc[0]);
      params.sort();
      deepEq(entries(params), sc[1]);
      var url = new URL('?' + sc[0], 'https://example/');
      url.searchParams.sort();
      deepEq(entries(new URLSearchParams(url.search)), sc[1], 'through URL');
    });
  });
  test('Sorting non-existent params removes ? from URL', function () {
    var url = new URL('http://example.com/?');
    url.searchParams.sort();
    eq(url.href, 'http://example.com/');
    eq(url.search, '');
  });

  // --- iteration
  test('forEach', function () {
    var params = new URLSearchParams('a=1&b=2&c=3');
    var keys = [], values = [];
    params.forEach(function (value, key, p) {
      keys.push(key);
      values.push(value);
      eq(p, params, 'third argument');
    });
    deepEq(keys, ['a', 'b', 'c']);
    deepEq(values, ['1', '2', '3']);
    var a = new URL('http://a.b/c?a=1&b=2&c=3&d=4');
    var b = a.searchParams;
    var c = [];
    b.forEach(function (value, key) { c.push([key, value]); if (key === 'a') b.delete('b'); });
    deepEq(c, [['a', '1'], ['c', '3'], ['d', '4']], 'live while deleting');
    var n = 0;
    new URLSearchParams().forEach(function () { n++; });
    eq(n, 0);
    throwsTypeError(function () { params.forEach(null); }, 'forEach(null)');
  });
  test('For-of and iterators', function () {
    var params = new URLSearchParams('a=1&b=2&a=3');
    var seen = [];
    for (var it = params[Symbol.iterator](), r = it.next(); !r.done; r = it.next()) seen.push(r.value);
    deepEq(seen, [['a', '1'], ['b', '2'], ['a', '3']]);
    deepEq(Array.from(params.keys()), ['a', 'b', 'a']);
    deepEq(Array.from(params.values()), ['1', '2', '3']);
    deepEq(Array.from(params.entries()), [['a', '1'], ['b', '2'], ['a', '3']]);
    eq(URLSearchParams.prototype[Symbol.iterator], URLSearchParams.prototype.entries);
    var iterator = params.keys();
    eq(Object.prototype.toString.call(iterator), '[object URLSearchParams Iterator]');
    var iterProto = Object.getPrototypeOf(iterator);
    eq(Object.getPrototypeOf(iterProto),
       Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())), 'inherits %IteratorPrototype%');
    eq(iterator[Symbol.iterator](), iterator);
    var done = params.keys();
    done.next(); done.next(); done.next();
    deepEq(done.next(), { value: undefined, done: true });
  });
  test('Iterators are live', function () {
    var url = new URL('http://localhost/query?param0=0&param1=1&param2=2');
    var seen = [];
    var it = url.searchParams.entries();
    for (var r = it.next(); !r.done; r = it.next()) {
      seen.push(r.value[0]);
      if (r.value[0] === 'param0') url.search = 'x=1&y=2';
    }
    deepEq(seen, ['param0', 'y']);
  });

  // --- URL link
  test('URL.searchParams getter', function () {
    var url = new URL('http://example.org/?a=b');
    eq(url.searchParams instanceof URLSearchParams, true);
    eq(url.searchParams, url.searchParams, 'same object');
    eq(url.searchParams.get('a'), 'b');
  });
  test('URL.searchParams updating, clearing', function () {
    var url = new URL('http://example.org/?a=b', 'about:blank');
    var sp = url.searchParams;
    eq(sp.toString(), 'a=b');
    sp.set('a', 'c');
    eq(url.search, '?a=c');
    eq(url.href, 'http://example.org/?a=c');
    url.search = '';
    eq(url.search, '');
    eq(sp.toString(), '');
    url.search = '?e=f';
    eq(sp.get('e'), 'f');
    url.href = 'http://other.example/?g=h';
    eq(sp.get('g'), 'h');
    eq(sp.has('e'), false);
    url.hash = '#x';
    eq(sp.get('g'), 'h');
  });
  test('URL.searchParams and URL.search setters, update propagation', function () {
    var url = new URL('http://example.com/?e=1&g=2');
    var params = url.searchParams;
    params.append('a', 'b c');
    eq(url.href, 'http://example.com/?e=1&g=2&a=b+c');
    params.delete('a');
    params.append('a', 'b\u2020');
    eq(url.search, '?e=1&g=2&a=b%E2%80%A0');
    url.search = 'x=1\ty';
    eq(url.search, '?x=1y');
    eq(params.get('x'), '1\ty', 'list comes from the raw value');
    url = new URL('http://example.com/?a=1\ty');
    eq(url.searchParams.get('a'), '1y');
  });
  test('URL.search setter before searchParams is read', function () {
    var url = new URL('http://example.com/');
    url.search = 'a=1&b=%zz';
    eq(url.searchParams.get('b'), '%zz');
    url.search = 'c=\n3';
    eq(url.search, '?c=3');
    eq(url.searchParams.get('c'), '\n3');
  });
  test('searchParams on URLs with opaque paths and special characters', function () {
    var url = new URL('mailto:a@b?subject=hi');
    eq(url.searchParams.get('subject'), 'hi');
    url.searchParams.set('subject', 'a b');
    eq(url.href, 'mailto:a@b?subject=a+b');
    url = new URL('http://example.com/#frag');
    url.searchParams.append('q', '1');
    eq(url.href, 'http://example.com/?q=1#frag');
  });

  // --- interface shape
  test('Interface shape', function () {
    eq(URL.length, 1, 'URL.length');
    eq(URLSearchParams.length, 0, 'URLSearchParams.length');
    eq(Object.prototype.toString.call(new URL('http://x/')), '[object URL]');
    eq(Object.prototype.toString.call(new URLSearchParams()), '[object URLSearchParams]');
    var desc = Object.getOwnPropertyDescriptor(URL.prototype, 'href');
    eq(desc.enumerable, true, 'href enumerable');
    eq(typeof desc.set, 'function', 'href setter');
    eq(Object.getOwnPropertyDescriptor(URL.prototype, 'origin').set, undefined, 'origin read-only');
    eq(Object.getOwnPropertyDescriptor(URL.prototype, 'toJSON').enumerable, true);
    eq(Object.getOwnPropertyDescriptor(URLSearchParams.prototype, 'append').enumerable, true);
    eq(Object.keys(new URL('http://x/')).length, 0, 'no own properties');
    eq(JSON.stringify({ u: new URL('http://x/y') }), '{"u":"http://x/y"}', 'toJSON');
    throwsTypeError(function () { URL(); }, 'call without new');
    throwsTypeError(function () { new URL(); }, 'no arguments');
    throwsTypeError(function () {
      Object.getOwnPropertyDescriptor(URL.prototype, 'href').get.call({});
    }, 'href getter on a plain object');
    throwsTypeError(function () { URLSearchParams.prototype.get.call({}, 'a'); },
                    'get on a plain object');
    throwsTypeError(function () { URLSearchParams.prototype.entries.call({}); },
                    'entries on a plain object');
  });
  test('URL errors', function () {
    try {
      new URL('bad');
      fail('did not throw');
    } catch (e) {
      eq(isTypeError(e), true, 'TypeError');
      eq(e.message, 'Invalid URL: "bad"');
    }
    throwsTypeError(function () { new URL('/x', 'bad'); }, 'bad base');
    throwsTypeError(function () { new URL('http://x/').href = 'bad'; }, 'href setter');
    eq(URL.canParse('bad'), false);
    eq(URL.canParse('/x', 'http://a/'), true);
    eq(URL.parse('bad'), null);
    eq(URL.parse('/x', 'http://a/').href, 'http://a/x');
    eq(URL.parse('x', undefined), null);
  });
  test('URL object as base and as input', function () {
    var base = new URL('https://example.com/a/b?c#d');
    eq(new URL('e', base).href, 'https://example.com/a/e');
    eq(new URL(base).href, base.href);
    var sub = new URL({ toString: function () { return 'http://s/'; } });
    eq(sub.href, 'http://s/');
  });
  test('Fast path agrees with the state machine', function () {
    var inputs = ['http://example.com', 'https://api.example.com/v1/users/123?x=1&y=2',
                  'http://127.0.0.1:8787/v1/x', 'http://1.2.3.4', 'http://01.2.3.4/',
                  'http://1.2.3/', 'http://example.com:80/', 'https://example.com:443/',
                  'https://example.com:0443/', 'http://a/./b/../c', 'http://a/%2e/b',
                  'http://a/b?c d', "http://a/b?c'd", 'http://a/b#c d', 'http://a:/',
                  'http://a/b\\c', 'http://a.b.c.d.e/x', 'http://a..b/', 'http://0x7f.1/',
                  'http://1.2.3.4.', 'http://example.com?q', 'http://example.com#f',
                  'http://example.com:8080', 'http://example.com:8080?q#f', 'https://x/%41'];
    for (var i = 0; i < inputs.length; i++) {
      var a = new URL(inputs[i]);
      var b = new URL(' ' + inputs[i]);  // leading space forces the state machine
      eq(a.href, b.href, inputs[i] + ' href');
      eq(a.host, b.host, inputs[i] + ' host');
      eq(a.pathname, b.pathname, inputs[i] + ' pathname');
      eq(a.search, b.search, inputs[i] + ' search');
      eq(a.hash, b.hash, inputs[i] + ' hash');
    }
  });

  return { passed: passed, total: total, failures: failures };
}
