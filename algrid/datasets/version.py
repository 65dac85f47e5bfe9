"""The preprocessing version (kept import-light: the grid reads it to build exp_keys without loading sklearn).

Bump it whenever `algrid.datasets.preprocessing` changes what any dataset looks like; it enters every exp_key, so
results computed under an older preprocessing are never mixed with new ones.
"""

PREPROCESSING_VERSION = "1"
