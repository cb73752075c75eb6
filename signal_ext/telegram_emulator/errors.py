"""Bot API errors as Telegram answers them: an HTTP status, a description and optional parameters."""

from __future__ import annotations

from typing import Any

JSONDict = dict[str, Any]


class ApiError(Exception):
    """An error answer of the Bot API, e.g. ``ApiError(400, "Bad Request: chat not found")``."""

    def __init__(self, status: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> JSONDict:
        """The JSON body Telegram sends with this error."""
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(detail: str) -> ApiError:
    """A 400 answer: ``Bad Request: <detail>``."""
    return ApiError(400, f"Bad Request: {detail}")


def unauthorized() -> ApiError:
    """The 401 answer Telegram gives for a token it does not know."""
    return ApiError(401, "Unauthorized")


def forbidden_blocked() -> ApiError:
    """The 403 answer for a user who blocked the bot."""
    return ApiError(403, "Forbidden: bot was blocked by the user")


def not_found_method() -> ApiError:
    """The 404 answer for an unknown Bot API method."""
    return ApiError(404, "Not Found: method not found")


def too_many_requests(retry_after: int) -> ApiError:
    """The 429 answer with ``parameters.retry_after`` (whole seconds, at least 1)."""
    seconds = max(1, int(retry_after))
    return ApiError(429, f"Too Many Requests: retry after {seconds}", {"retry_after": seconds})


def conflict(detail: str) -> ApiError:
    """A 409 answer: ``Conflict: <detail>``."""
    return ApiError(409, f"Conflict: {detail}")
