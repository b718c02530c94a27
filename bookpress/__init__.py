"""bookpress: Markdown chapters and data files into a print-ready booklet."""

__version__ = "0.1.0"
