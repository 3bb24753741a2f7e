"""Errors a user can cause. The CLI turns these into one line and a non-zero exit."""


class TastemakerError(Exception):
    """Base class for every error caused by input, settings or the environment."""


class UsageError(TastemakerError):
    """A bad argument or setting (size out of range, unknown engine, ...)."""


class GenomeError(TastemakerError):
    """A genome that cannot be parsed or does not fit its engine."""


class MediaError(TastemakerError):
    """A media file that cannot be read or written."""
