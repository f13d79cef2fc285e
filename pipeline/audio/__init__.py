"""Sound: the speech engines, ffmpeg mastering and encoding, and audio tags."""
