"""The reception desk (登记): letters and walk-in visits registered by staff, corrections of a
registration, a person's earlier petitions, and the receipt slip (回执)."""
