"""Reading the model: the .mdl through PySD, its dependency graph, views, sketch and Graphviz layout."""
