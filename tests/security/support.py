"""Shared machinery of the security suite.

- `anvil_node`: the suite's real anvil (states pruned to the last 256; blocks and logs kept,
  so a trail verifies from the first block) with snapshot/revert.
- `fixture_contracts`: the hostile and helper contracts of `fixtures/`, compiled with the
  project's own compiler machinery (`ledger.solidity.compiler`, npm solc through py-solc-x).
- `Deployed`: a seeded deployment on such a node, with cheap `eth_call` probes.
- `Lens`, `Books` and the named invariants: one `eth_call` reads the whole ledger; the
  books are what the tests know was minted, burnt, paid and contributed; each invariant is
  a function returning the problems it found (an empty list when it holds), so the
  invariant machine and the hostile-caller tests check the very same rules.
"""

from __future__ import annotations

import functools
import os
from collections import defaultdict
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_abi import decode
from eth_utils import keccak, to_checksum_address

from ledger.audit.trail import entry_hash
from ledger.engine.client import Ledger
from ledger.engine.loans import LOAN_STATUS
from ledger.engine.receivables import STATUS_NAMES
from ledger.engine.tx import revert_data
from ledger.home import Home
from ledger.solidity.artifacts import decode_error

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
LONG = os.environ.get("LIANDAI_LONG") == "1"
ZERO_ADDRESS = "0x" + "00" * 20
ZERO32 = b"\0" * 32
DAY = 86_400
# Contracts of the suite that must never hold e-CNY (the loan book and the pool may).
# The e-CNY contract holds exactly Σ held (checked with the supply).
NEVER_HOLD = ("AuditTrail", "Membership", "ReceivableToken", "Policy")
AUDIT_TOPIC = keccak(
    text="AuditRecorded(uint64,bytes32,address,uint256,bytes32,uint64,bytes32,bytes32)"
)


# ------------------------------------------------------------------------------ the node


def anvil_node() -> AbstractContextManager[str]:
    """A real anvil on a free loopback port (the suite's own, tests/conftest.py)."""
    from tests.conftest import running_anvil

    return running_anvil()


def rpc(ledger: Ledger, method: str, params: list[Any] | None = None) -> Any:
    response = ledger.chain.w3.provider.make_request(method, params or [])  # type: ignore[arg-type]
    if "error" in response:
        raise RuntimeError(f"{method}: {response['error']}")
    return response["result"]


# ------------------------------------------------------------------- fixture contracts


@dataclass(frozen=True)
class Compiled:
    abi: list[dict[str, Any]]
    bytecode: str


@functools.cache
def fixture_contracts() -> dict[str, Compiled]:
    """Every contract of `fixtures/*.sol`, compiled once per process (about 2 s)."""
    from ledger.solidity.compiler import compile_contracts

    roots = sorted(p.relative_to(ROOT).as_posix() for p in FIXTURES.glob("*.sol"))
    _, output, _ = compile_contracts(roots)
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise RuntimeError("\n".join(e.get("formattedMessage", e["message"]) for e in errors))
    return {
        name: Compiled(data["abi"], "0x" + data["evm"]["bytecode"]["object"])
        for source in roots
        for name, data in output["contracts"][source].items()
    }


def deploy_fixture(ledger: Ledger, name: str, *args: Any) -> Any:
    """Deploy fixture contract `name` from the ledger's signer; return the web3 contract."""
    compiled = fixture_contracts()[name]
    w3 = ledger.chain.w3
    data = (
        w3.eth.contract(abi=compiled.abi, bytecode=compiled.bytecode)
        .constructor(*args)
        .data_in_transaction
    )
    sent = ledger.sender.transact(None, data, gas=8_000_000, simulate=False)
    return w3.eth.contract(address=sent.receipt["contractAddress"], abi=compiled.abi)


# ------------------------------------------------------------------------------ probes


@dataclass(frozen=True)
class Outcome:
    """What an `eth_call` did: success, or the custom error it reverted with."""

    ok: bool
    error: str | None = None
    args: dict[str, Any] | None = None

    @property
    def label(self) -> str:
        return "ok" if self.ok else str(self.error)


def probe(ledger: Ledger, sender: str, to: str, data: str, gas: int = 10_000_000) -> Outcome:
    """`eth_call` of `data` on `to` from `sender` (any address: no key needed)."""
    call = {"from": to_checksum_address(sender), "to": to, "data": data, "gas": gas}
    try:
        ledger.chain.w3.eth.call(call)  # type: ignore[arg-type]
    except Exception as exc:
        raw = revert_data(exc)
        decoded = decode_error(raw) if raw else None
        if decoded is not None:
            return Outcome(False, decoded[0], decoded[1])
        if raw and raw[:4] == bytes.fromhex("4e487b71"):
            return Outcome(False, f"Panic(0x{int.from_bytes(raw[4:36], 'big'):02x})")
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return Outcome(False, f"revert ({text[:60]})" if not raw else f"0x{raw[:4].hex()}")
    return Outcome(True)


def encode_call(ledger: Ledger, contract: str, fn: str, *args: Any) -> str:
    """Calldata for `contract.fn(*args)`; `fn` may be a full signature for overloads."""
    c = ledger.contract(contract)
    if "(" in fn:
        return str(c.get_function_by_signature(fn)(*args)._encode_transaction_data())
    return str(getattr(c.functions, fn)(*args)._encode_transaction_data())


# ---------------------------------------------------------------------- ledger snapshot


@dataclass(frozen=True)
class Receivable:
    id: int
    debtor: str
    holder: str
    value: int
    paid: int
    maturity_at: int
    status: str
    root: int
    parent: int
    first_child: int
    child_count: int
    pledged_to: int


@dataclass(frozen=True)
class Tranche:
    lender: str
    senior: bool
    amount: int
    coupon_bps: int
    outstanding: int
    coupon_due: int
    funded: bool


@dataclass(frozen=True)
class Loan:
    id: int
    status: str
    originator: str
    borrower: str
    principal: int
    outstanding: int
    interest_due: int
    tranches: list[Tranche]
    receivable_ids: list[int]
    exposures: list[int]


@dataclass(frozen=True)
class Snapshot:
    """The whole ledger at one block, as the Lens fixture reads it."""

    total_supply: int
    balances: dict[str, int]
    held: dict[str, int]
    receivables: dict[int, Receivable]
    loans: dict[int, Loan]
    audit_seq: int
    audit_head: bytes
    time: int


class Lens:
    """Reads a `Snapshot` in one `eth_call` of the Lens fixture (a flat word array)."""

    def __init__(self, ledger: Ledger, contract: Any, holders: list[str]) -> None:
        d = ledger.deployment
        self.w3 = ledger.chain.w3
        self.address = contract.address
        self.holders = [to_checksum_address(h) for h in holders]
        self._addresses: dict[int, str] = {}
        self._data = contract.functions.snapshot(
            d.address("DigitalRMB"),
            d.address("ReceivableToken"),
            d.address("LoanBook"),
            d.address("AuditTrail"),
            self.holders,
        )._encode_transaction_data()

    def read(self) -> Snapshot:
        raw = bytes(self.w3.eth.call({"to": self.address, "data": self._data}))  # type: ignore[typeddict-item]
        words = iter([int.from_bytes(raw[i : i + 32], "big") for i in range(64, len(raw), 32)])

        def address() -> str:
            word = next(words)
            if word not in self._addresses:
                self._addresses[word] = to_checksum_address(word.to_bytes(20, "big"))
            return self._addresses[word]

        supply = next(words)
        balances: dict[str, int] = {}
        held: dict[str, int] = {}
        for h in self.holders:
            balances[h], held[h] = next(words), next(words)
        rs = {}
        for _ in range(next(words)):
            rid, debtor, holder = next(words), address(), address()
            value, paid, maturity, status = next(words), next(words), next(words), next(words)
            rs[rid] = Receivable(
                rid,
                debtor,
                holder,
                value,
                paid,
                maturity,
                STATUS_NAMES[status],
                *(next(words) for _ in range(5)),
            )
        ls = {}
        for i in range(1, next(words) + 1):
            status, originator, borrower = LOAN_STATUS[next(words)], address(), address()
            principal, outstanding, interest_due = next(words), next(words), next(words)
            tranches, exposures = [], []
            for _ in range(next(words)):
                lender = address()
                senior, amount, coupon = bool(next(words)), next(words), next(words)
                left, coupon_due, funded = next(words), next(words), bool(next(words))
                tranches.append(Tranche(lender, senior, amount, coupon, left, coupon_due, funded))
                exposures.append(next(words))
            rids = [next(words) for _ in range(next(words))]
            ls[i] = Loan(
                i,
                status,
                originator,
                borrower,
                principal,
                outstanding,
                interest_due,
                tranches,
                rids,
                exposures,
            )
        seq, head, now = next(words), next(words).to_bytes(32, "big"), next(words)
        return Snapshot(supply, balances, held, rs, ls, seq, head, now)


# ------------------------------------------------------------------------------- books


@dataclass
class Books:
    """What the tests know happened, kept apart from what the contracts store.

    Attributes:
        minted, burnt: e-CNY the tests minted and burnt (successful calls only).
        contributed: voluntary pool contributions the tests made.
        provisions: provision shares of every settlement (LoanSettled events).
        cover: what the pool paid on defaults (LoanDefaulted events, less the margins that
            paid with it: CoverCalled events).
        reimbursed: what recoveries paid back to the pool (CoverReimbursed events).
        margins: margins the cover book holds (accepted, less paid, returned or released).
        principal: (loan, tranche) → principal repaid by settlements.
        covered: (loan, tranche) → principal covered by the pool.
        paid_on_root: receivable root → what its debtor paid on its lineage.
        settlements: settlements seen.
        defaults: defaults declared (each with the pool's cover, possibly zero).
        drawn: (loan, tranche) → principal drawn, for staged loans (DESIGN §6.4): stage 0's
            part at disbursement (the reference split), then each StageDrawn's; a tranche
            of an unstaged loan draws its whole amount.
        undrawn: staged loan → its money still in the loan book: the principal less what
            its disbursement, draws and lapse refunds paid out.
        lapsed: (loan, tranche) → its undrawn money a lapse paid back to its lender.
        problems: broken rules found while reading receipts (a split that does not add up).
    """

    minted: int = 0
    burnt: int = 0
    contributed: int = 0
    provisions: int = 0
    cover: int = 0
    reimbursed: int = 0
    margins: int = 0
    principal: dict[tuple[int, int], int] = field(default_factory=lambda: defaultdict(int))
    covered: dict[tuple[int, int], int] = field(default_factory=lambda: defaultdict(int))
    paid_on_root: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    settlements: int = 0
    defaults: int = 0
    problems: list[str] = field(default_factory=list)
    drawn: dict[tuple[int, int], int] = field(default_factory=dict)
    draws: int = 0
    lapses: int = 0
    undrawn: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    lapsed: dict[tuple[int, int], int] = field(default_factory=lambda: defaultdict(int))

    def read_receipt(self, ledger: Ledger, receipt: Any) -> None:
        """Add the settlements and defaults a mined transaction carried."""
        from web3.logs import DISCARD

        events = ledger.contract("LoanBook").events
        cover = ledger.contract("CoverBook").events
        # A settlement's reimbursement of cover is logged just before it; one transaction
        # (repayMany) may settle the same loan twice, so they pair by log position.
        back: list[tuple[int, int, int]] = []  # (log index, loan, reimbursed)
        for ev in cover.CoverReimbursed().process_receipt(receipt, errors=DISCARD):
            a = ev["args"]
            back.append((ev["logIndex"], int(a["loanId"]), sum(a["layersFen"]) + int(a["poolFen"])))
            self.reimbursed += int(a["poolFen"])
        for ev in cover.CoverAccepted().process_receipt(receipt, errors=DISCARD):
            self.margins += int(ev["args"]["marginFen"])
        for ev in cover.CoverReleased().process_receipt(receipt, errors=DISCARD):
            self.margins -= sum(ev["args"]["marginsFen"])
        for ev in cover.CoverCalled().process_receipt(receipt, errors=DISCARD):
            a = ev["args"]
            paid = sum(a["marginPaidFen"])
            self.margins -= paid + sum(a["marginReturnedFen"])
            self.cover -= paid  # the margins' part of the default's cover
        settled = events.LoanSettled().process_receipt(receipt, errors=DISCARD)
        for ev in sorted(settled, key=lambda ev: ev["logIndex"]):
            a = ev["args"]
            self.settlements += 1
            self.provisions += int(a["provisionFen"])
            mine = [b for b in back if b[1] == int(a["loanId"]) and b[0] < ev["logIndex"]]
            back = [b for b in back if b not in mine]
            parts = (
                int(a["feeFen"])
                + int(a["provisionFen"])
                + sum(a["interestFen"])
                + sum(a["principalFen"])
                + int(a["residualFen"])
                + sum(b[2] for b in mine)
            )
            if parts != int(a["amountFen"]):
                self.problems.append(
                    f"settlement of loan {a['loanId']} splits {a['amountFen']} into {parts}"
                )
            for i, p in enumerate(a["principalFen"]):
                self.principal[(int(a["loanId"]), i)] += int(p)
        self._read_stages(ledger, events, receipt)
        for ev in events.LoanDefaulted().process_receipt(receipt, errors=DISCARD):
            a = ev["args"]
            self.defaults += 1
            self.cover += int(a["coverFen"])
            if sum(a["principalFen"]) != int(a["coverFen"]):
                self.problems.append(f"cover of loan {a['loanId']} does not add up")
            for i, p in enumerate(a["principalFen"]):
                self.covered[(int(a["loanId"]), i)] += int(p)

    def _read_stages(self, ledger: Ledger, events: Any, receipt: Any) -> None:
        """Disbursements of staged loans, draws and lapses (DESIGN §6.4)."""
        from web3.logs import DISCARD

        from ledger.reference import stages

        for ev in events.LoanDisbursed().process_receipt(receipt, errors=DISCARD):
            loan = int(ev["args"]["loanId"])
            request = ledger.loans.request_of(loan)
            if not request.staged:
                continue
            committed = [t.amount_fen for t in request.tranches]
            first = sum(ev["args"]["amountsFen"])
            for i, part in enumerate(stages.draw_parts(first, committed, committed)):
                self.drawn[(loan, i)] = part
            self.undrawn[loan] = request.principal_fen - first
        for ev in events.StageDrawn().process_receipt(receipt, errors=DISCARD):
            a = ev["args"]
            loan = int(a["loanId"])
            if sum(a["principalFen"]) != int(a["amountFen"]) or sum(a["amountsFen"]) != int(
                a["amountFen"]
            ):
                self.problems.append(f"stage {a['stage']} of loan {loan} does not add up")
            for i, part in enumerate(a["principalFen"]):
                self.drawn[(loan, i)] += int(part)
            self.undrawn[loan] -= int(a["amountFen"])
            self.draws += 1
        for ev in events.StagesLapsed().process_receipt(receipt, errors=DISCARD):
            loan = int(ev["args"]["loanId"])
            self.undrawn[loan] -= sum(ev["args"]["refundsFen"])
            for i, refund in enumerate(ev["args"]["refundsFen"]):
                self.lapsed[(loan, i)] += int(refund)
            self.lapses += 1
            if self.undrawn[loan] != 0:
                self.problems.append(f"loan {loan} lapsed with {self.undrawn[loan]} left undrawn")


# -------------------------------------------------------------------------- invariants

OPEN_FUNDING = ("FUNDING", "FUNDED")
PLEDGING = ("ACCEPTED", "FUNDING", "FUNDED", "DISBURSED", "DEFAULTED")
EXPOSED = ("FUNDING", "FUNDED", "DISBURSED", "DEFAULTED")
GONE = ("SPLIT", "REJECTED", "CANCELLED")


def ecny_supply_is_minted_less_burnt(
    s: Snapshot, books: Books, contracts: dict[str, str]
) -> list[str]:
    problems = []
    if s.total_supply != books.minted - books.burnt:
        problems.append(
            f"total supply {s.total_supply} != minted {books.minted} - burnt {books.burnt}"
        )
    # DESIGN §6.1: Σ balances + Σ held = supply, the token itself holding exactly Σ held.
    token = contracts["DigitalRMB"]
    held = sum(s.held.values())
    holding = sum(v for h, v in s.balances.items() if h != token)
    if holding + held != s.total_supply:
        problems.append(
            f"known holders hold {holding} + {held} held, total supply is {s.total_supply}"
        )
    if s.balances.get(token, 0) != held:
        problems.append(f"the e-CNY contract holds {s.balances.get(token, 0)}, Σ held is {held}")
    return problems


def contract_balances_match_books(
    s: Snapshot, books: Books, contracts: dict[str, str]
) -> list[str]:
    problems = []
    funded = sum(
        t.amount
        for loan in s.loans.values()
        if loan.status in OPEN_FUNDING
        for t in loan.tranches
        if t.funded
    )
    book = s.balances[contracts["LoanBook"]]
    undrawn = sum(books.undrawn.values())
    if book != funded + undrawn:
        problems.append(
            f"loan book holds {book}, funding awaiting disbursement is {funded} and undrawn "
            f"stages {undrawn}"
        )
    pool = s.balances[contracts["ProvisionPool"]]
    expected = books.contributed + books.provisions - books.cover + books.reimbursed
    if pool != expected:
        problems.append(
            f"pool holds {pool}, books say {books.contributed} contributed + "
            f"{books.provisions} provisions - {books.cover} cover + {books.reimbursed} "
            f"reimbursed = {expected}"
        )
    held = s.balances[contracts["CoverBook"]]
    if held != books.margins:
        problems.append(f"cover book holds {held}, margins held are {books.margins}")
    for name in NEVER_HOLD:
        if s.balances.get(contracts[name], 0) != 0:
            problems.append(f"{name} holds {s.balances[contracts[name]]} fen")
    return problems


def no_receivable_pledged_to_two_loans(s: Snapshot) -> list[str]:
    problems = []
    claims: dict[int, list[int]] = defaultdict(list)
    for loan in s.loans.values():
        if loan.status in PLEDGING:
            for rid in loan.receivable_ids:
                claims[rid].append(loan.id)
    for rid, loans in claims.items():
        if len(loans) > 1:
            problems.append(f"receivable {rid} is pledged to loans {loans}")
        r = s.receivables[rid]
        if r.pledged_to != loans[0]:
            problems.append(f"receivable {rid} backs loan {loans[0]} but records {r.pledged_to}")
    for r in s.receivables.values():
        if r.pledged_to and r.status != "PAID" and r.id not in claims:
            problems.append(f"receivable {r.id} is pledged to loan {r.pledged_to}, not pledging")
    return problems


def receivable_roots_conserve_face_value(s: Snapshot, books: Books) -> list[str]:
    problems = []
    unpaid_live: dict[int, int] = defaultdict(int)
    paid: dict[int, int] = defaultdict(int)
    for r in s.receivables.values():
        paid[r.root] += r.paid
        if r.status not in GONE:
            unpaid_live[r.root] += r.value - r.paid
        if (r.holder == ZERO_ADDRESS) != (r.status in GONE):
            problems.append(f"receivable {r.id} is {r.status} but held by {r.holder}")
    for root in {r.root for r in s.receivables.values()}:
        face = s.receivables[root]
        if face.status in ("REJECTED", "CANCELLED"):
            continue
        if unpaid_live[root] + paid[root] != face.value:
            problems.append(
                f"root {root}: live unpaid {unpaid_live[root]} + paid {paid[root]} "
                f"!= face {face.value}"
            )
        if paid[root] != books.paid_on_root.get(root, 0):
            problems.append(
                f"root {root}: lineage records {paid[root]} paid, debtor paid "
                f"{books.paid_on_root.get(root, 0)}"
            )
    return problems


def loan_outstanding_is_principal_less_repaid_and_cover(s: Snapshot, books: Books) -> list[str]:
    problems = []
    for loan in s.loans.values():
        if loan.principal != sum(t.amount for t in loan.tranches):
            problems.append(f"loan {loan.id}: principal != sum of tranches")
        if loan.outstanding != sum(t.outstanding for t in loan.tranches):
            problems.append(f"loan {loan.id}: outstanding != sum of tranche outstanding")
        for i, t in enumerate(loan.tranches):
            repaid, covered = books.principal[(loan.id, i)], books.covered[(loan.id, i)]
            drawn = books.drawn.get((loan.id, i), t.amount)
            if t.outstanding != drawn - repaid - covered:
                problems.append(
                    f"loan {loan.id} tranche {i}: outstanding {t.outstanding} != drawn "
                    f"{drawn} (of {t.amount}) - repaid {repaid} - cover {covered}"
                )
    return problems


def cover_claims_are_bounded(ledger: Ledger, s: Snapshot, loan_ids: list[int]) -> list[str]:
    """Per covered loan (DESIGN §6.2): each layer owes at most its cap and its share of D,
    has paid at most what it owes and had back at most what it paid; the pool had back at
    most what it paid; nothing is owed before a default; the cover is closed exactly when the
    loan was repaid or cancelled."""
    problems = []
    book = ledger.contract("CoverBook").functions
    for loan_id in loan_ids:
        info = book.coverOf(loan_id).call()
        count, closed, defaulted_at, _, d, pool_paid, pool_back = info
        if pool_back > pool_paid:
            problems.append(f"loan {loan_id}: pool had back {pool_back} of {pool_paid}")
        status = s.loans[loan_id].status
        if closed != (status in ("REPAID", "CANCELLED")):
            problems.append(f"loan {loan_id} is {status} but its cover closed={closed}")
        for i in range(count):
            x = book.layerOf(loan_id, i).call()
            share, cap, owed, paid, back = x[2], x[3], x[7], x[8], x[9]
            if not defaulted_at and (owed or paid or back):
                problems.append(f"loan {loan_id} layer {i}: a claim before any default")
            if owed > min(cap, d * share // 10_000):
                problems.append(f"loan {loan_id} layer {i}: owes {owed}, above cap or share")
            if not back <= paid <= owed:
                problems.append(
                    f"loan {loan_id} layer {i}: had back {back}, paid {paid}, owes {owed}"
                )
    return problems


def exposure_is_open_funding(
    s: Snapshot, booked: Mapping[tuple[int, int], int] | None = None
) -> list[str]:
    """Each lender's exposure to a borrower is what it funded of the borrower's open loans,
    where a tranche bought from its lender (DESIGN §6.3) counts for its buyer what was
    outstanding when it bought it (`booked`: (loan, index) → fen, from the sales seen)."""
    booked = booked or {}
    expected: dict[tuple[str, str], int] = defaultdict(int)
    recorded: dict[tuple[str, str], int] = {}
    for loan in s.loans.values():
        for i, (t, exposure) in enumerate(zip(loan.tranches, loan.exposures, strict=True)):
            recorded[(t.lender, loan.borrower)] = exposure
            if loan.status in EXPOSED and t.funded:
                expected[(t.lender, loan.borrower)] += booked.get((loan.id, i), t.amount)
    return [
        f"exposure of {lender} to {borrower} is {value}, open funding {expected[pair]}"
        for pair, value in recorded.items()
        for lender, borrower in [pair]
        if value != expected[pair]
    ]


def prudential_books_match_loans(
    ledger: Ledger,
    s: Snapshot,
    cache: dict[int, tuple[int, str, bytes]],
    books: Books,
    booked: Mapping[tuple[int, int], int] | None = None,
) -> list[str]:
    """DESIGN §6.6's books in the Prudential contract agree with the loans: each lender's
    book and each (lender, group) exposure are its open funding, less what lapsed stages of
    staged loans paid back to it (DESIGN §6.4), where a bought tranche (DESIGN §6.3) counts
    for its buyer what was outstanding when it bought it (`booked`, as in
    `exposure_is_open_funding`) and no longer for its seller; each tech partner's book is the
    outstanding principal of its fee-paying disbursed and defaulted loans plus their stages
    neither drawn nor lapsed, and of it that of the defaulted ones. `cache` keeps each loan's
    (fee share, tech partner, group); `books` the stages drawn and lapsed."""
    booked = booked or {}
    book = ledger.contract("LoanBook").functions
    prudential = ledger.contract("Prudential").functions
    funded: dict[str, int] = defaultdict(int)
    groups: dict[tuple[str, bytes], int] = defaultdict(int)
    techs: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for loan in s.loans.values():
        if loan.id not in cache:
            terms = book.termsOf(loan.id).call()
            group = bytes(prudential.groupOfLoan(loan.id).call())
            if group == bytes(32):  # no group: the borrower's own key
                group = bytes(12) + bytes.fromhex(loan.borrower[2:])
            cache[loan.id] = (int(terms[6]), to_checksum_address(terms[1]), group)
        fee, tech, group = cache[loan.id]
        if loan.status in EXPOSED:
            for i, t in enumerate(loan.tranches):
                if t.funded:
                    key = (loan.id, i)
                    open_fen = booked.get(key, t.amount - books.lapsed.get(key, 0))
                    funded[t.lender] += open_fen
                    groups[(t.lender, group)] += open_fen
        if fee and loan.status in ("DISBURSED", "DEFAULTED"):
            techs[tech][0] += loan.outstanding + books.undrawn.get(loan.id, 0)
            if loan.status == "DEFAULTED":
                techs[tech][1] += loan.outstanding
    problems = []
    lenders = {t.lender for loan in s.loans.values() for t in loan.tranches}
    for lender in lenders:
        got = prudential.bookOf(lender).call()
        if got != funded[lender]:
            problems.append(f"book of {lender} is {got}, open funding {funded[lender]}")
    for (lender, group), want in groups.items():
        got = prudential.groupExposureOf(lender, group).call()
        if got != want:
            problems.append(f"exposure of {lender} to group {group.hex()} is {got}, not {want}")
    for tech, want in techs.items():
        got = list(prudential.techBookOf(tech).call())
        if got != want:
            problems.append(f"tech book of {tech} is {got}, loans say {want}")
    return problems


@dataclass
class TrailWatcher:
    """Checks the audit trail entry by entry as it grows: each entry's hash recomputes, it
    links to its predecessor with the next `seq`, and the last one is `head()`.

    Entries come from the receipts of the transactions a test sends (`feed`, no extra
    request); whatever was appended some other way is fetched from the chain's logs when
    `head()` shows more than was fed.
    """

    address: str
    seq: int = 0
    head: bytes = ZERO32
    block: int = 0
    entries: int = 0
    problems: list[str] = field(default_factory=list)

    def state(self) -> tuple[int, bytes, int]:
        return self.seq, self.head, self.block

    def restore(self, state: tuple[int, bytes, int]) -> None:
        self.seq, self.head, self.block = state
        self.problems = []

    def feed(self, receipt: Any) -> None:
        for log in receipt["logs"]:
            if log["address"].lower() == self.address.lower() and bytes(log["topics"][0]) == (
                AUDIT_TOPIC
            ):
                self._entry(log)
        self.block = max(self.block, int(receipt["blockNumber"]))

    def _entry(self, log: Any) -> None:
        seq = int.from_bytes(bytes(log["topics"][1]), "big")
        kind = bytes(log["topics"][2])
        actor = to_checksum_address(bytes(log["topics"][3])[12:])
        subject, data_hash, at, prev, this = decode(
            ["uint256", "bytes32", "uint64", "bytes32", "bytes32"], bytes(log["data"])
        )
        if seq != self.seq + 1 or prev != self.head:
            self.problems.append(f"entry {seq} does not follow entry {self.seq}")
        if entry_hash(prev, seq, kind, actor, subject, data_hash, at) != this:
            self.problems.append(f"entry {seq} does not hash to its entryHash")
        self.seq, self.head = seq, this
        self.entries += 1

    def check(self, ledger: Ledger, s: Snapshot) -> list[str]:
        if (s.audit_seq, s.audit_head) != (self.seq, self.head):
            w3 = ledger.chain.w3
            to_block = int(w3.eth.block_number)
            if to_block > self.block:
                query = {
                    "address": self.address,
                    "topics": ["0x" + AUDIT_TOPIC.hex()],
                    "fromBlock": self.block + 1,
                    "toBlock": to_block,
                }
                for log in w3.eth.get_logs(query):  # type: ignore[arg-type]
                    self._entry(log)
                self.block = to_block
        if (s.audit_seq, s.audit_head) != (self.seq, self.head):
            self.problems.append(f"head() is #{s.audit_seq}, the logs end at #{self.seq}")
        return list(self.problems)


# ------------------------------------------------------------------- a seeded deployment


@dataclass
class Deployed:
    """A seeded deployment on a node, with the addresses the tests use."""

    home: Home
    url: str
    ledger: Ledger

    def addr(self, name: str) -> str:
        return self.ledger.resolve(name)

    def contract_address(self, name: str) -> str:
        return self.ledger.deployment.address(name)

    def now(self) -> int:
        return int(self.ledger.chain.w3.eth.get_block("latest")["timestamp"])

    def snapshot(self) -> str:
        return str(rpc(self.ledger, "evm_snapshot"))

    def revert(self, snapshot_id: str) -> None:
        if rpc(self.ledger, "evm_revert", [snapshot_id]) is not True:
            raise RuntimeError(f"evm_revert {snapshot_id} failed")

    def reopen(self) -> Ledger:
        """A fresh ledger (nonces read again from the chain), after a revert."""
        self.ledger.close()
        self.ledger = Ledger.open(self.home, rpc=self.url)
        self.ledger.simulate = False
        return self.ledger

    def warp(self, seconds: int) -> None:
        """The next block is `seconds` after the latest (mined at once)."""
        rpc(self.ledger, "evm_setNextBlockTimestamp", [self.now() + seconds])
        rpc(self.ledger, "evm_mine")

    def fix_block_times(self) -> None:
        """Each block one second after the last, whatever the wall clock: a run replayed
        from a snapshot then sees the same times, so the same interest and the same draws."""
        rpc(self.ledger, "anvil_setBlockTimestampInterval", [1])


def deal_books_match_balances(ledger: Ledger) -> list[str]:
    """Every securitisation deal's books equal its account's e-CNY balance (DESIGN §6.5):
    subscriptions waiting (before close), or what its tranches collected since the close
    less the fees paid and what holders claimed — recomputed from the events, not read from
    the contract; and the classes' payments plus fees are what was distributed."""
    problems: list[str] = []
    deals = ledger.deals
    for deal_id in range(1, deals.count() + 1):
        view = deals.get(deal_id)
        subscribed = sum(
            int(e["args"]["amountFen"])
            for e in ledger.events(
                "Securitisation", "Subscribed", argument_filters={"dealId": deal_id}
            )
        )
        if view.status in ("SUBSCRIBING", "CANCELLED"):
            want = subscribed if view.status == "SUBSCRIBING" else 0
            if view.account_balance_fen != want:
                problems.append(
                    f"deal #{deal_id} {view.status} holds {view.account_balance_fen}, not {want}"
                )
            continue
        closed_block = ledger.events(
            "Securitisation", "DealClosed", argument_filters={"dealId": deal_id}
        )[0]["blockNumber"]
        collected = 0
        for e in ledger.events("LoanBook", "LoanSettled", from_block=closed_block):
            for t in view.tranches:
                if e["args"]["loanId"] == t.loan_id:
                    collected += (
                        e["args"]["interestFen"][t.index] + e["args"]["principalFen"][t.index]
                    )
        for e in ledger.events("LoanBook", "LoanDefaulted", from_block=closed_block):
            for t in view.tranches:
                if e["args"]["loanId"] == t.loan_id:
                    collected += e["args"]["principalFen"][t.index]
        distributed = sum(d.cash_fen for d in view.distributions)
        fees = sum(d.fee_fen for d in view.distributions)
        claimed = sum(
            int(e["args"]["totalFen"])
            for e in ledger.events(
                "Securitisation", "Claimed", argument_filters={"dealId": deal_id}
            )
        )
        paid = sum(k.paid_fen for k in view.classes)
        if view.account_balance_fen != collected - fees - claimed:
            problems.append(
                f"deal #{deal_id} holds {view.account_balance_fen}: collected {collected} "
                f"less fees {fees} less claims {claimed}"
            )
        if view.cash_fen != collected - distributed:
            problems.append(f"deal #{deal_id} cash {view.cash_fen} != {collected} - {distributed}")
        if paid + fees != distributed:
            problems.append(f"deal #{deal_id} paid {paid} + fees {fees} != {distributed}")
    return problems
