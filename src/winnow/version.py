"""The package version, in the core layer so that any layer can name it (``winnow.__version__``)."""

__version__ = "0.1.0"
