"""Transcription and analysis. The word error rate threshold is measured, not hoped for: PocketSphinx on
espeak-ng's en-us+klatt2 voice gave WER 0.28 on WAV and 0.22 on WebM/Opus for these eight sentences
(pocketsphinx 5.1.1, espeak-ng 1.51, PyAV 18.1.0); the tests allow 0.40."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import jiwer
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from conversations import analysis, audio, transcription
from onboarding import services as onboarding_services
from tests.conversations.audio_files import wav_bytes
from tests.conversations.speech import SENTENCES, speak, to_webm_opus

WER_THRESHOLD = 0.40


@pytest.fixture
def spoken(tmp_path):
    return [speak(sentence, tmp_path / f"{n}.wav") for n, sentence in enumerate(SENTENCES)]


def test_pocketsphinx_transcribes_synthetic_speech_under_the_measured_error_rate(spoken):
    transcriber = transcription.PocketSphinxTranscriber()
    hypotheses = [transcriber.transcribe(path) for path in spoken]
    assert jiwer.wer(SENTENCES, hypotheses) < WER_THRESHOLD, hypotheses


def test_a_browser_recording_in_webm_opus_is_transcribed_too(spoken, tmp_path):
    transcriber = transcription.PocketSphinxTranscriber()
    hypotheses = [transcriber.transcribe(to_webm_opus(path, tmp_path / f"{n}.webm")) for n, path in enumerate(spoken)]
    assert jiwer.wer(SENTENCES, hypotheses) < WER_THRESHOLD, hypotheses


def test_the_result_depends_only_on_the_file(spoken):
    transcriber = transcription.PocketSphinxTranscriber()
    first = transcriber.transcribe(spoken[0])
    transcriber.transcribe(spoken[1])
    assert transcriber.transcribe(spoken[0]) == first


def test_silence_gives_an_empty_or_short_transcript(tmp_path):
    path = tmp_path / "silence.wav"
    path.write_bytes(wav_bytes(seconds=0.5, tone=0))
    assert len(transcription.PocketSphinxTranscriber().transcribe(path).split()) <= 1


@pytest.mark.django_db
def test_the_upload_api_transcribes_with_the_configured_backend(settings, user, client_for, tmp_path):
    settings.CONVERSATIONS_TRANSCRIBER = "conversations.transcription.PocketSphinxTranscriber"
    webm = to_webm_opus(speak("please pray for my sister", tmp_path / "a.wav"), tmp_path / "a.webm")
    with open(webm, "rb") as file:
        audio_file = SimpleUploadedFile("recording.webm", file.read(), content_type="audio/webm;codecs=opus")
    response = client_for(user).post("/api/conversations/upload-audio", {"session_id": "s", "audio": audio_file})
    assert response.status_code == 201
    body = response.json()
    assert jiwer.wer("please pray for my sister", body["transcript"]) <= 0.4
    assert body["analysis"]["duration_seconds"] > 1


# --- decoding ---


def test_stereo_44k_audio_is_down_mixed_and_resampled_to_16k_mono(tmp_path):
    path = tmp_path / "stereo.wav"
    path.write_bytes(wav_bytes(seconds=1.0, rate=44100, channels=2))
    pcm = audio.decode(path)
    assert pcm.sample_rate == 16000
    assert pcm.duration == pytest.approx(1.0, abs=0.01)
    assert len(pcm.samples) == pytest.approx(32000, abs=100)  # 16-bit mono: 2 bytes a sample


@pytest.mark.parametrize("content", [b"", b"RIFF....WAVEnonsense", b"\x00" * 1000])
def test_what_is_not_audio_is_an_audio_error(tmp_path, content):
    path = tmp_path / "x.wav"
    path.write_bytes(content)
    with pytest.raises(audio.AudioError):
        audio.decode(path)


# --- the cloud backend ---


def test_the_openai_compatible_backend_posts_the_file_with_the_key(settings, tmp_path):
    seen = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (the http.server API)
            seen["auth"] = self.headers["Authorization"]
            seen["body"] = self.rfile.read(int(self.headers["Content-Length"]))
            payload = json.dumps({"text": " hello there "}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.handle_request)
    thread.start()
    try:
        settings.CONVERSATIONS_TRANSCRIPTION_URL = f"http://127.0.0.1:{server.server_port}/v1/audio/transcriptions"
        settings.CONVERSATIONS_TRANSCRIPTION_API_KEY = "sk-test"
        path = tmp_path / "a.wav"
        path.write_bytes(wav_bytes())
        assert transcription.OpenAICompatibleTranscriber().transcribe(path) == "hello there"
    finally:
        thread.join(timeout=10)
        server.server_close()
    assert seen["auth"] == "Bearer sk-test"
    assert b'name="model"\r\n\r\nwhisper-1' in seen["body"]
    assert wav_bytes() in seen["body"]


def test_the_cloud_backend_without_a_key_is_a_clear_error(settings, tmp_path):
    settings.CONVERSATIONS_TRANSCRIPTION_API_KEY = ""
    with pytest.raises(transcription.TranscriptionError, match="key"):
        transcription.OpenAICompatibleTranscriber().transcribe(tmp_path / "a.wav")


# --- analysis ---


def test_analysis_counts_words_rate_keywords_sentiment_and_questions():
    text = "The roof is great. I love the new roof! When can the roof crew come back? Tomorrow works."
    result = analysis.analyze(text, duration=30)
    assert result["word_count"] == 18
    assert result["words_per_minute"] == 36.0
    assert result["keywords"][0] == "roof"
    assert result["sentiment"]["label"] == "positive"
    assert result["questions"] == ["When can the roof crew come back?"]


def test_negative_and_neutral_sentiment():
    assert analysis.sentiment("This is terrible, the tiles are broken and I hate it")["label"] == "negative"
    assert analysis.sentiment("The delivery is on Tuesday")["label"] == "neutral"


def test_an_empty_transcript_has_an_empty_analysis():
    result = analysis.analyze("", duration=None)
    assert (result["word_count"], result["words_per_minute"], result["keywords"], result["questions"]) == (
        0,
        None,
        [],
        [],
    )


@pytest.mark.django_db
def test_the_cloud_backend_bills_the_users_own_openai_key_when_they_saved_one(settings, user, other_user):
    settings.CONVERSATIONS_TRANSCRIBER = "conversations.transcription.OpenAICompatibleTranscriber"
    settings.CONVERSATIONS_TRANSCRIPTION_API_KEY = "sk-site"
    own = "sk-" + "u" * 40
    onboarding_services.save_api_key(user=user, provider="openai", key=own)

    assert transcription.get_transcriber(user=user).api_key == own
    assert transcription.get_transcriber(user=other_user).api_key == "sk-site"  # never another user's key
    settings.CONVERSATIONS_TRANSCRIPTION_API_KEY = ""
    with pytest.raises(transcription.TranscriptionError, match="add your OpenAI key"):
        transcription.get_transcriber(user=other_user).transcribe("unused.wav")
