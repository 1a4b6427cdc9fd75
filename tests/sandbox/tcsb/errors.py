"""ApiError: an error answered in the real envelope, with a real error code."""


class ApiError(Exception):
    def __init__(self, code, message):
        super().__init__("%s: %s" % (code, message))
        self.code = code
        self.message = message


def not_found(what, code="ResourceNotFound"):
    return ApiError(code, "%s does not exist" % what)


def invalid(message, code="InvalidParameterValue"):
    return ApiError(code, message)
