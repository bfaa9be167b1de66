"""The root of every service error. Each service module defines its own subclass, so
callers can catch narrowly, and the web layer can turn any of them into a clear answer."""


class ServiceError(Exception):
    """An expected refusal with a message fit to show a person."""

    #: HTTP status the API uses for this kind of refusal.
    http_status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ServiceError):
    http_status = 404
