// Forms marked data-upload-progress send their files with a progress bar, then follow the
// server's answer (the receipt, or the page with the error). Without JavaScript they still post.
(function () {
  "use strict";
  document.querySelectorAll("form[data-upload-progress]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.XMLHttpRequest || !window.FormData) { return; }
      event.preventDefault();
      var bar = form.querySelector(".upload-progress");
      var message = form.querySelector(".upload-message");
      var button = form.querySelector("button[type=submit]");
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) {
          bar.hidden = false;
          bar.value = Math.round((e.loaded / e.total) * 100);
          message.textContent = bar.value + " %";
        }
      });
      xhr.addEventListener("load", function () {
        // Show the page the server answered with (it was already fetched, with its one-time messages).
        if (xhr.responseURL) { window.history.replaceState(null, "", xhr.responseURL); }
        document.open();
        document.write(xhr.responseText);
        document.close();
      });
      xhr.addEventListener("error", function () {
        button.disabled = false;
        message.textContent = form.dataset.msgNetwork;
      });
      button.disabled = true;  // one click, one submission (the server also de-duplicates)
      var big = form.querySelector("input[type=file][data-direct-upload]");
      if (big && big.files.length && window.KakehashiUpload && window.fetch) {
        // Videos and builds go first, in resumable parts; the form then names the finished upload.
        window.KakehashiUpload.send({
          file: big.files[0], purpose: big.dataset.directUpload, targetId: form.dataset.targetId,
          csrf: form.querySelector("input[name=csrf_token]").value,
          onProgress: function (loaded, total) {
            bar.hidden = false;
            bar.value = Math.round((loaded / total) * 100);
            message.textContent = bar.value + " %";
          }
        }).then(function (token) {
          var data = new FormData(form);
          data.delete(big.name);
          data.append("media_upload", token);
          xhr.send(data);
        }).catch(function (error) {
          button.disabled = false;
          bar.hidden = true;
          message.textContent = error.message === "network" || error.message === "Failed to fetch"
            ? form.dataset.msgNetwork : (form.dataset.msgFailed || "") + " " + error.message;
        });
        return;
      }
      xhr.send(new FormData(form));
    });
  });
})();
