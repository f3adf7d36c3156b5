"""Random receivable histories keep value, lineage, documents and money conserved.

A hypothesis state machine issues, accepts, rejects, cancels, splits, transfers and pays
receivables among two core enterprises, three suppliers and a factor, and tries to reuse
document hashes and to split or pay wrongly. After every step it reads the whole ledger
back from the chain and checks (DESIGN §4.3):

- per issued root: the unpaid value of its live (not SPLIT, not burnt) descendants plus
  every payment made on its lineage equals its face value, and the payments are exactly
  those the debtor made;
- every live receivable's parent chain ends at an issued root, through SPLIT parents whose
  child ranges contain it, and inherits that root's debtor and maturity;
- a document hash backs exactly one receivable; reusing one is always refused;
- e-CNY total supply is unchanged and each member's balance is what the payments made it;
- the chain agrees with the model on every receivable and on ERC-721 balances.

Each example runs on its own copy of a seeded home. `LIANDAI_LONG=1` runs many more.
"""

from __future__ import annotations

import itertools
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from eth_abi import decode, encode
from eth_utils import keccak, to_checksum_address
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from ledger.engine.client import Ledger
from ledger.engine.receivables import STATUS_NAMES
from ledger.errors import ContractRefusal
from ledger.home import Home
from ledger.models import Admission
from ledger.roles import Role

LONG = os.environ.get("LIANDAI_LONG") == "1"
SETTINGS = settings(
    max_examples=150 if LONG else 8,
    stateful_step_count=40 if LONG else 20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

DAY = 86_400
CORES = ("core", "core2")
SUPPLIERS = ("supplier1", "supplier2", "supplier3")
HOLDERS = (*SUPPLIERS, "bank")  # the bank acts as factor
BURNT = ("REJECTED", "CANCELLED")
DEAD = ("SPLIT", *BURNT)
CORE2_BALANCE = 2_000_000_00


@pytest.fixture(scope="module")
def property_home(template_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeded home plus a second core enterprise (with e-CNY) and a third supplier."""
    root = tmp_path_factory.mktemp("receivable-properties") / "home"
    shutil.copytree(template_home, root)
    with Ledger.open(Home.at(root)) as ledger:
        for name, roles in (("core2", Role.CORE_ENTERPRISE), ("supplier3", Role.SUPPLIER)):
            address = ledger.keyring.create(name, dev=True).address
            ledger.admit(Admission(address=address, roles=roles))
        ledger.as_signer("issuer").mint(ledger.resolve("core2"), CORE2_BALANCE)
    return root


INFO_TYPES = [
    "uint256", "address", "address", "uint256", "uint256", "uint64",
    "uint8", "uint256", "uint256", "uint256", "uint256", "uint256",
]  # fmt: skip


class Reader:
    """Plain eth_call reads (half the cost of web3's contract functions): the invariant
    reads the whole ledger after every step."""

    def __init__(self, ledger: Ledger) -> None:
        self.w3 = ledger.chain.w3
        self.receivables = ledger.deployment.address("ReceivableToken")
        self.ecny = ledger.deployment.address("DigitalRMB")

    def _call(self, to: str, signature: str, types: list[str], args: list[Any]) -> bytes:
        data = keccak(text=signature)[:4] + encode(types, args)
        return bytes(self.w3.eth.call({"to": to, "data": "0x" + data.hex()}))  # type: ignore[typeddict-item]

    def receivable(self, rid: int) -> tuple[Any, ...]:
        out = self._call(self.receivables, "receivableOf(uint256)", ["uint256"], [rid])
        return tuple(decode(INFO_TYPES, out))

    def next_id(self) -> int:
        return int(decode(["uint256"], self._call(self.receivables, "nextId()", [], []))[0])

    def document(self, debtor: str, doc_hash: bytes) -> int:
        out = self._call(
            self.receivables,
            "receivableOfDocument(address,bytes32)",
            ["address", "bytes32"],
            [debtor, doc_hash],
        )
        return int(decode(["uint256"], out)[0])

    def nfts(self, address: str) -> int:
        out = self._call(self.receivables, "balanceOf(address)", ["address"], [address])
        return int(decode(["uint256"], out)[0])

    def fen(self, address: str) -> int:
        out = self._call(self.ecny, "balanceOf(address)", ["address"], [address])
        return int(decode(["uint256"], out)[0])

    def supply(self) -> int:
        return int(decode(["uint256"], self._call(self.ecny, "totalSupply()", [], []))[0])


@dataclass
class Receivable:
    status: str
    holder: str | None
    value: int
    paid: int
    root: int
    parent: int
    children: list[int] = field(default_factory=list)

    @property
    def unpaid(self) -> int:
        return self.value - self.paid


class ReceivableHistories(RuleBasedStateMachine):
    template: Path
    workdir: Path
    examples = itertools.count()

    def __init__(self) -> None:
        super().__init__()
        self.root_dir = self.workdir / f"example-{next(self.examples)}"
        shutil.copytree(self.template, self.root_dir)
        self.ledger = Ledger.open(Home.at(self.root_dir))
        self.signers: dict[str, Ledger] = {}
        self.accounts = {info.name: info.address for info in self.ledger.keyring.accounts()}
        self.names = {address: name for name, address in self.accounts.items()}
        self.token = self.ledger.contract("ReceivableToken").functions
        self.read = Reader(self.ledger)
        self.receivables: dict[int, Receivable] = {}
        self.roots: dict[int, tuple[str, int, int, bytes]] = {}  # debtor, face, maturity, doc
        self.payments: dict[int, int] = {}
        self.documents: dict[bytes, int] = {}
        self.next_id = 1
        self.docs_made = 0
        self.balances = {n: self.ledger.balance_fen(a) for n, a in self.accounts.items()}
        self.supply = self.ledger.total_supply_fen()
        assert sum(self.balances.values()) == self.supply
        self.now = int(self.ledger.chain.w3.eth.get_block("latest")["timestamp"])

    def teardown(self) -> None:
        self.ledger.close()
        shutil.rmtree(self.root_dir, ignore_errors=True)

    # -- helpers ---------------------------------------------------------------------------

    def signer(self, name: str) -> Ledger:
        if name not in self.signers:
            self.signers[name] = self.ledger.as_signer(name)
        return self.signers[name]

    def with_status(self, *statuses: str) -> list[int]:
        return [i for i, r in self.receivables.items() if r.status in statuses]

    def splittable(self) -> list[int]:
        return [i for i in self.with_status("ACTIVE") if self.receivables[i].unpaid >= 2]

    def refused(self, error: str, action: Any) -> ContractRefusal:
        head = self.ledger.audit_head()
        next_id = self.token.nextId().call()
        try:
            action()
        except ContractRefusal as exc:
            assert exc.name == error, exc.rule
            assert self.ledger.audit_head() == head
            assert self.token.nextId().call() == next_id
            return exc
        raise AssertionError(f"expected {error}, the action went through")

    # -- rules -----------------------------------------------------------------------------

    @initialize(
        values=st.lists(st.integers(2, 5_000_00), min_size=2, max_size=2),
        suppliers=st.lists(st.sampled_from(SUPPLIERS), min_size=2, max_size=2),
    )
    def start_with_two_active_receivables(self, values: list[int], suppliers: list[str]) -> None:
        for debtor, supplier, value in zip(CORES, suppliers, values, strict=True):
            rid = self._issue(debtor, supplier, value, 180)
            self.signer(supplier).receivables.accept(rid)
            self.receivables[rid].status = "ACTIVE"

    @rule(
        debtor=st.sampled_from(CORES),
        supplier=st.sampled_from(SUPPLIERS),
        value=st.one_of(st.integers(1, 5_000_00), st.sampled_from([1, 2, 3])),
        days=st.integers(30, 3650),
        accept=st.booleans(),
    )
    def issue(self, debtor: str, supplier: str, value: int, days: int, accept: bool) -> None:
        rid = self._issue(debtor, supplier, value, days)
        if accept:
            self.signer(supplier).receivables.accept(rid)
            self.receivables[rid].status = "ACTIVE"

    def _issue(self, debtor: str, supplier: str, value: int, days: int) -> int:
        self.docs_made += 1
        document = keccak(text=f"property-doc-{self.docs_made}")
        maturity = self.now + days * DAY
        rid = (
            self.signer(debtor)
            .receivables.issue(self.accounts[supplier], value, maturity, document)
            .id
        )
        assert rid == self.next_id
        self.next_id += 1
        self.receivables[rid] = Receivable("PENDING", supplier, value, 0, rid, 0)
        self.roots[rid] = (debtor, value, maturity, document)
        self.payments[rid] = 0
        self.documents[document] = rid
        return rid

    @precondition(lambda self: self.with_status("PENDING"))
    @rule(data=st.data())
    def accept(self, data: st.DataObject) -> None:
        rid = data.draw(st.sampled_from(self.with_status("PENDING")))
        r = self.receivables[rid]
        assert r.holder is not None
        self.signer(r.holder).receivables.accept(rid)
        r.status = "ACTIVE"

    @precondition(lambda self: self.with_status("PENDING"))
    @rule(data=st.data(), by_debtor=st.booleans())
    def reject_or_cancel(self, data: st.DataObject, by_debtor: bool) -> None:
        rid = data.draw(st.sampled_from(self.with_status("PENDING")))
        r = self.receivables[rid]
        assert r.holder is not None
        if by_debtor:
            self.signer(self.roots[rid][0]).receivables.cancel(rid)
            r.status = "CANCELLED"
        else:
            self.signer(r.holder).receivables.reject(rid)
            r.status = "REJECTED"
        r.holder = None

    @precondition(lambda self: self.splittable())
    @rule(data=st.data())
    def split(self, data: st.DataObject) -> None:
        rid = data.draw(st.sampled_from(self.splittable()))
        r = self.receivables[rid]
        assert r.holder is not None
        unpaid = r.unpaid
        n = data.draw(st.integers(2, min(unpaid, 6)), label="parts")
        cuts = sorted(
            data.draw(
                st.lists(st.integers(1, unpaid - 1), min_size=n - 1, max_size=n - 1, unique=True),
                label="cuts",
            )
        )
        parts = [b - a for a, b in itertools.pairwise([0, *cuts, unpaid])]
        children = self.signer(r.holder).receivables.split(rid, parts).children
        assert children == list(range(self.next_id, self.next_id + n))
        self.next_id += n
        for child, value in zip(children, parts, strict=True):
            self.receivables[child] = Receivable("ACTIVE", r.holder, value, 0, r.root, rid)
        r.status, r.holder, r.children = "SPLIT", None, children

    @precondition(lambda self: self.with_status("ACTIVE"))
    @rule(data=st.data())
    def transfer(self, data: st.DataObject) -> None:
        rid = data.draw(st.sampled_from(self.with_status("ACTIVE")))
        r = self.receivables[rid]
        to = data.draw(st.sampled_from([h for h in HOLDERS if h != r.holder]), label="to")
        assert r.holder is not None
        self.signer(r.holder).receivables.transfer(rid, self.accounts[to])
        r.holder = to

    @precondition(lambda self: self.with_status("ACTIVE"))
    @rule(data=st.data())
    def pay(self, data: st.DataObject) -> None:
        rid = data.draw(st.sampled_from(self.with_status("ACTIVE")))
        r = self.receivables[rid]
        assert r.holder is not None
        amount = data.draw(st.one_of(st.none(), st.integers(1, r.unpaid)), label="amount")
        debtor = self.roots[r.root][0]
        self.signer(debtor).receivables.pay(rid, amount)
        paid = r.unpaid if amount is None else amount
        r.paid += paid
        if r.paid == r.value:
            r.status = "PAID"
        self.payments[r.root] += paid
        self.balances[debtor] -= paid
        self.balances[r.holder] += paid

    # -- refusals --------------------------------------------------------------------------

    def reusable(self) -> list[bytes]:
        """Documents still bound: their receivable was not rejected or cancelled."""
        return sorted(
            d
            for d, rid in self.documents.items()
            if self.receivables[rid].status not in ("REJECTED", "CANCELLED")
        )

    @precondition(lambda self: self.reusable())
    @rule(data=st.data(), supplier=st.sampled_from(SUPPLIERS))
    def reuse_a_document(self, data: st.DataObject, supplier: str) -> None:
        document = data.draw(st.sampled_from(self.reusable()), label="document")
        debtor = self.roots[self.documents[document]][0]  # the document's own debtor
        issue = self.signer(debtor).receivables.issue
        exc = self.refused(
            "DocumentAlreadyUsed",
            lambda: issue(self.accounts[supplier], 1_00, self.now + 60 * DAY, document),
        )
        assert exc.args_by_name["existing"] == self.documents[document]

    @precondition(lambda self: self.splittable())
    @rule(data=st.data(), off=st.sampled_from([-1, 1]))
    def split_wrongly(self, data: st.DataObject, off: int) -> None:
        rid = data.draw(st.sampled_from(self.splittable()))
        r = self.receivables[rid]
        assert r.holder is not None
        parts = [1, r.unpaid - 1 + off] if r.unpaid - 1 + off > 0 else [1, 1, r.unpaid]
        split = self.signer(r.holder).receivables.split
        self.refused("PartsMismatch", lambda: split(rid, parts))

    @precondition(lambda self: self.with_status("ACTIVE"))
    @rule(data=st.data())
    def overpay(self, data: st.DataObject) -> None:
        rid = data.draw(st.sampled_from(self.with_status("ACTIVE")))
        r = self.receivables[rid]
        pay = self.signer(self.roots[r.root][0]).receivables.pay
        self.refused("Overpayment", lambda: pay(rid, r.unpaid + 1))

    # -- invariants ------------------------------------------------------------------------

    @invariant()
    def the_chain_keeps_value_lineage_documents_and_money(self) -> None:
        read = self.read
        next_id = read.next_id()
        assert next_id == self.next_id
        chain = {i: read.receivable(i) for i in range(1, next_id)}

        # The chain agrees with the model, receivable by receivable.
        for rid, r in self.receivables.items():
            (_, debtor, holder, value, paid, _, status, root, parent, first, count, _) = chain[rid]
            assert STATUS_NAMES[status] == r.status, rid
            assert self.names.get(to_checksum_address(holder)) == r.holder, rid
            assert (value, paid, root, parent) == (r.value, r.paid, r.root, r.parent), rid
            assert list(range(first, first + count)) == r.children, rid
            assert self.names[to_checksum_address(debtor)] == self.roots[r.root][0]

        # Per root: live unpaid + payments on the lineage == face value.
        for root, (_, face, _, _) in self.roots.items():
            if STATUS_NAMES[chain[root][6]] in BURNT:
                continue
            live_unpaid = paid_on_lineage = 0
            stack = [root]
            while stack:
                node = chain[stack.pop()]
                value, paid, status, first, count = node[3], node[4], node[6], node[9], node[10]
                paid_on_lineage += paid
                if STATUS_NAMES[status] not in DEAD:
                    live_unpaid += value - paid
                stack.extend(range(first, first + count))
            assert live_unpaid + paid_on_lineage == face == chain[root][3], root
            assert paid_on_lineage == self.payments[root], root

        # Every live receivable's parent chain leads to its issued root.
        for rid, node in chain.items():
            if STATUS_NAMES[node[6]] in DEAD:
                continue
            cur = rid
            while chain[cur][8] != 0:
                parent = chain[cur][8]
                assert parent < cur
                p = chain[parent]
                assert STATUS_NAMES[p[6]] == "SPLIT"
                assert p[9] <= cur < p[9] + p[10]
                cur = parent
            assert cur == node[7] == chain[cur][7], rid
            debtor, _, maturity, _ = self.roots[cur]
            assert (self.names[to_checksum_address(node[1])], node[5]) == (debtor, maturity)

        # One document, one receivable, ever.
        for document, rid in self.documents.items():
            assert read.document(self.accounts[self.roots[rid][0]], document) == rid
        issued = self.ledger.events("ReceivableToken", "ReceivableIssued")
        hashes = [bytes(log["args"]["docHash"]) for log in issued]
        assert len(hashes) == len(set(hashes)) == len(self.roots)
        assert {h: int(log["args"]["id"]) for h, log in zip(hashes, issued, strict=True)} == (
            self.documents
        )

        # Money: supply unchanged, every balance as the payments made it.
        assert read.supply() == self.supply
        actual = {n: read.fen(a) for n, a in self.accounts.items()}
        assert actual == self.balances
        assert sum(actual.values()) == self.supply

        # ERC-721 balances follow the holders.
        for name in HOLDERS:
            held = sum(1 for r in self.receivables.values() if r.holder == name)
            assert read.nfts(self.accounts[name]) == held, name


def test_random_histories_conserve_value_lineage_documents_and_money(
    property_home: Path, tmp_path: Path
) -> None:
    class Histories(ReceivableHistories):
        template = property_home
        workdir = tmp_path

    run_state_machine_as_test(Histories, settings=SETTINGS)
