"""Dashboards for coordinators and sergeants, the monthly BCU report (issue #21).

``scope`` turns the filter (period and area) into a ``Scope``, limited to a sergeant's own wards;
``registry`` holds each dashboard's builder; each dashboard's figures live in a module of its own
(``coverage``, ``unfilled``, ``skills``, ``vetting_figures``, ``people``), reading the rows and returning a
``core.charts.Page``; ``views`` shows any of them, and downloads any of their tables as CSV.
"""
