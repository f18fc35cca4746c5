"""Printing an archived response of the fetch log as it was received: `log --raw`."""

from __future__ import annotations

import sys

from ingest.cli.output import err
from ingest.config import Settings
from ingest.errors import StorageError
from ingest.store.raw import Location


def print_response(settings: Settings, record: Location, payload: Location | None) -> None:
    """As `show --raw` prints a page (bytes: any charset prints as it was served), and a note
    on stderr when the body was not kept whole."""
    from ingest.rawarchive import message_of, read_located, warc_folder
    from ingest.warc.reader import WarcReadError

    try:
        response = read_located(warc_folder(settings), record, payload)
    except WarcReadError as exc:
        raise StorageError(f"cannot read the raw response: {exc} (run `ingest check`)") from None
    sys.stdout.buffer.write(message_of(response))
    sys.stdout.flush()
    if response.truncated:
        err.print(f"note: the body was not kept whole (WARC-Truncated: {response.truncated})")
