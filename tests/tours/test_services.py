import pytest
from django.core.exceptions import ValidationError

from tests.factories import CommunityFundFactory, CooperativeFactory, FarmFactory, ShareRuleFactory, TourFactory
from tests.helpers import form_values
from tours.models import ShareRule, Tour
from tours.services import share_rules_validate_total

# -- share_rules_validate_total ---------------------------------------------------------


@pytest.mark.parametrize(
    ("basis_points", "total"),
    [([], 0), ([1500], 1500), ([5000, 5000], 10_000), ([1500, 1000, 500], 3000), ([10_000], 10_000), ([1] * 3, 3)],
)
def test_totals_up_to_100_percent_are_accepted(basis_points, total):
    assert share_rules_validate_total(basis_points=basis_points) == total


@pytest.mark.parametrize(
    ("basis_points", "message"),
    [
        ([5000, 5001], "The shares add up to 100.01%; the shares of one tour cannot exceed 100%."),
        ([6000, 6000], "The shares add up to 120.00%; the shares of one tour cannot exceed 100%."),
        ([9999, 1, 1], "The shares add up to 100.01%; the shares of one tour cannot exceed 100%."),
    ],
)
def test_totals_over_100_percent_are_refused(basis_points, message):
    with pytest.raises(ValidationError) as excinfo:
        share_rules_validate_total(basis_points=basis_points)
    assert excinfo.value.code == "over_100"
    assert excinfo.value.messages == [message]


@pytest.mark.parametrize("basis_points", [[0], [1500, -1], [10_001]])
def test_each_share_must_be_between_1_and_10000(basis_points):
    with pytest.raises(ValidationError) as excinfo:
        share_rules_validate_total(basis_points=basis_points)
    assert excinfo.value.code == "range"
    assert excinfo.value.messages == ["Each share is between 1 and 10,000 basis points (0.01% to 100%)."]


# -- the admin's share-rule inline ------------------------------------------------------


def tour_change_data(client, tour) -> dict:
    return form_values(client.get(f"/admin/tours/tour/{tour.pk}/change/").content.decode(), "tour_form")


def add_share_rule_row(data: dict, **fields) -> None:
    index = int(data["share_rules-TOTAL_FORMS"])
    data["share_rules-TOTAL_FORMS"] = str(index + 1)
    defaults = {
        "id": "",
        "tour": "",
        "cooperative": "",
        "fund": "",
        "farm": "",
        "basis_points": "",
        "purpose_en": "",
        "purpose_es": "",
    }
    data.update({f"share_rules-{index}-{key}": str(value) for key, value in {**defaults, **fields}.items()})


def rules_snapshot():
    return sorted(ShareRule.objects.values_list("id", "cooperative_id", "fund_id", "farm_id", "basis_points"))


@pytest.mark.django_db
def test_admin_refuses_share_rules_over_100_percent_and_changes_nothing(staff_client):
    tour = TourFactory(title_en="Quillabamba Cacao Day")
    ShareRuleFactory(tour=tour, basis_points=6000)
    ShareRuleFactory(tour=tour, cooperative=None, fund=CommunityFundFactory(), basis_points=3000)
    before = rules_snapshot()
    data = tour_change_data(staff_client, tour)
    data["title_en"] = "Renamed tour"
    add_share_rule_row(data, tour=tour.pk, farm=FarmFactory().pk, basis_points=1001, purpose_en="Host family")

    response = staff_client.post(f"/admin/tours/tour/{tour.pk}/change/", data)

    assert response.status_code == 200
    assert "The shares add up to 100.01%; the shares of one tour cannot exceed 100%." in response.content.decode()
    assert rules_snapshot() == before
    assert Tour.objects.get().title_en == "Quillabamba Cacao Day"


@pytest.mark.django_db
def test_admin_refuses_raising_an_existing_rule_over_100_percent(staff_client):
    tour = TourFactory()
    ShareRuleFactory(tour=tour, basis_points=6000)
    ShareRuleFactory(tour=tour, cooperative=CooperativeFactory(), basis_points=4000)
    before = rules_snapshot()
    data = tour_change_data(staff_client, tour)
    second = next(key for key, value in data.items() if key.endswith("-basis_points") and value == "4000")
    data[second] = "4500"

    response = staff_client.post(f"/admin/tours/tour/{tour.pk}/change/", data)

    assert response.status_code == 200
    assert "The shares add up to 105.00%; the shares of one tour cannot exceed 100%." in response.content.decode()
    assert rules_snapshot() == before


@pytest.mark.django_db
def test_admin_saves_share_rules_adding_up_to_exactly_100_percent(staff_client):
    tour = TourFactory()
    ShareRuleFactory(tour=tour, basis_points=6000)
    farm = FarmFactory()
    data = tour_change_data(staff_client, tour)
    add_share_rule_row(data, tour=tour.pk, farm=farm.pk, basis_points=4000, purpose_en="Host family")

    response = staff_client.post(f"/admin/tours/tour/{tour.pk}/change/", data)

    assert response.status_code == 302
    assert sorted(ShareRule.objects.values_list("basis_points", flat=True)) == [4000, 6000]
    assert ShareRule.objects.get(farm=farm).purpose_en == "Host family"


@pytest.mark.django_db
def test_admin_deleting_a_rule_frees_its_share(staff_client):
    tour = TourFactory()
    ShareRuleFactory(tour=tour, basis_points=6000)
    old = ShareRuleFactory(tour=tour, cooperative=CooperativeFactory(), basis_points=4000)
    data = tour_change_data(staff_client, tour)
    index = next(key.split("-")[1] for key, value in data.items() if key.endswith("-id") and value == str(old.pk))
    data[f"share_rules-{index}-DELETE"] = "on"
    add_share_rule_row(data, tour=tour.pk, farm=FarmFactory().pk, basis_points=4000)

    response = staff_client.post(f"/admin/tours/tour/{tour.pk}/change/", data)

    assert response.status_code == 302
    assert not ShareRule.objects.filter(pk=old.pk).exists()
    assert sorted(ShareRule.objects.values_list("basis_points", flat=True)) == [4000, 6000]


@pytest.mark.django_db
def test_share_rule_admin_refuses_a_rule_that_takes_the_tour_over_100_percent(staff_client):
    tour = TourFactory()
    ShareRuleFactory(tour=tour, basis_points=9000)
    before = rules_snapshot()
    data = form_values(staff_client.get("/admin/tours/sharerule/add/").content.decode(), "sharerule_form")
    data.update({"tour": tour.pk, "fund": CommunityFundFactory().pk, "basis_points": "1001", "purpose_en": "Trees"})

    response = staff_client.post("/admin/tours/sharerule/add/", data)

    assert response.status_code == 200
    assert "The shares add up to 100.01%; the shares of one tour cannot exceed 100%." in response.content.decode()
    assert rules_snapshot() == before

    data["basis_points"] = "1000"
    assert staff_client.post("/admin/tours/sharerule/add/", data).status_code == 302
    assert ShareRule.objects.count() == 2
