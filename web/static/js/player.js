// Lesson player: reports what was really watched, in order, and shows the teacher what counts.
// The server decides every credited second from its own clock; this script only reports and explains.
(function () {
  "use strict";
  const root = document.getElementById("player");
  const video = document.getElementById("video");
  if (!root || !video) return;

  const csrf = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"];
  const maxRate = parseFloat(root.dataset.maxRate || "1");
  const beatMs = 1000 * parseInt(root.dataset.heartbeatSeconds || "15", 10);
  const statusEl = document.getElementById("player-status");
  const track = document.getElementById("coverage-track");
  const pctEl = document.getElementById("covered-pct");
  const creditedEl = document.getElementById("credited");

  let playback = null;        // {playback_id, duration_ms, coverage}
  let starting = null;        // promise while the playback session is being created
  let seq = 0;
  let queue = [];             // beats waiting to be acknowledged, oldest first
  let sending = false;
  let backoff = 1000;
  let lastPosition = 0;       // playhead at the last timeupdate, before any seek
  let furthest = 0;           // furthest covered point: seeking beyond it is refused
  let timer = null;

  function say(key, extra, tone) {
    statusEl.textContent = (root.getAttribute("data-msg-" + key) || key) + (extra ? " " + extra : "");
    statusEl.className = "banner " + (tone || "");
  }
  function fmt(ms) {
    const s = Math.round(ms / 1000), m = Math.floor(s / 60);
    return m + ":" + String(s % 60).padStart(2, "0");
  }
  function storageKey() { return playback ? "portal-beats-" + playback.playback_id : null; }
  function persist() {
    const key = storageKey();
    if (!key) return;
    try { queue.length ? localStorage.setItem(key, JSON.stringify(queue)) : localStorage.removeItem(key); } catch (e) { /* private mode */ }
  }

  function drawCoverage(coverage, duration) {
    track.replaceChildren();
    let covered = 0;
    coverage.forEach(function (iv) {
      const seg = document.createElement("span");
      seg.style.left = (100 * iv[0] / duration) + "%";
      seg.style.width = (100 * (iv[1] - iv[0]) / duration) + "%";
      track.appendChild(seg);
      covered += iv[1] - iv[0];
      furthest = Math.max(furthest, iv[1] / 1000);
    });
    pctEl.textContent = Math.round(100 * covered / duration) + "%";
  }

  async function post(url, body) {
    const res = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, "Accept": "application/json" },
      body: JSON.stringify(body),
      keepalive: true,
    });
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    return { ok: res.ok, status: res.status, data: data };
  }

  function startPlayback() {
    if (playback) return Promise.resolve(playback);
    if (starting) return starting;
    const startMs = Math.round(video.currentTime * 1000);
    starting = post(root.dataset.playbackUrl, { start_ms: startMs }).then(function (r) {
      starting = null;
      if (!r.ok) { say("error", r.data && r.data.detail, "warn"); video.pause(); throw new Error("no playback"); }
      playback = r.data;
      seq = 0;
      drawCoverage(playback.coverage, playback.duration_ms);
      if (Math.abs(playback.start_ms - startMs) > 1500) video.currentTime = playback.start_ms / 1000;
      lastPosition = playback.start_ms / 1000;
      return playback;
    });
    return starting;
  }

  function beat(playing, position, visible) {
    if (!playback) return;
    seq += 1;
    queue.push({
      seq: seq,
      position_ms: Math.round(1000 * Math.min(position, video.duration || position)),
      playing: playing,
      visible: visible === undefined ? document.visibilityState === "visible" : visible,
    });
    persist();
    flush();
  }

  async function flush() {
    if (sending || !queue.length || !playback) return;
    sending = true;
    const item = queue[0];
    try {
      const r = await post("/api/v1/playbacks/" + playback.playback_id + "/heartbeats", item);
      if (r.ok || r.status === 409 || r.status === 422) {
        queue.shift();
        persist();
        backoff = 1000;
        if (r.ok) show(r.data); else say("error", r.data && r.data.detail, "warn");
      } else if (r.status === 401 || r.status === 403 || r.status === 404) {
        queue = []; persist();
        say("error", r.data && r.data.detail, "warn");
      } else {
        throw new Error("retry");
      }
    } catch (e) {
      say("offline", "", "warn");
      sending = false;
      setTimeout(flush, backoff);
      backoff = Math.min(backoff * 2, 30000);
      return;
    }
    sending = false;
    if (queue.length) flush();
  }

  function show(data) {
    drawCoverage(data.coverage, data.duration_ms);
    creditedEl.textContent = fmt(data.session_credited_ms);
    if (data.course_completed) { say("completed", "", "ok"); return; }
    if (data.note === "paused" || data.note === "hidden") return;   // the player already said why
    // A late answer must not overwrite what the teacher sees now.
    if ((video.paused && !video.ended) || document.visibilityState !== "visible") return;
    if (data.lesson_covered && !data.note) { say("covered", "", "ok"); return; }
    if (data.note) say(data.note, "", data.note === "rewound" ? "" : "warn");
    else say("counting", "", "ok");
  }

  function tick() { if (!video.paused && !video.ended) beat(true, video.currentTime); }

  if (root.dataset.coverage) {
    drawCoverage(JSON.parse(root.dataset.coverage), parseInt(root.dataset.durationMs, 10));
  }

  video.addEventListener("loadedmetadata", function () {
    const resume = parseInt(root.dataset.resumeMs || "0", 10) / 1000;
    if (resume > 0 && resume < video.duration - 2) video.currentTime = resume;
  });
  video.addEventListener("play", function () {
    const fresh = !playback;
    startPlayback().then(function () {
      if (!fresh) beat(false, video.currentTime);   // the pause before this moment is not counted
      say("counting", "", "ok");
      clearInterval(timer);
      timer = setInterval(tick, beatMs);
    }).catch(function () {});
  });
  video.addEventListener("pause", function () {
    clearInterval(timer);
    if (!video.seeking) {
      beat(true, video.currentTime);
      if (!video.ended && document.visibilityState === "visible") say("paused", "", "warn");
    }
  });
  video.addEventListener("ended", function () { clearInterval(timer); });
  video.addEventListener("timeupdate", function () { if (!video.seeking) lastPosition = video.currentTime; });
  video.addEventListener("seeking", function () {
    if (video.currentTime > Math.max(furthest, lastPosition) + 1) {
      video.currentTime = lastPosition;    // no skipping ahead past what was watched
      say("no-seek", "", "warn");
      return;
    }
    if (!video.paused) beat(true, lastPosition);
  });
  video.addEventListener("seeked", function () { lastPosition = video.currentTime; beat(false, video.currentTime); });
  video.addEventListener("ratechange", function () { if (video.playbackRate > maxRate) video.playbackRate = maxRate; });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden" && !video.paused) {
      beat(true, video.currentTime, true);   // what played until now was watched in the foreground
      video.pause();
      say("hidden", "", "warn");
    }
  });
  window.addEventListener("online", flush);
  window.addEventListener("pagehide", function () { if (!video.paused) beat(true, video.currentTime); });
})();
