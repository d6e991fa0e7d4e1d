// Lesson player: HLS via hls.js or natively, speed and quality menus, resume, the sound alone (with the
// poster) while the link is too slow for any video rung, and a report of which seconds were actually
// played (the server counts unique seconds toward completion).
(function () {
  "use strict";
  var video = document.getElementById("lesson-video");
  if (!video) { return; }
  var speed = document.getElementById("video-speed");
  var quality = document.getElementById("video-quality");
  var status = document.querySelector(".watch-status");
  var notice = document.querySelector(".player-notice");
  var hls = null;
  var VIDEO_BUFFER_SECONDS = 30;  // hls.js's default
  var AUDIO_BUFFER_SECONDS = 10;

  // The page carries the master playlist (its playlists signed for this viewer): hls.js reads it from
  // there instead of asking the server, which saves the first request's round trip.
  function inlineMasterLoader(Base, url, text) {
    return class extends Base {
      load(context, config, callbacks) {
        if (context.type !== "manifest" || context.url !== url) { return super.load(context, config, callbacks); }
        var stats = this.stats;
        this.context = context;
        stats.loading.start = stats.loading.first = stats.loading.end = performance.now();
        stats.loaded = stats.total = text.length;
        window.setTimeout(function () { callbacks.onSuccess({ url: url, data: text }, stats, context, null); }, 0);
      }
    };
  }

  if (window.Hls && window.Hls.isSupported()) {
    var link = window.KakehashiLink;
    var master = video.dataset.master;
    hls = new window.Hls({
      pLoader: video.dataset.masterText
        ? inlineMasterLoader(window.Hls.DefaultConfig.loader, master, video.dataset.masterText) : undefined,
      capLevelToPlayerSize: true,
      startLevel: -1,  // the rung that the estimate below affords, not the first one listed...
      testBandwidth: false,  // ...at once: hls.js's own test loads a 144p fragment first and throws it away
      abrEwmaDefaultEstimate: link.startEstimate(),
      // A 20 % safety margin both ways: a rung is kept, or climbed to, while it takes < 80 % of the link.
      abrBandWidthFactor: 0.8,
      abrBandWidthUpFactor: 0.8,
      abrEwmaFastVoD: 2,
      abrEwmaSlowVoD: 3  // hls.js's 9 s kept a 10 Mbit/s link on 720p for 17 s (bench/playback.py)
    });
    var mode = "video";  // "audio": the link is too slow; "chosen": the viewer picked the sound alone
    var meter = link.meter();
    // A poster exists when the video has a picture; a lecture that is only sound has nothing to fall from.
    var fallback = video.dataset.audioOnly && video.hasAttribute("poster") ? video.dataset.audioOnly : null;
    var source = fallback && link.startsInAudio() ? fallback : master;
    hls.loadSource(source);
    hls.attachMedia(video);
    var menuBuilt = false;
    hls.on(window.Hls.Events.MANIFEST_PARSED, function (_event, data) {
      if (menuBuilt || !data.levels.some(function (level) { return level.height; })) { return; }
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

    // Between the ladder and the audio playlist: reload in place, from where the viewer is.
    var load = function (wanted, level) {
      var playing = !video.paused;
      if (wanted !== source) {
        source = wanted;
        hls.config.startPosition = video.currentTime;
        hls.config.abrEwmaDefaultEstimate = link.startEstimate();
        hls.loadSource(wanted);
        hls.once(window.Hls.Events.MANIFEST_PARSED, function () {
          if (level !== undefined) { hls.currentLevel = level; }
          if (playing) { video.play(); }
        });
      } else if (level !== undefined) {
        hls.currentLevel = level;
      }
    };
    var setMode = function (next) {
      var was = mode;
      mode = next;
      video.dataset.mode = next === "video" ? "video" : "audio";
      // The sound alone keeps a short buffer, so fragments keep coming to measure the link by.
      hls.config.maxBufferLength = next === "audio" ? AUDIO_BUFFER_SECONDS : VIDEO_BUFFER_SECONDS;
      meter.reset();
      if (!notice) { return; }
      var text = next === "audio" ? notice.dataset.msgAudio : (was === "audio" ? notice.dataset.msgBack : "");
      notice.textContent = text;
      notice.hidden = !text;
      if (text && next === "video") {
        window.setTimeout(function () { if (notice.textContent === text) { notice.hidden = true; } }, 8000);
      }
    };
    if (source === master) { video.dataset.mode = "video"; } else { setMode("audio"); }
    var soundFetched = {};  // sound fragments loaded beside the video, by sequence number
    hls.on(window.Hls.Events.FRAG_LOADED, function (_event, data) {
      // After a fallback those come from the browser's cache at once: they would pass for a fast link.
      if (mode === "video" && data.frag.type === "audio") { soundFetched[data.frag.sn] = true; }
      if (mode !== "audio" || !soundFetched[data.frag.sn]) { meter.add(data.frag.stats); }
      if (!fallback || mode === "chosen") { return; }
      if (mode === "video" && meter.tooSlow()) {
        setMode("audio");
        load(fallback);
      } else if (mode === "audio" && meter.recovered()) {
        setMode("video");
        load(master);
      }
    });
    quality.addEventListener("change", function () {
      if (quality.value === "audio") {
        setMode("chosen");
        load(video.dataset.audioOnly);
        return;
      }
      if (mode !== "video") { setMode("video"); }
      load(master, parseInt(quality.value, 10));
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
