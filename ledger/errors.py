"""One exception tree for everything the ledger client can refuse.

`BadInput` means the request was malformed and nothing was sent (the CLI exits 2).
`Refused` means the chain or the environment said no (exit 1): a contract's custom error,
decoded into words, a busy chain, a missing home, a wrong password.
"""

from __future__ import annotations


class LedgerError(Exception):
    """Root of every error the ledger client raises on purpose."""

    exit_code = 1


class BadInput(LedgerError, ValueError):
    """Malformed input, caught before anything was sent."""

    exit_code = 2


class NotFound(BadInput):
    """No loan, receivable or account by that id or name (exit 2: nothing was sent)."""


class Refused(LedgerError):
    """The chain or the environment refused the request."""


class ContractRefusal(Refused):
    """A contract reverted with a custom error; `name` and `args` are decoded from it.

    Attributes:
        name: the Solidity error's name, e.g. ``MissingRole``.
        args: its arguments by parameter name.
        rule: a sentence naming the rule and the numbers.
    """

    def __init__(self, name: str, args: dict[str, object], rule: str) -> None:
        super().__init__(rule)
        self.name = name
        self.args_by_name = args
        self.rule = rule


class ChainUnavailable(Refused):
    """The chain cannot be reached or opened (busy, down, not a chain)."""


class NotInitialised(Refused):
    """The home has no deployment for the chain in use: run `liandai init`."""


class WrongPassword(Refused):
    """A keystore could not be decrypted with the given password."""
