"""The typed ledger client: one object per command, one thin wrapper per contract.

`Ledger` opens the chain a command runs on, loads the deployment record, and unlocks the
signing account only when a transaction is actually sent (reads never ask for a password).
Raw web3 objects stay inside `ledger`; the CLI gets views and `Sent` results.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ledger.chain.backend import Chain, connect
from ledger.engine import deploy
from ledger.engine.accounts import Keyring
from ledger.engine.tx import Sender, Sent, refusal_from
from ledger.errors import Refused
from ledger.home import Home
from ledger.models import Admission, BalanceView, ChainInfoView, MemberView, Profile
from ledger.roles import STATUS_NAMES, role_names
from ledger.solidity import artifacts

if TYPE_CHECKING:
    from web3.contract import Contract

    from ledger.engine.consent import Consents
    from ledger.engine.covers import Covers
    from ledger.engine.loans import Loans
    from ledger.engine.markets.deals import Deals
    from ledger.engine.markets.tranches import Tranches
    from ledger.engine.receivables import Receivables

# Gas limits per operation: explicit so no node runs estimation. Generous: on free-gas
# networks an unused limit costs nothing, elsewhere only what is used is paid.
GAS_ADMIN = 400_000
# A payment into a borrower's wallet may run a swept settlement (up to 8 tranches).
GAS_TRANSFER = 900_000


class Ledger:
    """liandai on one chain, acting as one local account."""

    def __init__(
        self, home: Home, chain: Chain, deployment: deploy.Deployment, keyring: Keyring, signer: str
    ) -> None:
        self.home = home
        self.chain = chain
        self.deployment = deployment
        self.keyring = keyring
        self.signer_name = signer
        self._contracts: dict[str, Contract] = {}
        # One sender (one nonce counter) per account, shared by every `as_signer` view.
        self._senders: dict[str, Sender] = {}
        # Simulate every transaction first (eth_call) so a refusal is decoded and nothing is
        # mined; throughput work that already knows its transactions succeed turns it off.
        self.simulate = True
        self._names: dict[str, str] | None = None

    @classmethod
    def open(
        cls,
        home: Home,
        *,
        rpc: str | None = None,
        signer: str = "operator",
        password: Callable[[str], str] | None = None,
    ) -> Ledger:
        chain = connect(home, rpc)
        try:
            record = deploy.load(home, chain.network, chain.chain_id)
        except BaseException:
            chain.close()
            raise
        return cls(home, chain, record, Keyring(home, password), signer)

    def as_signer(self, name: str) -> Ledger:
        """The same ledger and chain, signing as another local account."""
        other = Ledger(self.home, self.chain, self.deployment, self.keyring, name)
        other._contracts = self._contracts
        other._senders = self._senders
        other._owns_chain = False
        other.simulate = self.simulate
        return other

    _owns_chain = True

    def close(self) -> None:
        if self._owns_chain:
            self.chain.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing ----------------------------------------------------------------------------

    def contract(self, name: str) -> Contract:
        if name not in self._contracts:
            from eth_utils import to_checksum_address

            self._contracts[name] = self.chain.w3.eth.contract(
                address=to_checksum_address(self.deployment.address(name)),
                abi=artifacts.load(name).abi,
            )
        return self._contracts[name]

    @property
    def sender(self) -> Sender:
        if self.signer_name not in self._senders:
            self._senders[self.signer_name] = Sender(
                self.chain, self.keyring.signer(self.signer_name), self.name_of
            )
        return self._senders[self.signer_name]

    def name_of(self, address: str) -> str:
        """A local account's name for `address`, `deal #N` for a securitisation deal's
        account, else the (checksummed) address itself."""
        if self._names is None:
            self._names = self.keyring.names_by_address()
            self._names.update({a: f"contract {n}" for n, a in self.deployment.contracts.items()})
        from eth_utils import to_checksum_address

        address = to_checksum_address(address)
        name = self._names.get(address)
        if name is not None:
            return name
        # A securitisation deal's e-CNY account: the contract's address xor the deal id.
        securitisation = self.deployment.contracts.get("Securitisation")
        deal = int(address, 16) ^ int(securitisation or "0x0", 16)
        if securitisation is not None and 0 < deal < 2**32:
            return f"deal #{deal}"
        return address

    def refusal(self, exc: BaseException) -> Refused:
        """Decode a reverted call (a view) into the refusal it carries."""
        return refusal_from(exc, self.name_of)

    @property
    def receivables(self) -> Receivables:
        from ledger.engine.receivables import Receivables

        return Receivables(self)

    @property
    def loans(self) -> Loans:
        from ledger.engine.loans import Loans

        return Loans(self)

    @property
    def covers(self) -> Covers:
        from ledger.engine.covers import Covers

        return Covers(self)

    @property
    def deals(self) -> Deals:
        from ledger.engine.markets.deals import Deals

        return Deals(self)

    @property
    def tranches(self) -> Tranches:
        from ledger.engine.markets.tranches import Tranches

        return Tranches(self)

    @property
    def consents(self) -> Consents:
        from ledger.engine.consent import Consents

        return Consents(self)

    def resolve(self, name_or_address: str) -> str:
        return self.keyring.resolve(name_or_address)

    def _send(self, contract: str, fn: str, *args: Any, gas: int) -> Sent:
        data = getattr(self.contract(contract).functions, fn)(*args)._encode_transaction_data()
        return self.sender.transact(
            self.deployment.address(contract), data, gas=gas, simulate=self.simulate
        )

    def events(
        self,
        contract: str,
        event: str,
        from_block: int | None = None,
        argument_filters: dict[str, Any] | None = None,
    ) -> list[Any]:
        ev = getattr(self.contract(contract).events, event)
        return list(
            ev.get_logs(
                from_block=from_block if from_block is not None else self.deployment.start_block,
                argument_filters=argument_filters,
            )
        )

    # -- members -----------------------------------------------------------------------------

    def admit(self, request: Admission) -> Sent:
        return self._send(
            "Membership",
            "admit",
            request.address,
            request.roles,
            request.kyc_hash,
            request.net_assets_fen,
            request.profile.as_tuple(),
            gas=GAS_ADMIN,
        )

    def set_profile(self, address: str, profile: Profile) -> Sent:
        return self._send("Membership", "setProfile", address, profile.as_tuple(), gas=GAS_ADMIN)

    def suspend(self, address: str, reason_hash: bytes = b"\0" * 32) -> Sent:
        return self._send("Membership", "suspend", address, reason_hash, gas=GAS_ADMIN)

    def reinstate(self, address: str) -> Sent:
        return self._send("Membership", "reinstate", address, gas=GAS_ADMIN)

    def set_net_assets(self, address: str, fen: int) -> Sent:
        return self._send("Membership", "setNetAssets", address, fen, gas=GAS_ADMIN)

    def member(self, address: str) -> MemberView:
        roles, status, admitted_at, net_assets, kyc, raw_profile = (
            self.contract("Membership").functions.memberOf(address).call()
        )
        name = self.name_of(address)
        profile = Profile.from_tuple(raw_profile)
        return MemberView(
            name=None if name == address else name,
            address=address,
            roles=role_names(roles),
            status=STATUS_NAMES.get(status, str(status)),
            kyc_hash="0x" + bytes(kyc).hex(),
            net_assets_fen=int(net_assets),
            admitted_at=int(admitted_at),
            **profile.model_dump(),
        )

    def members(self) -> list[MemberView]:
        seen: dict[str, None] = {}
        for log in self.events("Membership", "MemberAdmitted"):
            seen[log["args"]["account"]] = None
        return [self.member(a) for a in seen]

    # -- e-CNY -------------------------------------------------------------------------------

    def mint(self, to: str, fen: int) -> Sent:
        return self._send("DigitalRMB", "mint", to, fen, gas=GAS_TRANSFER)

    def burn(self, fen: int) -> Sent:
        return self._send("DigitalRMB", "burn", fen, gas=GAS_TRANSFER)

    def transfer(self, to: str, fen: int) -> Sent:
        return self._send("DigitalRMB", "transfer", to, fen, gas=GAS_TRANSFER)

    def balance_fen(self, address: str) -> int:
        return int(self.contract("DigitalRMB").functions.balanceOf(address).call())

    def held_fen(self, address: str) -> int:
        """What the engines hold for `address` while it is not active (DESIGN §6.1)."""
        return int(self.contract("DigitalRMB").functions.heldOf(address).call())

    def total_held_fen(self) -> int:
        return int(self.contract("DigitalRMB").functions.totalHeld().call())

    def claim_held(self) -> tuple[Sent, int]:
        """Take the signer's whole held balance (it must be active again): (sent, fen)."""
        sent = self._send("DigitalRMB", "claimHeld", gas=GAS_ADMIN)
        from web3.logs import DISCARD

        event = self.contract("DigitalRMB").events.HeldClaimed()
        logs = event.process_receipt(sent.receipt, errors=DISCARD)
        return sent, sum(int(log["args"]["amountFen"]) for log in logs)

    def balance(self, address: str) -> BalanceView:
        name = self.name_of(address)
        return BalanceView(
            account=name,
            address=address,
            balance_fen=self.balance_fen(address),
            held_fen=self.held_fen(address),
        )

    def total_supply_fen(self) -> int:
        return int(self.contract("DigitalRMB").functions.totalSupply().call())

    # -- chain and trail ---------------------------------------------------------------------

    def audit_head(self) -> tuple[int, str]:
        seq, entry_hash = self.contract("AuditTrail").functions.head().call()
        return int(seq), "0x" + bytes(entry_hash).hex()

    def chain_info(self) -> ChainInfoView:
        block = self.chain.w3.eth.get_block("latest")
        seq, head = self.audit_head()
        return ChainInfoView(
            network=self.chain.network,
            chain_id=self.chain.chain_id,
            block=int(block["number"]),
            time=int(block["timestamp"]),
            backend=self.chain.kind,
            client=self.chain.client_version,
            contracts=dict(self.deployment.contracts),
            audit_seq=seq,
            audit_head=head,
        )
