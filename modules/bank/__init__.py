"""bank: balances, supply per denomination, module accounts."""
