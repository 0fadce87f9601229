"""swift: fine-tune, align, serve, evaluate and export large language models.

Importing `swift` stays cheap; heavy modules load on use (`swift.llm`, `swift.pipelines`, ...).
"""
from .version import __version__
