"""ffmpeg for the narration: loudness measurement, mastering to -16 LUFS, section encoding, joining
encoded sections into the whole narration without re-encoding, decoding.

Every call is bit-exact (`-fflags +bitexact -flags:a +bitexact`, no copied metadata), so the same
samples always give the same bytes.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

from ..config import setting
from ..errors import PipelineError

EXACT = ["-fflags", "+bitexact", "-flags:a", "+bitexact", "-map_metadata", "-1"]
# The limiter's sample-peak ceiling, below the -1 dBTP limit: inter-sample peaks and MP3/AAC
# encoding add to it, by up to 3.3 dB at 64 kbps (one benchmark handout's section went from -3.5
# dBTP as WAV to -0.7 as MP3 with a -4 dB ceiling; -3.1 with this one).
LIMITER_CEILING_DB = -5.0
MASTERING_ROUNDS = 6
# How close to the target a section is mastered: far inside the check's ±1 LU, and no listener
# hears 0.1 LU between sections.
MASTERING_TOLERANCE_LU = 0.1
# Loudness gained per dB of drive into the limiter, on Piper's Joe voice (measured: 0.35-0.46).
LIMITER_KEEPS = 0.4
# LAME scales what it encodes by 0.95 (-0.445 dB; measured here on a sine and on speech alike),
# so the MP3 encoder is fed that much more to come out at the target.
LAME_MAKEUP_DB = 0.445
# The voices are sampled at 22-24 kHz, so nothing lies above 11 kHz; telling ffmpeg's AAC encoder
# so stopped it from overshooting to +1 dBTP on a sibilant (seen on the sample FAQ at 64 kbps).
# Its "fast" coder is 3x quicker than the default twoloop and as clean on speech (-2.8 dBTP there).
AAC_CUTOFF_HZ = 11000
AAC_FRAME = 1024  # samples per AAC packet


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
    """Resample to the output rate, then drive into a delay-compensated limiter (peaks never pass it).

    Limiting at the voice's own 22 kHz and resampling after it let inter-sample peaks through
    (-0.8 dBTP on the FAQ), so the limiter works at the output rate.
    """
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

    The limiter takes back most of each decibel of drive (this voice keeps about 0.4 LU of it), so
    the first guess divides the shortfall by that, and each further guess follows the slope measured
    between the last two tries. Usually three measurements; deterministic, so the same speech always
    gets the same gain.
    """
    target = float(setting("loudness_lufs"))
    tried = [(0.0, integrated(wav, "anull"))]
    drive = (target - tried[0][1]) / LIMITER_KEEPS
    for _ in range(MASTERING_ROUNDS):
        drive = round(drive, 2)
        loudness = integrated(wav, _chain(drive))
        tried.append((drive, loudness))
        if abs(loudness - target) < MASTERING_TOLERANCE_LU:
            break
        (d0, l0), (d1, l1) = tried[-2], tried[-1]
        slope = (l1 - l0) / (d1 - d0) if d1 != d0 else LIMITER_KEEPS
        drive = d1 + (target - l1) / max(slope, 0.1)
    return min(tried, key=lambda t: abs(t[1] - target))[0]


def master(wav: Path, drive_db: float, mp3: Path, m4a: Path, mastered: Path) -> int:
    """Master a section once and write it three ways in one ffmpeg run: CBR MP3, AAC for the M4B,
    and 16-bit WAV at the output rate (its length in samples, returned, is what the timings are
    measured against).

    The MP3 has a LAME header (encoder delay and padding, for gapless timing) and no tags, so a
    cached encoding serves every document whose section sounds the same. The AAC needs its length
    before it starts (see `encode_aac`): known when the output rate is a whole multiple of the
    voice's, as it is for Piper and eSpeak; otherwise it is encoded from the WAV afterwards.
    """
    expected = _mastered_length(wav)
    split = "asplit=2[wav][pre]" if expected is None else "asplit=3[wav][pre][aac]"
    graph = f"[0:a]{_chain(drive_db)},{split};[pre]volume={LAME_MAKEUP_DB}dB[mp3]"
    aac: list[str] = []
    if expected is not None:
        graph += f";[aac]aformat=sample_fmts=s16,apad=whole_len={_whole_frames(expected)}[aacpad]"
        aac = ["-map", "[aacpad]", *_aac_output(), str(m4a)]
    run("-y", "-i", str(wav), "-filter_complex", graph,
        "-map", "[mp3]", "-ac", "1", "-c:a", "libmp3lame", "-b:a", str(setting("bitrate")), "-write_xing", "1",
        "-id3v2_version", "0", "-write_id3v1", "0", *EXACT, "-f", "mp3", str(mp3),
        "-map", "[wav]", "-ac", "1", "-c:a", "pcm_s16le", *EXACT, str(mastered), *aac)
    with wave.open(str(mastered)) as sound:
        samples = sound.getnframes()
    if samples != expected:
        encode_aac(mastered, samples, m4a)
    if measure(m4a).true_peak > float(setting("true_peak_db")):  # the fast coder overshot a sharp onset
        encode_aac(mastered, samples, m4a, coder="twoloop")
    return samples


def _mastered_length(wav: Path) -> int | None:
    """How many samples mastering will give, when the output rate is a whole multiple of the input's."""
    with wave.open(str(wav)) as sound:
        frames, rate = sound.getnframes(), sound.getframerate()
    out = int(setting("sample_rate"))
    return frames * (out // rate) if out % rate == 0 else None


def _whole_frames(samples: int) -> int:
    """`samples` rounded up to whole AAC frames."""
    return -(-samples // AAC_FRAME) * AAC_FRAME


def _aac_output(coder: str = "fast") -> list[str]:
    """How a section is written as AAC: mono, fast coder (or, where the fast one overshoots the
    true-peak limit on a sharp onset, the two-loop coder), no edit list, bit-exact."""
    return ["-ac", "1", "-c:a", "aac", "-aac_coder", coder, "-b:a", str(setting("bitrate")),
            "-cutoff", str(AAC_CUTOFF_HZ), *EXACT, "-use_editlist", "0", "-f", "ipod"]


def encode_aac(mastered: Path, samples: int, out: Path, coder: str = "fast") -> Path:
    """The mastered section as AAC (for the M4B), padded with silence to whole AAC frames.

    Whole frames and no edit list (the encoder's first, near-silent frame of priming stays in)
    make every packet the same length, so sections joined end to end keep their times to the
    sample; with an edit list the joined file's packet times and its decoded sound drift apart.
    """
    run("-y", "-i", str(mastered), "-af", f"apad=whole_len={_whole_frames(samples)}", *_aac_output(coder), str(out))
    return out


@dataclass(frozen=True)
class Packet:
    """One encoded packet's presentation time and length, in seconds."""

    start: float
    length: float


def packets(path: Path) -> list[Packet]:
    """An encoded file's packets, read without decoding: where joined sections begin."""
    listing = run("-i", str(path), "-map", "0:a", "-c", "copy", "-f", "framecrc", "-").stdout.decode("ascii", "replace")
    return _listed_packets(listing, path)


def packet_counts(paths: list[Path]) -> list[int]:
    """How many packets each encoded file holds, all read (not decoded) in one ffmpeg run."""
    listings = [path.with_name(path.name + ".packets") for path in paths]
    args = [arg for path in paths for arg in ("-i", str(path))]
    for number, listing in enumerate(listings):
        args += ["-map", f"{number}:a", "-c", "copy", "-f", "framecrc", str(listing)]
    run("-y", *args)
    counts = [len(_listed_packets(listing.read_text(encoding="ascii", errors="replace"), path))
              for listing, path in zip(listings, paths)]
    for listing in listings:
        listing.unlink()
    return counts


def _listed_packets(listing: str, path: Path) -> list[Packet]:
    """The packets in ffmpeg's framecrc listing of one file."""
    base = re.search(r"^#tb 0: 1/(\d+)", listing, re.M)
    rows = [line.split(",") for line in listing.splitlines() if line and not line.startswith("#")]
    if not base or not rows:
        raise PipelineError(f"could not read the packets of {path.name}")
    scale = int(base.group(1))
    return [Packet(int(row[2]) / scale, int(row[3]) / scale) for row in rows]


def join(parts: list[Path], out: Path, muxer: str) -> Path:
    """Join encoded sections end to end without re-encoding (ffmpeg's concat demuxer, packets copied)."""
    listing = out.with_suffix(out.suffix + ".parts")
    listing.write_text("ffconcat version 1.0\n" + "".join(f"file '{_quoted(p)}'\n" for p in parts), encoding="utf-8")
    run("-y", "-f", "concat", "-safe", "0", "-i", str(listing), "-map", "0:a", "-c", "copy", *EXACT, "-f", muxer, str(out))
    listing.unlink()
    return out


def with_chapters(joined: Path, metadata: Path, out: Path, muxer: str, *options: str) -> Path:
    """Copy a joined narration with the tags and chapters of an ffmetadata file (packets untouched)."""
    run("-y", "-i", str(joined), "-f", "ffmetadata", "-i", str(metadata), "-map", "0:a", "-map_metadata", "1",
        "-map_chapters", "1", "-c", "copy", *options, "-fflags", "+bitexact", "-flags:a", "+bitexact",
        "-f", muxer, str(out))
    return out


def _quoted(path: Path) -> str:
    """A path as an ffconcat `file` line wants it (single quotes escaped)."""
    return str(path.resolve()).replace("'", "'\\''")


def decode(path: Path, sample_rate: int, fmt: str = "s16le") -> bytes:
    """Raw mono PCM of any sound file (speech recognition wants 16 kHz 16-bit)."""
    return run("-i", str(path), "-ac", "1", "-ar", str(sample_rate), "-f", fmt, "-").stdout


def mp3_from_bytes(mp3: bytes, sample_rate: int) -> bytes:
    """Float32 mono PCM of MP3 bytes (what gTTS returns)."""
    return run("-f", "mp3", "-i", "pipe:0", "-ac", "1", "-ar", str(sample_rate), "-f", "f32le", "-", stdin=mp3).stdout
