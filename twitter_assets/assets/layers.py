"""What each layer (Dagster group) is for: the opening sentence of every asset's description."""

LAYER_PURPOSE = {
    "raw": (
        "Raw (bronze) layer, the API's answers kept untouched so every later layer can be rebuilt "
        "without asking the API again:"
    ),
    "silver": "Silver layer, clean typed tables (one row per thing, deduplicated) that every analysis reads:",
    "gold": "Gold layer, the analyses a person or a dashboard reads, computed from silver:",
    "report": "Report layer, what a person reads without a database:",
}


def describe(layer: str, what: str) -> str:
    """An asset description: the layer's purpose, then what this asset holds."""
    return f"{LAYER_PURPOSE[layer]} {what}"
