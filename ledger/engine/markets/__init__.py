"""Tranche sales (DESIGN §6.3) and securitisation deals (§6.5): the clients of the
TrancheMarket and Securitisation contracts."""
