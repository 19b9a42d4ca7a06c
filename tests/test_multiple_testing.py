from __future__ import annotations

import numpy as np
import pytest
import scipy.stats as ss
from hypothesis import given
from hypothesis import strategies as st

from sensorframe._multiple_testing import adjust_pvalues
from sensorframe.errors import InvalidParameterError

pvalues = st.lists(
    st.one_of(st.sampled_from([0.0, 0.01, 0.05, 0.5, 1.0, np.nan]), st.floats(0.0, 1.0)),
    max_size=40,
)


@given(p=pvalues)
@pytest.mark.parametrize("method", ["bh", "by"])
def test_matches_scipy_and_skips_nan(p: list[float], method: str) -> None:
    arr = np.array(p, dtype=np.float64)
    got = adjust_pvalues(arr, method=method)  # type: ignore[arg-type]
    ok = ~np.isnan(arr)
    assert np.isnan(got[~ok]).all()
    if ok.any():
        want = ss.false_discovery_control(arr[ok], method=method)
        np.testing.assert_allclose(got[ok], want, rtol=1e-12, atol=1e-15)


def test_shape_kept_and_bad_method() -> None:
    assert adjust_pvalues(np.full((2, 3), 0.5)).shape == (2, 3)
    assert adjust_pvalues(np.array([])).shape == (0,)
    with pytest.raises(InvalidParameterError, match="method"):
        adjust_pvalues(np.array([0.1]), method="holm")  # type: ignore[arg-type]
