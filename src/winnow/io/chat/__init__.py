"""Conversation, instruction and preference inputs (``format: chat`` and the named formats).

``parse`` turns one row of a format into post-training records; ``reader`` reads files of
them into batches with the conversation columns of ``winnow.records``.
"""

from winnow.io.chat.parse import PARSERS, RowError, detect
from winnow.io.chat.reader import read_conversations

FORMATS = ("chat", *PARSERS)

__all__ = ["FORMATS", "PARSERS", "RowError", "detect", "read_conversations"]
