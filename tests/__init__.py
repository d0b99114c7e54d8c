from pathlib import Path

#: The repository's root directory, wherever in tests/ the module asking for it lives.
ROOT = Path(__file__).resolve().parents[1]
