// Record with MediaRecorder (or take a chosen file) and post it to the upload API with a fresh
// session_id and an Idempotency-Key, so a retried upload is stored once.
(function () {
  "use strict";
  const form = document.getElementById("recorder");
  if (!form) return;
  const start = document.getElementById("start");
  const stop = document.getElementById("stop");
  const status = document.getElementById("status");
  const fileInput = document.getElementById("audio");
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  let recorder = null;
  let chunks = [];
  let recorded = null;

  function say(text) { status.textContent = text; }

  async function upload(blob, name) {
    const sessionId = crypto.randomUUID();
    const data = new FormData();
    data.append("session_id", sessionId);
    data.append("audio", blob, name);
    say("Uploading and transcribing…");
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const response = await fetch(form.dataset.uploadUrl, {
          method: "POST", body: data, credentials: "same-origin",
          headers: { "X-CSRFToken": csrf, "Idempotency-Key": sessionId },
        });
        const body = await response.json();
        if (response.ok) { window.location = body.url; return; }
        if (response.status !== 409) { say(body.error || body.detail || "The upload failed."); return; }
      } catch (error) { /* network trouble: retry with the same key */ }
      await new Promise((resolve) => setTimeout(resolve, 1000 * (attempt + 1)));
    }
    say("The upload failed. Try again.");
  }

  if (window.MediaRecorder && navigator.mediaDevices) {
    start.hidden = false;
    stop.hidden = false;
    start.addEventListener("click", async () => {
      try {
        const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
        recorder = new MediaRecorder(stream);
        chunks = [];
        recorder.addEventListener("dataavailable", (event) => chunks.push(event.data));
        recorder.addEventListener("stop", () => {
          stream.getTracks().forEach((track) => track.stop());
          recorded = new Blob(chunks, { type: recorder.mimeType || "audio/webm" });
          say("Recorded " + Math.round(recorded.size / 1024) + " KB. Press Upload.");
        });
        recorder.start();
        start.disabled = true;
        stop.disabled = false;
        say("Recording…");
      } catch (error) {
        say("The microphone is not available: " + error.message);
      }
    });
    stop.addEventListener("click", () => {
      if (recorder && recorder.state === "recording") recorder.stop();
      start.disabled = false;
      stop.disabled = true;
    });
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (fileInput.files.length) upload(fileInput.files[0], fileInput.files[0].name);
    else if (recorded) upload(recorded, "recording.webm");
    else say("Record something or choose a file first.");
  });
})();
