// Timestamped comments on a submitted video: click the timeline (or press "Use the current
// moment") to fill the comment's second; markers and time codes seek the video. Without this
// script the second is typed by hand and everything else still works.
(function () {
  "use strict";
  var video = document.getElementById("lesson-video");
  var timeline = document.getElementById("comment-timeline");
  var second = document.getElementById("comment-second");
  var now = document.getElementById("comment-now");
  var text = document.getElementById("comment-text");
  if (!video) { return; }

  function duration() {
    return isFinite(video.duration) && video.duration > 0 ? video.duration
      : parseFloat((timeline && timeline.dataset.duration) || "0");
  }
  function pick(at) {
    video.currentTime = at;
    if (second) { second.value = at.toFixed(2); }
    if (text) { text.focus(); }
  }
  function seekButtons() {
    document.querySelectorAll("[data-seek]").forEach(function (button) {
      button.addEventListener("click", function () {
        video.currentTime = parseFloat(button.dataset.seek);
        video.play();
      });
    });
  }
  function markers() {
    var total = duration();
    if (!timeline || !total) { return; }
    timeline.querySelectorAll(".marker").forEach(function (m) { m.remove(); });
    document.querySelectorAll(".timed-comments li[data-second]").forEach(function (item) {
      var marker = document.createElement("span");
      marker.className = "marker";
      marker.style.left = Math.min(100, (parseFloat(item.dataset.second) / total) * 100) + "%";
      timeline.appendChild(marker);
    });
  }

  if (timeline) {
    timeline.hidden = false;
    timeline.addEventListener("click", function (event) {
      var box = timeline.getBoundingClientRect();
      var total = duration();
      if (!total || !box.width) { return; }
      pick(Math.max(0, Math.min(1, (event.clientX - box.left) / box.width)) * total);
    });
    timeline.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); pick(video.currentTime); }
    });
    video.addEventListener("loadedmetadata", markers);
    markers();
  }
  if (now) {
    now.hidden = false;
    now.addEventListener("click", function () { pick(video.currentTime); });
  }
  seekButtons();
})();
