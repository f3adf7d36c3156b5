"""The compliance model of `loan quote` against the contracts: for random proposals and
registered net assets, the model's first refused rule is the chain's refusal, with the same
numbers, and a proposal the model finds nothing in is accepted."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ledger.engine.client import Ledger
from ledger.engine.loans import LoanRequest, TrancheRequest
from ledger.errors import ContractRefusal
from ledger.home import Home
from ledger.reference import compliance

LENDERS = ("bank", "microloan")
# bank already lends supplier1 this much (a funded loan), so exposure starts above zero
FUNDED = 7_000_00
# Near the limit for these amounts half the time, far above it the other half.
NET_ASSETS = st.integers(0, 200_000_00) | st.integers(1_000_000_00, 9_000_000_00)


@pytest.fixture(scope="module")
def chain(template_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    root = tmp_path_factory.mktemp("compliance") / "home"
    shutil.copytree(template_home, root)
    with Ledger.open(Home.at(root)) as op:
        core, s1 = op.as_signer("core"), op.as_signer("supplier1")
        end = int(op.chain.w3.eth.get_block("latest")["timestamp"]) + 365 * 86_400
        for n in (1, 2):
            core.receivables.issue(op.resolve("supplier1"), 50_000_00, end, bytes([n]) * 32)
            s1.receivables.accept(n)
        first = op.as_signer("microloan").loans.propose(
            _request(op, [("bank", FUNDED), ("microloan", 3_000_00)], 1000, 0, 0, receivable=1)
        )
        s1.loans.accept(first.id)
        op.as_signer("bank").loans.fund(first.id)
        assert op.loans.exposure_of(op.resolve("bank"), op.resolve("supplier1")) == FUNDED
        yield op


def _request(
    op: Ledger,
    tranches: list[tuple[str, int]],
    rate: int,
    penalty: int,
    fee: int,
    receivable: int = 2,
) -> LoanRequest:
    return LoanRequest(
        borrower=op.resolve("supplier1"),
        tranches=[
            TrancheRequest(lender=op.resolve(name), senior=False, amount_fen=fen)
            for name, fen in tranches
        ],
        receivable_ids=[receivable],
        rate_bps=rate,
        term_days=90,
        penalty_bps=penalty,
        fee_share_bps=fee,
        tech_partner=op.resolve("tech") if fee else None,
    )


@settings(
    max_examples=int(os.environ.get("LIANDAI_COMPLIANCE_CASES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    tranches=st.lists(
        st.tuples(st.sampled_from(LENDERS), st.integers(1, 12_000_00)), min_size=1, max_size=4
    ),
    rate=st.integers(0, 2_600),
    penalty=st.sampled_from([0, 1, 200, 600]),
    fee=st.sampled_from([0, 2_000, 3_000, 3_001]),
    net_assets=st.tuples(NET_ASSETS, NET_ASSETS),
)
def test_the_model_names_the_rule_and_numbers_the_chain_refuses_with(
    chain: Ledger,
    tranches: list[tuple[str, int]],
    rate: int,
    penalty: int,
    fee: int,
    net_assets: tuple[int, int],
) -> None:
    op = chain
    regulator = op.as_signer("regulator")  # net assets are a regulator's to set (DESIGN §6.6)
    for name, fen in zip(LENDERS, net_assets, strict=True):
        regulator.set_net_assets(op.resolve(name), fen)
    request = _request(op, tranches, rate, penalty, fee)
    policy = op.loans.policy()
    lenders = {op.resolve(n) for n in LENDERS}
    borrower = op.resolve("supplier1")
    findings = compliance.check(
        compliance.Proposal(
            originator=op.resolve("microloan"),
            borrower=borrower,
            tranches=tuple((t.lender, t.amount_fen) for t in request.tranches),
            rate_bps=rate,
            penalty_bps=penalty,
            fee_share_bps=fee,
        ),
        compliance.Policy(
            policy.min_originator_share_bps,
            policy.max_apr_bps,
            policy.max_fee_share_bps,
            policy.max_single_borrower_bps,
        ),
        {a: op.member(a).net_assets_fen for a in lenders},
        {a: op.loans.exposure_of(a, borrower) for a in lenders},
        50_000_00,
    )
    refused = [f for f in findings if f.refused]
    event(refused[0].rule if refused else "accepted")
    try:
        op.as_signer("microloan").loans.propose(request)
    except ContractRefusal as exc:
        assert refused, f"the chain refused {exc.rule} but the model found nothing"
        assert exc.name == refused[0].rule
        assert dict(exc.args_by_name) == refused[0].numbers
    else:
        assert not refused, f"the model expected {refused[0].rule}; the chain accepted it"
    principal = sum(fen for _, fen in tranches)
    assert any(f.rule == "CollateralBelowPrincipal" for f in findings) == (principal > 50_000_00)
