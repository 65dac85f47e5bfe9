"""The grid layer: grid files parsed and validated (`spec`), the lazy indexable grid (`lazy`), shards (`sharding`)."""

from algrid.grid.lazy import Grid, grid_from_dict, load_grid

__all__ = ["Grid", "grid_from_dict", "load_grid"]
