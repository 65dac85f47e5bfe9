"""libact (distribution ``libact``): the published study's five libact strategies, listed as unavailable.

The study ran libact's ``UncertaintySampling`` (least confidence ``lc``, smallest margin ``sm``, ``entropy``),
``QueryByCommittee`` (vote disagreement) and ``DWUS`` (density-weighted uncertainty sampling). No libact release
installs from the package index on Python 3.11 with NumPy 2 and scikit-learn >= 1.6 (checked with
``pip install --dry-run`` / ``pip download`` for 0.1.1-0.1.6, December 2026):

- PyPI has source distributions only (no wheel for any Python);
- their ``setup.py`` imports Cython without declaring it as a build requirement (``No module named 'Cython'``),
  and with Cython 3 present the build stops at ``'_hintsvm.pxd' not found`` (the file is missing from every sdist);
- the newest release, 0.1.6, pins ``scikit-learn<=0.19.2``, which has no build for Python 3.11 or NumPy 2.

So ``algrid strategies`` lists the pairs with that reason and grids naming them exclude them ("unavailable").
"""

from __future__ import annotations

from algrid.strategies._adapter_common import unavailable_spec
from algrid.strategies.base import StrategySpec

LIBRARY = "libact"
REASON = (
    "no libact release installs on Python 3.11 / NumPy 2: PyPI has only sdists (0.1.1-0.1.6) whose build fails "
    "(undeclared Cython, missing _hintsvm.pxd), and 0.1.6 pins scikit-learn<=0.19.2"
)

STRATEGIES: list[StrategySpec] = [
    unavailable_spec(
        "least_confidence", "libact", LIBRARY, "libact UncertaintySampling(method='lc')", REASON
    ),
    unavailable_spec("margin", "libact", LIBRARY, "libact UncertaintySampling(method='sm')", REASON),
    unavailable_spec("entropy", "libact", LIBRARY, "libact UncertaintySampling(method='entropy')", REASON),
    unavailable_spec(
        "qbc_vote_entropy", "libact", LIBRARY, "libact QueryByCommittee (vote disagreement)", REASON
    ),
    unavailable_spec(
        "density_weighted", "libact", LIBRARY, "libact DWUS (density-weighted uncertainty sampling)", REASON
    ),
]
