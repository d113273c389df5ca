"""The one exception type for mistakes a user can fix (bad input, unknown id, wrong role)."""


class UserError(ValueError):
    """A mistake the user can fix; its message says what was wrong and what to do.

    Raised before anything is written, so nothing partial is left behind. The CLI prints it
    without a traceback; UI handlers turn it into `gr.Error`.
    """

