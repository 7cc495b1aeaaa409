// The patient photo: the device's camera (getUserMedia), or a picture chosen
// from the device, shrunk here to a small portrait JPEG before it is sent, so
// a clinic's slow link carries 30–60 KB instead of megabytes.
(function () {
  'use strict';
  var WIDTH = 300;
  var HEIGHT = 400;
  var QUALITY = 0.8;

  function setup(box) {
    var video = box.querySelector('[data-camera-video]');
    var preview = box.querySelector('[data-camera-preview]');
    var start = box.querySelector('[data-camera-start]');
    var take = box.querySelector('[data-camera-take]');
    var file = box.querySelector('[data-camera-file]');
    var data = box.querySelector('[data-camera-data]');
    var stream = null;

    function stop() {
      if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
      stream = null;
      video.hidden = true;
      take.hidden = true;
    }

    // Crop the centre to 3:4 and scale to WIDTH×HEIGHT.
    function shrink(source, sw, sh) {
      var canvas = document.createElement('canvas');
      canvas.width = WIDTH;
      canvas.height = HEIGHT;
      var scale = Math.max(WIDTH / sw, HEIGHT / sh);
      var cw = WIDTH / scale;
      var ch = HEIGHT / scale;
      canvas.getContext('2d').drawImage(source, (sw - cw) / 2, (sh - ch) / 2, cw, ch, 0, 0, WIDTH, HEIGHT);
      var url = canvas.toDataURL('image/jpeg', QUALITY);
      data.value = url;
      preview.src = url;
      preview.hidden = false;
    }

    start.addEventListener('click', function () {
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
        file.click();
        return;
      }
      navigator.mediaDevices
        .getUserMedia({ video: { facingMode: 'user', width: { ideal: 640 } }, audio: false })
        .then(function (s) {
          stream = s;
          video.srcObject = s;
          video.hidden = false;
          preview.hidden = true;
          take.hidden = false;
          return video.play();
        })
        .then(function () { take.focus(); })
        .catch(function () { stop(); file.click(); });
    });

    take.addEventListener('click', function () {
      if (!video.videoWidth) return;
      shrink(video, video.videoWidth, video.videoHeight);
      stop();
    });

    file.addEventListener('change', function () {
      var f = file.files && file.files[0];
      if (!f) return;
      var img = new Image();
      var url = URL.createObjectURL(f);
      img.onload = function () {
        shrink(img, img.naturalWidth, img.naturalHeight);
        URL.revokeObjectURL(url);
      };
      img.src = url;
    });

    window.addEventListener('pagehide', stop);
  }

  document.querySelectorAll('[data-camera]').forEach(setup);
})();
