// Chunked, resumable uploads for <div class="uploader" data-kind="video|document|image" data-input="NAME">
// (web/templates/media/_uploader.html). The file goes up in the chunks the server asks for, strictly in order;
// after a network loss the script asks the server how much it has and goes on from there. After a reload,
// choosing the same file again (same name, size and date) continues the upload recorded in localStorage.
// When the server has checked the file, the hidden input NAME holds the upload id.
// Texts come from the element's data-msg-* attributes (translated by the server); "{name}" marks a value.
(function () {
  "use strict";
  const API = "/api/v1/uploads";
  const STORE = "portal-upload:";
  const MAX_BACKOFF_MS = 30000;

  function csrf() {
    return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"];
  }
  function readStore(key) {
    try { return JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { return null; }
  }
  function writeStore(key, value) {
    try { localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* private mode: no resume after reload */ }
  }
  function dropStore(key) {
    try { localStorage.removeItem(key); } catch (e) { /* nothing to drop */ }
  }
  function clock(ms) {
    const s = Math.round(ms / 1000), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    const mmss = String(m).padStart(h ? 2 : 1, "0") + ":" + String(s % 60).padStart(2, "0");
    return h ? h + ":" + mmss : mmss;
  }

  class HttpError extends Error {
    constructor(status, detail) { super(detail); this.status = status; }
  }
  // Worth retrying: the network, the server being busy, or another request having moved the upload on.
  function transient(error) {
    return !(error instanceof HttpError) || error.status >= 500 || [408, 409, 429].includes(error.status);
  }

  async function api(method, url, body) {
    const options = { method: method, credentials: "same-origin",
                      headers: { "X-CSRF-Token": csrf(), "Accept": "application/json" } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(url, options);
    if (response.status === 204) return null;
    const data = await response.json().catch(function () { return {}; });
    if (!response.ok) throw new HttpError(response.status, data.detail || response.statusText);
    return data;
  }

  // One chunk with XMLHttpRequest rather than fetch: only XHR reports progress while a request body is sent.
  function putChunk(run, url, blob, range, onProgress) {
    return new Promise(function (resolve, reject) {
      const xhr = new XMLHttpRequest();
      run.xhr = xhr;
      xhr.open("PUT", url);
      xhr.setRequestHeader("X-CSRF-Token", csrf());
      xhr.setRequestHeader("Content-Type", "application/octet-stream");
      xhr.setRequestHeader("Content-Range", range);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = function (event) { onProgress(event.loaded); };
      xhr.onload = function () {
        let data = {};
        try { data = JSON.parse(xhr.responseText); } catch (e) { /* not JSON: a proxy's error page */ }
        if (xhr.status >= 200 && xhr.status < 300) resolve(data);
        else reject(new HttpError(xhr.status, data.detail || xhr.statusText));
      };
      xhr.onerror = xhr.ontimeout = function () { reject(new TypeError("network error")); };
      xhr.onabort = function () { reject(new DOMException("aborted", "AbortError")); };
      xhr.send(blob);
    });
  }

  function Uploader(root) {
    const kind = root.dataset.kind;
    const maxBytes = parseInt(root.dataset.maxBytes || "0", 10);
    const fileInput = root.querySelector("input[type=file]");
    const progressBox = root.querySelector(".uploader-progress");
    const bar = root.querySelector("progress");
    const percentEl = root.querySelector(".uploader-percent");
    const speedEl = root.querySelector(".uploader-speed");
    const cancelButton = root.querySelector(".uploader-cancel");
    const statusEl = root.querySelector(".uploader-status");
    const resultBox = root.querySelector(".uploader-result");
    const poster = root.querySelector(".uploader-poster");
    const facts = root.querySelector(".uploader-facts");
    const scope = root.closest("form") || root;
    const hidden = scope.querySelector('input[type=hidden][name="' + root.dataset.input + '"]') ||
                   document.querySelector('input[type=hidden][name="' + root.dataset.input + '"]');
    let run = null;  // {file, key, upload, cancelled, xhr, wake}

    function text(key, values) {
      let out = root.getAttribute("data-msg-" + key) || key;
      Object.keys(values || {}).forEach(function (name) { out = out.split("{" + name + "}").join(String(values[name])); });
      return out;
    }
    function say(message, tone) {
      statusEl.textContent = message;
      statusEl.className = "uploader-status" + (tone ? " " + tone : "");
    }
    function percent(done, size) { return Math.floor(100 * done / Math.max(size, 1)) + "%"; }
    function showProgress(done, size) {
      bar.value = Math.floor(100 * done / Math.max(size, 1));
      percentEl.textContent = percent(done, size);
    }
    function storeKey(file) { return STORE + kind + ":" + file.name + ":" + file.size + ":" + file.lastModified; }

    // Throughput over the last few seconds, so the figure follows the line's current speed.
    const samples = [];
    function showSpeed(totalSent) {
      const now = performance.now();
      samples.push([now, totalSent]);
      while (samples.length > 2 && now - samples[0][0] > 5000) samples.shift();
      const first = samples[0];
      if (now - first[0] > 300) {
        const mbPerSecond = (totalSent - first[1]) / 1048576 / ((now - first[0]) / 1000);
        speedEl.textContent = text("speed", { speed: mbPerSecond.toFixed(1) });
      }
    }

    function stop(current) {
      current.cancelled = true;
      if (current.xhr) current.xhr.abort();
      if (current.wake) current.wake();
    }

    function pause(current, delay) {
      return new Promise(function (resolve) {
        const timer = setTimeout(done, delay);
        function done() {
          clearTimeout(timer);
          window.removeEventListener("online", done);
          current.wake = null;
          resolve();
        }
        current.wake = done;
        window.addEventListener("online", done);
      });
    }

    function finish(current, upload) {
      dropStore(current.key);
      showProgress(1, 1);
      speedEl.textContent = "";
      cancelButton.hidden = true;
      const parts = [];
      if (upload.duration_ms) parts.push(text("duration", { time: clock(upload.duration_ms) }));
      if (upload.pages) parts.push(text("pages", { n: upload.pages }));
      if (upload.width && upload.height && !upload.duration_ms) {
        parts.push(text("pixels", { width: upload.width, height: upload.height }));
      }
      facts.textContent = parts.join(" · ");
      if (upload.poster_url) { poster.src = upload.poster_url; poster.hidden = false; } else { poster.hidden = true; }
      resultBox.hidden = false;
      say(text("ready"), "ok");
      if (hidden) {
        hidden.value = upload.upload_id;
        hidden.dispatchEvent(new Event("change", { bubbles: true }));
      }
      root.dispatchEvent(new CustomEvent("upload:ready", { bubbles: true, detail: upload }));
      // A form marked data-attach-when-ready (the studio's lesson file, the cover) attaches the file at once.
      const attach = root.closest("form[data-attach-when-ready]");
      if (attach && hidden && hidden.value) {
        if (attach.requestSubmit) attach.requestSubmit(); else attach.submit();
      }
    }

    function fail(current, error) {
      dropStore(current.key);
      progressBox.hidden = true;
      say(text("failed") + " " + error.message, "error");
      fileInput.value = "";
    }

    async function pump(current) {
      let backoff = 1000;
      while (!current.cancelled) {
        const upload = current.upload;
        try {
          if (upload.state !== "uploading") { finish(current, upload); return; }
          if (upload.received >= upload.size) {
            say(text("checking"));
            const done = await api("POST", API + "/" + upload.upload_id + "/complete");
            if (!current.cancelled) finish(current, done);
            return;
          }
          const index = Math.floor(upload.received / upload.chunk_size);
          const start = index * upload.chunk_size;
          const end = Math.min(start + upload.chunk_size, upload.size);
          current.upload = await putChunk(
            current, API + "/" + upload.upload_id + "/chunks/" + index, current.file.slice(start, end),
            "bytes " + start + "-" + (end - 1) + "/" + upload.size,
            function (loaded) {
              showProgress(start + loaded, upload.size);
              showSpeed(start + loaded);
            });
          backoff = 1000;
          if (statusEl.className.indexOf("error") >= 0 || statusEl.className.indexOf("warn") >= 0) say(text("uploading"));
        } catch (error) {
          if (current.cancelled) return;
          if (!transient(error)) { fail(current, error); return; }
          say(navigator.onLine === false ? text("offline") : text("retrying", { seconds: Math.round(backoff / 1000) }),
              "warn");
          await pause(current, navigator.onLine === false ? MAX_BACKOFF_MS : backoff);
          backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
          if (current.cancelled) return;
          try {
            current.upload = await api("GET", API + "/" + upload.upload_id);  // how much did the server keep?
            showProgress(current.upload.received, current.upload.size);
          } catch (statusError) {
            if (!transient(statusError)) { fail(current, statusError); return; }
          }
        }
      }
    }

    async function begin(file) {
      if (run) stop(run);  // another file chosen: the earlier upload stays resumable
      const current = run = { file: file, key: storeKey(file), upload: null, cancelled: false, xhr: null,
                              wake: null };
      if (hidden) hidden.value = "";
      resultBox.hidden = true;
      samples.length = 0;
      speedEl.textContent = "";
      if (maxBytes && file.size > maxBytes) {
        say(text("failed") + " " + text("too-large", { limit: (maxBytes / 1073741824).toFixed(1) + " GB" }), "error");
        return;
      }
      progressBox.hidden = false;
      cancelButton.hidden = false;
      showProgress(0, file.size);
      say(text("starting"));
      try {
        const saved = readStore(current.key);
        if (saved) {
          try {
            current.upload = await api("GET", API + "/" + saved.upload_id);
            say(text("resuming", { percent: percent(current.upload.received, file.size) }));
          } catch (error) {
            if (transient(error)) throw error;
            dropStore(current.key);  // gone (cancelled, swept or rejected): start again
          }
        }
        if (!current.upload) {
          current.upload = await api("POST", API, { filename: file.name, size: file.size, kind: kind });
          writeStore(current.key, { upload_id: current.upload.upload_id, filename: file.name, size: file.size,
                                    lastModified: file.lastModified });
          say(text("uploading"));
        }
      } catch (error) {
        if (!current.cancelled) fail(current, error);
        return;
      }
      if (current.cancelled) return;
      showProgress(current.upload.received, file.size);
      await pump(current);
    }

    async function cancel() {
      if (!run) return;
      const current = run;
      run = null;
      stop(current);
      dropStore(current.key);
      progressBox.hidden = true;
      resultBox.hidden = true;
      fileInput.value = "";
      if (hidden) hidden.value = "";
      say(text("cancelled"));
      if (current.upload) {
        try { await api("DELETE", API + "/" + current.upload.upload_id); }
        catch (e) { /* already gone, or offline: the server sweeps abandoned uploads */ }
      }
    }

    // After a reload: mention an unfinished upload of this kind, so the trainer knows to choose the file again.
    async function mentionUnfinished() {
      const prefix = STORE + kind + ":";
      for (let i = 0; i < localStorage.length; i++) {
        const key = localStorage.key(i);
        if (!key || key.indexOf(prefix) !== 0) continue;
        const saved = readStore(key);
        if (!saved) continue;
        try {
          const upload = await api("GET", API + "/" + saved.upload_id);
          if (upload.state === "uploading" && !run) {
            say(text("unfinished", { name: saved.filename, percent: percent(upload.received, upload.size) }), "warn");
          }
          return;
        } catch (error) {
          if (!transient(error)) dropStore(key);
        }
      }
    }

    fileInput.addEventListener("change", function () {
      if (fileInput.files && fileInput.files[0]) begin(fileInput.files[0]);
    });
    cancelButton.addEventListener("click", cancel);
    mentionUnfinished().catch(function () { /* localStorage unavailable: nothing to mention */ });
  }

  function start(scope) {
    scope.querySelectorAll(".uploader").forEach(function (root) {
      if (root.dataset.started) return;
      root.dataset.started = "1";
      Uploader(root);
    });
  }
  start(document);
  // Parts of a page that htmx swaps in (the studio's lesson list) bring their own uploaders.
  document.addEventListener("htmx:load", function (event) { start(event.target); });
})();
