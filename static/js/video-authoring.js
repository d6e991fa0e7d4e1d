// Lesson editor: upload a video with a progress bar, then follow its transcoding live.
(function () {
  "use strict";

  function csrf(form) { return form.querySelector("input[name=csrf_token]").value; }

  var form = document.getElementById("video-upload");
  if (form) {
    form.addEventListener("submit", function (event) {
      var input = form.querySelector("input[type=file]");
      if (!input.files.length || !window.XMLHttpRequest) { return; }  // let the plain form submit
      event.preventDefault();
      var file = input.files[0];
      var bar = form.querySelector(".upload-progress");
      var message = form.querySelector(".upload-message");
      var button = form.querySelector("button[type=submit]");
      if (window.KakehashiUpload && window.fetch && form.dataset.lessonId) {
        sendInParts(form, file, bar, message, button);
        return;
      }
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("X-CSRFToken", csrf(form));
      xhr.setRequestHeader("X-Upload-Name", encodeURIComponent(file.name));
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("Content-Type", file.type || "application/octet-stream");
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) {
          bar.value = Math.round((e.loaded / e.total) * 100);
          message.textContent = bar.value + " %";
        }
      });
      xhr.addEventListener("load", function () {
        button.disabled = false;
        var body = {};
        try { body = JSON.parse(xhr.responseText); } catch (ignored) { body = {}; }
        if (xhr.status === 201) {
          message.textContent = form.dataset.msgDone;
          window.location.reload();
        } else {
          bar.hidden = true;
          message.textContent = form.dataset.msgFailed + " " + (body.error || xhr.status);
        }
      });
      xhr.addEventListener("error", function () {
        button.disabled = false;
        bar.hidden = true;
        message.textContent = form.dataset.msgNetwork;
      });
      bar.hidden = false;
      bar.value = 0;
      button.disabled = true;
      xhr.send(file);
    });
  }

  // Resumable: parts go to the store (S3 directly), then the lesson claims the finished upload.
  function sendInParts(form, file, bar, message, button) {
    bar.hidden = false;
    bar.value = 0;
    button.disabled = true;
    window.KakehashiUpload.send({
      file: file, purpose: "lesson_video", targetId: form.dataset.lessonId, csrf: csrf(form),
      onProgress: function (loaded, total) {
        bar.value = Math.round((loaded / total) * 100);
        message.textContent = bar.value + " %";
      }
    }).then(function (token) {
      return fetch(form.action, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf(form) },
        body: JSON.stringify({ upload: token })
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          if (response.status !== 201) { throw new Error(body.error || String(response.status)); }
        });
      });
    }).then(function () {
      message.textContent = form.dataset.msgDone;
      window.location.reload();
    }).catch(function (error) {
      button.disabled = false;
      bar.hidden = true;
      message.textContent = error.message === "network" || error.message === "Failed to fetch"
        ? form.dataset.msgNetwork : form.dataset.msgFailed + " " + error.message;
    });
  }

  function follow(box) {
    var text = box.querySelector(".status-text");
    var bar = box.querySelector("progress");
    function poll() {
      fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (s) {
          if (s.state === "ready" || s.state === "failed") { window.location.reload(); return; }
          var line = box.dataset["msg" + s.state.charAt(0).toUpperCase() + s.state.slice(1)] || s.state;
          if (s.state === "transcoding") {
            line += " " + s.percent + " %";
            if (s.eta_seconds !== null) { line += " · " + box.dataset.msgLeft.replace("{s}", s.eta_seconds); }
          }
          if (s.state === "retrying" && s.error) { line += " (" + s.error + ")"; }
          text.textContent = line;
          if (bar) { bar.value = s.percent; }
          window.setTimeout(poll, 2000);
        })
        .catch(function () { window.setTimeout(poll, 5000); });
    }
    window.setTimeout(poll, 1500);
  }

  document.querySelectorAll(".video-status").forEach(function (box) {
    if (["queued", "transcoding", "retrying"].indexOf(box.dataset.state) !== -1) { follow(box); }
  });
})();
