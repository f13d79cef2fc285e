"""What a format wrote, as the build hands it to the formats that read it (their `NEEDS`).

A format's `build()` returns a `Manifest`: its main file, and for the narration each section's
recording in each rendition with its length and sentence clips. The build keeps the manifest with
the format's up-to-date key in `.build.json`, so a format that was up to date still hands over what
it wrote last time, and no format reads another's files by name (the page and the e-book take the
narration's MP3s and clips from here, never from `audio/timings.json`). Checks do not use it: they
read the built files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Clip:
    """One narrated piece: the element id it reads and where it sits in its section's MP3, in seconds."""

    target: str
    begin: float
    end: float


@dataclass(frozen=True)
class Recording:
    """One section's narration in one rendition ("full" or "plain"): its MP3, relative to the
    document's folder, how long it plays, and its clips."""

    rendition: str
    section_id: str
    path: str
    seconds: float
    clips: tuple[Clip, ...] = ()


@dataclass(frozen=True)
class Manifest:
    """What one format wrote for one document."""

    format: str
    main: str                                  # the main file, relative to the document's folder
    recordings: tuple[Recording, ...] = field(default=())

    def recording(self, rendition: str, section_id: str) -> Recording | None:
        """A section's recording in a rendition, if the narration made one."""
        return next((r for r in self.recordings if r.rendition == rendition and r.section_id == section_id), None)

    def as_record(self) -> dict[str, Any]:
        """Plain values for `.build.json`."""
        return {"format": self.format, "main": self.main,
                "recordings": [{"rendition": r.rendition, "section_id": r.section_id, "path": r.path,
                                "seconds": r.seconds, "clips": [[c.target, c.begin, c.end] for c in r.clips]}
                               for r in self.recordings]}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Manifest:
        """A manifest kept in `.build.json` (a malformed one raises KeyError, TypeError or ValueError)."""
        return cls(str(record["format"]), str(record["main"]), tuple(
            Recording(str(r["rendition"]), str(r["section_id"]), str(r["path"]), float(r["seconds"]),
                      tuple(Clip(str(t), float(b), float(e)) for t, b, e in r["clips"]))
            for r in record.get("recordings", ())))
