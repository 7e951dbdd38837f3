// Recording a spoken question with MediaRecorder, in a format the speech worker decodes.

const TYPES = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/webm", "audio/mp4"];
const LONGEST_MS = 60_000;  // a question, not a podcast: stop and send after a minute

export class Recorder {
  constructor() {
    this.recording = false;
    this.media = null;
    this.chunks = [];
    this.limit = 0;
  }

  async start() {
    if (!navigator.mediaDevices || !window.MediaRecorder) {
      throw new Error("This browser can't record: type the question instead.");
    }
    this.recording = true;
    let microphone;
    try {
      microphone = await navigator.mediaDevices.getUserMedia({
        audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true },
      });
    } catch (error) {
      this.recording = false;
      throw new Error(error.name === "NotAllowedError"
        ? "Cradle may not use the microphone: allow it in the browser's site settings."
        : "No microphone was found.");
    }
    if (!this.recording) {  // released before the microphone opened
      microphone.getTracks().forEach((track) => track.stop());
      return;
    }
    const mimeType = TYPES.find((type) => MediaRecorder.isTypeSupported(type));
    this.media = new MediaRecorder(microphone, mimeType ? { mimeType } : {});
    this.chunks = [];
    this.media.addEventListener("dataavailable", (event) => {
      if (event.data.size) this.chunks.push(event.data);
    });
    this.media.start(250);
    this.limit = setTimeout(() => this.stop(), LONGEST_MS);
  }

  /** Stops and returns the recording as one Blob (null when nothing was recorded). */
  stop() {
    clearTimeout(this.limit);
    const media = this.media;
    this.recording = false;
    this.media = null;
    if (!media || media.state === "inactive") return Promise.resolve(null);
    return new Promise((resolve) => {
      media.addEventListener("stop", () => {
        media.stream.getTracks().forEach((track) => track.stop());
        resolve(this.chunks.length ? new Blob(this.chunks, { type: media.mimeType }) : null);
      }, { once: true });
      media.stop();
    });
  }
}
