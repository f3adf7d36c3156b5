"""Reference models of the money rules, compared with the contracts by generated cases."""
