"""User-facing errors: the CLI prints their message as one line and exits non-zero, without a traceback."""


class SwiftError(Exception):
    """Bad input from the user (arguments, files, data). The message must say what to fix."""


class ArgumentError(SwiftError):
    pass


class DatasetError(SwiftError):
    pass


class ModelError(SwiftError):
    pass


class TemplateError(SwiftError):
    pass
