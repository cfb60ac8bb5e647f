"""Converting a minute of 44.1 kHz stereo WAV costs the serving process no CPU: it runs in a worker process."""
import asyncio
import io
import time
import wave

import pytest

from api import cpu_pool
from api.media.audio_convert import wav_to_pcm


def minute_of_stereo_wav() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(44100)
        out.writeframes(bytes(range(256)) * (44100 * 60 * 4 // 256))
    return buffer.getvalue()


@pytest.fixture
def one_worker(settings):
    settings.CPU_WORKER_PROCESSES = 1
    cpu_pool.shutdown()
    yield
    cpu_pool.shutdown()


def test_wav_conversion_runs_in_a_worker_process_not_on_this_ones_cpu(one_worker):
    data = minute_of_stereo_wav()
    asyncio.run(cpu_pool.run_cpu(len, b""))  # the worker is started (spawned) before measuring
    started = time.process_time()
    pcm = asyncio.run(cpu_pool.run_cpu(wav_to_pcm, data))
    spent = time.process_time() - started
    assert abs(len(pcm) - 24000 * 60 * 2) < 100  # a minute at 24 kHz mono s16le
    assert spent < 0.3, f"the serving process spent {spent:.2f} s of CPU on the conversion"
