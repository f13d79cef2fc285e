"""The build engine: the build loop, the content-addressed cache, lanes, the Dask cluster, and what a format's output comes from."""
