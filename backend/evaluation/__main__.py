"""python -m backend.evaluation: the store evaluation (backend/evaluation/store.py)."""

import sys

from backend.evaluation.store import main

sys.exit(main())
