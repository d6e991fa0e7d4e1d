"""Students' portfolios for employers: chosen graded work, shared by revocable public links."""
