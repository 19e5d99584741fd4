"""What chat's services raise. `code` is part of the API and socket contract."""


class ChatError(Exception):
    """A request that cannot be carried out, with the HTTP status it answers with."""

    def __init__(self, detail: str, code: str, status: int = 400):
        super().__init__(detail)
        self.detail = detail
        self.code = code
        self.status = status
