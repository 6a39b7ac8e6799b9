"""Lightning callback: epoch metrics to the monitor, actions on the trainer (real Lightning)."""

import sys

import pytest

from analyzer.integrations.lightning import epoch_values


class T:
    """A stand-in for a 0-d tensor."""

    def __init__(self, x):
        self.x = x

    def item(self):
        return self.x


def test_epoch_values():
    got = epoch_values(
        {"train_loss_step": T(1.0), "train_loss_epoch": T(0.5), "val_loss": T(0.7), "s": "x"}
    )
    assert got == {"train_loss": 0.5, "val_loss": 0.7}


def test_clear_import_error_without_lightning(monkeypatch):
    import analyzer.integrations.lightning as mod

    monkeypatch.setitem(sys.modules, "lightning.pytorch", None)
    monkeypatch.setitem(sys.modules, "pytorch_lightning", None)
    monkeypatch.setattr(mod, "_CLASS", None)
    with pytest.raises(ImportError, match="pip install lightning"):
        mod.CurvelintCallback  # noqa: B018


@pytest.mark.slow
def test_real_lightning_training_stops_on_divergence(tmp_path):
    L = pytest.importorskip("lightning")
    torch = pytest.importorskip("torch")
    from analyzer.integrations.lightning import CurvelintCallback

    torch.manual_seed(0)
    x = torch.randn(256, 8)
    y = x @ torch.randn(8, 1)

    class Reg(L.LightningModule):
        def __init__(self, lr):
            super().__init__()
            self.net = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Linear(16, 1))
            self.lr = lr

        def training_step(self, batch, _):
            loss = torch.nn.functional.mse_loss(self.net(batch[0]), batch[1])
            self.log("train_loss", loss, on_step=False, on_epoch=True)
            return loss

        def validation_step(self, batch, _):
            self.log("val_loss", torch.nn.functional.mse_loss(self.net(batch[0]), batch[1]))

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=self.lr)

    ds = torch.utils.data.TensorDataset(x, y)
    train = torch.utils.data.DataLoader(ds, batch_size=32)
    val = torch.utils.data.DataLoader(ds, batch_size=256)

    def fit(lr, epochs, cb):
        trainer = L.Trainer(
            max_epochs=epochs,
            callbacks=[cb],
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            default_root_dir=tmp_path,
        )
        trainer.fit(Reg(lr), train, val)
        return trainer

    cb = CurvelintCallback(verbose=0)
    trainer = fit(0.5, 60, cb)
    assert [a.action for a in cb.actions_taken] == ["stop_on_divergence"]
    assert trainer.current_epoch < 59
    assert cb.monitor.roles["train_loss"] == "train_loss"
    assert cb.monitor.roles["val_loss"] == "val_loss"
    assert cb.monitor.roles["lr"] == "lr"

    cb = CurvelintCallback(verbose=0, actions=("stop_on_divergence",))
    trainer = fit(0.01, 12, cb)
    assert trainer.current_epoch == 12 and cb.actions_taken == []
