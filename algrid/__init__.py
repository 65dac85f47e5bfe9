"""algrid: large active-learning benchmark grids, from grid file to hyperparameter impact."""

__version__ = "0.1.0"
