"""What the service layer raises; the API maps each to an HTTP status, the CLI prints it."""

from winnow.errors import WinnowError


class FeedbackError(WinnowError):
    """A request that cannot be done as asked (bad value, unknown name)."""


class NotFound(FeedbackError):
    pass


class Forbidden(FeedbackError):
    pass


class Conflict(FeedbackError):
    """The state changed under the request: the slot was taken, the record is complete."""
