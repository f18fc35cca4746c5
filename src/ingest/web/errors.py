"""Errors a request handler answers with: a status and one sentence, shown as JSON or HTML."""

from __future__ import annotations


class Problem(Exception):
    """The request cannot be answered as asked; `status` is the HTTP status (4xx or 503)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def bad_request(message: str) -> Problem:
    return Problem(400, message)


def not_found(message: str) -> Problem:
    return Problem(404, message)
