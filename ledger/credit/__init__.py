"""Credit files with consent (征信链, DESIGN §6.7).

`figures`: a borrower's credit file computed from the audit entries' bound events alone (a
pure function, run by the writer and again by the offline verifier). `file`: writing a
credit file after the on-chain query, and reading its header back for `audit verify
--evidence`. The typed wrapper of the CreditConsent contract (grant, revoke, query, the
data-usage log) is `ledger.engine.consent`.
"""
