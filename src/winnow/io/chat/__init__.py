"""Conversation, instruction and preference inputs (``format: chat`` and the named formats).

``parse`` turns one row of a format into post-training records; ``reader`` reads files of
them into batches with the conversation columns of ``winnow.records``.
"""
