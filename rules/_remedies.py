"""The remedy catalog: what practitioners reach for, with a snippet per framework (Keras, PyTorch,
Lightning, the Hugging Face Trainer) that uses the run's own numbers. Rules pick and rank
remedies from here according to their evidence; reports show the run's framework's snippet first
(:class:`analyzer.findings.Setup`).

A remedy quotes only numbers the run's files hold (its logged learning rate, or the one its
settings declare; its declared epochs and batch size); otherwise a snippet computes from what the
user's own objects hold (``current_lr / 10``) and the title gives the factor. Changing the
learning rate or the weight decay keeps the run's optimizer (its ``param_groups``, Keras'
``model.optimizer``), never building another one.

Every snippet is real code, run by ``tests/test_remedy_snippets.py`` in a tiny training script
of its framework. The names a snippet may use, as in the user's own script:

* Keras: ``keras``, ``layers``, ``np``, ``tf``, ``model`` (compiled), ``x_train``, ``y_train``,
  ``x_val``, ``y_val``, ``epochs``, ``batch_size``, ``units``, ``n_outputs``. A snippet that calls
  ``model.fit`` is the training call; one that assigns ``model`` builds the model; the others run
  before ``fit``.
* PyTorch: ``torch``, ``nn``, ``DataLoader``, ``model``, ``optimizer``, ``loss_fn``, ``dataset``,
  ``train_loader``, ``val_loader``, ``x``, ``y`` (a batch), ``x_train``, ``in_features``,
  ``n_outputs``, ``units``, ``epochs``, ``batch_size``, ``train_one_epoch(model, loader,
  optimizer)`` (returns the mean training loss) and ``evaluate(model, loader)`` (the validation
  loss). A snippet with a ``for epoch in`` loop is the training loop; one with
  ``clip_grad_norm_`` runs after ``loss.backward()``; the others before training.
* Lightning: ``L`` (``lightning``), ``torch``, ``nn``, ``EarlyStopping``, ``ModelCheckpoint``,
  ``train_loader``, ``val_loader``, ``epochs``; a snippet of ``def`` methods goes into the
  ``LightningModule``, one that builds ``trainer = L.Trainer(...)`` replaces the Trainer.
* Hugging Face: ``TrainingArguments``, ``Trainer``, ``EarlyStoppingCallback``, ``args`` (the
  run's ``TrainingArguments``), ``model``, ``train_ds``, ``eval_ds``; a snippet that builds
  ``trainer`` replaces the Trainer, the others change ``args`` before ``Trainer(args=args)``.

An empty snippet means the remedy has nothing specific for that framework (a report then shows
the next one: Lightning and Hugging Face models are PyTorch modules).
"""

from __future__ import annotations

import re

from analyzer.findings import Remedy, Setup

_NO_SETUP = Setup()


def _num(x: float | None, default: str = "...") -> str:
    if x is None:
        return default
    return f"{x:.3g}"


def _lr_text(lr: float | None) -> str:
    return f"lr={_num(lr)}" if lr is not None else "the current learning rate"


def _run_lr(lr: float | None, setup: Setup) -> float | None:
    """The learning rate a remedy may quote: the logged one, else the one the run's settings
    declare, else None."""
    return lr if lr is not None else setup.lr


def _lr_expr(
    lr: float | None, factor: float = 1.0, op: str = "/", current: str = "current_lr"
) -> str:
    """The learning rate a snippet sets: a number only when the run's files gave ``lr``; else an
    expression on the user's current one (a remedy never invents the run's numbers)."""
    if lr is not None:
        return _num(lr / factor if op == "/" else lr * factor)
    if factor == 1.0:
        return current
    return f"{current} {op} {factor:g}"


def _set_lr(lr: float | None, factor: float, op: str) -> tuple[str, str, str, str]:
    """Keras, PyTorch, Lightning and HF snippets that set the learning rate (the run's optimizer
    kept)."""
    n = _lr_expr(lr, factor, op)
    pick_keras = "" if lr is not None else "current_lr = float(model.optimizer.learning_rate)\n"
    keras = f"{pick_keras}model.optimizer.learning_rate = {n}  # your optimizer, whichever it is"
    g = _lr_expr(lr, factor, op, current="g['lr']")
    pytorch = (
        f"for g in optimizer.param_groups:  # your optimizer, whichever it is\n    g['lr'] = {g}"
    )
    lightning = (
        "def on_train_start(self):  # in your LightningModule: keeps your optimizer\n"
        "    for g in self.trainer.optimizers[0].param_groups:\n"
        f"        g['lr'] = {g}"
    )
    hf = f"args.learning_rate = {_lr_expr(lr, factor, op, current='args.learning_rate')}"
    hf += "  # your TrainingArguments, before Trainer(args=args)"
    return keras, pytorch, lightning, hf


def lower_lr(
    lr: float | None, factor: float = 10.0, why: str = "", setup: Setup = _NO_SETUP
) -> Remedy:
    lr = _run_lr(lr, setup)
    n = _lr_expr(lr, factor, "/")
    keras, pytorch, lightning, hf = _set_lr(lr, factor, "/")
    return Remedy(
        "lower-lr",
        f"Lower the learning rate{f' from {_num(lr)} to {n}' if lr else f' ~{factor:g}x'}",
        why
        or f"Steps too large for the loss surface at {_lr_text(lr)} make the loss bounce or blow up.",
        keras=keras,
        pytorch=pytorch,
        lightning=lightning,
        hf=hf,
    )


def raise_lr(lr: float | None, factor: float = 10.0, setup: Setup = _NO_SETUP) -> Remedy:
    lr = _run_lr(lr, setup)
    n = _lr_expr(lr, factor, "*")
    keras, pytorch, lightning, hf = _set_lr(lr, factor, "*")
    return Remedy(
        "raise-lr",
        f"Raise the learning rate{f' from {_num(lr)} to {n}' if lr else f' ~{factor:g}x'} "
        "(try an LR range test)",
        "A learning rate that is too small moves the weights so little that the loss barely "
        "changes; a range test (increase the LR every batch, pick ~1/10 of where the loss blows up) "
        "finds a good value in one epoch.",
        keras=keras,
        pytorch=pytorch,
        lightning=lightning,
        hf=hf,
    )


def loss_scale(level: float) -> Remedy:
    """For a loss stuck at an absurd magnitude: no learning rate is the cure, the scale is."""
    return Remedy(
        "loss-scale",
        f"Fix the scale of the loss (it sits at {_num(level)}): standardise the targets, average "
        "the loss instead of summing it, check the data",
        f"A loss of {_num(level)} is not a learning-rate problem: no step size makes progress "
        "from there. It comes from targets on a huge scale (a regression on raw prices or "
        "counts), a loss summed over a batch or a sequence instead of averaged, inputs that are "
        "not normalised, or broken values in the data; fix the scale, then tune the learning rate.",
        keras=(
            "y_mean, y_std = y_train.mean(0), y_train.std(0) + 1e-8\n"
            "y_train_s, y_val_s = (y_train - y_mean) / y_std, (y_val - y_mean) / y_std\n"
            "model.fit(x_train, y_train_s, validation_data=(x_val, y_val_s), epochs=epochs)\n"
            "# predictions: model.predict(x) * y_std + y_mean"
        ),
        pytorch=(
            "loss_fn = nn.MSELoss(reduction='mean')  # mean, not sum, over the batch\n"
            "y_mean, y_std = dataset.tensors[1].mean(0), dataset.tensors[1].std(0) + 1e-8\n"
            "dataset.tensors = (dataset.tensors[0], (dataset.tensors[1] - y_mean) / y_std)"
        ),
    )


def _fit(monitor: str = "val_loss") -> str:
    """The start of a Keras ``fit`` call: with the validation data when what is watched is a
    validation curve (a run without validation data watches ``loss``)."""
    val = ", validation_data=(x_val, y_val)" if monitor.startswith("val") else ""
    return f"model.fit(x_train, y_train{val}, epochs="


def _monitor_mode(monitor: str) -> str:
    return (
        "max" if re.search(r"acc|f1|auc|precision|recall|iou|map|score", monitor, re.I) else "min"
    )


def lr_schedule(
    lr: float | None,
    epochs: int | None = None,
    monitor: str = "val_loss",
    setup: Setup = _NO_SETUP,
    tag: str | None = None,
) -> Remedy:
    """``monitor``: the Keras name of what to watch (``val_loss``, or ``loss`` for a run without
    validation loss); ``tag``: the run's own name of that curve (Lightning monitors it)."""
    e = str(epochs) if epochs else "epochs"
    watched = "evaluate(model, val_loader)" if monitor.startswith("val") else "train_loss"
    tag = tag or monitor
    torch_cls = setup.torch_class
    lr = _run_lr(lr, setup)
    if torch_cls and lr is not None:
        lightning = (
            "def configure_optimizers(self):  # in your LightningModule\n"
            f"    optimizer = torch.optim.{torch_cls}(self.parameters(), lr={_num(lr)})\n"
            "    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.3, patience=3)\n"
            f"    return {{'optimizer': optimizer, 'lr_scheduler': {{'scheduler': scheduler, 'monitor': '{tag}'}}}}"
        )
    else:  # the optimizer is not known: schedule the one Lightning built
        lightning = (
            "def on_train_start(self):  # in your LightningModule: keeps your optimizer\n"
            "    self.plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(\n"
            "        self.trainer.optimizers[0], factor=0.3, patience=3)\n\n"
            "def on_train_epoch_end(self):\n"
            f"    if '{tag}' in self.trainer.callback_metrics:\n"
            f"        self.plateau.step(self.trainer.callback_metrics['{tag}'])"
        )
    return Remedy(
        "lr-schedule",
        "Decay the learning rate (reduce it on a plateau, or a cosine decay)",
        "A learning rate that stays high keeps the weights bouncing around a minimum; lowering it "
        "as progress slows lets the loss settle lower.",
        keras=(
            f"{_fit(monitor)}{e}, callbacks=[\n"
            f"    keras.callbacks.ReduceLROnPlateau(monitor='{monitor}', factor=0.3, patience=3, min_lr=1e-6)])"
        ),
        pytorch=(
            "scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.3, patience=3)\n"
            f"for epoch in range({e}):\n"
            "    train_loss = train_one_epoch(model, train_loader, optimizer)\n"
            f"    scheduler.step({watched})"
        ),
        lightning=lightning,
        hf="args.lr_scheduler_type = 'cosine'  # your TrainingArguments, before Trainer(args=args)",
    )


def warmup(lr: float | None, setup: Setup = _NO_SETUP) -> Remedy:
    lr = _run_lr(lr, setup)
    n = _lr_expr(lr, current="float(model.optimizer.learning_rate)")
    return Remedy(
        "lr-warmup",
        "Warm the learning rate up over the first steps",
        "Large updates before the statistics of Adam/BatchNorm settle can throw the weights into a "
        "region they never leave; a linear warm-up avoids it.",
        keras=(
            "steps = epochs * int(np.ceil(len(x_train) / batch_size))\n"
            "model.optimizer.learning_rate = keras.optimizers.schedules.CosineDecay(\n"
            f"    0.0, decay_steps=steps, warmup_target={n}, warmup_steps=max(1, steps // 10))"
        ),
        pytorch=(
            "warmup = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=0.01, total_iters=1000)\n"
            "# then call warmup.step() after each optimizer.step()"
        ),
        lightning=(
            "def on_train_start(self):  # in your LightningModule: keeps your optimizer\n"
            "    self.warmup = torch.optim.lr_scheduler.LinearLR(\n"
            "        self.trainer.optimizers[0], start_factor=0.01, total_iters=1000)\n\n"
            "def on_train_batch_end(self, outputs, batch, batch_idx):\n"
            "    self.warmup.step()"
        ),
        hf=(
            "args.warmup_steps = 0.1  # a tenth of the steps (transformers >= 5; 4.x: args.warmup_ratio = 0.1)"
        ),
    )


def clip_gradients(norm: float = 1.0) -> Remedy:
    return Remedy(
        "clip-gradients",
        f"Clip the gradient norm (e.g. to {norm:g})",
        "Occasional huge gradients (bad batches, exploding recurrences) produce the spikes and "
        "non-finite values; clipping bounds each update.",
        keras=f"model.optimizer.clipnorm = {norm:g}  # your optimizer, whichever it is",
        pytorch=f"torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm={norm:g})  # after loss.backward(), before optimizer.step()",
        lightning=f"trainer = L.Trainer(max_epochs=epochs, gradient_clip_val={norm:g})",
        hf=f"args.max_grad_norm = {norm:g}  # your TrainingArguments, before Trainer(args=args)",
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
        lightning="trainer = L.Trainer(max_epochs=epochs, detect_anomaly=True)",
    )


def _bare_metric(metric: str) -> str:
    """A validation metric's name without its split prefix (``val_accuracy`` → ``accuracy``)."""
    for prefix in ("eval_", "val_", "validation_", "valid_", "val/", "eval/", "validation/"):
        if metric.lower().startswith(prefix):
            return metric[len(prefix) :]
    return metric


def early_stopping(
    best_step: int | None,
    best_value: float | None,
    patience: int,
    unit: str = "epoch",
    monitor: str = "val_loss",
    tag: str | None = None,
    metric_direction: str | None = None,
) -> Remedy:
    """Stop at the best checkpoint of the validation loss (``monitor``, Keras' name; ``tag``, the
    run's own), or, with ``metric_direction`` ("max"/"min"), of the validation metric ``tag``
    (a run that logs no validation loss is judged on its metric)."""
    tag = tag or monitor
    if metric_direction is not None:
        bare = _bare_metric(tag)
        mode = "max" if metric_direction == "max" else "min"
        what, keras_monitor, hf_metric = tag, "val_" + bare, bare
        op = ">" if mode == "max" else "<"
        start = "-float('inf')" if mode == "max" else "float('inf')"
        better, watched = f"{op} best", "evaluate_metric(model, val_loader)"
    else:
        mode = _monitor_mode(tag)
        what, keras_monitor = "validation loss", monitor
        hf_metric = "eval_loss" if monitor.startswith("val") else "loss"
        start, better, watched = "float('inf')", "< best - 1e-4", "evaluate(model, val_loader)"
    where = (
        f" (best {what} {_num(best_value)} at {unit} {best_step:,})"
        if best_step is not None
        else ""
    )
    keras_mode = f", mode='{mode}'" if metric_direction is not None else ""
    return Remedy(
        "early-stopping",
        f"Stop at the best checkpoint{where}",
        "After the validation optimum the model memorises the training set; keeping the weights "
        "from the best point gives the best generalisation for free.",
        keras=(
            f"{_fit(keras_monitor)}epochs, callbacks=[\n"
            f"    keras.callbacks.EarlyStopping(monitor='{keras_monitor}'{keras_mode}, patience={patience}, "
            "restore_best_weights=True)])"
        ),
        pytorch=(
            f"best, bad = {start}, 0\n"
            "for epoch in range(epochs):\n"
            "    train_one_epoch(model, train_loader, optimizer)\n"
            f"    score = {watched}\n"
            f"    if score {better}:\n"
            "        best, bad = score, 0\n"
            "        torch.save(model.state_dict(), 'best.pt')\n"
            "    else:\n"
            "        bad += 1\n"
            f"        if bad >= {patience}:\n"
            "            break\n"
            "model.load_state_dict(torch.load('best.pt'))"
        ),
        lightning=(
            f"checkpoint = ModelCheckpoint(monitor='{tag}', mode='{mode}')\n"
            "trainer = L.Trainer(max_epochs=epochs, callbacks=[\n"
            f"    EarlyStopping(monitor='{tag}', mode='{mode}', patience={patience}), checkpoint])\n"
            "# after trainer.fit(...): the best weights are at checkpoint.best_model_path"
        ),
        hf=(
            "args = TrainingArguments(output_dir=args.output_dir, eval_strategy='epoch', save_strategy='epoch',\n"
            f"    load_best_model_at_end=True, metric_for_best_model='{hf_metric}', greater_is_better={mode == 'max'})\n"
            "trainer = Trainer(model=model, args=args, train_dataset=train_ds, eval_dataset=eval_ds,\n"
            f"    callbacks=[EarlyStoppingCallback(early_stopping_patience={patience})]"
            + (", compute_metrics=compute_metrics)" if metric_direction is not None else ")")
        ),
    )


def checkpoint_on_metric(metric: str, direction: str | None) -> Remedy:
    """Keep the checkpoint that is best on the validation *metric*, for runs whose loss turns
    worse while the metric still improves (stopping at the best loss would cost metric points)."""
    mode = "max" if direction != "min" else "min"
    bare = _bare_metric(metric)
    keras_name = "val_" + bare
    var = re.sub(r"\W", "_", bare) or "metric"
    better = "greater" if mode == "max" else "lower"
    op = ">" if mode == "max" else "<"
    start = "-float('inf')" if mode == "max" else "float('inf')"
    return Remedy(
        "checkpoint-on-metric",
        f"Keep the checkpoint with the best {metric}, not the lowest validation loss",
        f"{metric} still improves after the validation loss turned up (the model grows "
        "over-confident on the examples it gets wrong, which costs loss but not accuracy); "
        "stopping at the loss minimum would throw that improvement away. Select the checkpoint, "
        f"and tune regularisation, on the metric ({better} is better).",
        keras=(
            "model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=epochs, callbacks=[\n"
            f"    keras.callbacks.ModelCheckpoint('best.keras', monitor='{keras_name}', mode='{mode}', "
            "save_best_only=True)])"
        ),
        pytorch=(
            f"best_{var} = {start}\n"
            "for epoch in range(epochs):\n"
            "    train_one_epoch(model, train_loader, optimizer)\n"
            f"    {var} = evaluate_metric(model, val_loader)  # your {bare}\n"
            f"    if {var} {op} best_{var}:\n"
            f"        best_{var} = {var}\n"
            "        torch.save(model.state_dict(), 'best.pt')"
        ),
        lightning=(
            f"checkpoint = ModelCheckpoint(monitor='{metric}', mode='{mode}')\n"
            "trainer = L.Trainer(max_epochs=epochs, callbacks=[checkpoint])"
        ),
        hf=(
            "args = TrainingArguments(output_dir=args.output_dir, eval_strategy='epoch', save_strategy='epoch',\n"
            f"    load_best_model_at_end=True, metric_for_best_model='{bare}', "
            f"greater_is_better={mode == 'max'})\n"
            "trainer = Trainer(model=model, args=args, train_dataset=train_ds, eval_dataset=eval_ds,\n"
            f"    compute_metrics=compute_metrics)  # returns {{'{bare}': ...}}"
        ),
    )


def regularize(dropout: float = 0.3, weight_decay: float = 1e-4) -> Remedy:
    d, wd = f"{dropout:g}", f"{weight_decay:g}"
    return Remedy(
        "regularize",
        f"Add regularisation: dropout ~{d}, weight decay ~{wd}",
        "The training loss keeps falling while the validation loss rises: the network has capacity "
        "to memorise; dropout and weight decay limit that.",
        keras=(
            "model = keras.Sequential([\n"
            "    keras.Input(shape=x_train.shape[1:]),\n"
            f"    layers.Dense(units, activation='relu', kernel_regularizer=keras.regularizers.L2({wd})),\n"
            f"    layers.Dropout({d}),\n"
            "    layers.Dense(n_outputs),\n"
            "])"
        ),
        pytorch=(
            f"for g in optimizer.param_groups:  # weight decay on your optimizer\n    g['weight_decay'] = {wd}\n"
            f"model = nn.Sequential(nn.Linear(in_features, units), nn.ReLU(), nn.Dropout(p={d}), nn.Linear(units, n_outputs))"
        ),
        lightning=(
            "def on_train_start(self):  # in your LightningModule: keeps your optimizer\n"
            "    for g in self.trainer.optimizers[0].param_groups:\n"
            f"        g['weight_decay'] = {wd}\n"
            f"# and nn.Dropout(p={d}) between the layers of the model"
        ),
        hf=f"args.weight_decay = {wd}  # your TrainingArguments (and the model config's dropout, e.g. hidden_dropout_prob={d})",
    )


def augment(images: bool) -> Remedy:
    """More data; image augmentation only for a run that holds evidence of images
    (``Setup.images``), else noise on the inputs (tabular, text, signals)."""
    if images:
        return Remedy(
            "augment-data",
            "Get more data or augment it (flips, crops)",
            "More (or more varied) training examples is the most reliable cure for memorisation; "
            "random flips and crops make every epoch's images a little different.",
            keras=(
                "augment = keras.Sequential([layers.RandomFlip('horizontal'), layers.RandomRotation(0.1)])\n"
                "model = keras.Sequential([keras.Input(shape=x_train.shape[1:]), augment, *model.layers])"
            ),
            pytorch=(
                "# per training batch x of shape (N, C, H, W) (or torchvision's RandomHorizontalFlip, RandomCrop)\n"
                "if torch.rand(1).item() < 0.5:\n"
                "    x = x.flip(-1)  # a horizontal flip\n"
                "padded = nn.functional.pad(x, (4, 4, 4, 4), mode='reflect')\n"
                "i, j = torch.randint(0, 9, (2,)).tolist()\n"
                "x = padded[..., i : i + x.shape[-2], j : j + x.shape[-1]]  # a random crop"
            ),
        )
    return Remedy(
        "augment-data",
        "Get more data, or add noise to the inputs",
        "More (or more varied) training examples is the most reliable cure for memorisation; "
        "without more data, small random noise on the inputs (or dropout) keeps the network "
        "from fitting each example exactly.",
        keras=(
            "model = keras.Sequential([keras.Input(shape=x_train.shape[1:]), "
            "layers.GaussianNoise(0.1), *model.layers])  # active in training only"
        ),
        pytorch="x = x + 0.1 * torch.randn_like(x)  # per training batch, on standardised inputs",
    )


def smaller_model() -> Remedy:
    return Remedy(
        "reduce-capacity",
        "Use a smaller network",
        "A network much larger than the data needs memorises it; fewer units or layers generalise better.",
        keras=(
            "model = keras.Sequential([keras.Input(shape=x_train.shape[1:]), "
            "layers.Dense(64, activation='relu'), layers.Dense(n_outputs)])  # narrower"
        ),
        pytorch="model = nn.Sequential(nn.Linear(in_features, 64), nn.ReLU(), nn.Linear(64, n_outputs))  # narrower",
    )


def more_capacity() -> Remedy:
    return Remedy(
        "more-capacity",
        "Give the model more capacity (wider/deeper layers)",
        "A model too small for the task flattens early at a high loss: it cannot represent a better "
        "fit however long it trains. If a bigger model gets lower, capacity was the limit.",
        keras=(
            "model = keras.Sequential([keras.Input(shape=x_train.shape[1:]),\n"
            "    layers.Dense(256, activation='relu'), layers.Dense(256, activation='relu'), layers.Dense(n_outputs)])"
        ),
        pytorch=(
            "model = nn.Sequential(nn.Linear(in_features, 256), nn.ReLU(), nn.Linear(256, 256), "
            "nn.ReLU(), nn.Linear(256, n_outputs))"
        ),
    )


def normalize_inputs() -> Remedy:
    return Remedy(
        "normalize-inputs",
        "Standardise the inputs (zero mean, unit variance per feature)",
        "Features on very different or large scales make the loss surface badly conditioned; a "
        "learning rate that is safe for the large directions is too small for the rest.",
        keras=(
            "norm = layers.Normalization()\nnorm.adapt(x_train)\n"
            "model = keras.Sequential([keras.Input(shape=x_train.shape[1:]), norm, *model.layers])"
        ),
        pytorch=(
            "mean, std = x_train.mean(0), x_train.std(0) + 1e-8\n"
            "x_train = (x_train - mean) / std  # the same mean and std for val/test"
        ),
    )


def fix_activations() -> Remedy:
    return Remedy(
        "fix-activations",
        "Check for saturated or dead units: ReLU + He init, BatchNorm",
        "Sigmoid/tanh units pushed into saturation (or dead ReLUs) pass almost no gradient, so the "
        "loss stalls near where it started.",
        keras=(
            "model = keras.Sequential([keras.Input(shape=x_train.shape[1:]),\n"
            "    layers.Dense(units, activation='relu', kernel_initializer='he_normal'),\n"
            "    layers.BatchNormalization(), layers.Dense(n_outputs)])"
        ),
        pytorch=(
            "layer = nn.Linear(in_features, units)\n"
            "nn.init.kaiming_normal_(layer.weight, nonlinearity='relu')\n"
            "model = nn.Sequential(layer, nn.BatchNorm1d(units), nn.ReLU(), nn.Linear(units, n_outputs))"
        ),
    )


def switch_optimizer(lr: float | None, setup: Setup = _NO_SETUP) -> Remedy:
    lr = _run_lr(lr, setup)
    k = _lr_expr(lr, current="float(model.optimizer.learning_rate)")
    t = _lr_expr(lr, current="optimizer.param_groups[0]['lr']")
    return Remedy(
        "adam",
        "Use Adam/AdamW (default betas 0.9/0.999, eps 1e-8; raise eps to 1e-6 if it is unstable)",
        "Adaptive optimizers rescale each parameter's step, which rescues badly scaled problems where "
        "plain SGD crawls.",
        keras=(
            f"model.compile(optimizer=keras.optimizers.Adam(learning_rate={k}, beta_1=0.9, "
            "beta_2=0.999, epsilon=1e-7), loss=model.loss)"
        ),
        pytorch=f"optimizer = torch.optim.AdamW(model.parameters(), lr={t}, betas=(0.9, 0.999), eps=1e-8)",
        lightning=(
            "def configure_optimizers(self):  # in your LightningModule\n"
            f"    return torch.optim.AdamW(self.parameters(), lr={_lr_expr(lr, current='self.lr')}, betas=(0.9, 0.999), eps=1e-8)"
        ),
        hf="args.optim = 'adamw_torch'  # your TrainingArguments, before Trainer(args=args)",
    )


def bigger_batch(lr: float | None = None, setup: Setup = _NO_SETUP, factor: int = 4) -> Remedy:
    bs = setup.batch_size
    new = str(bs * factor) if bs else f"{factor} * batch_size"
    title = (
        f"Use a larger batch ({bs} → {bs * factor}) and scale the learning rate with it"
        if bs
        else f"Use a larger batch (~{factor}x) and scale the learning rate with it"
    )
    return Remedy(
        "bigger-batch",
        title,
        "Very small batches give very noisy gradients; the loss swings from batch to batch. "
        "Averaging over more examples steadies the updates.",
        keras=f"model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=epochs, batch_size={new})",
        pytorch=f"train_loader = DataLoader(dataset, batch_size={new}, shuffle=True)",
        lightning=(
            "def train_dataloader(self):  # in your LightningModule (or your DataModule)\n"
            f"    return torch.utils.data.DataLoader(self.train_set, batch_size={new.replace('batch_size', 'self.batch_size')}, shuffle=True)"
        ),
        hf=(
            f"args.per_device_train_batch_size = {bs * factor if bs else f'{factor} * args.per_device_train_batch_size'}"
            "  # your TrainingArguments (or gradient_accumulation_steps)"
        ),
    )


def class_weights() -> Remedy:
    return Remedy(
        "class-imbalance",
        "Check the class balance (class weights or resampling)",
        "A classifier stuck near chance on imbalanced data often predicts the majority class; "
        "weighting the loss by class frequency gives the minority classes a voice.",
        keras=(
            "counts = np.bincount(y_train.astype(int))\n"
            "model.fit(x_train, y_train, epochs=epochs, "
            "class_weight={c: len(y_train) / (len(counts) * n) for c, n in enumerate(counts) if n})"
        ),
        pytorch=(
            "counts = torch.bincount(dataset.tensors[1])\n"
            "loss_fn = nn.CrossEntropyLoss(weight=len(dataset) / (len(counts) * counts.clamp(min=1).float()))"
        ),
    )


def check_labels() -> Remedy:
    return Remedy(
        "check-pipeline",
        "Check the data pipeline: labels aligned with inputs, loss matches the output layer",
        "A loss that never moves from its starting value often means the model cannot see the "
        "signal: shuffled labels, wrong loss (e.g. softmax output with from_logits=True), or frozen "
        "weights. Overfit ten examples first: a healthy setup reaches ~0 loss on them.",
        keras="model.fit(x_train[:10], y_train[:10], epochs=200, verbose=0)  # must reach ~0 loss",
        pytorch=(
            "xb, yb = dataset[:10]\n"
            "for _ in range(200):  # must reach ~0 loss\n"
            "    optimizer.zero_grad()\n"
            "    loss = loss_fn(model(xb), yb)\n"
            "    loss.backward()\n"
            "    optimizer.step()\n"
            "print(loss.item())"
        ),
    )


def train_longer(
    steps: int | None, factor: float = 2.0, epochs: int | None = None, unit: str = "step"
) -> Remedy:
    """``steps``: where the run's x axis ended (in ``unit``s); ``epochs``: the epochs it was set
    to train for, when its files say so (then the snippets quote them)."""
    if epochs:
        title = f"Train longer (e.g. {int(epochs * factor)} epochs instead of {epochs})"
        count, note = str(int(epochs * factor)), ""
        hf_count = count
    else:
        more = f" ({int(steps * factor):,} {unit}s instead of {steps:,})" if steps else ""
        title = f"Train longer: ~{factor:g}x as long{more}"
        count = f"int({factor:g} * epochs)"
        note = f"  # {factor:g}x your current number of epochs"
        hf_count = f"{factor:g} * args.num_train_epochs"
    return Remedy(
        "train-longer",
        title,
        "The loss was still falling when training stopped; more steps will lower it further.",
        keras=f"model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs={count}){note}",
        pytorch=f"for epoch in range({count}):{note}\n    train_one_epoch(model, train_loader, optimizer)",
        lightning=f"trainer = L.Trainer(max_epochs={count}){note}",
        hf=f"args.num_train_epochs = {hf_count}  # your TrainingArguments, before Trainer(args=args)",
    )


def stop_not_longer(since_step: int | None, monitor: str = "val_loss") -> Remedy:
    """Instead of "train longer" when the validation loss has been flat for half the run while
    the training loss kept falling (a widening gap): more steps would only memorise."""
    return Remedy(
        "no-longer",
        "Do not train longer: the validation loss has not improved"
        + (f" since step {since_step:,}" if since_step is not None else "")
        + " while the gap to the training loss widens; keep the best checkpoint and regularise",
        "Only the training loss is still falling: more epochs would fit the training set more "
        "closely without helping the validation loss. Stop at the best validation checkpoint, "
        "and spend the budget on regularisation or more data instead.",
        keras=(
            f"{_fit(monitor)}epochs, callbacks=[\n"
            f"    keras.callbacks.EarlyStopping(monitor='{monitor}', patience=5, restore_best_weights=True)])"
        ),
        pytorch=early_stopping(None, None, 5, monitor=monitor).pytorch,
        lightning=early_stopping(None, None, 5, monitor=monitor).lightning,
        hf=early_stopping(None, None, 5, monitor=monitor).hf,
    )


def restore_best(
    best_step: int | None, monitor: str = "val_loss", tag: str | None = None
) -> Remedy:
    tag = tag or monitor
    mode = _monitor_mode(tag)
    hf_metric = "eval_loss" if monitor.startswith("val") else "loss"
    return Remedy(
        "restore-best",
        f"Use the checkpoint from step {best_step:,}"
        if best_step is not None
        else "Use the best checkpoint",
        "The final weights are worse than an earlier checkpoint.",
        keras=(
            f"{_fit(monitor)}epochs, callbacks=[\n"
            f"    keras.callbacks.ModelCheckpoint('best.keras', monitor='{monitor}', save_best_only=True)])"
        ),
        pytorch=(
            "best = float('inf')\n"
            "for epoch in range(epochs):\n"
            "    train_loss = train_one_epoch(model, train_loader, optimizer)\n"
            f"    watched = {'evaluate(model, val_loader)' if monitor.startswith('val') else 'train_loss'}\n"
            "    if watched < best:\n"
            "        best = watched\n"
            "        torch.save(model.state_dict(), 'best.pt')"
        ),
        lightning=(
            f"checkpoint = ModelCheckpoint(monitor='{tag}', mode='{mode}')\n"
            "trainer = L.Trainer(max_epochs=epochs, callbacks=[checkpoint])\n"
            "# after trainer.fit(...): checkpoint.best_model_path"
        ),
        hf=(
            "args = TrainingArguments(output_dir=args.output_dir, eval_strategy='epoch', save_strategy='epoch',\n"
            f"    load_best_model_at_end=True, metric_for_best_model='{hf_metric}', greater_is_better=False)"
        ),
    )
