"""Networks: each file holds a frozen config dataclass beside the model it builds."""
