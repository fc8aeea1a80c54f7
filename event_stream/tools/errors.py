"""The one exception the developer CLI turns into a single line and exit status 1."""


class UserError(Exception):
    """Something the user can fix: no stack, no local AWS, bad JSON, ..."""
