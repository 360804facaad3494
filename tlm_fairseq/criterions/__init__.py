"""Training criteria; importing a module registers it with fairseq."""
