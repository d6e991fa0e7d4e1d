// How fast the viewer's link is, from the fragments hls.js loads: bytes over the time from their first
// byte to their last, so a request's latency is left out and a small audio fragment measures the link as a
// large video one does. The lesson player starts on the rung a fifth of the last estimate affords (a small
// first fetch: the first frame comes fast, the ladder climbs from there) and plays the sound alone while
// the link is under ENTER_AUDIO (from the start, if the last estimate is), until it is over LEAVE_AUDIO
// again. Without a last estimate it asks navigator.connection. Figures: bench/playback.py.
(function () {
  "use strict";
  var KEY = "kakehashi.link-bps";
  var ENTER_AUDIO = 300000;
  var LEAVE_AUDIO = 600000;
  var MIN_BYTES = 6000;  // smaller transfers time the browser's scheduling more than the link

  function stored() {
    try {
      var bps = parseFloat(window.localStorage.getItem(KEY));
      return bps > 0 ? bps : null;
    } catch (e) { return null; }  // storage refused (private mode, policy): no memory, same player
  }
  function store(bps) {
    try { window.localStorage.setItem(KEY, String(Math.round(bps))); } catch (e) { /* see stored() */ }
  }

  function lastKnown() {
    var connection = navigator.connection;
    return stored() || (connection && connection.downlink ? connection.downlink * 1e6 : null);
  }

  window.KakehashiLink = {
    startEstimate: function () {
      var known = lastKnown();
      return known ? known / 5 : 300000;
    },
    startsInAudio: function () {
      var known = lastKnown();
      return known !== null && known < ENTER_AUDIO;
    },
    meter: function () {
      var bps = null;
      var samples = 0;
      return {
        add: function (stats) {
          var ms = stats.loading.end - stats.loading.first;
          if (!stats.loaded || stats.loaded < MIN_BYTES || ms <= 0) { return; }
          var rate = stats.loaded * 8000 / ms;
          bps = bps === null ? rate : 0.5 * bps + 0.5 * rate;
          samples += 1;
          store(bps);
        },
        tooSlow: function () { return samples >= 2 && bps < ENTER_AUDIO; },
        recovered: function () { return samples >= 3 && bps > LEAVE_AUDIO; },
        reset: function () { bps = null; samples = 0; }
      };
    }
  };
})();
