// bench/playback.py injects this before any page script: it starts playback at DOMContentLoaded (after
// the page's deferred scripts set up their player) and records what a viewer notices, on the page's clock.
(() => {
  "use strict";
  const rec = { t0: null, ready: null, first: null, heights: [], stalls: [], samples: [], error: null,
                connection: null, openStall: null };
  window.__playback = rec;
  let video = null;
  let stallAt = null;
  let lastHeight = 0;

  function since() { return performance.now() - rec.t0; }
  function endStall() {
    if (stallAt !== null) { rec.stalls.push([stallAt, since() - stallAt]); stallAt = null; rec.openStall = null; }
  }
  function frame(_now, meta) {
    if (rec.first === null) { rec.first = since(); }
    if (meta.height !== lastHeight) { lastHeight = meta.height; rec.heights.push([since(), meta.height]); }
    endStall();
    video.requestVideoFrameCallback(frame);
  }
  function notice() {
    const shown = document.querySelector(".player-notice:not([hidden])");
    return shown ? shown.textContent.trim() : "";
  }
  function sample() {
    rec.samples.push([since(), video.currentTime, video.videoHeight, video.readyState,
                      video.dataset.mode || "", notice()]);
  }
  function start() {
    video = document.querySelector("video");
    if (!video) { rec.error = "no video element"; return; }
    rec.ready = performance.now();
    const c = navigator.connection;
    rec.connection = c ? { downlink: c.downlink, rtt: c.rtt, type: c.effectiveType } : null;
    video.muted = true;  // autoplay without a gesture; the audio is still fetched and decoded
    const wait = () => {
      if (rec.first !== null && stallAt === null && !video.ended) { stallAt = since(); rec.openStall = stallAt; }
    };
    video.addEventListener("waiting", wait);
    video.addEventListener("emptied", wait);  // a player that reloads its source drops what it had
    video.addEventListener("playing", () => {
      if (rec.first === null && video.videoHeight === 0) { rec.first = since(); }  // audio only: no frames
      endStall();
    });
    video.addEventListener("error", () => { rec.error = "media error " + (video.error && video.error.code); });
    if (video.requestVideoFrameCallback) { video.requestVideoFrameCallback(frame); }
    rec.t0 = performance.now();
    setInterval(sample, 250);
    const played = video.play();
    // AbortError: the player reloaded its source before playback began, and plays on by itself.
    if (played) { played.catch((e) => { if (e.name !== "AbortError") { rec.error = String(e); } }); }
  }
  document.addEventListener("DOMContentLoaded", start);
})();
