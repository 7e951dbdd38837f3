"""The mood classifier: is the baby hungry (feed), happy, upset or asleep?

    config      MoodConfig (the network) and TrainConfig (how it is trained)
    model       MoodNet, build_model, save_model, load_model
    data        photos from a folder or a CSV manifest; leakage-safe splits
    stages      what is frozen in each stage; discriminative learning rates
    loops       train_one_epoch, evaluate, extract_features
    training    fit (both stages, early stopping, resume) and main(args)
    lr_finder   learning-rate range test
    evaluation  accuracy, per-class P/R/F1, confusion matrix, calibration
    plots       history, learning-rate and confusion-matrix PNGs
    audit       out-of-fold ranking of suspicious labels
    synth       synthetic cartoon faces for tests and the demo (not real data)
    demo        the demo checkpoint
    serve       MoodPredictor, used by the vision worker

MOODS lives here, where importing it loads no torch, so the events and the apps that
name moods (services/bus/events.py) take them from the models that tell them apart.
"""

MOODS = ("feed", "happy", "upset", "sleep")  # the classes a mood model tells apart, by default
