// Lesson player: reports what was really watched, in order, and shows the teacher what counts.
// The server decides every credited second from its own clock; this script only reports and explains.
// Unacknowledged heartbeats wait in localStorage and are resent (in order, with backoff) after network loss
// or a page reload; the server answers retries without counting them twice.
(function () {
  "use strict";
  const root = document.getElementById("player");
  const video = document.getElementById("video");
  if (!root || !video) return;

  const csrf = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"];
  const maxRate = parseFloat(root.dataset.maxRate || "1");
  const allowSeekAhead = root.dataset.allowSeekAhead === "true";
  const beatMs = 1000 * parseInt(root.dataset.heartbeatSeconds || "15", 10);
  const lessonKey = "portal-beats-lesson-" + root.dataset.lessonId;
  const statusEl = document.getElementById("player-status");
  const track = document.getElementById("coverage-track");
  const pctEl = document.getElementById("covered-pct");
  const creditedEl = document.getElementById("credited");
  const dialog = document.getElementById("attention");
  const dialogCount = document.getElementById("attention-seconds");

  let playback = null;        // {playback_id, duration_ms, ...} of the current playback session
  let starting = null;        // promise while a playback session is being created
  let seq = 0;
  let queue = [];             // [{playback_id, body}] waiting to be acknowledged, oldest first
  let sending = false;
  let backoff = 1000;
  let lastPosition = 0;       // playhead at the last timeupdate, before any seek
  let furthest = 0;           // furthest covered point: seeking beyond it is refused
  let timer = null;
  let firstTimer = null;
  let prompt = null;          // {id, deadline (ms, performance clock)}
  let promptTimer = null;
  let endAfterPrompt = false; // the video ended while a check was open: close once it is answered
  // The credited time the server last reported, and when: between two answers the display counts on by itself
  // (at most one heartbeat's worth), so it never sits at 0:00 while the first report is on its way.
  let serverCredited = null;
  let serverAt = 0;
  const firstBeatMs = Math.min(3000, beatMs);   // the first report early: the figures move within seconds

  function say(key, extra, tone) {
    statusEl.textContent = (root.getAttribute("data-msg-" + key) || key) + (extra ? " " + extra : "");
    statusEl.className = "banner " + (tone || "");
  }
  function fmt(ms) {
    const s = Math.round(ms / 1000), m = Math.floor(s / 60);
    return m + ":" + String(s % 60).padStart(2, "0");
  }
  function clientNow() { return Math.round(performance.timeOrigin + performance.now()); }
  function persist() {
    try { queue.length ? localStorage.setItem(lessonKey, JSON.stringify(queue)) : localStorage.removeItem(lessonKey); }
    catch (e) { /* storage full or private mode: the in-memory queue still retries */ }
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
      body: JSON.stringify(body || {}),
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
      if (!playback.counting) say(playback.note || "other_playback", "", "warn");
      return playback;
    });
    return starting;
  }

  function beat(playing, position, visible, ended) {
    if (!playback) return;
    seq += 1;
    queue.push({
      playback_id: playback.playback_id,
      body: {
        seq: seq,
        position_ms: Math.round(1000 * Math.min(position, video.duration || position)),
        playing: playing,
        visible: visible === undefined ? document.visibilityState === "visible" : visible,
        ended: !!ended,
        client_ms: clientNow(),
      },
    });
    persist();
    flush();
  }

  async function flush() {
    if (sending || !queue.length) return;
    sending = true;
    const item = queue[0];
    try {
      const r = await post("/api/v1/playbacks/" + item.playback_id + "/heartbeats", item.body);
      if (r.ok || r.status === 409 || r.status === 422 || r.status === 404) {
        queue.shift();
        persist();
        backoff = 1000;
        if (r.ok) { if (playback && item.playback_id === playback.playback_id) show(r.data, item.body); }
        else if (playback && item.playback_id === playback.playback_id) say("error", r.data && r.data.detail, "warn");
      } else if (r.status === 401 || r.status === 403) {
        say("error", r.data && r.data.detail, "warn");   // logged out: keep the beats for after login
        sending = false;
        return;
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

  function show(data, sent) {
    drawCoverage(data.coverage, data.duration_ms);
    if (!playback) return;
    serverCredited = playback.lesson_credited_ms + data.session_credited_ms;
    serverAt = performance.now();
    creditedEl.textContent = fmt(serverCredited);
    if (data.prompt) openPrompt(data.prompt);
    if (data.course_completed) { say("completed", "", "ok"); return; }
    if (sent.ended && data.prompt) { endAfterPrompt = true; return; }   // closed once the check is answered
    if (sent.ended) {
      say(data.lesson_covered ? "covered" : "ended", "", data.lesson_covered ? "ok" : "");
      playback = null;   // the playback is closed; pressing play again starts a new one
      return;
    }
    if (!data.counting) { say(data.note === "prompt_missed" ? "prompt_missed" : "other_playback", "", "warn"); return; }
    if (data.note === "paused" || data.note === "hidden") return;   // the player already said why
    // A late answer must not overwrite what the teacher sees now.
    if ((video.paused && !video.ended) || document.visibilityState !== "visible") return;
    if (data.note && data.note !== "late") say(data.note, "", data.note === "rewound" ? "" : "warn");
    else say("counting", "", "ok");
  }

  // --- attention prompt: a modal that can't be missed; unanswered in time, playback pauses -------------
  function openPrompt(p) {
    if (prompt && prompt.id === p.id) return;
    prompt = { id: p.id, deadline: performance.now() + 1000 * p.seconds_left };
    if (dialog && !dialog.open) dialog.showModal();
    clearInterval(promptTimer);
    promptTimer = setInterval(function () {
      const left = Math.max(0, Math.round((prompt.deadline - performance.now()) / 1000));
      if (dialogCount) dialogCount.textContent = String(left);
      if (left <= 0) {
        clearInterval(promptTimer);
        video.pause();
        say("prompt_missed", "", "warn");
      }
    }, 500);
  }

  async function answerPrompt() {
    if (!prompt || !playback) { if (dialog) dialog.close(); return; }
    const r = await post("/api/v1/playbacks/" + playback.playback_id + "/prompts/" + prompt.id);
    clearInterval(promptTimer);
    prompt = null;
    if (dialog) dialog.close();
    if (r.ok && r.data.outcome === "answered") say("counting", "", "ok");
    else if (r.ok) say("prompt_late", "", "warn");
    else say("error", r.data && r.data.detail, "warn");
    if (endAfterPrompt && playback) { endAfterPrompt = false; beat(true, video.duration, undefined, true); }
  }
  if (dialog) {
    document.getElementById("attention-confirm").addEventListener("click", answerPrompt);
    dialog.addEventListener("cancel", function (e) { e.preventDefault(); });   // Esc does not dismiss it
  }

  function tick() { if (!video.paused && !video.ended) beat(true, video.currentTime); }

  // Once a second while the video plays, counts and is seen: the credited time moves on between reports.
  setInterval(function () {
    if (!playback || !playback.counting || video.paused || video.ended || prompt) return;
    if (document.visibilityState !== "visible") return;
    if (serverCredited === null) { serverCredited = playback.lesson_credited_ms || 0; serverAt = performance.now(); }
    const since = Math.min(performance.now() - serverAt, beatMs);
    creditedEl.textContent = fmt(serverCredited + since);
  }, 1000);

  if (root.dataset.coverage) {
    drawCoverage(JSON.parse(root.dataset.coverage), parseInt(root.dataset.durationMs, 10));
  }
  try { queue = JSON.parse(localStorage.getItem(lessonKey) || "[]"); } catch (e) { queue = []; }
  if (queue.length) flush();   // beats left from before a reload or a lost connection

  video.addEventListener("loadedmetadata", function () {
    const resume = parseInt(root.dataset.resumeMs || "0", 10) / 1000;
    if (resume > 0 && resume < video.duration - 2) video.currentTime = resume;
  });
  video.addEventListener("play", function () {
    const fresh = !playback;
    if (fresh) {
      // The server counts from the moment it starts the playback, so the video waits for it: nothing watched
      // before then would ever be credited (on a slow connection, the first second or two of every lesson).
      video.pause();
      startPlayback().then(function () { video.play(); }).catch(function () {});
      return;
    }
    startPlayback().then(function () {
      if (!fresh) beat(false, video.currentTime);   // the pause before this moment is not counted
      if (playback.counting) say("counting", "", "ok");
      clearInterval(timer);
      clearTimeout(firstTimer);
      serverAt = performance.now();
      firstTimer = setTimeout(function () { tick(); timer = setInterval(tick, beatMs); }, firstBeatMs);
    }).catch(function () {});
  });
  video.addEventListener("pause", function () {
    clearInterval(timer);
    clearTimeout(firstTimer);
    if (!video.seeking && !video.ended && playback) {
      beat(true, video.currentTime);
      if (document.visibilityState === "visible" && !prompt) say("paused", "", "warn");
    }
  });
  video.addEventListener("ended", function () {
    clearInterval(timer);
    clearTimeout(firstTimer);
    // Closes the playback, its credit confirmed; with a check open, the server keeps it open until the answer.
    if (playback) beat(true, video.duration, undefined, true);
  });
  video.addEventListener("timeupdate", function () { if (!video.seeking) lastPosition = video.currentTime; });
  video.addEventListener("seeking", function () {
    if (!allowSeekAhead && video.currentTime > Math.max(furthest, lastPosition) + 1) {
      video.currentTime = lastPosition;    // no skipping ahead past what was watched
      say("no-seek", "", "warn");
      return;
    }
    if (!video.paused && playback) beat(true, lastPosition);
  });
  video.addEventListener("seeked", function () {
    lastPosition = video.currentTime;
    if (playback) beat(false, video.currentTime);
  });
  video.addEventListener("ratechange", function () { if (video.playbackRate > maxRate) video.playbackRate = maxRate; });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden" && !video.paused) {
      beat(true, video.currentTime, true);   // what played until now was watched in the foreground
      video.pause();
      say("hidden", "", "warn");
    }
  });
  window.addEventListener("online", flush);
  window.addEventListener("pagehide", function () {
    if (!playback) return;
    if (!video.paused) beat(true, video.currentTime, true);
    // Leaving the page closes the playback so the lease passes at once to another tab or device.
    fetch("/api/v1/playbacks/" + playback.playback_id + "/close", {
      method: "POST", credentials: "same-origin", keepalive: true,
      headers: { "X-CSRF-Token": csrf, "Accept": "application/json" },
    });
  });
})();
