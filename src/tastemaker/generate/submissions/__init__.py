"""The submissions engine: works made elsewhere (artists, any model), imported."""

from tastemaker.generate.submissions.engine import SubmissionsEngine
from tastemaker.generate.submissions.importer import import_submissions

__all__ = ["SubmissionsEngine", "import_submissions"]
