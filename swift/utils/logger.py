"""One project logger; `get_logger()` everywhere so verbosity is set in one place."""
import logging
import os
import sys

_LOGGER = None


def get_logger() -> logging.Logger:
    global _LOGGER
    if _LOGGER is None:
        logger = logging.getLogger('swift')
        if not logger.handlers:
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter('[%(levelname)s:swift] %(message)s'))
            logger.addHandler(handler)
        logger.setLevel(os.environ.get('LOG_LEVEL', 'INFO').upper())
        logger.propagate = False
        _LOGGER = logger
    return _LOGGER
