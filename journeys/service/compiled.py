"""A Keras network compiled with XLA for scoring: one executable per batch-size bucket, built at load.

`keras.Model.predict` wraps every call in a tf.data pipeline and a step function (tens of milliseconds),
and even a traced `tf.function` dispatches each op of the LSTM loops through TensorFlow's thread pools,
which on a busy 2-core machine waits for the scheduler at every hop. XLA fuses the whole forward pass into
one executable that runs on the calling thread (under a millisecond for one contact). XLA compiles per
input shape, so a batch is padded up to the next bucket size (larger batches go in chunks of the largest)
and every bucket is compiled before the service takes traffic. The network is called as
Keras defines it (inference mode: dropout off), so this works for whatever layers it has; a network XLA
cannot compile falls back to the traced graph, with a warning.

XLA keeps what it compiles for the life of the process, so the compiled function is shared by every network of
one architecture, with the weights as its arguments (Keras' `stateless_call`): a swap to a retrained version of
the same architecture compiles nothing and leaves memory as it was; each new architecture adds its executables
and keeps the first network of its kind as the template they were traced from.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf

log = logging.getLogger(__name__)

# Each bucket costs seconds of compilation at start-up; a batch runs in the smallest one that holds it
# (one contact: ~1 ms of one core; 64: ~5 ms; 256: ~15 ms), so five buckets trade some padding for a
# quicker start.
BUCKETS = (1, 4, 16, 64, 256)


def limit_tensorflow_threads(threads: int) -> None:
    """Run TensorFlow's ops on `threads` threads (the server's batcher threads already use the cores);
    a no-op when TensorFlow is already running in this process."""
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        log.info("TensorFlow already initialised: its thread pools stay as they are")


class CompiledNetwork:
    """`network(inputs, training=False)` on NumPy inputs, as float64, in compiled fixed-shape batches."""

    def __init__(self, network: Any, buckets: tuple[int, ...] = BUCKETS) -> None:
        self.buckets = buckets
        self.inputs = {
            name: (tuple(tensor.shape[1:]), np.dtype(tensor.dtype)) for name, tensor in network.input.items()
        }
        self._weights = (
            [tf.constant(variable.numpy()) for variable in network.trainable_variables],
            [tf.constant(variable.numpy()) for variable in network.non_trainable_variables],
        )
        self._call, self.xla = _shared_function(network, self.inputs, buckets, self._weights)

    def __call__(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        n = len(next(iter(inputs.values())))
        largest = self.buckets[-1]
        parts = []
        for start in range(0, n, largest):
            rows = min(largest, n - start)
            size = next(bucket for bucket in self.buckets if bucket >= rows)
            chunk = {name: self._pad(name, inputs[name][start : start + rows], size) for name in self.inputs}
            parts.append(np.asarray(self._call(*self._weights, chunk), dtype=np.float64)[:rows])
        return np.concatenate(parts) if parts else np.zeros((0, 0))

    def _pad(self, name: str, values: np.ndarray, rows: int) -> np.ndarray:
        """Zero rows up to the bucket size (an all-padding sequence; the extra rows are dropped after)."""
        values = values.astype(self.inputs[name][1], copy=False)
        if len(values) == rows:
            return values
        return np.concatenate([values, np.zeros((rows - len(values), *values.shape[1:]), dtype=values.dtype)])


Inputs = dict[str, tuple[tuple[int, ...], np.dtype]]
Weights = tuple[list[Any], list[Any]]
_FUNCTIONS: dict[str, tuple[Callable[..., Any], bool]] = {}  # architecture -> (function, compiled by XLA)
_FUNCTIONS_LOCK = threading.Lock()


def _shared_function(
    network: Any, inputs: Inputs, buckets: tuple[int, ...], weights: Weights
) -> tuple[Callable[..., Any], bool]:
    """The forward pass of `network`'s architecture as a function of (trainable weights, other weights, inputs),
    compiled for every bucket the first time the architecture is seen (under a lock: loads run on two threads)."""
    key = json.dumps([network.get_config(), {name: [shape, str(dtype)] for name, (shape, dtype) in inputs.items()},
                      buckets], sort_keys=True, default=str)  # fmt: skip
    with _FUNCTIONS_LOCK:
        if key not in _FUNCTIONS:
            _FUNCTIONS[key] = _compile(network, inputs, buckets, weights)
        return _FUNCTIONS[key]


def _compile(
    template: Any, inputs: Inputs, buckets: tuple[int, ...], weights: Weights
) -> tuple[Callable[..., Any], bool]:
    """`template`'s forward pass on weights given as arguments, compiled (and run once) for every bucket."""
    signature = [
        [tf.TensorSpec(variable.shape, variable.dtype) for variable in template.trainable_variables],
        [tf.TensorSpec(variable.shape, variable.dtype) for variable in template.non_trainable_variables],
        {name: tf.TensorSpec((None, *shape), dtype, name=name) for name, (shape, dtype) in inputs.items()},
    ]

    def forward(trainable: list[Any], non_trainable: list[Any], batch: dict[str, Any]) -> Any:
        outputs, _ = template.stateless_call(trainable, non_trainable, batch, training=False)
        return outputs

    def zeros(rows: int) -> dict[str, np.ndarray]:
        return {name: np.zeros((rows, *shape), dtype=dtype) for name, (shape, dtype) in inputs.items()}

    try:
        function = tf.function(forward, input_signature=signature, jit_compile=True)
        for size in buckets:
            function(*weights, zeros(size))
        return function, True
    except (tf.errors.InvalidArgumentError, tf.errors.UnimplementedError) as error:
        log.warning("XLA cannot compile the propensity network (%s): scoring with the traced graph", error)
        function = tf.function(forward, input_signature=signature)
        function(*weights, zeros(1))
        return function, False
