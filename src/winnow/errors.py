"""Errors a user sees. The CLI prints these without a traceback."""

from __future__ import annotations


class WinnowError(Exception):
    """A problem the user can fix (bad recipe, missing file, bad input)."""


class RecipeError(WinnowError):
    """The recipe is invalid: unknown step or parameter, wrong type, missing file."""


class InputError(WinnowError):
    """A record of the input cannot be read. Names the file, the location and the cause."""

    def __init__(self, file: str, location: str, cause: str):
        self.file, self.location, self.cause = file, location, cause
        super().__init__(f"{file}, {location}: {cause}")

    def __reduce__(self):
        # Raised in a worker process, it travels back to the driver pickled; without this the
        # pool cannot rebuild it (Exception pickles only the message) and the run would hang.
        return type(self), (self.file, self.location, self.cause)
