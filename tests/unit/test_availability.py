from volunteers.availability import PERIODS, Window, clock, overlaps, week_grid


def test_clock_words():
    assert [clock(m) for m in (0, 540, 570, 720, 1050, 1440)] == [
        "midnight",
        "9am",
        "9:30am",
        "midday",
        "5:30pm",
        "midnight",
    ]


def test_week_grid_splits_windows_across_periods():
    grid = week_grid([Window(0, 9 * 60, 14 * 60), Window(0, 19 * 60, 24 * 60), Window(6, 0, 120)])
    assert [p[0] for p in PERIODS] == ["Morning", "Afternoon", "Evening", "Night"]
    assert grid[0].day == "Monday"
    assert grid[0].cells == ("9am to midday", "midday to 2pm", "7pm to midnight", "")
    assert grid[6].cells == ("", "", "", "midnight to 2am")
    assert all(cell == "" for row in grid[1:6] for cell in row.cells)


def test_overlaps():
    assert overlaps(Window(1, 540, 720), Window(1, 660, 800))
    assert not overlaps(Window(1, 540, 720), Window(1, 720, 800))
    assert not overlaps(Window(1, 540, 720), Window(2, 540, 720))
