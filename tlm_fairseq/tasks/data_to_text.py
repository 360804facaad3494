"""``data_to_text``: factored records in, text out (Rotowire).

The source of a game is a sequence of records with four aligned fields (value, entity, type,
home/away), stored by ``tlm-prep-rotowire`` as one fairseq indexed dataset per field, each with its
own dictionary. Batches carry them stacked as ``src_tokens`` of shape ``(batch, records, 4)`` plus
explicit ``src_lengths`` (fairseq's generator would otherwise count non-pad entries of a 2-D
tensor). There is no single source dictionary, so ``source_dictionary`` is None and
``fairseq-generate`` prints no ``S-`` lines.

With a copy model (``--arch tlm_transformer_rotowire --copy``) batches also carry each record's
extended-vocabulary id (``net_input["src_ext"]``), targets in which tokens copied from an
out-of-vocabulary value are that value's temporary id, and the values' strings (``sample["oov"]``);
generation prints copied values as their strings (``copy_targets``, ``copy_generator``).
"""

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np
import torch
from fairseq import utils
from fairseq.data import Dictionary, FairseqDataset, data_utils
from fairseq.dataclass import FairseqDataclass
from fairseq.models import ARCH_MODEL_REGISTRY
from fairseq.tasks import FairseqTask, register_task

from preprocess.rotowire.records import RECORD_FIELDS, TARGET_FIELD  # the one definition (file suffixes)

from .copy_generator import CopySequenceGenerator, name_copied_values
from .copy_targets import CopyTargets, load_copy_targets

logger = logging.getLogger(__name__)


class RecordsToTextDataset(FairseqDataset):
    """Zips the per-field record datasets and the target into ``(batch, records, fields)`` batches."""

    def __init__(
        self,
        fields: Sequence[FairseqDataset],
        target: FairseqDataset,
        pad: int,
        eos: int,
        shuffle: bool = True,
        text_prefix: str | None = None,
    ) -> None:
        self.fields, self.target, self.pad, self.eos, self.shuffle = list(fields), target, pad, eos, shuffle
        #: ``{data}/{split}``: where the split's text files lie (copy models read them)
        self.text_prefix = text_prefix
        #: extended-vocabulary ids for a copy model (``use_copy``); None: plain batches
        self.copy: CopyTargets | None = None
        self.src_sizes = np.asarray(self.fields[0].sizes, dtype=np.int64)
        self.tgt_sizes = np.asarray(target.sizes, dtype=np.int64)
        for name, dataset in zip(RECORD_FIELDS[1:], self.fields[1:]):
            sizes = np.asarray(dataset.sizes, dtype=np.int64)
            if sizes.shape != self.src_sizes.shape or (sizes != self.src_sizes).any():
                bad = (
                    int(np.flatnonzero(sizes != self.src_sizes)[0])
                    if sizes.shape == self.src_sizes.shape
                    else "count"
                )
                raise ValueError(f"record field {name!r} is not aligned with 'value' (game {bad})")
        if len(self.tgt_sizes) != len(self.src_sizes):
            raise ValueError(f"{len(self.src_sizes)} sources but {len(self.tgt_sizes)} targets")

    def use_copy(self, copy: CopyTargets) -> None:
        if len(copy) != len(self):
            raise ValueError(f"{len(copy)} games of copy targets for {len(self)} games")
        self.copy = copy

    def __getitem__(self, index: int) -> dict[str, Any]:
        source = torch.stack([dataset[index].long() for dataset in self.fields], dim=-1)
        if self.copy is None:
            return {"id": index, "source": source, "target": self.target[index].long()}
        return {
            "id": index,
            "source": source,
            "target": torch.from_numpy(self.copy.target[index]),
            "src_ext": torch.from_numpy(self.copy.source[index]),
            "oov": self.copy.oov[index],
        }

    def __len__(self) -> int:
        return len(self.src_sizes)

    def collater(self, samples: list[dict[str, Any]]) -> dict[str, Any]:
        if not samples:
            return {}
        src_lengths = torch.LongTensor([s["source"].size(0) for s in samples])
        src_tokens = samples[0]["source"].new_full(
            (len(samples), int(src_lengths.max()), len(self.fields)), self.pad
        )
        for row, sample in enumerate(samples):
            src_tokens[row, : sample["source"].size(0)] = sample["source"]
        targets = [s["target"] for s in samples]
        batch = {
            "id": torch.LongTensor([s["id"] for s in samples]),
            "nsentences": len(samples),
            "ntokens": sum(len(t) for t in targets),
            "net_input": {
                "src_tokens": src_tokens,
                "src_lengths": src_lengths,
                "prev_output_tokens": data_utils.collate_tokens(
                    targets, self.pad, self.eos, left_pad=False, move_eos_to_beginning=True
                ),
            },
            "target": data_utils.collate_tokens(targets, self.pad, self.eos, left_pad=False),
        }
        if self.copy is not None:  # pad records copy to <pad> with weight zero (an id below V)
            batch["net_input"]["src_ext"] = data_utils.collate_tokens(
                [s["src_ext"] for s in samples], self.pad, left_pad=False
            )
            batch["oov"] = [s["oov"] for s in samples]
        return batch

    def num_tokens(self, index: int) -> int:
        return int(max(self.src_sizes[index], self.tgt_sizes[index]))

    def num_tokens_vec(self, indices: np.ndarray) -> np.ndarray:
        return np.maximum(self.src_sizes[indices], self.tgt_sizes[indices])

    def size(self, index: int) -> tuple[int, int]:
        return int(self.src_sizes[index]), int(self.tgt_sizes[index])

    @property
    def sizes(self) -> np.ndarray:
        return np.vstack((self.src_sizes, self.tgt_sizes)).T

    def ordered_indices(self) -> np.ndarray:
        """By record count, ties by target length (fewer padded positions per batch)."""
        indices = np.random.permutation(len(self)) if self.shuffle else np.arange(len(self))
        indices = indices[np.argsort(self.tgt_sizes[indices], kind="mergesort")]
        return indices[np.argsort(self.src_sizes[indices], kind="mergesort")]

    def filter_indices_by_size(self, indices: np.ndarray, max_sizes: Any) -> tuple[np.ndarray, list[int]]:
        return data_utils.filter_paired_dataset_indices_by_size(
            self.src_sizes, self.tgt_sizes, indices, max_sizes
        )


@dataclass
class DataToTextConfig(FairseqDataclass):
    data: Optional[str] = field(
        default=None, metadata={"help": "data-bin folder written by tlm-prep-rotowire"}
    )
    max_source_positions: int = field(default=1024, metadata={"help": "max records per game"})
    max_target_positions: int = field(default=1024, metadata={"help": "max summary tokens (with EOS)"})


@register_task("data_to_text", dataclass=DataToTextConfig)
class DataToTextTask(FairseqTask):
    """Generate text from factored records; needs a record-reading architecture (tlm_transformer_rotowire)."""

    cfg: DataToTextConfig

    def __init__(
        self, cfg: DataToTextConfig, field_dicts: Sequence[Dictionary], tgt_dict: Dictionary
    ) -> None:
        super().__init__(cfg)
        self.field_dicts, self.tgt_dict = tuple(field_dicts), tgt_dict
        #: the copy model's target vocabulary size once a copy model is built (None: no copying);
        #: fixed then, because generation appends copied values to the target dictionary
        self.copy_vocab_size: int | None = None

    @classmethod
    def setup_task(cls, cfg: DataToTextConfig, **kwargs: Any) -> "DataToTextTask":
        if not cfg.data:
            raise ValueError("data_to_text: give the data-bin folder written by tlm-prep-rotowire")
        data = utils.split_paths(cfg.data)[0]
        dicts = {}
        for name in RECORD_FIELDS + (TARGET_FIELD,):
            path = os.path.join(data, f"dict.{name}.txt")
            if not os.path.isfile(path):
                raise FileNotFoundError(f"data_to_text: {path} not found (run tlm-prep-rotowire first)")
            dicts[name] = Dictionary.load(path)
            logger.info("[%s] dictionary: %d types", name, len(dicts[name]))
        specials = {(d.pad(), d.eos(), d.unk()) for d in dicts.values()}
        if len(specials) != 1:
            raise ValueError("data_to_text: the dictionaries disagree on pad/eos/unk indices")
        return cls(cfg, [dicts[n] for n in RECORD_FIELDS], dicts[TARGET_FIELD])

    def load_dataset(self, split: str, epoch: int = 1, combine: bool = False, **kwargs: Any) -> None:
        prefix = os.path.join(utils.split_paths(self.cfg.data)[0], split)

        def load(name: str, dictionary: Dictionary) -> FairseqDataset:
            dataset = data_utils.load_indexed_dataset(f"{prefix}.{name}", dictionary, "mmap")
            if dataset is None:
                raise FileNotFoundError(f"data_to_text: dataset {prefix}.{name}.bin/.idx not found")
            return dataset

        fields = [load(name, d) for name, d in zip(RECORD_FIELDS, self.field_dicts)]
        target = load(TARGET_FIELD, self.tgt_dict)
        self.datasets[split] = RecordsToTextDataset(
            fields, target, self.tgt_dict.pad(), self.tgt_dict.eos(), text_prefix=prefix
        )
        logger.info("%s: %d games", split, len(self.datasets[split]))
        if self.copy_vocab_size is not None:
            self._use_copy(self.datasets[split])

    def _use_copy(self, dataset: RecordsToTextDataset) -> None:
        if dataset.copy is None:
            if dataset.text_prefix is None:
                raise ValueError("data_to_text: a copy model needs datasets loaded by this task")
            dataset.use_copy(
                load_copy_targets(
                    dataset.text_prefix, self.tgt_dict, self.copy_vocab_size, dataset.src_sizes, dataset.tgt_sizes
                )
            )

    def build_model(self, cfg: Any, from_checkpoint: bool = False):
        arch = getattr(cfg, "arch", None) or getattr(cfg, "_name", None)
        model_cls = ARCH_MODEL_REGISTRY.get(arch)
        if model_cls is not None and not getattr(model_cls, "reads_records", False):
            raise ValueError(
                f"--task data_to_text needs a record-reading architecture "
                f"such as tlm_transformer_rotowire, not {arch!r}"
            )
        model = super().build_model(cfg, from_checkpoint)
        copy = bool(getattr(model, "uses_copy", False))
        if copy and self.copy_vocab_size is None:
            self.copy_vocab_size = model.decoder.vocab_size
            for dataset in self.datasets.values():  # loaded before the model (fairseq-train's validation sets)
                self._use_copy(dataset)
        if copy != (self.copy_vocab_size is not None) or (copy and model.decoder.vocab_size != self.copy_vocab_size):
            raise ValueError("data_to_text: copy and non-copy models cannot share a task (or an ensemble)")
        return model

    def build_generator(self, models, args, seq_gen_cls=None, extra_gen_cls_kwargs=None, prefix_allowed_tokens_fn=None):
        """fairseq's generator; for copy models one that searches the extended vocabulary."""
        if self.copy_vocab_size is None:
            return super().build_generator(models, args, seq_gen_cls, extra_gen_cls_kwargs, prefix_allowed_tokens_fn)
        for option, default in (("temperature", 1.0), ("print_alignment", None), ("score_reference", False)):
            if getattr(args, option, default) not in (default, False):
                raise ValueError(f"--{option.replace('_', '-')} is not supported with a --copy model")
        if seq_gen_cls is not None:
            raise ValueError("a --copy model generates with its own sequence generator")
        kwargs = {**(extra_gen_cls_kwargs or {}), "copy_vocab_size": self.copy_vocab_size}
        return super().build_generator(models, args, CopySequenceGenerator, kwargs, prefix_allowed_tokens_fn)

    def inference_step(self, generator, models, sample, prefix_tokens=None, constraints=None):
        hypos = super().inference_step(generator, models, sample, prefix_tokens, constraints)
        if self.copy_vocab_size is not None:
            name_copied_values(hypos, sample, self.copy_vocab_size, self.tgt_dict)
        return hypos

    def max_positions(self) -> tuple[int, int]:
        return self.cfg.max_source_positions, self.cfg.max_target_positions

    @property
    def field_dictionaries(self) -> tuple[Dictionary, ...]:
        """One dictionary per record field, in ``RECORD_FIELDS`` order."""
        return self.field_dicts

    @property
    def source_dictionary(self) -> None:
        return None

    @property
    def target_dictionary(self) -> Dictionary:
        return self.tgt_dict
