from core.geography.data import demo_wards

BOROUGHS = [("Camden", 51.529, -0.1255), ("Islington", 51.5465, -0.1058)]


def test_demo_wards_are_deterministic_unique_and_near_their_borough():
    first, second = demo_wards(BOROUGHS), demo_wards(BOROUGHS)
    assert first == second and len(first) == 38
    assert len({w.code for w in first}) == 38
    assert len({(w.borough, w.name) for w in first}) == 38
    for ward in first:
        lat, lon = next((la, lo) for b, la, lo in BOROUGHS if b == ward.borough)
        assert abs(ward.latitude - lat) < 0.03 and abs(ward.longitude - lon) < 0.04
        assert ward.code.startswith("E059")
