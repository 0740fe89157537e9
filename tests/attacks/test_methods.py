import pytest

from wsmooth import _names
from wsmooth.attacks import (
    AttackMethod,
    ThresholdAttack,
    available_methods,
    register_method,
)
from wsmooth.attacks._methods import METHOD_NAMES, METHODS, get_method


@pytest.fixture
def scratch_name():
    name = "_test_registry"
    yield name
    METHODS.pop(name, None)
    METHOD_NAMES.discard(name)


class _First(AttackMethod):
    requires_shadow_models = False


class _Second(AttackMethod):
    requires_shadow_models = False


def test_available_methods_lists_the_registry():
    names = available_methods()
    assert names == sorted(METHODS) == sorted(METHOD_NAMES)
    assert set(_names.ATTACKS) <= set(names)
    assert get_method("mentr") is ThresholdAttack


def test_register_refuses_to_overwrite_a_name(scratch_name):
    register_method(scratch_name)(_First)
    assert scratch_name in available_methods()
    register_method(scratch_name)(_First)  # the same class again: no change
    with pytest.raises(ValueError, match="registered already.*force=True"):
        register_method(scratch_name)(_Second)
    assert get_method(scratch_name) is _First
    with pytest.raises(ValueError, match="registered already"):
        register_method("mentr")(_Second)
    assert get_method("mentr") is ThresholdAttack
    register_method(scratch_name, force=True)(_Second)
    assert get_method(scratch_name) is _Second


def test_register_checks_its_arguments(scratch_name):
    with pytest.raises(TypeError, match="not an AttackMethod subclass"):
        register_method(scratch_name)(object)
    with pytest.raises(TypeError, match="non-empty str"):
        register_method("")
    with pytest.raises(TypeError, match="non-empty str"):
        register_method(3)
    assert scratch_name not in available_methods()
