"""ffmpeg for the narration: loudness measurement, mastering to -16 LUFS, MP3/M4B encoding, decoding.

Every call is bit-exact (`-fflags +bitexact -flags:a +bitexact`, no copied metadata), so the same
samples always give the same bytes.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .config import setting
from .errors import PipelineError

EXACT = ["-fflags", "+bitexact", "-flags:a", "+bitexact", "-map_metadata", "-1"]
# The limiter's sample-peak ceiling, below the -1 dBTP limit: inter-sample peaks and MP3/AAC
# encoding add up to about 1 dB on this voice.
LIMITER_CEILING_DB = -4.0
MASTERING_ROUNDS = 6
# LAME scales what it encodes by 0.95 (-0.445 dB; measured here on a sine and on speech alike),
# so the MP3 encoder is fed that much more to come out at the target.
LAME_MAKEUP_DB = 0.445
# The voices are sampled at 22-24 kHz, so nothing lies above 11 kHz; telling ffmpeg's AAC encoder
# so stopped it from overshooting to +1 dBTP on a sibilant (seen on the sample FAQ at 64 kbps).
# Its "fast" coder is 3x quicker than the default twoloop and as clean on speech (-2.8 dBTP there).
AAC_CUTOFF_HZ = 11000


@functools.cache
def ffmpeg() -> str:
    """Debian's ffmpeg, or the binary imageio-ffmpeg ships when there is none."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run ffmpeg quietly; a failure becomes one PipelineError line with ffmpeg's last words."""
    command = [ffmpeg(), "-hide_banner", "-nostdin", "-nostats", *args]
    done = subprocess.run(command, input=stdin, capture_output=True, check=False)
    if done.returncode != 0:
        last = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
        raise PipelineError(f"ffmpeg failed ({' '.join(args[:4])} ...): {last[0]}")
    return done


@dataclass(frozen=True)
class Loudness:
    """EBU R128 integrated loudness (LUFS) and true peak (dBTP) of a sound."""

    integrated: float
    true_peak: float


def measure(path: Path, before: str = "") -> Loudness:
    """Loudness of a file as ffmpeg's ebur128 filter measures it (after optional filters)."""
    chain = (before + "," if before else "") + "ebur128=peak=true:framelog=verbose"
    log = run("-v", "info", "-i", str(path), "-af", chain, "-f", "null", "-").stderr.decode("utf-8", "replace")
    summary = log[log.rfind("Summary:"):]
    integrated = re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary)
    peak = re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary)
    if not integrated or not peak:
        raise PipelineError(f"could not measure the loudness of {path.name}")
    return Loudness(float(integrated.group(1)), float(peak.group(1)))


def _chain(drive_db: float) -> str:
    """Resample to the output rate, then drive into a delay-compensated limiter (peaks never pass it)."""
    rate = int(setting("sample_rate"))
    ceiling = 10 ** (LIMITER_CEILING_DB / 20)
    return (
        f"aresample={rate},volume={drive_db:.3f}dB,"
        f"alimiter=limit={ceiling:.4f}:attack=2:release=60:level=0:latency=1"
    )


def integrated(path: Path, chain: str) -> float:
    """Integrated loudness only (no true peak), the quick measurement the mastering loop needs."""
    log = run("-v", "info", "-i", str(path), "-af", chain + ",ebur128=framelog=verbose", "-f", "null", "-")
    summary = log.stderr.decode("utf-8", "replace")
    found = re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary[summary.rfind("Summary:"):])
    if not found:
        raise PipelineError(f"could not measure the loudness of {path.name}")
    return float(found.group(1))


def mastering_gain(wav: Path) -> float:
    """The drive into the limiter that leaves a section at the loudness target, found by the secant method.

    The limiter takes back part of each decibel of drive, so the first guess (target minus the raw
    loudness) falls short; each further guess follows the measured slope. Deterministic: the same
    speech always gives the same gain.
    """
    target = float(setting("loudness_lufs"))
    tried: list[tuple[float, float]] = []
    drive = target - integrated(wav, f"aresample={int(setting('sample_rate'))}")
    for _ in range(MASTERING_ROUNDS):
        drive = round(drive, 2)
        loudness = integrated(wav, _chain(drive))
        tried.append((drive, loudness))
        if abs(loudness - target) < 0.05:
            break
        if len(tried) == 1:
            drive += 2 * (target - loudness)  # the limiter gives back about half
        else:
            (d0, l0), (d1, l1) = tried[-2], tried[-1]
            slope = (l1 - l0) / (d1 - d0) if d1 != d0 else 0.5
            drive = d1 + (target - l1) / max(slope, 0.1)
    return min(tried, key=lambda t: abs(t[1] - target))[0]


def master(wav: Path, drive_db: float, out: Path) -> Path:
    """Write the mastered section: mono 16-bit WAV at the output rate, at the loudness target."""
    run("-y", "-i", str(wav), "-af", _chain(drive_db), "-ac", "1",
        "-c:a", "pcm_s16le", *EXACT, str(out))
    return out


def encode_mp3(wav: Path, out: Path, metadata: Path | None = None) -> Path:
    """Constant-bit-rate mono MP3 with a LAME header (encoder delay and padding for gapless timing).

    With an ffmetadata file, ffmpeg writes its tags and chapters as ID3v2.3, the CHAP frames in
    reading order under an ordered CTOC (mutagen would sort them by size).
    """
    tags = (["-f", "ffmetadata", "-i", str(metadata), "-map", "0:a", "-map_metadata", "1", "-map_chapters", "1",
             "-id3v2_version", "3"] if metadata else ["-map_metadata", "-1", "-id3v2_version", "0"])
    run("-y", "-i", str(wav), *tags, "-af", f"volume={LAME_MAKEUP_DB}dB", "-ac", "1",
        "-ar", str(int(setting("sample_rate"))), "-c:a", "libmp3lame", "-b:a", str(setting("bitrate")),
        "-write_xing", "1", "-write_id3v1", "0", "-fflags", "+bitexact", "-flags:a", "+bitexact", "-f", "mp3", str(out))
    return out


def encode_m4b(wav: Path, chapters: Path, out: Path, language: str) -> Path:
    """AAC audiobook with chapters and tags from an ffmetadata file; `language` is ISO 639-2."""
    run("-y", "-i", str(wav), "-f", "ffmetadata", "-i", str(chapters), "-map", "0:a",
        "-map_metadata", "1", "-map_chapters", "1", "-metadata:s:a:0", f"language={language}", "-ac", "1", "-ar", str(int(setting("sample_rate"))),
        "-c:a", "aac", "-aac_coder", "fast", "-b:a", str(setting("bitrate")), "-cutoff", str(AAC_CUTOFF_HZ), "-fflags", "+bitexact", "-flags:a", "+bitexact",
        "-movflags", "+faststart", "-f", "ipod", str(out))
    return out


def decode(path: Path, sample_rate: int, fmt: str = "s16le") -> bytes:
    """Raw mono PCM of any sound file (speech recognition wants 16 kHz 16-bit)."""
    return run("-i", str(path), "-ac", "1", "-ar", str(sample_rate), "-f", fmt, "-").stdout


def mp3_from_bytes(mp3: bytes, sample_rate: int) -> bytes:
    """Float32 mono PCM of MP3 bytes (what gTTS returns)."""
    return run("-f", "mp3", "-i", "pipe:0", "-ac", "1", "-ar", str(sample_rate), "-f", "f32le", "-", stdin=mp3).stdout
