from __future__ import annotations

import os
from typing import Any

import django
from django.core.exceptions import BadRequest
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coalition.settings")


class _Request(WSGIRequest):
    def _set_content_type_params(self, meta: Any) -> None:
        # Django raises BadRequest for a malformed Content-Type while building the request,
        # outside the handler that turns BadRequest into a 400: the client got a bare 500.
        try:
            super()._set_content_type_params(meta)  # type: ignore[misc]
        except BadRequest:
            self.content_type, self.content_params = "", {}


class _Handler(WSGIHandler):
    request_class = _Request


django.setup(set_prefix=False)
application = _Handler()
