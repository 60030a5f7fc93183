"""Errors a user can meet, and the CLI's fixed exit codes (docs/data.md "Command line")."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    INPUT = 1  # input rejected or not found, database busy
    USAGE = 2  # wrong usage


class KamError(Exception):
    """An error whose message is meant for the user, as it is (never a traceback)."""

    exit_code = ExitCode.INPUT


class InputError(KamError):
    """Input rejected or not found: a file, a deal, a batch, a busy database."""

    exit_code = ExitCode.INPUT


class UsageError(KamError):
    """The request itself is wrong: an unknown report, dimension or option value."""

    exit_code = ExitCode.USAGE


class DatabaseBusy(InputError):
    pass
