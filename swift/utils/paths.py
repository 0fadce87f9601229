"""Where swift keeps its own files."""
import os


def get_cache_dir() -> str:
    """$SWIFT_CACHE, default ~/.cache/swift (tiny models, help texts)."""
    return os.path.expanduser(os.environ.get('SWIFT_CACHE') or os.path.join('~', '.cache', 'swift'))
