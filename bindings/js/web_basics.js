// Small Web APIs in plain JS: DOMException, Event, EventTarget, AbortController,
// AbortSignal, TextEncoder, TextDecoder (UTF-8 only), atob, btoa,
// queueMicrotask and performance. (structuredClone is native.)
//
// This file is a single function expression. The host evaluates it once per
// context and calls it with (global, native); it installs the globals above on
// `global` like Web IDL interfaces (non-enumerable, writable, configurable;
// operations and attributes enumerable on the prototypes; @@toStringTag).
// Host hooks on `native`:
//   now() -> monotonic ms (double) relative to timeOrigin: performance.now(),
//            Event#timeStamp;
//   timeOrigin (number): performance.timeOrigin;
//   setTimeout(callback, ms) -> id: AbortSignal.timeout();
//   reportError(error): exceptions thrown by event listeners and by
//            queueMicrotask callbacks (they never propagate to the caller).
// The call returns an object of internals for other bindings (see the end).
//
// Semantics follow the WHATWG DOM, Encoding, HTML and Web IDL standards, and
// Cloudflare Workers' messages where the standards leave text open. Internal
// state lives in one private field per object (brand checks come free).
// Builtins used on hot paths are called directly, not through captured
// primordials: a script that patches them can only break its own isolate.
(function (global, native) {
  'use strict';

  const ReflectApply = Reflect.apply;
  const ObjectDefineProperty = Object.defineProperty;
  const ObjectGetOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
  const ObjectGetPrototypeOf = Object.getPrototypeOf;
  const ObjectSetPrototypeOf = Object.setPrototypeOf;
  const ReflectOwnKeys = Reflect.ownKeys;
  const StringFromCharCode = String.fromCharCode;
  const ArrayBufferIsView = ArrayBuffer.isView;
  const NumberIsFinite = Number.isFinite;
  const MathTrunc = Math.trunc;
  const SymbolIterator = Symbol.iterator;
  const SymbolToStringTag = Symbol.toStringTag;
  const ErrorCaptureStackTrace =
      typeof Error.captureStackTrace === 'function' ? Error.captureStackTrace : null;
  const $Uint8Array = Uint8Array;
  const $WeakRef = typeof WeakRef === 'function' ? WeakRef : null;
  const $Map = Map;
  const $Set = Set;
  const PromisePrototypeThen = Promise.prototype.then;
  const resolvedPromise = Promise.resolve();

  const TypedArrayPrototype = ObjectGetPrototypeOf($Uint8Array.prototype);
  const getter = (proto, key) => ObjectGetOwnPropertyDescriptor(proto, key).get;
  const TypedArrayTag = getter(TypedArrayPrototype, SymbolToStringTag);
  const TypedArrayBuffer = getter(TypedArrayPrototype, 'buffer');
  const TypedArrayByteOffset = getter(TypedArrayPrototype, 'byteOffset');
  const TypedArrayByteLength = getter(TypedArrayPrototype, 'byteLength');
  const DataViewBuffer = getter(DataView.prototype, 'buffer');
  const DataViewByteOffset = getter(DataView.prototype, 'byteOffset');
  const DataViewByteLength = getter(DataView.prototype, 'byteLength');
  const ArrayBufferByteLength = getter(ArrayBuffer.prototype, 'byteLength');
  const SharedArrayBufferByteLength = typeof SharedArrayBuffer === 'function' ?
      getter(SharedArrayBuffer.prototype, 'byteLength') : null;

  // Passed to constructors that scripts must not call (AbortSignal, Performance).
  const kCreate = Symbol('create');

  // ---------------------------------------------------------------------------
  // Web IDL helpers

  // DOMString conversion: ToString, which (unlike String()) throws for symbols.
  function toDOMString(value) {
    return `${value}`;
  }

  // Dictionary conversion: null/undefined mean "all defaults" (returned as null).
  function toDictionary(value, context) {
    if (value === undefined || value === null) return null;
    if (typeof value !== 'object' && typeof value !== 'function') {
      throw new TypeError(`${context}: the options argument is not an object.`);
    }
    return value;
  }

  function requireArguments(count, required, context) {
    if (count < required) {
      throw new TypeError(`${context}: ${required} argument${required > 1 ? 's' : ''} ` +
                          `required, but only ${count} present.`);
    }
  }

  function illegalConstructor() {
    return new TypeError('Illegal constructor');
  }

  function isObject(value) {
    return (typeof value === 'object' && value !== null) || typeof value === 'function';
  }

  // Operations and attributes of an interface are enumerable (classes make
  // them non-enumerable); constants are read-only and non-configurable.
  function finishInterface(ctor, tag, constants) {
    for (const target of [ctor.prototype, ctor]) {
      for (const key of ReflectOwnKeys(target)) {
        if (typeof key !== 'string' || (target === ctor.prototype ? key === 'constructor' :
            key === 'prototype' || key === 'length' || key === 'name')) {
          continue;
        }
        const desc = ObjectGetOwnPropertyDescriptor(target, key);
        desc.enumerable = true;
        ObjectDefineProperty(target, key, desc);
      }
      if (constants !== undefined) {
        for (const key of ReflectOwnKeys(constants)) {
          ObjectDefineProperty(target, key, {
            value: constants[key], writable: false, enumerable: true, configurable: false,
          });
        }
      }
    }
    ObjectDefineProperty(ctor.prototype, SymbolToStringTag,
                         { value: tag, writable: false, enumerable: false, configurable: true });
  }

  function reportError(error) {
    native.reportError(error);
  }

  // ---------------------------------------------------------------------------
  // DOMException

  // Error names with a legacy code. DOMStringSizeError, NoDataAllowedError and
  // ValidationError have constants but are not names that produce a code.
  const LEGACY_CODES = new $Map([
    ['IndexSizeError', 1], ['HierarchyRequestError', 3], ['WrongDocumentError', 4],
    ['InvalidCharacterError', 5], ['NoModificationAllowedError', 7], ['NotFoundError', 8],
    ['NotSupportedError', 9], ['InUseAttributeError', 10], ['InvalidStateError', 11],
    ['SyntaxError', 12], ['InvalidModificationError', 13], ['NamespaceError', 14],
    ['InvalidAccessError', 15], ['TypeMismatchError', 17], ['SecurityError', 18],
    ['NetworkError', 19], ['AbortError', 20], ['URLMismatchError', 21],
    ['QuotaExceededError', 22], ['TimeoutError', 23], ['InvalidNodeTypeError', 24],
    ['DataCloneError', 25],
  ]);
  const DOM_EXCEPTION_CONSTANTS = {
    INDEX_SIZE_ERR: 1, DOMSTRING_SIZE_ERR: 2, HIERARCHY_REQUEST_ERR: 3, WRONG_DOCUMENT_ERR: 4,
    INVALID_CHARACTER_ERR: 5, NO_DATA_ALLOWED_ERR: 6, NO_MODIFICATION_ALLOWED_ERR: 7,
    NOT_FOUND_ERR: 8, NOT_SUPPORTED_ERR: 9, INUSE_ATTRIBUTE_ERR: 10, INVALID_STATE_ERR: 11,
    SYNTAX_ERR: 12, INVALID_MODIFICATION_ERR: 13, NAMESPACE_ERR: 14, INVALID_ACCESS_ERR: 15,
    VALIDATION_ERR: 16, TYPE_MISMATCH_ERR: 17, SECURITY_ERR: 18, NETWORK_ERR: 19,
    ABORT_ERR: 20, URL_MISMATCH_ERR: 21, QUOTA_EXCEEDED_ERR: 22, TIMEOUT_ERR: 23,
    INVALID_NODE_TYPE_ERR: 24, DATA_CLONE_ERR: 25,
  };

  class DOMException {
    #name;
    #message;

    constructor(message = '', name = 'Error') {
      this.#message = toDOMString(message);
      this.#name = toDOMString(name);
      // An own `stack` like other errors (without this constructor's frame);
      // its first line reads the getters below, so the fields are set first.
      if (ErrorCaptureStackTrace !== null) ErrorCaptureStackTrace(this, new.target);
    }

    get name() {
      return this.#name;
    }

    get message() {
      return this.#message;
    }

    get code() {
      const code = LEGACY_CODES.get(this.#name);
      return code === undefined ? 0 : code;
    }
  }
  // Web IDL: DOMException.prototype.[[Prototype]] is %Error.prototype%.
  ObjectSetPrototypeOf(DOMException.prototype, Error.prototype);
  finishInterface(DOMException, 'DOMException', DOM_EXCEPTION_CONSTANTS);

  const ABORT_MESSAGE = 'The operation was aborted';
  const TIMEOUT_MESSAGE = 'The operation was aborted due to timeout';

  // ---------------------------------------------------------------------------
  // Event

  const NONE = 0, CAPTURING_PHASE = 1, AT_TARGET = 2, BUBBLING_PHASE = 3;

  // Internal state of an Event (one object, so other classes here can reach it).
  class EventState {
    constructor(type, bubbles, cancelable, composed) {
      this.type = type;
      this.bubbles = bubbles;
      this.cancelable = cancelable;
      this.composed = composed;
      this.isTrusted = false;
      this.timeStamp = native.now();
      this.target = null;
      this.currentTarget = null;
      this.eventPhase = NONE;
      this.path = null;            // [target] while dispatching
      this.canceled = false;
      this.stopPropagation = false;
      this.stopImmediatePropagation = false;
      this.inPassiveListener = false;
      this.dispatching = false;
    }
  }

  let eventState;                  // (value) -> EventState, throws TypeError if not an Event
  let isEvent;                     // (value) -> boolean
  const isTrustedGetter = ObjectGetOwnPropertyDescriptor({
    get isTrusted() {
      return eventState(this).isTrusted;
    },
  }, 'isTrusted').get;
  const isTrustedDescriptor =
      { get: isTrustedGetter, set: undefined, enumerable: true, configurable: false };

  function setCanceledFlag(state) {
    if (state.cancelable && !state.inPassiveListener) state.canceled = true;
  }

  class Event {
    #state;

    constructor(type, eventInitDict = undefined) {
      requireArguments(arguments.length, 1, "Failed to construct 'Event'");
      type = toDOMString(type);
      const init = toDictionary(eventInitDict, "Failed to construct 'Event'");
      // Dictionary members are read in lexicographic order.
      const bubbles = init !== null && !!init.bubbles;
      const cancelable = init !== null && !!init.cancelable;
      const composed = init !== null && !!init.composed;
      this.#state = new EventState(type, bubbles, cancelable, composed);
      // [LegacyUnforgeable] readonly attribute boolean isTrusted.
      ObjectDefineProperty(this, 'isTrusted', isTrustedDescriptor);
    }

    static {
      eventState = (event) => {
        if (!isObject(event) || !(#state in event)) throw new TypeError('Illegal invocation');
        return event.#state;
      };
      isEvent = (value) => isObject(value) && #state in value;
    }

    get type() {
      return this.#state.type;
    }

    get target() {
      return this.#state.target;
    }

    get srcElement() {
      return this.#state.target;
    }

    get currentTarget() {
      return this.#state.currentTarget;
    }

    composedPath() {
      const state = this.#state;
      // No trees here: the path is the target alone.
      return state.path === null ? [] : [state.currentTarget];
    }

    get eventPhase() {
      return this.#state.eventPhase;
    }

    stopPropagation() {
      this.#state.stopPropagation = true;
    }

    get cancelBubble() {
      return this.#state.stopPropagation;
    }

    set cancelBubble(value) {
      if (value) this.#state.stopPropagation = true;
    }

    stopImmediatePropagation() {
      const state = this.#state;
      state.stopPropagation = true;
      state.stopImmediatePropagation = true;
    }

    get bubbles() {
      return this.#state.bubbles;
    }

    get cancelable() {
      return this.#state.cancelable;
    }

    get returnValue() {
      return !this.#state.canceled;
    }

    set returnValue(value) {
      if (!value) setCanceledFlag(this.#state);
    }

    preventDefault() {
      setCanceledFlag(this.#state);
    }

    get defaultPrevented() {
      return this.#state.canceled;
    }

    get composed() {
      return this.#state.composed;
    }

    get timeStamp() {
      return this.#state.timeStamp;
    }

    initEvent(type, bubbles = false, cancelable = false) {
      const state = this.#state;
      requireArguments(arguments.length, 1, "Failed to execute 'initEvent' on 'Event'");
      type = toDOMString(type);
      if (state.dispatching) return;
      state.type = type;
      state.bubbles = !!bubbles;
      state.cancelable = !!cancelable;
      state.isTrusted = false;
      state.target = null;
      state.canceled = false;
      state.stopPropagation = false;
      state.stopImmediatePropagation = false;
    }
  }
  const EVENT_CONSTANTS = { NONE, CAPTURING_PHASE, AT_TARGET, BUBBLING_PHASE };
  finishInterface(Event, 'Event', EVENT_CONSTANTS);

  // An event the platform fires ("fire an event"): isTrusted is true.
  function createTrustedEvent(type) {
    const event = new Event(type);
    eventState(event).isTrusted = true;
    return event;
  }

  // ---------------------------------------------------------------------------
  // EventTarget

  // One registered listener. `handler` is set for event handler attributes
  // (onabort): then `callback` is unused and the handler's current value runs.
  class Listener {
    constructor(type, callback, capture, passive, once, signal, handler) {
      this.type = type;
      this.callback = callback;
      this.capture = capture;
      this.passive = passive;
      this.once = once;
      this.signal = signal;
      this.handler = handler;
      this.removed = false;
      this.abortAlgorithm = null;
    }
  }

  // Filled in by AbortSignal below.
  let isAbortSignal;
  let addAbortAlgorithm;
  let removeAbortAlgorithm;
  let onAbortListenerAdded;

  let dispatchEvent;               // (target, event) -> boolean
  let getEventHandler;             // (target, type) -> value
  let setEventHandler;             // (target, type, value)

  class EventTarget {
    #listeners = null;             // Map: type -> Listener[] in registration order
    #handlers = null;              // Map: type -> Listener of an event handler attribute

    constructor() {}

    addEventListener(type, callback, options = undefined) {
      const self = this.#target();
      requireArguments(arguments.length, 2,
                       "Failed to execute 'addEventListener' on 'EventTarget'");
      type = toDOMString(type);
      callback = toEventListener(callback, 'addEventListener');
      // Flatten more options.
      let capture = false, once = false, passive = false, signal = null;
      if (options === undefined || options === null || isObject(options)) {
        if (options !== undefined && options !== null) {
          capture = !!options.capture;
          once = !!options.once;
          const passiveValue = options.passive;
          if (passiveValue !== undefined) passive = !!passiveValue;
          const signalValue = options.signal;
          if (signalValue !== undefined) {
            if (!isAbortSignal(signalValue)) {
              throw new TypeError("Failed to execute 'addEventListener' on 'EventTarget': " +
                                  "member signal is not of type AbortSignal.");
            }
            signal = signalValue;
          }
        }
      } else {
        capture = !!options;
      }
      // Add an event listener.
      if (signal !== null && signal.aborted) return;
      if (callback === null) return;
      const list = self.#list(type, true);
      for (let i = 0; i < list.length; i++) {
        const l = list[i];
        if (l.callback === callback && l.capture === capture && l.handler === null) return;
      }
      const listener = new Listener(type, callback, capture, passive, once, signal, null);
      list.push(listener);
      if (signal !== null) {
        listener.abortAlgorithm = () => self.#remove(listener);
        addAbortAlgorithm(signal, listener.abortAlgorithm);
      }
      if (type === 'abort') onAbortListenerAdded(self);
    }

    removeEventListener(type, callback, options = undefined) {
      const self = this.#target();
      requireArguments(arguments.length, 2,
                       "Failed to execute 'removeEventListener' on 'EventTarget'");
      type = toDOMString(type);
      callback = toEventListener(callback, 'removeEventListener');
      let capture = false;
      if (options === undefined || options === null || isObject(options)) {
        if (options !== undefined && options !== null) capture = !!options.capture;
      } else {
        capture = !!options;
      }
      if (callback === null) return;
      const list = self.#list(type, false);
      if (list === null) return;
      for (let i = 0; i < list.length; i++) {
        const l = list[i];
        if (l.callback === callback && l.capture === capture && l.handler === null) {
          self.#remove(l);
          return;
        }
      }
    }

    dispatchEvent(event) {
      const self = this.#target();
      requireArguments(arguments.length, 1, "Failed to execute 'dispatchEvent' on 'EventTarget'");
      if (!isEvent(event)) {
        throw new TypeError("Failed to execute 'dispatchEvent' on 'EventTarget': " +
                            "parameter 1 is not of type 'Event'.");
      }
      const state = eventState(event);
      if (state.dispatching) {
        throw new DOMException('The event is already being dispatched.', 'InvalidStateError');
      }
      state.isTrusted = false;
      return self.#dispatch(event, state);
    }

    // Brand check: `this` as an EventTarget.
    #target() {
      if (!isObject(this) || !(#listeners in this)) throw new TypeError('Illegal invocation');
      return this;
    }

    #list(type, create) {
      let map = this.#listeners;
      if (map === null) {
        if (!create) return null;
        map = this.#listeners = new $Map();
      }
      let list = map.get(type);
      if (list === undefined) {
        if (!create) return null;
        list = [];
        map.set(type, list);
      }
      return list;
    }

    #remove(listener) {
      if (listener.removed) return;
      listener.removed = true;
      const list = this.#list(listener.type, false);
      if (list !== null) {
        const index = list.indexOf(listener);
        if (index !== -1) list.splice(index, 1);
        if (list.length === 0) this.#listeners.delete(listener.type);
      }
      if (listener.abortAlgorithm !== null) {
        removeAbortAlgorithm(listener.signal, listener.abortAlgorithm);
        listener.abortAlgorithm = null;
      }
    }

    // DOM "dispatch" for a target without parents: capture listeners run,
    // then the others, both with eventPhase AT_TARGET.
    #dispatch(event, state) {
      state.dispatching = true;
      state.target = this;
      state.path = [this];
      state.eventPhase = AT_TARGET;
      state.currentTarget = this;
      this.#invoke(event, state, true);
      this.#invoke(event, state, false);
      state.eventPhase = NONE;
      state.currentTarget = null;
      state.path = null;
      state.dispatching = false;
      state.stopPropagation = false;
      state.stopImmediatePropagation = false;
      return !state.canceled;
    }

    #invoke(event, state, capturePhase) {
      if (state.stopPropagation) return;
      const list = this.#list(state.type, false);
      if (list === null) return;
      // Listeners added from now on do not run for this event; removed ones are
      // skipped through their `removed` flag.
      const listeners = list.slice();
      for (let i = 0; i < listeners.length; i++) {
        const listener = listeners[i];
        if (listener.removed || listener.capture !== capturePhase) continue;
        if (listener.once) this.#remove(listener);
        if (listener.passive) state.inPassiveListener = true;
        try {
          if (listener.handler !== null) {
            // Event handler processing: a non-callable value does nothing;
            // returning false cancels the event.
            const fn = listener.handler.value;
            if (typeof fn === 'function' && ReflectApply(fn, this, [event]) === false) {
              setCanceledFlag(state);
            }
          } else {
            const callback = listener.callback;
            if (typeof callback === 'function') {
              ReflectApply(callback, this, [event]);
            } else {
              const handleEvent = callback.handleEvent;
              if (typeof handleEvent !== 'function') {
                throw new TypeError("The listener's 'handleEvent' property is not callable.");
              }
              ReflectApply(handleEvent, callback, [event]);
            }
          }
        } catch (error) {
          reportError(error);
        }
        state.inPassiveListener = false;
        if (state.stopImmediatePropagation) break;
      }
    }

    static {
      dispatchEvent = (target, event) => target.#dispatch(event, eventState(event));
      getEventHandler = (target, type) => {
        const listener = target.#handlers === null ? undefined : target.#handlers.get(type);
        return listener === undefined ? null : listener.handler.value;
      };
      setEventHandler = (target, type, value) => {
        // [LegacyTreatNonObjectAsNull] EventHandler.
        if (!isObject(value)) value = null;
        let handlers = target.#handlers;
        const listener = handlers === null ? undefined : handlers.get(type);
        if (value === null) {
          if (listener !== undefined) {
            handlers.delete(type);
            target.#remove(listener);
          }
          return;
        }
        if (listener !== undefined) {
          listener.handler.value = value;
          return;
        }
        if (handlers === null) handlers = target.#handlers = new $Map();
        const added = new Listener(type, null, false, false, false, null, { value });
        handlers.set(type, added);
        target.#list(type, true).push(added);
        if (type === 'abort') onAbortListenerAdded(target);
      };
    }
  }
  finishInterface(EventTarget, 'EventTarget');

  // Web IDL callback interface EventListener? (functions and other objects;
  // null and undefined mean no listener).
  function toEventListener(callback, method) {
    if (callback === undefined || callback === null) return null;
    if (!isObject(callback)) {
      throw new TypeError(`Failed to execute '${method}' on 'EventTarget': ` +
                          'parameter 2 is not of type \'Object\'.');
    }
    return callback;
  }

  // ---------------------------------------------------------------------------
  // AbortSignal and AbortController

  class SignalState {
    constructor() {
      this.aborted = false;
      this.reason = undefined;
      this.algorithms = null;      // Set of functions run before the abort event
      this.dependent = false;      // made by AbortSignal.any()
      this.sources = null;         // dependent only: non-dependent source signals
      this.dependents = null;      // Set of WeakRef (or signals without WeakRef)
      this.pruneAt = 16;           // prune collected WeakRefs when that size is reached
      this.retained = null;        // Set of dependents kept alive (they have listeners)
      this.retainedBySources = false;
    }
  }

  let signalState;                 // (value) -> SignalState, throws if not an AbortSignal

  class AbortSignal extends EventTarget {
    #state;

    constructor(key = undefined) {
      if (key !== kCreate) throw illegalConstructor();
      super();
      this.#state = new SignalState();
    }

    static abort(reason = undefined) {
      const signal = new AbortSignal(kCreate);
      const state = signal.#state;
      state.aborted = true;
      state.reason = reason !== undefined ? reason : new DOMException(ABORT_MESSAGE, 'AbortError');
      return signal;
    }

    static timeout(milliseconds) {
      requireArguments(arguments.length, 1, "Failed to execute 'timeout' on 'AbortSignal'");
      // [EnforceRange] unsigned long long.
      let ms = +milliseconds;
      if (!NumberIsFinite(ms)) {
        throw new TypeError("Failed to execute 'timeout' on 'AbortSignal': " +
                            'Value is not a finite number.');
      }
      ms = MathTrunc(ms);
      if (ms < 0 || ms > 9007199254740991) {
        throw new TypeError("Failed to execute 'timeout' on 'AbortSignal': " +
                            'Value is outside the \'unsigned long long\' value range.');
      }
      if (ms === 0) ms = 0;        // -0
      const signal = new AbortSignal(kCreate);
      native.setTimeout(() => {
        signalAbort(signal, new DOMException(TIMEOUT_MESSAGE, 'TimeoutError'));
      }, ms);
      return signal;
    }

    static any(signals) {
      requireArguments(arguments.length, 1, "Failed to execute 'any' on 'AbortSignal'");
      const list = toAbortSignalSequence(signals);
      // Create a dependent abort signal.
      const result = new AbortSignal(kCreate);
      const resultState = result.#state;
      for (let i = 0; i < list.length; i++) {
        const state = list[i].#state;
        if (state.aborted) {
          resultState.aborted = true;
          resultState.reason = state.reason;
          return result;
        }
      }
      resultState.dependent = true;
      const sources = [];
      for (let i = 0; i < list.length; i++) {
        const state = list[i].#state;
        if (!state.dependent) {
          if (!sources.includes(list[i])) sources.push(list[i]);
        } else if (state.sources !== null) {
          for (const source of state.sources) {
            if (!sources.includes(source)) sources.push(source);
          }
        }
      }
      resultState.sources = sources;
      const link = $WeakRef !== null ? new $WeakRef(result) : result;
      for (const source of sources) addDependent(source.#state, link);
      return result;
    }

    get aborted() {
      return this.#state.aborted;
    }

    get reason() {
      return this.#state.reason;
    }

    throwIfAborted() {
      const state = this.#state;
      if (state.aborted) throw state.reason;
    }

    get onabort() {
      this.#state;                 // brand check
      return getEventHandler(this, 'abort');
    }

    set onabort(value) {
      this.#state;                 // brand check
      setEventHandler(this, 'abort', value);
    }

    static {
      signalState = (signal) => signal.#state;
      isAbortSignal = (value) => isObject(value) && #state in value;
    }
  }
  finishInterface(AbortSignal, 'AbortSignal');

  function toAbortSignalSequence(value) {
    const context = "Failed to execute 'any' on 'AbortSignal'";
    if (!isObject(value)) throw new TypeError(`${context}: The provided value is not iterable.`);
    const method = value[SymbolIterator];
    if (method === undefined || method === null) {
      throw new TypeError(`${context}: The provided value is not iterable.`);
    }
    const iterator = ReflectApply(method, value, []);
    if (!isObject(iterator)) throw new TypeError(`${context}: The iterator is not an object.`);
    const next = iterator.next;
    const list = [];
    for (;;) {
      const step = ReflectApply(next, iterator, []);
      if (!isObject(step)) throw new TypeError(`${context}: The iterator result is not an object.`);
      if (step.done) return list;
      const item = step.value;
      if (!isAbortSignal(item)) {
        throw new TypeError(`${context}: Failed to convert value to 'AbortSignal'.`);
      }
      list.push(item);
    }
  }

  // Sources hold their dependents weakly (the spec's "weak set") so that a
  // long-lived signal does not keep every AbortSignal.any() result alive; a
  // dependent with abort listeners or algorithms is held strongly instead.
  function addDependent(sourceState, link) {
    let dependents = sourceState.dependents;
    if (dependents === null) dependents = sourceState.dependents = new $Set();
    dependents.add(link);
    if ($WeakRef !== null && dependents.size >= sourceState.pruneAt) {
      for (const ref of dependents) {
        if (ref.deref() === undefined) dependents.delete(ref);
      }
      sourceState.pruneAt = dependents.size * 2 + 16;
    }
  }

  onAbortListenerAdded = (target) => {
    if (isAbortSignal(target)) retainDependent(target);
  };

  function retainDependent(signal) {
    const state = signalState(signal);
    if (!state.dependent || state.aborted || state.retainedBySources || state.sources === null) {
      return;
    }
    state.retainedBySources = true;
    for (const source of state.sources) {
      const sourceState = signalState(source);
      if (sourceState.retained === null) sourceState.retained = new $Set();
      sourceState.retained.add(signal);
    }
  }

  addAbortAlgorithm = (signal, algorithm) => {
    const state = signalState(signal);
    if (state.aborted) return;
    if (state.algorithms === null) state.algorithms = new $Set();
    state.algorithms.add(algorithm);
    retainDependent(signal);
  };

  removeAbortAlgorithm = (signal, algorithm) => {
    const state = signalState(signal);
    if (state.algorithms !== null) state.algorithms.delete(algorithm);
  };

  // DOM "signal abort".
  function signalAbort(signal, reason) {
    const state = signalState(signal);
    if (state.aborted) return;
    state.aborted = true;
    state.reason = reason !== undefined ? reason : new DOMException(ABORT_MESSAGE, 'AbortError');
    const toAbort = [];
    if (state.dependents !== null) {
      for (const link of state.dependents) {
        const dependent = $WeakRef !== null ? link.deref() : link;
        if (dependent === undefined) continue;
        const dependentState = signalState(dependent);
        if (dependentState.aborted) continue;
        dependentState.aborted = true;
        dependentState.reason = state.reason;
        toAbort.push(dependent);
      }
      state.dependents = null;
    }
    state.retained = null;
    runAbortSteps(signal, state);
    for (let i = 0; i < toAbort.length; i++) runAbortSteps(toAbort[i], signalState(toAbort[i]));
  }

  function runAbortSteps(signal, state) {
    if (state.sources !== null) {
      // A dependent: its other sources need not keep it any more.
      for (const source of state.sources) {
        const retained = signalState(source).retained;
        if (retained !== null) retained.delete(signal);
      }
      state.sources = null;
    }
    const algorithms = state.algorithms;
    state.algorithms = null;
    if (algorithms !== null) {
      // Algorithms may come from other bindings: one that throws must not
      // keep the others or the abort event from running.
      for (const algorithm of algorithms) {
        try {
          algorithm();
        } catch (error) {
          reportError(error);
        }
      }
    }
    dispatchEvent(signal, createTrustedEvent('abort'));
  }

  class AbortController {
    #signal;

    constructor() {
      this.#signal = new AbortSignal(kCreate);
    }

    get signal() {
      return this.#signal;
    }

    abort(reason = undefined) {
      signalAbort(this.#signal, reason);
    }
  }
  finishInterface(AbortController, 'AbortController');

  // ---------------------------------------------------------------------------
  // Strings from code units

  // Code units are collected in a plain array (Function.prototype.apply is much
  // faster with a packed array than with a typed array) and turned into a
  // string every SCRATCH_SIZE units. 4096 arguments stay far below V8's limits.
  const SCRATCH_SIZE = 4096;
  const scratch = new Array(SCRATCH_SIZE).fill(0);

  function scratchString(n) {
    return ReflectApply(StringFromCharCode, null,
                        n === SCRATCH_SIZE ? scratch : scratch.slice(0, n));
  }

  // ---------------------------------------------------------------------------
  // TextEncoder

  // UTF-8 length of s[from..] (lone surrogates count as U+FFFD).
  function utf8Length(s, from) {
    const length = s.length;
    let size = 0;
    for (let i = from; i < length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) {
        size += 1;
      } else if (c < 0x800) {
        size += 2;
      } else if (c >= 0xD800 && c <= 0xDBFF && i + 1 < length &&
                 (s.charCodeAt(i + 1) & 0xFC00) === 0xDC00) {
        size += 4;
        i++;
      } else {
        size += 3;
      }
    }
    return size;
  }

  // Writes s[from..] as UTF-8 into out at `at`; out must be large enough.
  // Returns the end offset.
  function writeUtf8(s, from, out, at) {
    const length = s.length;
    let w = at;
    for (let i = from; i < length; i++) {
      let c = s.charCodeAt(i);
      if (c < 0x80) {
        out[w] = c;
        w += 1;
      } else if (c < 0x800) {
        out[w] = 0xC0 | (c >> 6);
        out[w + 1] = 0x80 | (c & 0x3F);
        w += 2;
      } else {
        if ((c & 0xF800) === 0xD800) {
          const d = i + 1 < length ? s.charCodeAt(i + 1) : 0;
          if (c <= 0xDBFF && (d & 0xFC00) === 0xDC00) {
            const cp = 0x10000 + ((c - 0xD800) << 10) + (d - 0xDC00);
            out[w] = 0xF0 | (cp >> 18);
            out[w + 1] = 0x80 | ((cp >> 12) & 0x3F);
            out[w + 2] = 0x80 | ((cp >> 6) & 0x3F);
            out[w + 3] = 0x80 | (cp & 0x3F);
            w += 4;
            i += 1;
            continue;
          }
          c = 0xFFFD;
        }
        out[w] = 0xE0 | (c >> 12);
        out[w + 1] = 0x80 | ((c >> 6) & 0x3F);
        out[w + 2] = 0x80 | (c & 0x3F);
        w += 3;
      }
    }
    return w;
  }

  // Non-ASCII tails of up to ENCODE_SCRATCH_SIZE / 3 code units are written
  // here first (one pass), then copied into a result of the exact size.
  const ENCODE_SCRATCH_SIZE = 3 * 16384;
  let encodeScratch = null;

  function encodeUtf8(s) {
    const length = s.length;
    // Optimistic ASCII pass straight into a result of the right size.
    const ascii = new $Uint8Array(length);
    let i = 0;
    for (; i < length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      ascii[i] = c;
    }
    if (i === length) return ascii;
    const prefix = i;
    let out;
    if ((length - prefix) * 3 <= ENCODE_SCRATCH_SIZE) {
      if (encodeScratch === null) encodeScratch = new $Uint8Array(ENCODE_SCRATCH_SIZE);
      // The loop of writeUtf8(), kept inline: a helper inlined into an
      // optimized caller before it has type feedback of its own can deopt
      // over and over (seen with V8 11).
      const buffer = encodeScratch;
      let w = 0;
      for (; i < length; i++) {
        let c = s.charCodeAt(i);
        if (c < 0x80) {
          buffer[w] = c;
          w += 1;
        } else if (c < 0x800) {
          buffer[w] = 0xC0 | (c >> 6);
          buffer[w + 1] = 0x80 | (c & 0x3F);
          w += 2;
        } else {
          if ((c & 0xF800) === 0xD800) {
            const d = i + 1 < length ? s.charCodeAt(i + 1) : 0;
            if (c <= 0xDBFF && (d & 0xFC00) === 0xDC00) {
              const cp = 0x10000 + ((c - 0xD800) << 10) + (d - 0xDC00);
              buffer[w] = 0xF0 | (cp >> 18);
              buffer[w + 1] = 0x80 | ((cp >> 12) & 0x3F);
              buffer[w + 2] = 0x80 | ((cp >> 6) & 0x3F);
              buffer[w + 3] = 0x80 | (cp & 0x3F);
              w += 4;
              i += 1;
              continue;
            }
            c = 0xFFFD;
          }
          buffer[w] = 0xE0 | (c >> 12);
          buffer[w + 1] = 0x80 | ((c >> 6) & 0x3F);
          buffer[w + 2] = 0x80 | (c & 0x3F);
          w += 3;
        }
      }
      out = new $Uint8Array(prefix + w);
      out.set(buffer.subarray(0, w), prefix);
    } else {
      out = new $Uint8Array(prefix + utf8Length(s, prefix));
      writeUtf8(s, prefix, out, prefix);
    }
    if (prefix > 0) out.set(ascii.subarray(0, prefix));
    return out;
  }

  function encodeUtf8Into(s, out) {
    const length = s.length;
    const capacity = out.length;
    let read = 0, written = 0;
    while (read < length) {
      let c = s.charCodeAt(read);
      if (c < 0x80) {
        if (written >= capacity) break;
        out[written++] = c;
        read++;
      } else if (c < 0x800) {
        if (written + 2 > capacity) break;
        out[written++] = 0xC0 | (c >> 6);
        out[written++] = 0x80 | (c & 0x3F);
        read++;
      } else {
        if ((c & 0xF800) === 0xD800) {
          const d = read + 1 < length ? s.charCodeAt(read + 1) : 0;
          if (c <= 0xDBFF && (d & 0xFC00) === 0xDC00) {
            if (written + 4 > capacity) break;
            const cp = 0x10000 + ((c - 0xD800) << 10) + (d - 0xDC00);
            out[written++] = 0xF0 | (cp >> 18);
            out[written++] = 0x80 | ((cp >> 12) & 0x3F);
            out[written++] = 0x80 | ((cp >> 6) & 0x3F);
            out[written++] = 0x80 | (cp & 0x3F);
            read += 2;
            continue;
          }
          c = 0xFFFD;
        }
        if (written + 3 > capacity) break;
        out[written++] = 0xE0 | (c >> 12);
        out[written++] = 0x80 | ((c >> 6) & 0x3F);
        out[written++] = 0x80 | (c & 0x3F);
        read++;
      }
    }
    return { read, written };
  }

  class TextEncoder {
    #brand = true;

    constructor() {}

    get encoding() {
      this.#brand;
      return 'utf-8';
    }

    encode(input = '') {
      this.#brand;
      return encodeUtf8(toDOMString(input));
    }

    encodeInto(source, destination) {
      this.#brand;
      requireArguments(arguments.length, 2, "Failed to execute 'encodeInto' on 'TextEncoder'");
      source = toDOMString(source);
      if (ReflectApply(TypedArrayTag, destination, []) !== 'Uint8Array') {
        throw new TypeError("Failed to execute 'encodeInto' on 'TextEncoder': " +
                            "parameter 2 is not of type 'Uint8Array'.");
      }
      return encodeUtf8Into(source, destination);
    }
  }
  finishInterface(TextEncoder, 'TextEncoder');

  // ---------------------------------------------------------------------------
  // TextDecoder

  // The UTF-8 labels of the Encoding Standard (after trimming and lower-casing).
  const UTF8_LABELS = new $Set([
    'unicode-1-1-utf-8', 'unicode11utf8', 'unicode20utf8', 'utf-8', 'utf8', 'x-unicode20utf8',
  ]);
  const EMPTY_BYTES = new $Uint8Array(0);

  // The Encoding Standard's UTF-8 decoder state, kept between streaming calls.
  class DecoderState {
    constructor(fatal, ignoreBOM) {
      this.fatal = fatal;
      this.ignoreBOM = ignoreBOM;
      this.doNotFlush = false;
      this.bomSeen = false;
      this.codePoint = 0;
      this.bytesNeeded = 0;
      this.bytesSeen = 0;
      this.lowerBoundary = 0x80;
      this.upperBoundary = 0xBF;
    }

    reset() {
      this.codePoint = 0;
      this.bytesNeeded = 0;
      this.bytesSeen = 0;
      this.lowerBoundary = 0x80;
      this.upperBoundary = 0xBF;
    }
  }

  function decodingError() {
    return new TypeError('The encoded data was not valid for encoding utf-8');
  }

  // Decodes `bytes` with the UTF-8 decoder of the Encoding Standard, errors
  // replaced by U+FFFD per maximal subpart (or thrown when fatal). Complete
  // well-formed sequences take a fast path; everything else, including
  // sequences split across calls, runs the standard's state machine
  // byte by byte. `flush`: end of stream (a pending partial sequence is an
  // error). A fatal error leaves `state` unchanged.
  function decodeUtf8(state, bytes, flush) {
    const length = bytes.length;
    const fatal = state.fatal;
    const out = scratch;
    let codePoint = state.codePoint;
    let needed = state.bytesNeeded;
    let seen = state.bytesSeen;
    let lower = state.lowerBoundary;
    let upper = state.upperBoundary;
    let result = '';
    let n = 0;
    let i = 0;
    while (i < length) {
      if (n > SCRATCH_SIZE - 4) {
        result += scratchString(n);
        n = 0;
      }
      let b = bytes[i];
      if (needed === 0) {
        if (b < 0x80) {
          const stop = length - i < SCRATCH_SIZE - n ? length : i + (SCRATCH_SIZE - n);
          do {
            out[n++] = b;
            i++;
          } while (i < stop && (b = bytes[i]) < 0x80);
          continue;
        }
        if (b >= 0xC2 && b <= 0xDF) {
          if (i + 1 < length) {
            const b1 = bytes[i + 1];
            if ((b1 & 0xC0) === 0x80) {
              out[n++] = ((b & 0x1F) << 6) | (b1 & 0x3F);
              i += 2;
              continue;
            }
          }
          needed = 1;
          codePoint = b & 0x1F;
        } else if (b >= 0xE0 && b <= 0xEF) {
          if (i + 2 < length) {
            const b1 = bytes[i + 1], b2 = bytes[i + 2];
            if (b1 >= (b === 0xE0 ? 0xA0 : 0x80) && b1 <= (b === 0xED ? 0x9F : 0xBF) &&
                (b2 & 0xC0) === 0x80) {
              out[n++] = ((b & 0x0F) << 12) | ((b1 & 0x3F) << 6) | (b2 & 0x3F);
              i += 3;
              continue;
            }
          }
          if (b === 0xE0) lower = 0xA0;
          else if (b === 0xED) upper = 0x9F;
          needed = 2;
          codePoint = b & 0x0F;
        } else if (b >= 0xF0 && b <= 0xF4) {
          if (i + 3 < length) {
            const b1 = bytes[i + 1], b2 = bytes[i + 2], b3 = bytes[i + 3];
            if (b1 >= (b === 0xF0 ? 0x90 : 0x80) && b1 <= (b === 0xF4 ? 0x8F : 0xBF) &&
                (b2 & 0xC0) === 0x80 && (b3 & 0xC0) === 0x80) {
              const cp = (((b & 0x07) << 18) | ((b1 & 0x3F) << 12) | ((b2 & 0x3F) << 6) |
                          (b3 & 0x3F)) - 0x10000;
              out[n++] = 0xD800 | (cp >> 10);
              out[n++] = 0xDC00 | (cp & 0x3FF);
              i += 4;
              continue;
            }
          }
          if (b === 0xF0) lower = 0x90;
          else if (b === 0xF4) upper = 0x8F;
          needed = 3;
          codePoint = b & 0x07;
        } else {
          if (fatal) throw decodingError();
          out[n++] = 0xFFFD;
        }
        i++;
        continue;
      }
      if (b < lower || b > upper) {
        // The partial sequence so far is one error; `b` is processed again.
        codePoint = needed = seen = 0;
        lower = 0x80;
        upper = 0xBF;
        if (fatal) throw decodingError();
        out[n++] = 0xFFFD;
        continue;
      }
      lower = 0x80;
      upper = 0xBF;
      codePoint = (codePoint << 6) | (b & 0x3F);
      i++;
      if (++seen === needed) {
        if (codePoint >= 0x10000) {
          const cp = codePoint - 0x10000;
          out[n++] = 0xD800 | (cp >> 10);
          out[n++] = 0xDC00 | (cp & 0x3FF);
        } else {
          out[n++] = codePoint;
        }
        codePoint = needed = seen = 0;
      }
    }
    if (flush && needed !== 0) {
      if (fatal) throw decodingError();
      codePoint = needed = seen = 0;
      lower = 0x80;
      upper = 0xBF;
      if (n > SCRATCH_SIZE - 4) {
        result += scratchString(n);
        n = 0;
      }
      out[n++] = 0xFFFD;
    }
    state.codePoint = codePoint;
    state.bytesNeeded = needed;
    state.bytesSeen = seen;
    state.lowerBoundary = lower;
    state.upperBoundary = upper;
    return n === 0 ? result : result + scratchString(n);
  }

  // AllowSharedBufferSource -> Uint8Array view of the same bytes.
  function toBytes(input) {
    if (ArrayBufferIsView(input)) {
      const tag = ReflectApply(TypedArrayTag, input, []);
      if (tag === 'Uint8Array') return input;
      let buffer, offset, length;
      if (tag !== undefined) {
        buffer = ReflectApply(TypedArrayBuffer, input, []);
        offset = ReflectApply(TypedArrayByteOffset, input, []);
        length = ReflectApply(TypedArrayByteLength, input, []);
      } else {
        buffer = ReflectApply(DataViewBuffer, input, []);
        try {
          offset = ReflectApply(DataViewByteOffset, input, []);
          length = ReflectApply(DataViewByteLength, input, []);
        } catch {
          length = 0;              // these getters throw once the buffer is detached
        }
      }
      // A detached buffer reads as empty (and cannot be viewed).
      return length === 0 ? EMPTY_BYTES : new $Uint8Array(buffer, offset, length);
    }
    if (isObject(input)) {
      let length = -1;
      try {
        length = ReflectApply(ArrayBufferByteLength, input, []);
      } catch {
        if (SharedArrayBufferByteLength !== null) {
          try {
            length = ReflectApply(SharedArrayBufferByteLength, input, []);
          } catch {}
        }
      }
      if (length === 0) return EMPTY_BYTES;
      if (length > 0) return new $Uint8Array(input, 0, length);
    }
    throw new TypeError("Failed to execute 'decode' on 'TextDecoder': parameter 1 is not of " +
                        "type 'ArrayBuffer' or 'ArrayBufferView'.");
  }

  // Strip leading and trailing ASCII whitespace, ASCII-lowercase.
  function normalizeLabel(label) {
    return label.replace(/^[\t\n\f\r ]+|[\t\n\f\r ]+$/g, '')
        .replace(/[A-Z]+/g, (m) => m.toLowerCase());
  }

  class TextDecoder {
    #state;

    constructor(label = 'utf-8', options = undefined) {
      label = toDOMString(label);
      const dict = toDictionary(options, "Failed to construct 'TextDecoder'");
      const fatal = dict !== null && !!dict.fatal;
      const ignoreBOM = dict !== null && !!dict.ignoreBOM;
      if (!UTF8_LABELS.has(normalizeLabel(label))) {
        throw new RangeError(`Failed to construct 'TextDecoder': The encoding label ` +
                             `provided ('${label}') is invalid or not supported.`);
      }
      this.#state = new DecoderState(fatal, ignoreBOM);
    }

    get encoding() {
      this.#state;
      return 'utf-8';
    }

    get fatal() {
      return this.#state.fatal;
    }

    get ignoreBOM() {
      return this.#state.ignoreBOM;
    }

    decode(input = undefined, options = undefined) {
      const state = this.#state;
      const bytes = input === undefined ? EMPTY_BYTES : toBytes(input);
      const dict = toDictionary(options, "Failed to execute 'decode' on 'TextDecoder'");
      const stream = dict !== null && !!dict.stream;
      if (!state.doNotFlush) {
        state.reset();
        state.bomSeen = false;
      }
      // Stays false if decoding throws, so the next call starts afresh.
      state.doNotFlush = false;
      let output = decodeUtf8(state, bytes, !stream);
      state.doNotFlush = stream;
      if (!state.ignoreBOM && !state.bomSeen && output.length > 0) {
        state.bomSeen = true;
        if (output.charCodeAt(0) === 0xFEFF) output = output.slice(1);
      }
      return output;
    }
  }
  finishInterface(TextDecoder, 'TextDecoder');

  // ---------------------------------------------------------------------------
  // atob, btoa (forgiving-base64)

  const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const BASE64_CODES = [];         // index -> char code
  const BASE64_VALUES = new Int8Array(128).fill(-1);
  for (let i = 0; i < 64; i++) {
    BASE64_CODES.push(BASE64_ALPHABET.charCodeAt(i));
    BASE64_VALUES[BASE64_ALPHABET.charCodeAt(i)] = i;
  }
  const ASCII_WHITESPACE = /[\t\n\f\r ]/;
  const ASCII_WHITESPACE_ALL = /[\t\n\f\r ]+/g;

  function invalidCharacter(message) {
    return new DOMException(message, 'InvalidCharacterError');
  }

  const { atob, btoa } = {
    atob(data) {
      requireArguments(arguments.length, 1, "Failed to execute 'atob'");
      let s = toDOMString(data);
      if (ASCII_WHITESPACE.test(s)) s = s.replace(ASCII_WHITESPACE_ALL, '');
      let length = s.length;
      if (length % 4 === 0 && length > 0 && s.charCodeAt(length - 1) === 0x3D) {
        length--;
        if (s.charCodeAt(length - 1) === 0x3D) length--;
      }
      if (length % 4 === 1) {
        throw invalidCharacter('The string to be decoded is not correctly encoded.');
      }
      const out = scratch;
      let result = '';
      let n = 0;
      let i = 0;
      // Four characters (three bytes) at a time; -1 marks invalid characters.
      for (const whole = length & ~3; i < whole; i += 4) {
        const c0 = s.charCodeAt(i), c1 = s.charCodeAt(i + 1);
        const c2 = s.charCodeAt(i + 2), c3 = s.charCodeAt(i + 3);
        if ((c0 | c1 | c2 | c3) >= 0x80) break;
        const v0 = BASE64_VALUES[c0], v1 = BASE64_VALUES[c1];
        const v2 = BASE64_VALUES[c2], v3 = BASE64_VALUES[c3];
        if ((v0 | v1 | v2 | v3) < 0) break;
        const v = (v0 << 18) | (v1 << 12) | (v2 << 6) | v3;
        out[n++] = v >> 16;
        out[n++] = (v >> 8) & 0xFF;
        out[n++] = v & 0xFF;
        if (n > SCRATCH_SIZE - 3) {
          result += scratchString(n);
          n = 0;
        }
      }
      // The rest (2 or 3 characters, or where an invalid one was seen).
      let buffer = 0, bits = 0;
      for (; i < length; i++) {
        const c = s.charCodeAt(i);
        const value = c < 0x80 ? BASE64_VALUES[c] : -1;
        if (value < 0) {
          throw invalidCharacter('The string to be decoded is not correctly encoded.');
        }
        buffer = (buffer << 6) | value;
        bits += 6;
        if (bits >= 8) {
          bits -= 8;
          out[n++] = (buffer >> bits) & 0xFF;
          buffer &= (1 << bits) - 1;
        }
      }
      // Leftover bits (4 or 2) are discarded.
      return n === 0 ? result : result + scratchString(n);
    },

    btoa(data) {
      requireArguments(arguments.length, 1, "Failed to execute 'btoa'");
      const s = toDOMString(data);
      const length = s.length;
      const out = scratch;
      let result = '';
      let n = 0;
      let i = 0;
      for (; i + 2 < length; i += 3) {
        const c0 = s.charCodeAt(i), c1 = s.charCodeAt(i + 1), c2 = s.charCodeAt(i + 2);
        if ((c0 | c1 | c2) > 0xFF) {
          throw invalidCharacter('The string to be encoded contains characters outside of ' +
                                 'the Latin1 range.');
        }
        const v = (c0 << 16) | (c1 << 8) | c2;
        out[n++] = BASE64_CODES[v >> 18];
        out[n++] = BASE64_CODES[(v >> 12) & 0x3F];
        out[n++] = BASE64_CODES[(v >> 6) & 0x3F];
        out[n++] = BASE64_CODES[v & 0x3F];
        if (n > SCRATCH_SIZE - 4) {
          result += scratchString(n);
          n = 0;
        }
      }
      const rest = length - i;
      if (rest > 0) {
        const c0 = s.charCodeAt(i), c1 = rest === 2 ? s.charCodeAt(i + 1) : 0;
        if ((c0 | c1) > 0xFF) {
          throw invalidCharacter('The string to be encoded contains characters outside of ' +
                                 'the Latin1 range.');
        }
        const v = (c0 << 16) | (c1 << 8);
        out[n++] = BASE64_CODES[v >> 18];
        out[n++] = BASE64_CODES[(v >> 12) & 0x3F];
        out[n++] = rest === 2 ? BASE64_CODES[(v >> 6) & 0x3F] : 0x3D;
        out[n++] = 0x3D;
      }
      return n === 0 ? result : result + scratchString(n);
    },
  };

  // ---------------------------------------------------------------------------
  // queueMicrotask

  const { queueMicrotask } = {
    queueMicrotask(callback) {
      requireArguments(arguments.length, 1, "Failed to execute 'queueMicrotask'");
      if (typeof callback !== 'function') {
        throw new TypeError("Failed to execute 'queueMicrotask': " +
                            "parameter 1 is not of type 'Function'.");
      }
      ReflectApply(PromisePrototypeThen, resolvedPromise, [() => {
        try {
          ReflectApply(callback, undefined, []);
        } catch (error) {
          reportError(error);
        }
      }]);
    },
  };

  // ---------------------------------------------------------------------------
  // performance

  const timeOrigin = +native.timeOrigin;

  class Performance extends EventTarget {
    #brand = true;

    constructor(key = undefined) {
      if (key !== kCreate) throw illegalConstructor();
      super();
    }

    get timeOrigin() {
      this.#brand;
      return timeOrigin;
    }

    now() {
      this.#brand;
      return native.now();
    }

    toJSON() {
      this.#brand;
      return { timeOrigin };
    }
  }
  finishInterface(Performance, 'Performance');
  const performance = new Performance(kCreate);

  // ---------------------------------------------------------------------------
  // Install

  const globals = {
    DOMException, Event, EventTarget, AbortController, AbortSignal, TextEncoder, TextDecoder,
    atob, btoa, queueMicrotask, performance,
  };
  for (const name of ReflectOwnKeys(globals)) {
    ObjectDefineProperty(global, name,
                         { value: globals[name], writable: true, enumerable: false, configurable: true });
  }

  // For other bindings (fetch, timers, streams): brand checks and the
  // "signal abort" / "add an abort algorithm" hooks of the DOM Standard.
  return Object.freeze({
    isAbortSignal,
    signalAbort: (signal, reason) => signalAbort(signal, reason),
    addAbortAlgorithm,
    removeAbortAlgorithm,
    createAbortSignal: () => new AbortSignal(kCreate),
    isEvent,
  });
})
