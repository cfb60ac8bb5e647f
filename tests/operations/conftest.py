"""Worker threads close their database connections after each use here, so test databases can be dropped."""
import pytest
from django.db import connections


@pytest.fixture(autouse=True)
def short_lived_connections():
    settings_dict = connections["default"].settings_dict
    before = settings_dict["CONN_MAX_AGE"]
    settings_dict["CONN_MAX_AGE"] = 0
    yield
    settings_dict["CONN_MAX_AGE"] = before
