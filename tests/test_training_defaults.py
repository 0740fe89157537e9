"""The command's training defaults per data set and its undertraining check."""

from wsmooth._training_defaults import (
    accuracy_floor,
    training_defaults,
    undertrained_warning,
)


def test_built_in_sets_get_their_measured_settings():
    ten = training_defaults("purchase-like", 2500, 600, 10, image=False)
    hundred = training_defaults("purchase-like", 10000, 600, 100, image=False)
    digits = training_defaults("digits", 1797, 64, 10, image=True)
    for d in (ten, hundred, digits):
        assert d["epochs"] >= 1 and d["lr"] > 0 and d["batch_size"] >= 1
        assert "measured" in d["rule"]
    # more classes: a wider hidden layer
    assert max(hundred["hidden"]) > max(ten["hidden"])
    # the digits CNN trains longer at the MLP's rate: at a higher one weighted
    # smoothing collapses
    assert digits["lr"] == ten["lr"] and digits["epochs"] > ten["epochs"]


def test_fewer_records_train_more_epochs_within_bounds():
    sizes = [100, 500, 2500, 20000, 10**6]
    for image in (False, True):
        epochs = [training_defaults("csv", n, 20, 3, image=image)["epochs"]
                  for n in sizes]
        assert epochs == sorted(epochs, reverse=True)
        assert epochs[0] > epochs[-1] >= 1
        # capped: a tiny set does not train for ever, a huge one trains a few
        assert epochs[0] == training_defaults("csv", 10, 20, 3, image)["epochs"]
        assert epochs[-1] == training_defaults("csv", 10**7, 20, 3, image)["epochs"]


def test_epochs_are_counted_in_steps_of_the_batch_size():
    big = training_defaults("csv", 1000, 20, 3, image=False, batch_size=400)
    small = training_defaults("csv", 1000, 20, 3, image=False, batch_size=2)
    assert big["epochs"] > small["epochs"]
    assert (big["batch_size"], small["batch_size"]) == (400, 2)


def test_files_follow_the_rule_of_their_kind():
    csv = training_defaults("csv", 2500, 600, 10, image=False)
    built_in = training_defaults("purchase-like", 2500, 600, 10, image=False)
    assert csv == built_in  # the same rule for the same shapes
    many = training_defaults("npz", 5000, 20, 50, image=False)
    assert max(many["hidden"]) > max(csv["hidden"])
    cifar = training_defaults("cifar10", 50000, 3072, 10, image=True)
    assert "image" in cifar["rule"] and "not measured" in cifar["rule"]


def test_floor_only_where_measured():
    assert 0 < accuracy_floor("digits", 1797, 10) < 1
    assert accuracy_floor("digits", 500, 10) is None  # fewer records
    assert accuracy_floor("purchase-like", 2500, 7) is None  # other classes
    assert accuracy_floor("csv", 10**6, 10) is None


def test_warning_near_chance_names_accuracy_and_remedy():
    text = undertrained_warning(0.12, data="digits", n_classes=10,
                                majority=0.1, training="1 epochs, lr 1e-05")
    assert "0.120" in text and "digits" in text and "chance (0.100)" in text
    assert "--epochs" in text and "--lr" in text and "1 epochs" in text


def test_chance_is_the_majority_class_when_larger():
    # 80% one class: 0.81 is guessing the majority, not a trained model
    assert undertrained_warning(0.81, data="d", n_classes=2, majority=0.8)
    assert undertrained_warning(0.95, data="d", n_classes=2, majority=0.8) is None


def test_warning_below_the_floor_and_none_above():
    low = undertrained_warning(0.7, data="digits", n_classes=10, majority=0.1,
                               floor=0.9)
    assert low and "0.90" in low and "undertrained" in low
    assert undertrained_warning(0.95, data="digits", n_classes=10, majority=0.1,
                                floor=0.9) is None
    assert undertrained_warning(0.7, data="csv", n_classes=10, majority=0.1) is None
    assert undertrained_warning(float("nan"), data="csv", n_classes=10,
                                majority=0.1) is None
