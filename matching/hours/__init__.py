"""Hours served: special constables' own duty hours (logged, then approved), each volunteer's year, and the
specials' monthly commitment for coordinators (issue #20)."""
