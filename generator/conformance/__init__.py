"""``ocpi-codegen conformance``: checks derived from the transcription, run against any OCPI peer."""

from generator.conformance.report import Exchange, Report, Result
from generator.conformance.runner import Options, run

__all__ = ["Exchange", "Options", "Report", "Result", "run"]
