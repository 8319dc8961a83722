"""The two ways symbackprop refuses: bad input (exit 2) and a failed check (exit 1)."""


class InputError(Exception):
    """Malformed spec, unknown name, unparsable formula: the user's input is at fault.

    The message is what the user sees, without traceback; it names the field or
    position and the problem.
    """

    exit_code = 2


class CheckFailure(Exception):
    """A derivative disagrees with an independent computation: the engine is at fault."""

    exit_code = 1
