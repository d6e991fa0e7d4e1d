// Lesson player: HLS via hls.js or natively, speed and quality menus, resume, and a report of
// which seconds were actually played (the server counts unique seconds toward completion).
(function () {
  "use strict";
  var video = document.getElementById("lesson-video");
  if (!video) { return; }
  var speed = document.getElementById("video-speed");
  var quality = document.getElementById("video-quality");
  var status = document.querySelector(".watch-status");
  var hls = null;

  if (window.Hls && window.Hls.isSupported()) {
    hls = new window.Hls({ capLevelToPlayerSize: true });
    hls.loadSource(video.dataset.master);
    hls.attachMedia(video);
    var source = video.dataset.master;
    var menuBuilt = false;
    hls.on(window.Hls.Events.MANIFEST_PARSED, function (_event, data) {
      if (menuBuilt) { return; }
      menuBuilt = true;
      data.levels.forEach(function (level, index) {
        var option = document.createElement("option");
        option.value = String(index);
        option.textContent = level.height ? level.height + "p" : quality.dataset.audio;
        quality.appendChild(option);
      });
      if (video.dataset.audioOnly) {
        var audio = document.createElement("option");
        audio.value = "audio";
        audio.textContent = quality.dataset.audio;
        quality.appendChild(audio);
      }
    });
    quality.addEventListener("change", function () {
      var wanted = quality.value === "audio" ? video.dataset.audioOnly : video.dataset.master;
      if (wanted !== source) {  // between the ladder and the audio-only playlist: reload in place
        var at = video.currentTime;
        var playing = !video.paused;
        source = wanted;
        hls.loadSource(wanted);
        hls.once(window.Hls.Events.MANIFEST_PARSED, function () {
          video.currentTime = at;
          if (playing) { video.play(); }
        });
      }
      if (quality.value !== "audio") { hls.currentLevel = parseInt(quality.value, 10); }
    });
  } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
    video.src = video.dataset.master;  // Safari and iOS: the browser picks the rung
    quality.disabled = true;
  }

  speed.addEventListener("change", function () { video.playbackRate = parseFloat(speed.value); });

  var resumeAt = parseFloat(video.dataset.position || "0");
  video.addEventListener("loadedmetadata", function () {
    if (resumeAt > 3 && resumeAt < video.duration - 3) { video.currentTime = resumeAt; }
  }, { once: true });

  var watchUrl = video.dataset.watchUrl;
  if (!watchUrl) { return; }
  var pending = [];
  var start = null;
  var last = null;

  function close() {
    if (start !== null && last !== null && last > start) { pending.push([start, last]); }
    start = null;
  }
  video.addEventListener("playing", function () { start = video.currentTime; last = start; });
  video.addEventListener("timeupdate", function () {
    if (video.paused || video.seeking) { return; }
    var now = video.currentTime;
    if (start === null) { start = now; }
    else if (now < last || now - last > 2) { close(); start = now; }  // a jump: not watched
    last = now;
  });
  ["pause", "seeking", "ended"].forEach(function (name) { video.addEventListener(name, close); });

  function formFor(intervals) {
    var form = new FormData();
    form.append("csrf_token", video.dataset.csrf);
    form.append("position", String(video.currentTime));
    form.append("intervals", JSON.stringify(intervals));
    return form;
  }
  function show(result) {
    if (!status || !result) { return; }
    if (result.completed) { status.textContent = status.dataset.msgComplete; return; }
    var pct = result.duration ? Math.round((result.watched_seconds / result.duration) * 100) : 0;
    status.textContent = status.dataset.msgWatched.replace("{pct}", pct + " %");
  }
  function report() {
    if (start !== null && !video.paused) { close(); start = video.currentTime; last = start; }
    var sending = pending;
    pending = [];
    fetch(watchUrl, { method: "POST", body: formFor(sending), credentials: "same-origin",
                      headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(show)
      .catch(function () { pending = sending.concat(pending); });
  }

  window.setInterval(function () { if (!video.paused || pending.length) { report(); } }, 10000);
  video.addEventListener("pause", report);
  video.addEventListener("ended", report);
  function leave() {
    close();
    if (navigator.sendBeacon && navigator.sendBeacon(watchUrl, formFor(pending))) { pending = []; }
  }
  window.addEventListener("pagehide", leave);
  document.addEventListener("visibilitychange", function () { if (document.visibilityState === "hidden") { leave(); } });
})();
