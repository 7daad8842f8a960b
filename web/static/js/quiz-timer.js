// Quiz countdown: shows the time left of a timed attempt. The server decides the deadline (and any extension);
// this only counts down from what the page said, corrected for the difference between the two clocks. When the
// time is up it submits the form once, so what was answered counts (the server allows a short grace period).
(function () {
  "use strict";
  const timer = document.getElementById("quiz-timer");
  const out = document.getElementById("time-left");
  const form = document.getElementById("quiz-form");
  if (!timer || !out || !form) return;
  const deadline = parseInt(timer.dataset.deadlineMs, 10);
  const offset = parseInt(timer.dataset.nowMs, 10) - Date.now();  // server clock minus this device's clock
  let submitted = false;
  form.addEventListener("submit", function () { submitted = true; });

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function tick() {
    const left = Math.max(0, Math.round((deadline - (Date.now() + offset)) / 1000));
    const h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
    out.textContent = (h ? h + ":" + pad(m) : m) + ":" + pad(s);
    timer.classList.toggle("low", left <= 60);
    // Two seconds past the deadline by the server's clock, so the server agrees the time is up.
    if (!submitted && deadline - (Date.now() + offset) < -2000) {
      submitted = true;
      if (form.requestSubmit) form.requestSubmit(); else form.submit();
      return;
    }
    window.setTimeout(tick, 1000 - ((Date.now() + offset) % 1000));
  }
  tick();
})();
