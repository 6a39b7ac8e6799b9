"""The remedy catalog: what practitioners reach for, with Keras and PyTorch snippets that use the
run's own numbers. Rules pick and rank remedies from here according to their evidence."""

from __future__ import annotations

import re

from analyzer.findings import Remedy


def _num(x: float | None, default: str = "...") -> str:
    if x is None:
        return default
    return f"{x:.3g}"


def _lr_text(lr: float | None) -> str:
    return f"lr={_num(lr)}" if lr is not None else "the current learning rate"


def _lr_expr(lr: float | None, factor: float = 1.0, op: str = "/") -> str:
    """The learning rate a snippet sets: a number only when the run's files gave ``lr``; else an
    expression on ``current_lr`` (a remedy never invents the run's numbers)."""
    if lr is not None:
        return _num(lr / factor if op == "/" else lr * factor)
    if factor == 1.0:
        return "current_lr"
    return f"current_lr {op} {factor:g}"


def lower_lr(lr: float | None, factor: float = 10.0, why: str = "") -> Remedy:
    n = _lr_expr(lr, factor, "/")
    return Remedy(
        "lower-lr",
        f"Lower the learning rate{f' from {_num(lr)} to {n}' if lr else f' ~{factor:g}x'}",
        why
        or f"Steps too large for the loss surface at {_lr_text(lr)} make the loss bounce or blow up.",
        keras=f"model.optimizer.learning_rate = {n}  # your optimizer, whichever it is",
        pytorch=f"for g in optimizer.param_groups:\n    g['lr'] = {n}",
    )


def raise_lr(lr: float | None, factor: float = 10.0) -> Remedy:
    n = _lr_expr(lr, factor, "*")
    return Remedy(
        "raise-lr",
        f"Raise the learning rate{f' from {_num(lr)} to {n}' if lr else f' ~{factor:g}x'} "
        "(try an LR range test)",
        "A learning rate that is too small moves the weights so little that the loss barely "
        "changes; a range test (increase the LR every batch, pick ~1/10 of where the loss blows up) "
        "finds a good value in one epoch.",
        keras=f"model.optimizer.learning_rate = {n}  # your optimizer, whichever it is",
        pytorch=f"for g in optimizer.param_groups:\n    g['lr'] = {n}",
    )


def lr_schedule(lr: float | None, epochs: int | None = None, monitor: str = "val_loss") -> Remedy:
    n = _lr_expr(lr)
    e = epochs or "epochs"
    return Remedy(
        "lr-schedule",
        "Decay the learning rate (ReduceLROnPlateau or cosine decay)",
        "A learning rate that stays high keeps the weights bouncing around a minimum; lowering it "
        "as progress slows lets the loss settle lower.",
        keras=(
            f"keras.callbacks.ReduceLROnPlateau(monitor='{monitor}', factor=0.3, patience=3, min_lr=1e-6)\n"
            f"# or: keras.optimizers.schedules.CosineDecay({n}, decay_steps=steps_per_epoch * {e})"
        ),
        pytorch=(
            "scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.3, patience=3)\n"
            f"# each epoch: scheduler.step({monitor})\n"
            f"# or: torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max={e})"
        ),
    )


def warmup(lr: float | None) -> Remedy:
    n = _lr_expr(lr)
    return Remedy(
        "lr-warmup",
        "Warm the learning rate up over the first epochs",
        "Large updates before the statistics of Adam/BatchNorm settle can throw the weights into a "
        "region they never leave; a linear warm-up avoids it.",
        keras=f"keras.optimizers.schedules.CosineDecay(0.0, decay_steps, warmup_target={n}, warmup_steps=1000)",
        pytorch=(
            "scheduler = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=0.01, total_iters=1000)"
        ),
    )


def clip_gradients(norm: float = 1.0) -> Remedy:
    return Remedy(
        "clip-gradients",
        f"Clip the gradient norm (e.g. to {norm:g})",
        "Occasional huge gradients (bad batches, exploding recurrences) produce the spikes and "
        "non-finite values; clipping bounds each update.",
        keras=f"optimizer = keras.optimizers.Adam(learning_rate=..., clipnorm={norm:g})",
        pytorch=f"torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm={norm:g})  # before optimizer.step()",
    )


def check_numerics() -> Remedy:
    return Remedy(
        "check-numerics",
        "Find where the first NaN/inf comes from",
        "Non-finite losses come from a too-large step, log(0) or division by zero in the loss, bad "
        "input values, or float16 overflow; locate the first operation that produces one.",
        keras="tf.debugging.enable_check_numerics()  # before building the model\n"
        "assert np.isfinite(x_train).all() and np.isfinite(y_train).all()",
        pytorch="torch.autograd.set_detect_anomaly(True)\n"
        "assert torch.isfinite(x).all(), 'non-finite input batch'",
    )


def early_stopping(
    best_step: int | None,
    best_value: float | None,
    patience: int,
    unit: str = "epoch",
    monitor: str = "val_loss",
) -> Remedy:
    where = (
        f" (best validation loss {_num(best_value)} at {unit} {best_step:,})"
        if best_step is not None
        else ""
    )
    return Remedy(
        "early-stopping",
        f"Stop at the best checkpoint{where}",
        "After the validation minimum the model memorises the training set; keeping the weights "
        "from the best point gives the best generalisation for free.",
        keras=(
            f"keras.callbacks.EarlyStopping(monitor='{monitor}', patience={patience}, "
            "restore_best_weights=True)"
        ),
        pytorch=(
            "if val_loss < best - 1e-4:\n    best, bad = val_loss, 0\n"
            "    torch.save(model.state_dict(), 'best.pt')\n"
            f"else:\n    bad += 1\n    if bad >= {patience}: break  # then model.load_state_dict(torch.load('best.pt'))"
        ),
    )


def checkpoint_on_metric(metric: str, direction: str | None) -> Remedy:
    """Keep the checkpoint that is best on the validation *metric*, for runs whose loss turns
    worse while the metric still improves (stopping at the best loss would cost metric points)."""
    mode = "max" if direction != "min" else "min"
    bare = metric
    for prefix in ("eval_", "val_", "validation_", "valid_", "val/", "eval/", "validation/"):
        if bare.lower().startswith(prefix):
            bare = bare[len(prefix) :]
            break
    keras_name = "val_" + bare
    var = re.sub(r"\W", "_", bare) or "metric"
    better = "greater" if mode == "max" else "lower"
    return Remedy(
        "checkpoint-on-metric",
        f"Keep the checkpoint with the best {metric}, not the lowest validation loss",
        f"{metric} still improves after the validation loss turned up (the model grows "
        "over-confident on the examples it gets wrong, which costs loss but not accuracy); "
        "stopping at the loss minimum would throw that improvement away. Select the checkpoint, "
        f"and tune regularisation, on the metric ({better} is better).",
        keras=(
            f"keras.callbacks.ModelCheckpoint('best.keras', monitor='{keras_name}', mode='{mode}', "
            "save_best_only=True)"
        ),
        pytorch=(
            "# Hugging Face Trainer:\n"
            "TrainingArguments(..., eval_strategy='steps', save_strategy='steps',\n"
            f"    load_best_model_at_end=True, metric_for_best_model='{bare}', "
            f"greater_is_better={mode == 'max'})\n"
            "# plain PyTorch: save when the metric improves\n"
            f"if {var} {'>' if mode == 'max' else '<'} best_{var}:\n"
            f"    best_{var} = {var}; torch.save(model.state_dict(), 'best.pt')"
        ),
    )


def regularize(dropout: float = 0.3, l2: float = 1e-4) -> Remedy:
    return Remedy(
        "regularize",
        f"Add regularisation: dropout ~{dropout:g}, weight decay / L2 ~{l2:g}",
        "The training loss keeps falling while the validation loss rises: the network has capacity "
        "to memorise; dropout and weight decay limit that.",
        keras=(
            f"layers.Dropout({dropout:g})\n"
            f"layers.Dense(units, kernel_regularizer=keras.regularizers.L2({l2:g}))\n"
            "# or: keras.optimizers.AdamW(learning_rate=..., weight_decay=1e-2)"
        ),
        pytorch=(
            f"nn.Dropout(p={dropout:g})\n"
            "optimizer = torch.optim.AdamW(model.parameters(), lr=..., weight_decay=1e-2)"
        ),
    )


def augment() -> Remedy:
    return Remedy(
        "augment-data",
        "Get more data or augment it",
        "More (or more varied) training examples is the most reliable cure for memorisation.",
        keras="augment = keras.Sequential([layers.RandomFlip('horizontal'), layers.RandomRotation(0.1)])",
        pytorch="transforms.Compose([transforms.RandomHorizontalFlip(), transforms.RandomCrop(32, padding=4)])",
    )


def smaller_model() -> Remedy:
    return Remedy(
        "reduce-capacity",
        "Use a smaller network",
        "A network much larger than the data needs memorises it; fewer units or layers generalise better.",
        keras="layers.Dense(64)  # instead of a much wider layer",
        pytorch="nn.Linear(in_features, 64)  # instead of a much wider layer",
    )


def more_capacity() -> Remedy:
    return Remedy(
        "more-capacity",
        "Give the model more capacity (wider/deeper layers)",
        "A model too small for the task flattens early at a high loss: it cannot represent a better "
        "fit however long it trains. If a bigger model gets lower, capacity was the limit.",
        keras="layers.Dense(256, activation='relu')  # wider, and/or add layers",
        pytorch="nn.Sequential(nn.Linear(d, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, k))",
    )


def normalize_inputs() -> Remedy:
    return Remedy(
        "normalize-inputs",
        "Standardise the inputs (zero mean, unit variance per feature)",
        "Features on very different or large scales make the loss surface badly conditioned; a "
        "learning rate that is safe for the large directions is too small for the rest.",
        keras="norm = layers.Normalization(); norm.adapt(x_train)\nmodel = keras.Sequential([norm, ...])",
        pytorch="mean, std = x_train.mean(0), x_train.std(0) + 1e-8\nx_train = (x_train - mean) / std  # same for val/test",
    )


def fix_activations() -> Remedy:
    return Remedy(
        "fix-activations",
        "Check for saturated or dead units: ReLU + He init, BatchNorm",
        "Sigmoid/tanh units pushed into saturation (or dead ReLUs) pass almost no gradient, so the "
        "loss stalls near where it started.",
        keras="layers.Dense(units, activation='relu', kernel_initializer='he_normal')\nlayers.BatchNormalization()",
        pytorch="nn.init.kaiming_normal_(layer.weight, nonlinearity='relu')\nnn.BatchNorm1d(units)",
    )


def switch_optimizer(lr: float | None) -> Remedy:
    n = _lr_expr(lr)
    return Remedy(
        "adam",
        "Use Adam/AdamW (default betas 0.9/0.999, eps 1e-8; raise eps to 1e-6 if it is unstable)",
        "Adaptive optimizers rescale each parameter's step, which rescues badly scaled problems where "
        "plain SGD crawls.",
        keras=f"keras.optimizers.Adam(learning_rate={n}, beta_1=0.9, beta_2=0.999, epsilon=1e-7)",
        pytorch=f"torch.optim.AdamW(model.parameters(), lr={n}, betas=(0.9, 0.999), eps=1e-8)",
    )


def bigger_batch(lr: float | None = None) -> Remedy:
    return Remedy(
        "bigger-batch",
        "Use a larger batch (and scale the learning rate with it)",
        "Very small batches give very noisy gradients; the loss swings from batch to batch. "
        "Averaging over more examples steadies the updates.",
        keras="model.fit(x, y, batch_size=128, ...)",
        pytorch="DataLoader(dataset, batch_size=128, shuffle=True)",
    )


def class_weights() -> Remedy:
    return Remedy(
        "class-imbalance",
        "Check the class balance (class weights or resampling)",
        "A classifier stuck near chance on imbalanced data often predicts the majority class; "
        "weighting the loss by class frequency gives the minority classes a voice.",
        keras="model.fit(x, y, class_weight={0: 1.0, 1: n_neg / n_pos})",
        pytorch="nn.CrossEntropyLoss(weight=torch.tensor(class_weights, dtype=torch.float))",
    )


def check_labels() -> Remedy:
    return Remedy(
        "check-pipeline",
        "Check the data pipeline: labels aligned with inputs, loss matches the output layer",
        "A loss that never moves from its starting value often means the model cannot see the "
        "signal: shuffled labels, wrong loss (e.g. softmax output with from_logits=True), or frozen "
        "weights. Overfit ten examples first: a healthy setup reaches ~0 loss on them.",
        keras="model.fit(x_train[:10], y_train[:10], epochs=200)  # must reach ~0 loss",
        pytorch="for _ in range(200): step(x[:10], y[:10])  # must reach ~0 loss",
    )


def train_longer(
    steps: int | None, factor: float = 2.0, epochs: int | None = None, unit: str = "step"
) -> Remedy:
    """``steps``: where the run's x axis ended (in ``unit``s); ``epochs``: the epochs it was set
    to train for, when its files say so (then the snippets quote them)."""
    if epochs:
        title = f"Train longer (e.g. {int(epochs * factor)} epochs instead of {epochs})"
        count, note = str(int(epochs * factor)), ""
    else:
        more = f" ({int(steps * factor):,} {unit}s instead of {steps:,})" if steps else ""
        title = f"Train longer: ~{factor:g}x as long{more}"
        count = f"{factor:g} * epochs"
        note = f"  # {factor:g}x your current number of epochs"
    return Remedy(
        "train-longer",
        title,
        "The loss was still falling when training stopped; more steps will lower it further.",
        keras=f"model.fit(..., epochs={count}){note}",
        pytorch=f"for epoch in range({count}): ...",
    )


def restore_best(best_step: int | None, monitor: str = "val_loss") -> Remedy:
    return Remedy(
        "restore-best",
        f"Use the checkpoint from step {best_step:,}"
        if best_step is not None
        else "Use the best checkpoint",
        "The final weights are worse than an earlier checkpoint.",
        keras=f"keras.callbacks.ModelCheckpoint('best.keras', monitor='{monitor}', save_best_only=True)",
        pytorch=f"if {monitor} < best: torch.save(model.state_dict(), 'best.pt')",
    )
