"""Accessible patient-information publishing pipeline: one FAQ source, four formats, checked."""

__version__ = "0.1.0"
