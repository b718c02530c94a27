"""bookpress: Markdown chapters and data files into a print-ready booklet."""
