"""KAM Analytics: key-account and deal-plan analytics on an embedded DuckDB database.

The library has no UI dependency: pages (Streamlit) and the CLI both call it.
"""

__version__ = "0.1.0"
