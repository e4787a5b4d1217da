import logging

from django.shortcuts import render

from lib.archive_files import ArchiveWriteError

logger = logging.getLogger(__name__)


class ArchiveErrorMiddleware:
    """An archive that cannot be written fails the request with a clear page; the database is unchanged.

    Services write the text archive inside their transaction, so by the time this runs the transaction
    has rolled back and nothing was saved.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, ArchiveWriteError):
            return None
        logger.error("archive write failed: %s", exception)
        return render(request, "archive_unavailable.html", status=503)
