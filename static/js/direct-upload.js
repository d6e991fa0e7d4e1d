// Large files in parts: straight to S3 through presigned URLs, or to the app on disk. A dropped
// connection costs one part, not the file: parts are retried, and choosing the same file again on
// the same page resumes where the store left off (the upload's token is kept in localStorage).
(function () {
  "use strict";

  var PARALLEL = 3;
  var RETRIES = 5;

  function remembered(purpose, targetId, file) {
    return ["kakehashi-upload", purpose, targetId, file.name, file.size, file.lastModified].join(":");
  }

  function api(method, url, csrf, body) {
    var headers = { Accept: "application/json", "X-CSRFToken": csrf };
    if (body !== undefined) { headers["Content-Type"] = "application/json"; }
    return fetch(url, {
      method: method, headers: headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var error = new Error(data.error || String(response.status));
          error.status = response.status;
          throw error;
        }
        return data;
      });
    });
  }

  function wait(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  // The SHA-256 of a part the app receives itself, so it keeps only what arrived intact (S3 checks
  // a presigned PUT's length itself). Without SubtleCrypto (not a secure context) the length must do.
  function checksum(blob) {
    if (!(window.crypto && window.crypto.subtle && blob.arrayBuffer)) { return Promise.resolve(null); }
    return blob.arrayBuffer().then(function (bytes) { return window.crypto.subtle.digest("SHA-256", bytes); })
      .then(function (digest) {
        return Array.prototype.map.call(new Uint8Array(digest), function (b) {
          return (b < 16 ? "0" : "") + b.toString(16);
        }).join("");
      }).catch(function () { return null; });
  }

  function sendPart(upload, number, blob, csrf, onBytes) {
    return api("GET", upload.status_url + "/parts/" + number, csrf).then(function (target) {
      return (target.direct ? Promise.resolve(null) : checksum(blob)).then(function (sha256) {
        return put(target, sha256);
      });
    });

    function put(target, sha256) {
      return new Promise(function (resolve, reject) {
        var xhr = new XMLHttpRequest();
        xhr.open("PUT", target.url);
        if (!target.direct) {  // our own route: same origin, CSRF like every change
          xhr.setRequestHeader("X-CSRFToken", csrf);
          xhr.setRequestHeader("Accept", "application/json");
          if (sha256) { xhr.setRequestHeader("X-Part-SHA256", sha256); }
        }
        var sent = 0;
        xhr.upload.addEventListener("progress", function (e) { onBytes(e.loaded - sent); sent = e.loaded; });
        xhr.addEventListener("load", function () {
          if (xhr.status >= 200 && xhr.status < 300) {
            var etag = target.direct ? xhr.getResponseHeader("ETag")
              : (JSON.parse(xhr.responseText || "{}").etag);
            resolve({ number: number, etag: String(etag || "").replace(/"/g, "") });
          } else {
            onBytes(-sent);
            var answer = {};
            try { answer = JSON.parse(xhr.responseText || "{}"); } catch (ignored) { answer = {}; }
            var error = new Error(answer.error || String(xhr.status));
            error.status = xhr.status;
            error.resend = answer.resend === true;  // the part arrived cut off or damaged: send it again
            reject(error);
          }
        });
        xhr.addEventListener("error", function () { onBytes(-sent); reject(new Error("network")); });
        xhr.send(blob);
      });
    }
  }

  // givenUp(): the whole upload has failed meanwhile, so stop retrying this part.
  function withRetries(attempt, givenUp) {
    var tries = 0;
    function go() {
      return attempt().catch(function (error) {
        tries += 1;
        // 4xx from the app means the request itself is wrong: retrying cannot help.
        if (tries >= RETRIES || (givenUp && givenUp()) || (!error.resend &&
            error.status >= 400 && error.status < 500 && error.status !== 403 && error.status !== 408)) {
          throw error;
        }
        return wait(Math.min(30000, 1000 * Math.pow(2, tries)) * (0.5 + Math.random())).then(function () {
          if (givenUp && givenUp()) { throw error; }
          return go();
        });
      });
    }
    return go();
  }

  // Resolves with the upload's token once the server has joined and checked the file.
  function send(options) {
    var file = options.file, csrf = options.csrf;
    var memo = remembered(options.purpose, options.targetId, file);
    var progress = options.onProgress || function () {};
    var previous = null;
    try { previous = window.localStorage.getItem(memo); } catch (ignored) { previous = null; }

    var begin = previous
      ? api("GET", "/uploads/" + encodeURIComponent(previous), csrf).then(function (upload) {
          if (upload.state !== "open" && upload.state !== "complete") { throw new Error("stale"); }
          return upload;
        }).catch(function () { return null; })
      : Promise.resolve(null);

    return begin.then(function (upload) {
      return upload || api("POST", "/uploads", csrf, {
        purpose: options.purpose, target_id: options.targetId, filename: file.name, size: file.size
      });
    }).then(function (upload) {
      try { window.localStorage.setItem(memo, upload.token); } catch (ignored) { /* private mode */ }
      if (upload.state === "complete") { return upload; }
      // Once one part has failed for good, the upload has failed: the other parts stop retrying and
      // stop reporting progress, which would otherwise overwrite the page's failure message.
      var done = {}, loaded = 0, failed = false;
      var stopped = function () { return failed; };
      upload.parts.forEach(function (p) { done[p.number] = p; loaded += p.size; });
      progress(loaded, file.size);
      var queue = [];
      for (var n = 1; n <= upload.part_count; n++) { if (!done[n]) { queue.push(n); } }

      function worker() {
        var number = failed ? undefined : queue.shift();
        if (number === undefined) { return Promise.resolve(); }
        var start = (number - 1) * upload.part_size;
        var blob = file.slice(start, Math.min(file.size, start + upload.part_size));
        return withRetries(function () {
          return sendPart(upload, number, blob, csrf, function (delta) {
            loaded += delta;
            if (!failed) { progress(loaded, file.size); }
          });
        }, stopped).then(function (part) { done[number] = part; return worker(); });
      }
      var workers = [];
      for (var i = 0; i < PARALLEL; i++) { workers.push(worker()); }
      return Promise.all(workers).catch(function (error) { failed = true; throw error; }).then(function () {
        var parts = Object.keys(done).map(function (k) { return { number: done[k].number, etag: done[k].etag }; });
        return withRetries(function () {
          return api("POST", upload.status_url + "/complete", csrf, { parts: parts });
        });
      });
    }).then(function (upload) {
      try { window.localStorage.removeItem(memo); } catch (ignored) { /* private mode */ }
      return upload.token;
    });
  }

  window.KakehashiUpload = { send: send };
}());
