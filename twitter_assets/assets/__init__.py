"""Assets by layer: raw (bronze) API pages, silver tables, gold analysis."""
