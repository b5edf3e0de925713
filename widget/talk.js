/*
 * Parley SDK loader. Defines `window.Talk` at once (so `Talk.ready.then(...)` works right after a
 * plain <script> tag), then imports the SDK modules from the same server and resolves `Talk.ready`.
 * Also replaces TalkJS's asynchronous loader stub, replaying every queued `Talk.ready.then(f)`.
 */
(function (window, document) {
  "use strict";

  function findOwnScript() {
    if (document.currentScript && document.currentScript.src) return document.currentScript;
    var scripts = document.querySelectorAll("script[src]");
    for (var i = scripts.length - 1; i >= 0; i--) {
      if (/\/talk\.js(\?|#|$)/.test(scripts[i].src)) return scripts[i];
    }
    return null;
  }

  // The stub's queue holds [f, resolve, reject] per `Talk.ready.then(f)` ([f] without Promise).
  function replay(queue, settle) {
    for (var i = 0; i < queue.length; i++) settle(queue[i]);
  }

  function runQueued(entry) {
    var result;
    try {
      result = entry[0]();
    } catch (error) {
      if (entry[2]) entry[2](error);
      else console.error(error);
      return;
    }
    if (entry[1]) entry[1](result);
  }

  var script = findOwnScript();
  if (!script) {
    console.error("[Parley] SDK_LOAD_FAILED: could not find the <script> that loaded talk.js");
    return;
  }
  var base = script.src.replace(/\/talk\.js([?#].*)?$/, "");
  var stub = window.Talk;
  var queue = stub && stub.ready && Array.isArray(stub.ready.c) ? stub.ready.c : [];
  var settle = {};
  var ready = new Promise(function (resolve, reject) {
    settle.resolve = resolve;
    settle.reject = reject;
  });
  var Talk = { v: 3, ready: ready };
  window.Talk = Talk;

  import(base + "/widget/sdk/talk.js").then(
    function (sdk) {
      sdk.install(Talk, base);
      settle.resolve();
      replay(queue, runQueued);
    },
    function (error) {
      var message = "[Parley] SDK_LOAD_FAILED: could not load the SDK from " + base + ": " + error;
      console.error(message);
      settle.reject(new Error(message));
      replay(queue, function (entry) {
        if (entry[2]) entry[2](new Error(message));
      });
    }
  );
})(window, document);
