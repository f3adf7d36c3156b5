"""Capital-market commands: tranche sales (DESIGN §6.3) and securitisation (§6.5)."""
