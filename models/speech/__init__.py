"""Speech: Whisper recognition on two backends, audio decoding, spoken replies.

The worker and the gateway use this door:

    model = load_model("tiny.en", device="cpu", backend="faster", models_dir=models_dir)
    transcript = transcribe(model, upload_bytes, AudioLimits(...), DecodeOptions(...))
    audio = Speaker(make_engine("piper", models_dir), "ogg", cache_dir).synthesize(reply)
"""

from models.speech.asr import (
    NO_SPEECH_REPLY,
    DecodeOptions,
    Segment,
    SpeechModel,
    Transcript,
    load_model,
    transcribe,
    transcribe_samples,
)
from models.speech.audio import (
    AudioError,
    AudioLimits,
    AudioTooLarge,
    AudioTooLong,
    CorruptAudio,
    EmptyAudio,
    SpeechGate,
    UnsupportedAudio,
    decode_audio,
    trim_silence,
)
from models.speech.locate import BACKENDS, Backend, ModelNotFound, resolve_model
from models.speech.tts import EspeakEngine, PiperEngine, Speaker, TTSEngine, TTSError, make_engine

__all__ = [
    "BACKENDS",
    "NO_SPEECH_REPLY",
    "AudioError",
    "AudioLimits",
    "AudioTooLarge",
    "AudioTooLong",
    "Backend",
    "CorruptAudio",
    "DecodeOptions",
    "EmptyAudio",
    "EspeakEngine",
    "ModelNotFound",
    "PiperEngine",
    "Segment",
    "Speaker",
    "SpeechGate",
    "SpeechModel",
    "TTSEngine",
    "TTSError",
    "Transcript",
    "UnsupportedAudio",
    "decode_audio",
    "load_model",
    "make_engine",
    "resolve_model",
    "transcribe",
    "transcribe_samples",
    "trim_silence",
]
