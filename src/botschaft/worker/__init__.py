"""Background work: the scheduler (expiring double opt-ins, retention) and the dispatcher."""
